//! The SQL text of every operation, built once per store from a few
//! dialect-specific fragments (timestamps, ids, casts) and the table layout.
//!
//! Everything else is the same text on SQLite, PostgreSQL and MariaDB/MySQL:
//! written with `$n` placeholders (SQLite and PostgreSQL take them as they
//! are; for MySQL, [`Stmt`] turns them into `?` and remembers which argument
//! each `?` takes, since MySQL's placeholders are positional and a value used
//! twice is bound twice), casts so that every driver decodes the same Rust
//! types, booleans bound as parameters.

/// Which database the pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
    /// MariaDB or MySQL.
    Mysql,
}

/// A statement of one dialect: its text, and for each placeholder in it (in
/// textual order) the index of the argument it takes.
///
/// `$n` dialects bind every argument once, in order (`$1` is the first);
/// MySQL binds them in the order its `?`s appear, repeating reused ones.
#[derive(Debug)]
pub(crate) struct Stmt {
    pub(crate) text: String,
    pub(crate) order: Vec<usize>,
}

impl Stmt {
    /// `sql` is written with `$1`, `$2`, …
    pub(crate) fn new(d: Dialect, sql: String) -> Stmt {
        let mut text = String::with_capacity(sql.len());
        let mut used = Vec::new();
        let mut rest = sql.as_str();
        while let Some(at) = rest.find('$') {
            let digits = rest[at + 1..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            text.push_str(&rest[..at]);
            if digits == 0 {
                text.push('$');
                rest = &rest[at + 1..];
                continue;
            }
            let n: usize = rest[at + 1..at + 1 + digits].parse().unwrap_or(0);
            debug_assert!(n >= 1, "placeholders start at $1");
            used.push(n.saturating_sub(1));
            match d {
                Dialect::Mysql => text.push('?'),
                Dialect::Sqlite | Dialect::Postgres => text.push_str(&rest[at..at + 1 + digits]),
            }
            rest = &rest[at + 1 + digits..];
        }
        text.push_str(rest);
        let order = match d {
            Dialect::Mysql => used,
            Dialect::Sqlite | Dialect::Postgres => {
                (0..used.iter().map(|i| i + 1).max().unwrap_or(0)).collect()
            }
        };
        Stmt { text, order }
    }

    /// How many arguments the statement takes.
    #[cfg(test)]
    fn arity(&self) -> usize {
        self.order.iter().map(|i| i + 1).max().unwrap_or(0)
    }
}

/// One argument of a [`Stmt`]: the types the crate binds, in a form every
/// driver encodes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    OptInt(Option<i64>),
    Small(i16),
    Bool(bool),
    OptBool(Option<bool>),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::OptText(v)
    }
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}

impl From<i16> for Arg<'_> {
    fn from(v: i16) -> Self {
        Arg::Small(v)
    }
}

impl From<bool> for Arg<'_> {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

impl From<Option<bool>> for Arg<'_> {
    fn from(v: Option<bool>) -> Self {
        Arg::OptBool(v)
    }
}

/// `bind!(query, stmt, [a, b, …])` (or `bind!(query, stmt, args)` with an
/// array of [`Arg`]s): binds the arguments `$1 = a`, `$2 = b`, … to `query` (a `sqlx::query` / `query_as` of `stmt.text`) in the order
/// the statement's dialect wants them. Expanded inside [`with_pool!`]'s
/// arms, so it is compiled for each driver with its native encoders.
///
/// [`with_pool!`]: crate::store::with_pool
macro_rules! bind {
    ($q:expr, $stmt:expr, [$($arg:expr),* $(,)?]) => {{
        let args: &[$crate::sql::Arg<'_>] = &[$($crate::sql::Arg::from($arg)),*];
        $crate::sql::bind!($q, $stmt, args)
    }};
    ($q:expr, $stmt:expr, $args:ident) => {{
        let args: &[$crate::sql::Arg<'_>] = &$args;
        let mut q = $q;
        for &i in &$stmt.order {
            q = match args[i] {
                $crate::sql::Arg::Text(v) => q.bind(v),
                $crate::sql::Arg::OptText(v) => q.bind(v),
                $crate::sql::Arg::Int(v) => q.bind(v),
                $crate::sql::Arg::OptInt(v) => q.bind(v),
                $crate::sql::Arg::Small(v) => q.bind(v),
                $crate::sql::Arg::Bool(v) => q.bind(v),
                $crate::sql::Arg::OptBool(v) => q.bind(v),
            };
        }
        q
    }};
}
pub(crate) use bind;

/// How `spy_user.status` is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusColumn {
    /// Propel's ENUM: the index in `active,blocked,deleted` (the default).
    Index,
    /// The name itself (Propel's `real-enum` behavior, or a VARCHAR column).
    Name,
}

/// How timestamps are written: to the microsecond, or (an existing Spryker
/// database on MySQL, whose Propel `DATETIME` columns have no fraction) to
/// the second, truncated, so a stored expiry is never later than asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precision {
    Micros,
    Seconds,
}

