//! Where users, warehouse assignments, refresh tokens and the access-token log
//! live: a [`SqlStore`] (SQLite by default, PostgreSQL for several instances)
//! or, for `memory:` and `users_file`, the in-memory stores of
//! `glue-auth-token`.
//!
//! One [`Stores`] value is opened at start and shared by every rebuild of the
//! token endpoint (SIGHUP), so refresh tokens survive key reloads.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glue_auth_sql::{DatabaseKind, Layout, SqlError, SqlStore};
use glue_auth_token::store::{AssignmentStore, WarehouseAssignments};
use glue_auth_token::{MemoryDirectory, MemoryRefreshTokens, TokenServerBuilder};

use crate::config::{ConfigError, DatabaseSettings, DatabaseUrl};

/// The stores the token endpoint and the demo service use. Cheap to clone.
#[derive(Clone)]
pub(crate) enum Stores {
    /// `memory:` or `users_file`.
    Memory {
        directory: MemoryDirectory,
        refresh_tokens: Arc<MemoryRefreshTokens>,
    },
    /// SQLite, PostgreSQL or MariaDB/MySQL, and the redirect URIs read from
    /// its `spy_oauth_client.redirect_uri` at start (SPEC §2a).
    Sql(SqlStore, Arc<[(String, Vec<String>)]>),
}

impl fmt::Debug for Stores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stores::Memory { .. } => f.write_str("Stores::Memory"),
            Stores::Sql(store, _) => f.debug_tuple("Stores::Sql").field(store).finish(),
        }
    }
}

/// Why the stores could not be opened.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// A setting is wrong (exit code 2).
    Config(ConfigError),
    /// The database did not answer in time, or failed otherwise (exit code 1).
    Database(SqlError),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Config(e) => e.fmt(f),
            OpenError::Database(e) => e.fmt(f),
        }
    }
}

/// The file of a SQLite URL (`None` for an in-memory database).
fn sqlite_file(url: &str) -> Option<&Path> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let file = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let file = file.split('?').next().unwrap_or(file);
    Some(Path::new(file))
}

/// SQLite creates the database file, not its directory: create it
/// owner-only (it holds password hashes).
fn create_sqlite_dir(url: &str) -> Result<(), OpenError> {
    match sqlite_file(url).and_then(Path::parent) {
        Some(dir) if !dir.as_os_str().is_empty() => {
            crate::files::create_private_dir(dir).map_err(|e| {
                OpenError::Config(ConfigError::new(
                    "database_url",
                    format!("cannot create {}: {e}", dir.display()),
                ))
            })
        }
        _ => Ok(()),
    }
}

/// Makes the SQLite file (and its WAL companions) owner-only.
fn restrict_sqlite(url: &str) {
    if let Some(file) = sqlite_file(url)
        && let Err(e) = crate::files::restrict_sqlite_files(file)
    {
        tracing::warn!(path = %file.display(), error = %e, "cannot make the database file owner-only (chmod 600)");
    }
}

/// Connects to the SQL database of `db`, retrying while it is unavailable,
/// for at most `db.connect_timeout`.
pub(crate) async fn connect_sql(db: &DatabaseSettings, url: &str) -> Result<SqlStore, OpenError> {
    if matches!(db.url, DatabaseUrl::Sqlite(_)) {
        create_sqlite_dir(url)?;
    }
    let mut builder = SqlStore::builder(url)
        .layout(if db.spryker_layout {
            Layout::Spryker
        } else {
            Layout::OwnSchema
        })
        .max_connections(db.max_connections)
        .acquire_timeout(db.acquire_timeout)
        .operation_timeout(db.operation_timeout)
        .connect_timeout(db.connect_timeout);
    if let Some(seed) = db.seed_demo {
        builder = builder.seed_demo(seed);
    }
    if let Some(cost) = db.password_cost {
        builder = builder.password_cost(cost);
    }
    let deadline = Instant::now() + db.connect_timeout;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match builder.clone().connect().await {
            Ok(store) => {
                if matches!(db.url, DatabaseUrl::Sqlite(_)) {
                    restrict_sqlite(url);
                }
                return Ok(store);
            }
            Err(SqlError::Config(what)) => {
                return Err(OpenError::Config(ConfigError::new("database_url", what)));
            }
            Err(SqlError::Schema(e)) => {
                return Err(OpenError::Config(ConfigError::new(
                    "database_layout",
                    format!("database schema: {e}"),
                )));
            }
            Err(e @ SqlError::Unavailable(_)) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(OpenError::Database(e));
                }
                tracing::warn!(
                    database = %db.url,
                    attempt,
                    error = %e,
                    "database unavailable at start; retrying"
                );
                tokio::time::sleep(left.min(Duration::from_secs(1))).await;
            }
            Err(e) => return Err(OpenError::Database(e)),
        }
    }
}

