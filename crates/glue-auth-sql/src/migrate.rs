//! The embedded migrations (own schema) and the checks of an existing
//! Spryker database.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::migrate::{Migrate, Migration, MigrationSource, MigrationType, Migrator};

use crate::error::{SqlError, sql_error};
use crate::sql::{Dialect, Precision, StatusColumn};
use crate::store::{Pool, with_pool};

const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "spryker tables",
        include_str!("../migrations/sqlite/0001_spryker_tables.sql"),
    ),
    (
        2,
        "authorization codes",
        include_str!("../migrations/sqlite/0002_authorization_codes.sql"),
    ),
];

const POSTGRES: &[(i64, &str, &str)] = &[
    (
        1,
        "spryker tables",
        include_str!("../migrations/postgres/0001_spryker_tables.sql"),
    ),
    (
        2,
        "authorization codes",
        include_str!("../migrations/postgres/0002_authorization_codes.sql"),
    ),
];

const MYSQL: &[(i64, &str, &str)] = &[
    (
        1,
        "spryker tables",
        include_str!("../migrations/mysql/0001_spryker_tables.sql"),
    ),
    (
        2,
        "authorization codes",
        include_str!("../migrations/mysql/0002_authorization_codes.sql"),
    ),
];

/// The migrations of one dialect, compiled into the binary.
#[derive(Debug)]
struct Embedded(Dialect);

type BoxDynError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        let list = match self.0 {
            Dialect::Sqlite => SQLITE,
            Dialect::Postgres => POSTGRES,
            Dialect::Mysql => MYSQL,
        };
        let migrations = list
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    Cow::Borrowed(*sql),
                    false,
                )
            })
            .collect();
        Box::pin(std::future::ready(Ok(migrations)))
    }
}

/// Applies the pending migrations (PostgreSQL: under an advisory lock,
/// MySQL: under `GET_LOCK`, so gateways starting together do not race).
pub(crate) async fn run<DB>(pool: &sqlx::Pool<DB>, dialect: Dialect) -> Result<(), SqlError>
where
    DB: sqlx::Database,
    DB::Connection: Migrate,
{
    let migrator = Migrator::new(Embedded(dialect))
        .await
        .map_err(|e| SqlError::Schema(Box::new(e)))?;
    migrator.run(pool).await.map_err(migrate_error)
}

/// Applies the pending MySQL migrations under a named lock of our own,
/// checked: sqlx's MySQL migrator asks for `GET_LOCK(…, -1)` and ignores the
/// answer, and MariaDB (10.11) answers NULL at once to a negative timeout
/// instead of waiting, so gateways starting together would both migrate. The lock is per database, waited
/// for at most `wait` (then: unavailable, the caller retries), and held by
/// the one connection that migrates.
pub(crate) async fn run_mysql(
    pool: &sqlx::MySqlPool,
    wait: std::time::Duration,
) -> Result<(), SqlError> {
    let mut migrator = Migrator::new(Embedded(Dialect::Mysql))
        .await
        .map_err(|e| SqlError::Schema(Box::new(e)))?;
    migrator.set_locking(false);
    let mut conn = pool.acquire().await.map_err(sql_error)?;
    let secs = wait.as_secs().max(1);
    let (got,): (Option<i64>,) = sqlx::query_as(
        "SELECT CAST(GET_LOCK(CONCAT('glue-auth-sql migrations ', DATABASE()), ?) AS SIGNED)",
    )
    .bind(i64::try_from(secs).unwrap_or(i64::MAX))
    .fetch_one(&mut *conn)
    .await
    .map_err(sql_error)?;
    if got != Some(1) {
        return Err(SqlError::Unavailable(
            "another instance is migrating the database (lock not granted in time)".into(),
        ));
    }
    let result = migrator.run(&mut *conn).await.map_err(migrate_error);
    let released =
        sqlx::query("SELECT RELEASE_LOCK(CONCAT('glue-auth-sql migrations ', DATABASE()))")
            .execute(&mut *conn)
            .await;
    if released.is_err() {
        // The lock ends with the session: do not pool this one again.
        conn.detach();
    }
    result
}

fn migrate_error(e: sqlx::migrate::MigrateError) -> SqlError {
    match e {
        sqlx::migrate::MigrateError::Execute(e) => match crate::error::kind(&e) {
            crate::error::Kind::Unavailable => SqlError::Unavailable(Box::new(e)),
            _ => SqlError::Schema(Box::new(e)),
        },
        other => SqlError::Schema(Box::new(other)),
    }
}