/// The epoch as a MySQL `DATETIME` literal: arithmetic from it gives exact,
/// time-zone-free values for `DATETIME` columns.
const MYSQL_EPOCH: &str = "TIMESTAMP'1970-01-01 00:00:00'";

impl Dialect {
    /// A bound microsecond count as the column's timestamp type.
    pub(crate) fn ts(self, param: &str, precision: Precision) -> String {
        match (self, precision) {
            (Dialect::Sqlite, _) => param.to_owned(),
            // TIMESTAMP without time zone, in UTC, exact to the microsecond
            // and independent of the session's TimeZone.
            (Dialect::Postgres, _) => {
                format!("(TIMESTAMP 'epoch' + CAST({param} AS BIGINT) * INTERVAL '1 microsecond')")
            }
            // DATETIME(6): plain arithmetic on a DATETIME literal, no time
            // zone conversion anywhere (a session's time_zone only applies
            // to TIMESTAMP columns and NOW()).
            (Dialect::Mysql, Precision::Micros) => {
                format!("({MYSQL_EPOCH} + INTERVAL {param} MICROSECOND)")
            }
            (Dialect::Mysql, Precision::Seconds) => {
                format!("({MYSQL_EPOCH} + INTERVAL FLOOR({param} / 1000000) SECOND)")
            }
        }
    }

    /// A timestamp column as microseconds since the epoch (BIGINT).
    pub(crate) fn us(self, col: &str) -> String {
        match self {
            Dialect::Sqlite => col.to_owned(),
            Dialect::Postgres => {
                format!("CAST(ROUND(EXTRACT(EPOCH FROM {col}) * 1000000) AS BIGINT)")
            }
            Dialect::Mysql => format!("TIMESTAMPDIFF(MICROSECOND, {MYSQL_EPOCH}, {col})"),
        }
    }

    /// An integer expression as the type every driver decodes into `i64`.
    pub(crate) fn bigint(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite | Dialect::Postgres => format!("CAST({expr} AS BIGINT)"),
            Dialect::Mysql => format!("CAST({expr} AS SIGNED)"),
        }
    }

    /// An expression as text.
    pub(crate) fn text(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite | Dialect::Postgres => format!("CAST({expr} AS TEXT)"),
            Dialect::Mysql => format!("CAST({expr} AS CHAR)"),
        }
    }

    /// The id of a new row: Propel calls `nextval` on Spryker's sequence
    /// itself on PostgreSQL, so the column may have no default; SQLite's
    /// rowid and MySQL's `AUTO_INCREMENT` take a NULL.
    pub(crate) fn next_id(self, seq: &str) -> String {
        match self {
            Dialect::Sqlite | Dialect::Mysql => "NULL".to_owned(),
            Dialect::Postgres => format!("nextval('{seq}')"),
        }
    }

    /// Moves a sequence past ids inserted explicitly (never backwards).
    /// SQLite's rowid and MySQL's `AUTO_INCREMENT` move by themselves.
    fn sync_seq(self, seq: &str, table: &str, col: &str) -> Option<String> {
        match self {
            Dialect::Sqlite | Dialect::Mysql => None,
            // Never backwards: another writer may hold ids it drew already.
            Dialect::Postgres => Some(format!(
                "SELECT setval('{seq}', GREATEST((SELECT COALESCE(MAX({col}), 0) FROM {table}), \
                 (SELECT last_value FROM {seq}), 1))"
            )),
        }
    }

    /// Whether an `INSERT … RETURNING` gives the new id (MySQL has no
    /// `RETURNING`: `LAST_INSERT_ID()` on the same connection instead).
    fn returning(self) -> bool {
        !matches!(self, Dialect::Mysql)
    }

    /// Starts a transaction that will write (every write transaction of the
    /// crate: rotations and the admin operations): SQLite takes the write
    /// lock at once, waiting for it under the busy timeout, so that
    /// concurrent writers queue. A deferred `BEGIN` would first read, and in
    /// WAL mode upgrading that read to a write fails with SQLITE_BUSY at
    /// once, without waiting, when another writer got in between. PostgreSQL
    /// and MySQL lock rows as the statements reach them (MySQL connections
    /// run at READ COMMITTED, see the store).
    pub(crate) fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres | Dialect::Mysql => "BEGIN",
        }
    }
}

