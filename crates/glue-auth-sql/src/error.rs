//! Errors of connecting, migrating and the admin operations, and how driver
//! errors become [`StoreError`]s.

use std::error::Error as StdError;
use std::fmt;

use glue_auth_token::store::{BoxError, StoreError};

/// Why connecting, migrating or an admin operation failed.
///
/// The store traits answer [`StoreError`] instead (the token layer turns every
/// one of them into 503 with `Retry-After`).
#[derive(Debug)]
#[non_exhaustive]
pub enum SqlError {
    /// The URL or an option is not usable (unknown scheme, bad URL, …).
    Config(String),
    /// The database is down, refused the connection or timed out.
    Unavailable(BoxError),
    /// The schema could not be migrated (or, for an existing Spryker
    /// database, a table or column this crate needs is missing).
    Schema(BoxError),
    /// The named user, warehouse or token does not exist.
    NotFound(String),
    /// The change would break a uniqueness rule (a username taken, …).
    Conflict(String),
    /// The input is not acceptable (a username longer than the column, …).
    Invalid(String),
    /// Any other database error.
    Database(BoxError),
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlError::Config(what) => write!(f, "invalid SQL store configuration: {what}"),
            SqlError::Unavailable(e) => write!(f, "database unavailable: {e}"),
            SqlError::Schema(e) => write!(f, "database schema: {e}"),
            SqlError::NotFound(what) => write!(f, "not found: {what}"),
            SqlError::Conflict(what) => write!(f, "conflict: {what}"),
            SqlError::Invalid(what) => write!(f, "invalid: {what}"),
            SqlError::Database(e) => write!(f, "database error: {e}"),
        }
    }
}

impl StdError for SqlError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            SqlError::Unavailable(e) | SqlError::Schema(e) | SqlError::Database(e) => Some(&**e),
            _ => None,
        }
    }
}

impl From<StoreError> for SqlError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(e) => SqlError::Unavailable(e),
            StoreError::Inconsistent(what) => SqlError::Database(what.into()),
            other => SqlError::Database(other.to_string().into()),
        }
    }
}

/// The store timed out as a whole (the operation deadline).
#[derive(Debug)]
pub(crate) struct Timeout;

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("database operation timed out")
    }
}

impl StdError for Timeout {}

/// What kind of failure a driver error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Down, refused, timed out, shutting down, busy: try again later.
    Unavailable,
    /// A uniqueness, foreign-key or check rule refused the write.
    Constraint,
    /// The data does not decode (wrong column type, NULL where not allowed).
    Data,
    /// Anything else (a missing table, a syntax error).
    Other,
}

pub(crate) fn kind(e: &sqlx::Error) -> Kind {
    use sqlx::Error as E;
    match e {
        E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => {
            Kind::Unavailable
        }
        E::Protocol(_) => Kind::Unavailable,
        E::RowNotFound
        | E::ColumnDecode { .. }
        | E::ColumnNotFound(_)
        | E::ColumnIndexOutOfBounds { .. }
        | E::TypeNotFound { .. }
        | E::Decode(_) => Kind::Data,
        E::Database(db) => {
            if db.is_unique_violation() || db.is_foreign_key_violation() || db.is_check_violation()
            {
                return Kind::Constraint;
            }
            if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                return mysql_kind(my.number(), my.code().unwrap_or_default());
            }
            let code = db.code().unwrap_or_default();
            // PostgreSQL SQLSTATE: 08 connection exception, 53 insufficient
            // resources, 57 operator intervention (shutdown, statement
            // timeout 57014), 40 transaction rollback (serialization,
            // deadlock), 55P03 lock not available.
            // SQLite: 5 SQLITE_BUSY, 6 SQLITE_LOCKED (and extended codes).
            // (MariaDB/MySQL: see `mysql_kind`.)
            let c = &*code;
            if c.starts_with("08")
                || c.starts_with("53")
                || c.starts_with("57")
                || c.starts_with("40")
                || c == "55P03"
                || c == "5"
                || c == "6"
                || c.parse::<i32>()
                    .is_ok_and(|n| n & 0xff == 5 || n & 0xff == 6)
            {
                Kind::Unavailable
            } else {
                Kind::Other
            }
        }
        _ => Kind::Other,
    }
}

/// MariaDB/MySQL: by error number (SQLSTATE `HY000` says little), then by
/// SQLSTATE class.
fn mysql_kind(number: u16, sqlstate: &str) -> Kind {
    match number {
        // ER_CON_COUNT_ERROR, ER_OUT_OF_RESOURCES, ER_SERVER_SHUTDOWN,
        // ER_ABORTING_CONNECTION, ER_NET_READ_ERROR_FROM_PIPE … ER_NET_WRITE_INTERRUPTED,
        // ER_TOO_MANY_USER_CONNECTIONS, ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK,
        // ER_USER_LIMIT_REACHED, ER_OPTION_PREVENTS_STATEMENT (read-only
        // server, e.g. during a failover), ER_QUERY_INTERRUPTED,
        // ER_READ_ONLY_MODE, ER_CHECKREAD (MariaDB: row changed since the
        // snapshot), MariaDB's ER_CONNECTION_KILLED and ER_STATEMENT_TIMEOUT
        // (max_statement_time), MySQL's ER_QUERY_TIMEOUT
        // (max_execution_time) and ER_CLIENT_INTERACTION_TIMEOUT.
        1020
        | 1040
        | 1041
        | 1053
        | 1152..=1161
        | 1203
        | 1205
        | 1213
        | 1226
        | 1290
        | 1317
        | 1836
        | 1927
        | 1969
        | 3024
        | 4031 => Kind::Unavailable,
        _ if sqlstate.starts_with("08")
            || sqlstate.starts_with("40")
            || sqlstate == "70100"
            || sqlstate == "HYT00" =>
        {
            Kind::Unavailable
        }
        _ => Kind::Other,
    }
}

/// A driver error as a [`StoreError`]: constraint and decoding failures are
/// [`StoreError::Inconsistent`], everything else [`StoreError::Unavailable`].
pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    match kind(&e) {
        Kind::Constraint | Kind::Data => StoreError::Inconsistent(e.to_string()),
        Kind::Unavailable | Kind::Other => StoreError::unavailable(e),
    }
}

/// A driver error as a [`SqlError`].
pub(crate) fn sql_error(e: sqlx::Error) -> SqlError {
    match kind(&e) {
        Kind::Unavailable => SqlError::Unavailable(Box::new(e)),
        Kind::Constraint => SqlError::Conflict(e.to_string()),
        Kind::Data | Kind::Other => SqlError::Database(Box::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_errors_that_pass_are_unavailable() {
        // Lock wait timeout, deadlock, MariaDB's statement timeout, MySQL's
        // query timeout, shutdown, too many connections.
        for (n, state) in [
            (1205, "HY000"),
            (1213, "40001"),
            (1969, "70100"),
            (3024, "HY000"),
            (1053, "08S01"),
            (1040, "08004"),
            (9999, "08S01"),
        ] {
            assert_eq!(mysql_kind(n, state), Kind::Unavailable, "{n} {state}");
        }
        // No such table, a syntax error: not something to retry.
        assert_eq!(mysql_kind(1146, "42S02"), Kind::Other);
        assert_eq!(mysql_kind(1064, "42000"), Kind::Other);
    }
}