impl Stores {
    /// Opens what the settings name: connects (and migrates, and seeds an
    /// empty SQLite database), or loads the users file.
    pub(crate) async fn open(
        db: &DatabaseSettings,
        client_ids: &[String],
    ) -> Result<Stores, OpenError> {
        let memory = |directory| Stores::Memory {
            directory,
            refresh_tokens: Arc::new(MemoryRefreshTokens::new(100_000)),
        };
        match &db.url {
            DatabaseUrl::Memory => Ok(memory(MemoryDirectory::demo())),
            DatabaseUrl::UsersFile(path) => MemoryDirectory::from_json_file(path)
                .map(memory)
                .map_err(|e| {
                    OpenError::Config(ConfigError::new(
                        "users_file",
                        format!("{}: {e}", path.display()),
                    ))
                }),
            DatabaseUrl::Sqlite(url) | DatabaseUrl::Server(url) => {
                let store = connect_sql(db, url).await?;
                if store.layout() == Layout::OwnSchema {
                    // Spryker's token tables reference spy_oauth_client.
                    for id in client_ids {
                        store
                            .ensure_oauth_client(id)
                            .await
                            .map_err(OpenError::Database)?;
                    }
                }
                // Only the configured clients' URIs: a Spryker database may
                // register others (a storefront client, say).
                let redirect_uris = match store.redirect_uris().await {
                    Ok(all) => all
                        .into_iter()
                        .filter(|(client, _)| client_ids.contains(client))
                        .collect::<Vec<_>>(),
                    // An older Spryker schema without the column: no URIs
                    // from the database (the configured ones still count).
                    Err(e) if store.layout() == Layout::Spryker => {
                        tracing::warn!(error = %e, "cannot read spy_oauth_client.redirect_uri");
                        Vec::new()
                    }
                    Err(e) => return Err(OpenError::Database(e)),
                };
                Ok(Stores::Sql(store, redirect_uris.into()))
            }
        }
    }

    /// Puts the stores into a token server configuration.
    pub(crate) fn token_server(&self, key: glue_auth_token::SigningKey) -> TokenServerBuilder {
        match self {
            Stores::Memory {
                directory,
                refresh_tokens,
            } => glue_auth_token::TokenServer::builder(key, directory.clone(), directory.clone())
                .refresh_tokens(Arc::clone(refresh_tokens)),
            Stores::Sql(store, redirect_uris) => {
                let mut b =
                    glue_auth_token::TokenServer::builder(key, store.clone(), store.clone())
                        .refresh_tokens(store.clone())
                        .access_token_log(store.clone());
                // Codes in the database when it has our table (several
                // instances share them); an existing Spryker database has
                // none, and the token server keeps them in memory.
                if store.holds_authorization_codes() {
                    b = b.authorization_codes(store.clone());
                }
                for (client, uris) in redirect_uris.iter() {
                    b = b.redirect_uris(client, uris);
                }
                b
            }
        }
    }

    /// The assignments, for the demo service.
    pub(crate) fn assignments(&self) -> Arc<dyn WarehouseAssignments> {
        match self {
            Stores::Memory { directory, .. } => Arc::new(directory.clone()),
            Stores::Sql(store, _) => Arc::new(store.clone()),
        }
    }

    /// The assignments, for the demo's `/warehouse-user-assignments` and
    /// the admin commands.
    pub(crate) fn assignment_store(&self) -> Arc<dyn AssignmentStore> {
        match self {
            Stores::Memory { directory, .. } => Arc::new(directory.clone()),
            Stores::Sql(store, _) => Arc::new(store.clone()),
        }
    }

    /// The SQL store, if any.
    pub(crate) fn sql(&self) -> Option<&SqlStore> {
        match self {
            Stores::Sql(store, _) => Some(store),
            Stores::Memory { .. } => None,
        }
    }

    /// A name for logs and `/healthz`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Stores::Memory { .. } => "memory",
            Stores::Sql(s, _) => match s.kind() {
                DatabaseKind::Sqlite => "sqlite",
                DatabaseKind::Postgres => "postgres",
                DatabaseKind::Mysql => "mysql",
                _ => "sql",
            },
        }
    }
}