/// The SQL of every operation for one dialect and layout.
#[derive(Debug)]
pub(crate) struct Sql {
    pub(crate) find_user: Stmt,
    pub(crate) active_warehouse: Stmt,
    pub(crate) warehouse_exists: Stmt,
    pub(crate) refresh_insert: Stmt,
    pub(crate) refresh_find: Stmt,
    /// `$1` identifier, `$2` now, `$3`/`$4` the family condition.
    pub(crate) refresh_spend: Stmt,
    pub(crate) revoke_family: Stmt,
    pub(crate) revoke_by_subject: Stmt,
    pub(crate) live_subjects: Stmt,
    pub(crate) access_insert: Stmt,
    // admin
    /// `user_insert` and `stock_insert` end in `RETURNING` the new id;
    /// otherwise (MySQL) `last_insert_id` reads it.
    pub(crate) returning: bool,
    pub(crate) last_insert_id: Stmt,
    pub(crate) user_insert: Stmt,
    pub(crate) user_sync_seq: Option<Stmt>,
    pub(crate) user_set_status: Stmt,
    pub(crate) user_set_password: Stmt,
    pub(crate) stock_insert: Stmt,
    pub(crate) stock_sync_seq: Option<Stmt>,
    pub(crate) stock_by_id: Stmt,
    pub(crate) assignment_deactivate_others: Stmt,
    pub(crate) assignment_activate: Stmt,
    pub(crate) assignment_insert: Stmt,
    pub(crate) client_exists: Stmt,
    pub(crate) client_insert: Stmt,
    pub(crate) refresh_list: Stmt,
    pub(crate) access_list: Stmt,
    pub(crate) users_count: Stmt,
}

