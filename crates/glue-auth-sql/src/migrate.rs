//! The embedded migrations (own schema) and the checks of an existing
//! Spryker database.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::migrate::{Migrate, Migration, MigrationSource, MigrationType, Migrator};
use sqlx::postgres::PgPool;

use crate::error::{SqlError, sql_error};
use crate::sql::{Dialect, StatusColumn};

const SQLITE: &[(i64, &str, &str)] = &[(
    1,
    "spryker tables",
    include_str!("../migrations/sqlite/0001_spryker_tables.sql"),
)];

const POSTGRES: &[(i64, &str, &str)] = &[(
    1,
    "spryker tables",
    include_str!("../migrations/postgres/0001_spryker_tables.sql"),
)];

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

/// Applies the pending migrations (PostgreSQL: under an advisory lock, so
/// gateways starting together do not race).
pub(crate) async fn run<DB>(pool: &sqlx::Pool<DB>, dialect: Dialect) -> Result<(), SqlError>
where
    DB: sqlx::Database,
    DB::Connection: Migrate,
{
    let migrator = Migrator::new(Embedded(dialect))
        .await
        .map_err(|e| SqlError::Schema(Box::new(e)))?;
    migrator.run(pool).await.map_err(|e| match e {
        sqlx::migrate::MigrateError::Execute(e) => match crate::error::kind(&e) {
            crate::error::Kind::Unavailable => SqlError::Unavailable(Box::new(e)),
            _ => SqlError::Schema(Box::new(e)),
        },
        other => SqlError::Schema(Box::new(other)),
    })
}

/// The columns this crate reads or writes in an existing Spryker database;
/// connecting fails early, naming the table, when one is missing.
const SPRYKER_PROBES: &[&str] = &[
    "SELECT id_user, uuid, username, password, status, is_warehouse_user, first_name, \
     last_name, created_at, updated_at FROM spy_user LIMIT 0",
    "SELECT id_stock, name, is_active FROM spy_stock LIMIT 0",
    "SELECT id_warehouse_user_assignment, uuid, fk_warehouse, user_uuid, is_active, \
     created_at, updated_at FROM spy_warehouse_user_assignment LIMIT 0",
    "SELECT id_oauth_refresh_token, identifier, scopes, customer_reference, user_identifier, \
     fk_oauth_client, expires_at, revoked_at, created_at, updated_at \
     FROM spy_oauth_refresh_token LIMIT 0",
    "SELECT id_oauth_access_token, identifier, scopes, user_identifier, fk_oauth_client, \
     expirity_date, created_at, updated_at FROM spy_oauth_access_token LIMIT 0",
    "SELECT identifier FROM spy_oauth_client LIMIT 0",
];

/// Checks an existing Spryker database and finds how `spy_user.status` is
/// stored.
pub(crate) async fn check_spryker(pool: &PgPool) -> Result<StatusColumn, SqlError> {
    for probe in SPRYKER_PROBES {
        sqlx::query(probe)
            .execute(pool)
            .await
            .map_err(|e| match crate::error::kind(&e) {
                crate::error::Kind::Unavailable => SqlError::Unavailable(Box::new(e)),
                _ => SqlError::Schema(format!("not a Spryker database ({e}): {probe}").into()),
            })?;
    }
    let ty: Option<(String,)> = sqlx::query_as(
        "SELECT data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = 'spy_user' \
         AND column_name = 'status'",
    )
    .fetch_optional(pool)
    .await
    .map_err(sql_error)?;
    Ok(match ty.as_ref().map(|t| t.0.as_str()) {
        Some("smallint" | "integer" | "bigint") => StatusColumn::Index,
        _ => StatusColumn::Name,
    })
}