/// The columns this crate reads or writes in an existing Spryker database;
/// connecting fails early, naming the table, when one is missing.
const SPRYKER_PROBES: &[&str] = &[
    "SELECT id_user, uuid, username, password, status, is_warehouse_user, first_name, \
     last_name, created_at, updated_at FROM spy_user LIMIT 0",
    "SELECT id_stock, name, is_active, uuid FROM spy_stock LIMIT 0",
    "SELECT id_warehouse_user_assignment, uuid, fk_warehouse, user_uuid, is_active, \
     created_at, updated_at FROM spy_warehouse_user_assignment LIMIT 0",
    "SELECT id_oauth_refresh_token, identifier, scopes, customer_reference, user_identifier, \
     fk_oauth_client, expires_at, revoked_at, created_at, updated_at \
     FROM spy_oauth_refresh_token LIMIT 0",
    "SELECT id_oauth_access_token, identifier, scopes, user_identifier, fk_oauth_client, \
     expirity_date, created_at, updated_at FROM spy_oauth_access_token LIMIT 0",
    "SELECT identifier FROM spy_oauth_client LIMIT 0",
];

/// The id columns an existing MySQL Spryker database must fill by itself
/// (Propel declares them `AUTO_INCREMENT` there; PostgreSQL has sequences).
const MYSQL_AUTO_INCREMENT: &[(&str, &str)] = &[
    ("spy_oauth_refresh_token", "id_oauth_refresh_token"),
    ("spy_oauth_access_token", "id_oauth_access_token"),
    ("spy_user", "id_user"),
    ("spy_stock", "id_stock"),
    (
        "spy_warehouse_user_assignment",
        "id_warehouse_user_assignment",
    ),
];

/// Checks an existing Spryker database: the columns, how `spy_user.status`
/// is stored, and (MySQL) that ids are `AUTO_INCREMENT` and how precise the
/// token tables' timestamps are.
pub(crate) async fn check_spryker(pool: &Pool) -> Result<(StatusColumn, Precision), SqlError> {
    for probe in SPRYKER_PROBES {
        with_pool!(pool, p => sqlx::query(probe).execute(p).await.map(drop)).map_err(|e| {
            match crate::error::kind(&e) {
                crate::error::Kind::Unavailable => SqlError::Unavailable(Box::new(e)),
                _ => SqlError::Schema(format!("not a Spryker database ({e}): {probe}").into()),
            }
        })?;
    }
    let p = match pool {
        Pool::Mysql(p) => p,
        Pool::Postgres(p) => {
            let ty: Option<(String,)> = sqlx::query_as(
                "SELECT data_type::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = 'spy_user' \
                 AND column_name = 'status'",
            )
            .fetch_optional(p)
            .await
            .map_err(sql_error)?;
            return Ok((status_column(ty), Precision::Micros));
        }
        Pool::Sqlite(_) => {
            return Err(SqlError::Config(
                "an existing Spryker database must be PostgreSQL or MariaDB/MySQL".into(),
            ));
        }
    };
    let ty: Option<(String,)> = sqlx::query_as(
        "SELECT CAST(data_type AS CHAR) FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = 'spy_user' \
         AND column_name = 'status'",
    )
    .fetch_optional(p)
    .await
    .map_err(sql_error)?;
    let status = status_column(ty);
    for (table, column) in MYSQL_AUTO_INCREMENT {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS SIGNED) FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ? \
             AND LOWER(extra) LIKE '%auto_increment%'",
        )
        .bind(*table)
        .bind(*column)
        .fetch_one(p)
        .await
        .map_err(sql_error)?;
        if n != 1 {
            return Err(SqlError::Schema(
                format!("not a Spryker database: {table}.{column} is not AUTO_INCREMENT").into(),
            ));
        }
    }
    // Propel declares Spryker's timestamps DATETIME (whole seconds) on
    // MySQL; a fraction is written only where every token-table timestamp
    // keeps all six digits.
    let precisions: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT CAST(column_name AS CHAR), CAST(datetime_precision AS SIGNED) \
         FROM information_schema.columns WHERE table_schema = DATABASE() \
         AND table_name IN ('spy_oauth_refresh_token', 'spy_oauth_access_token') \
         AND column_name IN ('expires_at', 'revoked_at', 'expirity_date', 'created_at', 'updated_at')",
    )
    .fetch_all(p)
    .await
    .map_err(sql_error)?;
    let micros = !precisions.is_empty() && precisions.iter().all(|(_, p)| *p == Some(6));
    let precision = if micros {
        Precision::Micros
    } else {
        Precision::Seconds
    };
    Ok((status, precision))
}

/// `spy_user.status`'s data type: an integer holds Propel's ENUM index,
/// anything else (text, a native ENUM) the name.
fn status_column(data_type: Option<(String,)>) -> StatusColumn {
    match data_type.map(|t| t.0.to_ascii_lowercase()).as_deref() {
        Some("smallint" | "integer" | "bigint" | "tinyint" | "int" | "mediumint") => {
            StatusColumn::Index
        }
        _ => StatusColumn::Name,
    }
}