impl Sql {
    pub(crate) fn new(d: Dialect, spryker: bool, precision: Precision) -> Sql {
        let st = |sql: String| Stmt::new(d, sql);
        let ts = |p: &str| d.ts(p, precision);
        let us = |c: &str| d.us(c);
        let int = |e: &str| d.bigint(e);
        let ret = |col: &str| {
            if d.returning() {
                format!(" RETURNING {} AS {col}", d.bigint(col))
            } else {
                String::new()
            }
        };
        // The rotation family: our own column, or (existing Spryker database)
        // the principal and client of the token.
        let (family_col, family_cond) = if spryker {
            ("NULL", "user_identifier = $3 AND fk_oauth_client = $4")
        } else {
            ("glue_family", "glue_family = $3")
        };
        let refresh_cols = format!(
            "identifier, {family_col} AS glue_family, user_identifier, scopes, fk_oauth_client, \
             {} AS expires_at, {} AS revoked_at",
            us("expires_at"),
            us("revoked_at")
        );
        Sql {
            find_user: st(format!(
                "SELECT {} AS id_user, uuid, username, password, {} AS status, \
                 is_warehouse_user FROM spy_user WHERE username = $1",
                int("id_user"),
                d.text("status")
            )),
            active_warehouse: st(format!(
                "SELECT {} AS id_warehouse \
                 FROM spy_warehouse_user_assignment a \
                 JOIN spy_stock s ON s.id_stock = a.fk_warehouse \
                 WHERE a.user_uuid = $1 AND a.is_active = $2 AND s.is_active = $2 \
                 ORDER BY a.id_warehouse_user_assignment LIMIT 2",
                int("a.fk_warehouse")
            )),
            warehouse_exists: st(format!(
                "SELECT {} AS id_stock FROM spy_stock WHERE id_stock = $1 AND is_active = $2",
                int("id_stock")
            )),
            refresh_insert: st(if spryker {
                format!(
                    "INSERT INTO spy_oauth_refresh_token (id_oauth_refresh_token, identifier, scopes, \
                     customer_reference, user_identifier, fk_oauth_client, expires_at, revoked_at, \
                     created_at, updated_at) \
                     VALUES ({}, $1, $2, NULL, $3, $4, {}, {}, {}, {})",
                    d.next_id("spy_oauth_refresh_token_pk_seq"),
                    ts("$5"),
                    ts("$6"),
                    ts("$7"),
                    ts("$7")
                )
            } else {
                format!(
                    "INSERT INTO spy_oauth_refresh_token (id_oauth_refresh_token, identifier, scopes, \
                     customer_reference, user_identifier, fk_oauth_client, expires_at, revoked_at, \
                     created_at, updated_at, glue_family) \
                     VALUES ({}, $1, $2, NULL, $3, $4, {}, {}, {}, {}, $8)",
                    d.next_id("spy_oauth_refresh_token_pk_seq"),
                    ts("$5"),
                    ts("$6"),
                    ts("$7"),
                    ts("$7")
                )
            }),
            refresh_find: st(format!(
                "SELECT {refresh_cols} FROM spy_oauth_refresh_token WHERE identifier = $1 \
                 ORDER BY id_oauth_refresh_token LIMIT 1"
            )),
            refresh_spend: st(format!(
                "UPDATE spy_oauth_refresh_token SET revoked_at = {now}, updated_at = {now} \
                 WHERE identifier = $1 AND revoked_at IS NULL AND expires_at > {now} \
                 AND {family_cond}",
                now = ts("$2")
            )),
            revoke_family: st(if spryker {
                format!(
                    "UPDATE spy_oauth_refresh_token SET revoked_at = {now}, updated_at = {now} \
                     WHERE user_identifier = $1 AND fk_oauth_client = $3 AND revoked_at IS NULL \
                     AND LENGTH(identifier) = 64",
                    now = ts("$2")
                )
            } else {
                format!(
                    "UPDATE spy_oauth_refresh_token SET revoked_at = {now}, updated_at = {now} \
                     WHERE glue_family = $1 AND revoked_at IS NULL",
                    now = ts("$2")
                )
            }),
            revoke_by_subject: st(format!(
                "UPDATE spy_oauth_refresh_token SET revoked_at = {now}, updated_at = {now} \
                 WHERE revoked_at IS NULL AND (user_identifier = $1 \
                 OR user_identifier LIKE $3 OR user_identifier LIKE $4)",
                now = ts("$2")
            )),
            live_subjects: st("SELECT DISTINCT user_identifier, fk_oauth_client \
                               FROM spy_oauth_refresh_token \
                               WHERE revoked_at IS NULL AND LENGTH(identifier) = 64"
                .to_owned()),
            access_insert: st(format!(
                "INSERT INTO spy_oauth_access_token (id_oauth_access_token, identifier, scopes, \
                 user_identifier, fk_oauth_client, expirity_date, created_at, updated_at) \
                 VALUES ({}, $1, $2, $3, $4, {}, {}, {})",
                d.next_id("spy_oauth_access_token_pk_seq"),
                ts("$5"),
                ts("$6"),
                ts("$6")
            )),
            returning: d.returning(),
            last_insert_id: st(format!("SELECT {} AS id", int("LAST_INSERT_ID()"))),
            user_insert: st(format!(
                "INSERT INTO spy_user (id_user, first_name, last_name, username, password, status, \
                 is_warehouse_user, uuid, created_at, updated_at) \
                 VALUES (COALESCE($1, {}), $2, $3, $4, $5, $6, $7, $8, {now}, {now}){}",
                d.next_id("spy_user_pk_seq"),
                ret("id_user"),
                now = ts("$9")
            )),
            user_sync_seq: d.sync_seq("spy_user_pk_seq", "spy_user", "id_user").map(st),
            user_set_status: st(format!(
                "UPDATE spy_user SET status = $2, updated_at = {} WHERE username = $1",
                ts("$3")
            )),
            user_set_password: st(format!(
                "UPDATE spy_user SET password = $2, updated_at = {} WHERE username = $1",
                ts("$3")
            )),
            stock_insert: st(format!(
                "INSERT INTO spy_stock (id_stock, name, is_active, uuid) \
                 VALUES (COALESCE($1, {}), $2, $3, $4){}",
                d.next_id("spy_stock_pk_seq"),
                ret("id_stock")
            )),
            stock_sync_seq: d
                .sync_seq("spy_stock_pk_seq", "spy_stock", "id_stock")
                .map(st),
            stock_by_id: st(format!(
                "SELECT {} AS id_stock, name, is_active FROM spy_stock WHERE id_stock = $1",
                int("id_stock")
            )),
            assignment_deactivate_others: st(format!(
                "UPDATE spy_warehouse_user_assignment SET is_active = $3, updated_at = {} \
                 WHERE user_uuid = $1 AND fk_warehouse <> $2 AND is_active = $4",
                ts("$5")
            )),
            assignment_activate: st(format!(
                "UPDATE spy_warehouse_user_assignment SET is_active = $3, updated_at = {} \
                 WHERE user_uuid = $1 AND fk_warehouse = $2",
                ts("$4")
            )),
            assignment_insert: st(format!(
                "INSERT INTO spy_warehouse_user_assignment (id_warehouse_user_assignment, uuid, \
                 fk_warehouse, user_uuid, is_active, created_at, updated_at) \
                 VALUES ({}, $1, $2, $3, $4, {now}, {now})",
                d.next_id("spy_warehouse_user_assignment_pk_seq"),
                now = ts("$5")
            )),
            client_exists: st(
                "SELECT identifier FROM spy_oauth_client WHERE identifier = $1".to_owned(),
            ),
            client_insert: st(format!(
                "INSERT INTO spy_oauth_client (id_oauth_client, identifier, name, is_confidential) \
                 VALUES ({}, $1, $2, $3)",
                d.next_id("spy_oauth_client_pk_seq")
            )),
            refresh_list: st(format!(
                "SELECT {} AS id, {refresh_cols}, \
                 {} AS created_at FROM spy_oauth_refresh_token \
                 WHERE LENGTH(identifier) = 64 \
                 AND ($1 IS NULL OR user_identifier = $1 OR user_identifier LIKE $2 \
                 OR user_identifier LIKE $3) \
                 AND ($4 OR revoked_at IS NULL) \
                 ORDER BY id_oauth_refresh_token DESC LIMIT $5",
                int("id_oauth_refresh_token"),
                us("created_at")
            )),
            access_list: st(format!(
                "SELECT identifier, scopes, user_identifier, fk_oauth_client, \
                 {} AS expirity_date FROM spy_oauth_access_token \
                 ORDER BY id_oauth_access_token DESC LIMIT $1",
                us("expirity_date")
            )),
            users_count: st(format!("SELECT {} AS n FROM spy_user", int("COUNT(*)"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];

    #[test]
    fn placeholders_are_contiguous() {
        for d in ALL {
            for spryker in [false, true] {
                let sql = Sql::new(d, spryker, Precision::Micros);
                assert_eq!(sql.refresh_spend.arity(), if spryker { 4 } else { 3 });
                assert_eq!(sql.refresh_insert.arity(), if spryker { 7 } else { 8 });
            }
        }
    }

    #[test]
    fn mysql_placeholders_are_positional() {
        let s = Stmt::new(
            Dialect::Mysql,
            "UPDATE t SET a = $2, b = $2 WHERE c = $1 AND d = $10".into(),
        );
        assert_eq!(s.text, "UPDATE t SET a = ?, b = ? WHERE c = ? AND d = ?");
        assert_eq!(s.order, [1, 1, 0, 9]);
        let s = Stmt::new(Dialect::Postgres, "SELECT $2, $1, $2, '$'".into());
        assert_eq!(s.text, "SELECT $2, $1, $2, '$'");
        assert_eq!(s.order, [0, 1]);
        for d in ALL {
            let sql = Sql::new(d, false, Precision::Micros);
            assert_eq!(sql.refresh_list.arity(), 5);
            assert!(!sql.refresh_list.text.contains('$') || d != Dialect::Mysql);
        }
        let sql = Sql::new(Dialect::Mysql, false, Precision::Micros);
        // `$1 IS NULL OR user_identifier = $1 …`: the first argument twice.
        assert_eq!(sql.refresh_list.order, [0, 0, 1, 2, 3, 4]);
        assert!(!sql.user_insert.text.contains("RETURNING"));
        assert!(
            Sql::new(Dialect::Postgres, false, Precision::Micros)
                .user_insert
                .text
                .contains("RETURNING")
        );
    }

    #[test]
    fn mysql_timestamps_truncate_to_seconds_when_the_columns_do() {
        let micros = Dialect::Mysql.ts("?", Precision::Micros);
        assert!(micros.contains("MICROSECOND"), "{micros}");
        let secs = Dialect::Mysql.ts("?", Precision::Seconds);
        assert!(secs.contains("FLOOR(? / 1000000) SECOND"), "{secs}");
    }
}
