//! [`SqlStore`]: the pool, connecting, migrating, and the store traits.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use glue_auth_core::{NumericDate, Principal, Scopes};
use glue_auth_token::store::{
    AccessTokenLog, AccessTokenRecord, PasswordHash, RefreshFamily, RefreshTokenHash,
    RefreshTokenRecord, RefreshTokens, Rotation, StoreError, StoreFuture, UserDirectory,
    UserRecord, UserStanding, UserStatus, WarehouseAssignments,
};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::assign_sql::AssignSql;
use crate::codes::CodeSql;
use crate::error::{SqlError, Timeout, sql_error, store_error};

/// bcrypt cost without a stored hash to read it from: PHP's before 8.4,
/// Spryker's.
const DEFAULT_COST: u32 = 10;
use crate::migrate;
use crate::redact::redact_url;
use crate::sql::{Dialect, Precision, Sql, StatusColumn, bind};

/// How much longer than the operation timeout a rotation's COMMIT may take
/// (see `refresh_rotate`).
const COMMIT_GRACE: Duration = Duration::from_secs(1);

/// Runs the same body against whichever pool the store holds: the one code
/// path of the three databases, compiled once per driver.
macro_rules! with_pool {
    ($pool_ref:expr, $pool:ident => $body:expr) => {
        match $pool_ref {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
            $crate::store::Pool::Mysql($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    Mysql(MySqlPool),
}

/// Which tables the store works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Layout {
    /// Our own database: the Spryker-named tables are created by this
    /// crate's migrations on first connect (SQLite, PostgreSQL or
    /// MariaDB/MySQL).
    #[default]
    OwnSchema,
    /// An existing Spryker database (PostgreSQL or MariaDB/MySQL): no
    /// migrations; users and assignments are read from Spryker's tables,
    /// refresh and access tokens written into them as Spryker does. See the
    /// crate docs for the columns assumed.
    Spryker,
}

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatabaseKind {
    /// A SQLite file (or `sqlite::memory:`).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
    /// A MariaDB or MySQL server.
    Mysql,
}

pub(crate) struct Inner {
    pub(crate) pool: Pool,
    pub(crate) sql: Sql,
    pub(crate) assign: AssignSql,
    pub(crate) codes: CodeSql,
    pub(crate) dialect: Dialect,
    pub(crate) layout: Layout,
    pub(crate) status: StatusColumn,
    pub(crate) op_timeout: Duration,
    /// bcrypt cost of passwords the admin operations hash.
    pub(crate) password_cost: AtomicU32,
    /// Existing Spryker database only: derived family → (subject, client),
    /// remembered from the tokens this instance has seen.
    families: Mutex<HashMap<RefreshFamily, (String, String)>>,
}

/// The store traits of `glue-auth-token` on SQLite, PostgreSQL or
/// MariaDB/MySQL.
///
/// One value implements [`UserDirectory`], [`WarehouseAssignments`],
/// [`AssignmentStore`](glue_auth_token::store::AssignmentStore),
/// [`RefreshTokens`] and [`AccessTokenLog`], plus the admin operations
/// (`add_user`, `block_user`, `assign_warehouse`, …). Cheap to clone: clones
/// share the connection pool.
///
/// Every operation is bounded: acquiring a connection waits at most the
/// acquire timeout (default 2 s), and a whole store call at most the
/// operation timeout (default 5 s; a refresh-token rotation: up to its
/// COMMIT, whose answer is awaited, see the crate docs). A database that
/// is down or slow answers
/// [`StoreError::Unavailable`]; the pool reconnects by itself when the
/// database is back.
#[derive(Clone)]
pub struct SqlStore {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (size, idle) = with_pool!(&self.inner.pool, p => (p.size(), p.num_idle()));
        f.debug_struct("SqlStore")
            .field("database", &self.kind())
            .field("layout", &self.inner.layout)
            .field("connections", &size)
            .field("idle", &idle)
            .finish_non_exhaustive()
    }
}

/// Settings of [`SqlStore::connect`]; start with [`SqlStore::builder`].
#[derive(Clone)]
pub struct SqlStoreBuilder {
    url: String,
    layout: Layout,
    max_connections: u32,
    min_connections: u32,
    acquire_timeout: Duration,
    connect_timeout: Duration,
    op_timeout: Duration,
    idle_timeout: Option<Duration>,
    seed_demo: Option<bool>,
    /// `None`: the most common cost of the stored hashes (10 without any).
    password_cost: Option<u32>,
}

/// Prints the URL without its password.
impl fmt::Debug for SqlStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlStoreBuilder")
            .field("url", &redact_url(&self.url))
            .field("layout", &self.layout)
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("operation_timeout", &self.op_timeout)
            .field("seed_demo", &self.seed_demo)
            .field("password_cost", &self.password_cost)
            .finish()
    }
}

impl SqlStoreBuilder {
    /// Own schema (migrated), or an existing Spryker database.
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// Shorthand for `layout(Layout::Spryker)`.
    pub fn spryker_database(self) -> Self {
        self.layout(Layout::Spryker)
    }

    /// Upper bound of pooled connections (default 10; SQLite in memory: 1).
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Connections kept open even when idle (default 0).
    pub fn min_connections(mut self, n: u32) -> Self {
        self.min_connections = n;
        self
    }

    /// How long a store call waits for a pooled connection, connecting
    /// included (default 2 s). Past it: [`StoreError::Unavailable`].
    pub fn acquire_timeout(mut self, d: Duration) -> Self {
        self.acquire_timeout = d;
        self
    }

    /// How long [`connect`](Self::connect) may take as a whole, migrations and
    /// seeding included (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Deadline of every store call (default 5 s). PostgreSQL also gets it as
    /// `statement_timeout` and `lock_timeout`, MariaDB as
    /// `max_statement_time` and MySQL as `max_execution_time` (SELECTs), both
    /// also (rounded up to whole seconds) as `innodb_lock_wait_timeout`, so a
    /// stuck statement is cancelled server-side.
    pub fn operation_timeout(mut self, d: Duration) -> Self {
        self.op_timeout = d;
        self
    }

    /// Closes connections idle this long (default 10 min; `None`: never).
    pub fn idle_timeout(mut self, d: Option<Duration>) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Seeds SPEC §6's demo data (user `sonia@spryker.com` / `change123`,
    /// warehouses 1 and 2, client `frontend`) when `spy_user` is empty.
    /// Default: on for SQLite, off for PostgreSQL and MariaDB/MySQL; never
    /// for [`Layout::Spryker`].
    pub fn seed_demo(mut self, on: bool) -> Self {
        self.seed_demo = Some(on);
        self
    }

    /// bcrypt cost of passwords hashed by the admin operations. Clamped to
    /// 4..=31. Default: the most common cost of the hashes stored in
    /// `spy_user.password` when connecting (PHP 8.4 shops store cost 12),
    /// 10 (PHP's cost before 8.4, Spryker's) when there are none; see
    /// [`SqlStore::password_cost`].
    pub fn password_cost(mut self, cost: u32) -> Self {
        self.password_cost = Some(cost.clamp(4, 31));
        self
    }

    /// Connects, migrates (own schema) or checks the tables (Spryker), and
    /// seeds the demo data when asked to.
    pub async fn connect(self) -> Result<SqlStore, SqlError> {
        let deadline = self.connect_timeout;
        match tokio::time::timeout(deadline, self.connect_inner()).await {
            Ok(r) => r,
            Err(_) => Err(SqlError::Unavailable(Box::new(Timeout))),
        }
    }

    async fn connect_inner(self) -> Result<SqlStore, SqlError> {
        let url = self.url.trim();
        let (pool, dialect) = if url.starts_with("postgres://") || url.starts_with("postgresql://")
        {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| SqlError::Config(format!("{}: {e}", redact_url(url))))?
                .application_name("glue-auth")
                .options([
                    ("TimeZone", "UTC".to_owned()),
                    ("statement_timeout", self.op_timeout.as_millis().to_string()),
                    ("lock_timeout", self.op_timeout.as_millis().to_string()),
                ]);
            let pool = PgPoolOptions::new()
                .max_connections(self.max_connections)
                .min_connections(self.min_connections)
                .acquire_timeout(self.acquire_timeout)
                .idle_timeout(self.idle_timeout)
                .max_lifetime(Some(Duration::from_secs(30 * 60)))
                .test_before_acquire(true)
                .connect_with(opts)
                .await
                .map_err(sql_error)?;
            (Pool::Postgres(pool), Dialect::Postgres)
        } else if let Some(url) = mysql_url(url) {
            let opts = MySqlConnectOptions::from_str(&url)
                .map_err(|e| SqlError::Config(format!("{}: {e}", redact_url(&url))))?
                // UTC whatever the URL or the server say: TIMESTAMP columns
                // (an existing database may have them) and NOW() follow it.
                // Our own DATETIME(6) values never depend on it.
                .timezone(Some("+00:00".to_owned()))
                .charset("utf8mb4");
            let session = mysql_session(self.op_timeout);
            let pool = MySqlPoolOptions::new()
                .max_connections(self.max_connections)
                .min_connections(self.min_connections)
                .acquire_timeout(self.acquire_timeout)
                .idle_timeout(self.idle_timeout)
                .max_lifetime(Some(Duration::from_secs(30 * 60)))
                .test_before_acquire(true)
                .after_connect(move |conn, _meta| session.apply(conn))
                .connect_with(opts)
                .await
                .map_err(sql_error)?;
            (Pool::Mysql(pool), Dialect::Mysql)
        } else {
            if self.layout == Layout::Spryker {
                return Err(SqlError::Config(
                    "an existing Spryker database must be PostgreSQL or MariaDB/MySQL".into(),
                ));
            }
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            let opts = if url.starts_with("sqlite:") {
                SqliteConnectOptions::from_str(url)
                    .map_err(|e| SqlError::Config(format!("{}: {e}", redact_url(url))))?
            } else if url.contains("://") {
                return Err(SqlError::Config(format!(
                    "{}: use postgres://, mysql:// (or mariadb://), sqlite: or a file path",
                    redact_url(url)
                )));
            } else {
                SqliteConnectOptions::new().filename(url)
            };
            // The file is created once, owner-only, here; connections never
            // create it (see `sqlite_file`).
            let watch = if memory {
                None
            } else {
                let file = opts.get_filename().to_owned();
                crate::sqlite_file::create_owner_only(&file).map_err(|e| {
                    SqlError::Config(format!("cannot create {}: {e}", file.display()))
                })?;
                Some(Arc::new(crate::sqlite_file::FileWatch::new(file)))
            };
            let opts = opts
                .create_if_missing(false)
                .foreign_keys(true)
                .busy_timeout(self.op_timeout)
                .synchronous(SqliteSynchronous::Normal);
            let opts = if memory {
                opts
            } else {
                opts.journal_mode(SqliteJournalMode::Wal)
            };
            // An in-memory database lives as long as its one connection.
            let (max, min, idle, life) = if memory {
                (1, 1, None, None)
            } else {
                (
                    self.max_connections,
                    self.min_connections,
                    self.idle_timeout,
                    Some(Duration::from_secs(30 * 60)),
                )
            };
            let pool = SqlitePoolOptions::new()
                .max_connections(max)
                .min_connections(min)
                .acquire_timeout(self.acquire_timeout)
                .idle_timeout(idle)
                .max_lifetime(life)
                .before_acquire(move |_conn, meta| {
                    let usable = watch.as_ref().is_none_or(|w| w.connection_usable(meta.age));
                    Box::pin(async move { Ok(usable) })
                })
                .connect_with(opts)
                .await
                .map_err(sql_error)?;
            (Pool::Sqlite(pool), Dialect::Sqlite)
        };

        let spryker = self.layout == Layout::Spryker;
        let (status, precision) = if spryker {
            migrate::check_spryker(&pool).await?
        } else {
            match &pool {
                Pool::Mysql(p) => migrate::run_mysql(p, self.op_timeout).await?,
                _ => with_pool!(&pool, p => migrate::run(p, dialect).await?),
            }
            (StatusColumn::Index, Precision::Micros)
        };
        let store = SqlStore {
            inner: Arc::new(Inner {
                pool,
                sql: Sql::new(dialect, spryker, precision),
                assign: AssignSql::new(dialect),
                codes: CodeSql::new(dialect),
                dialect,
                layout: self.layout,
                status,
                op_timeout: self.op_timeout,
                password_cost: AtomicU32::new(self.password_cost.unwrap_or(DEFAULT_COST)),
                families: Mutex::new(HashMap::new()),
            }),
        };
        if !spryker {
            let n = store.backfill_uuids().await.map_err(SqlError::from)?;
            if n > 0 {
                tracing::info!(
                    rows = n,
                    "glue-auth-sql: uuids given to warehouses and assignments without one"
                );
            }
        }
        let seed = !spryker && self.seed_demo.unwrap_or(dialect == Dialect::Sqlite);
        if seed {
            store.seed_demo_if_empty().await?;
        }
        if self.password_cost.is_none()
            && let Some(cost) = store.common_stored_cost().await?
        {
            store.inner.password_cost.store(cost, Ordering::Relaxed);
        }
        tracing::info!(
            database = ?store.kind(),
            url = %redact_url(url),
            layout = ?store.inner.layout,
            password_cost = store.password_cost(),
            "glue-auth-sql: connected"
        );
        Ok(store)
    }
}

/// A `mysql://` URL as sqlx reads it (`mariadb://` is rewritten), or `None`
/// for any other scheme.
fn mysql_url(url: &str) -> Option<String> {
    if url.starts_with("mysql://") {
        Some(url.to_owned())
    } else {
        url.strip_prefix("mariadb://")
            .map(|rest| format!("mysql://{rest}"))
    }
}

/// What every new MariaDB/MySQL connection is set to, after sqlx's own
/// `SET time_zone = '+00:00'` (and `NAMES utf8mb4`).
#[derive(Debug, Clone, Copy)]
struct MysqlSession {
    /// The operation timeout, in milliseconds.
    statement_ms: u128,
    /// The same, in whole seconds (at least 1).
    lock_secs: u128,
}

fn mysql_session(op_timeout: Duration) -> MysqlSession {
    let ms = op_timeout.as_millis().max(1);
    MysqlSession {
        statement_ms: ms,
        lock_secs: ms.div_ceil(1000),
    }
}

impl MysqlSession {
    /// - a per-statement bound like PostgreSQL's `statement_timeout`:
    ///   MariaDB's `max_statement_time` (every statement) or MySQL's
    ///   `max_execution_time` (SELECTs; other statements are bounded by the
    ///   lock wait and the store's own deadline);
    /// - `innodb_lock_wait_timeout` (default 50 s) like `lock_timeout`;
    /// - READ COMMITTED: a rotation's conditional UPDATE then waits for a
    ///   concurrent rotation of the same token and re-reads the committed
    ///   row (so exactly one matches), takes no gap locks, and is not
    ///   refused by MariaDB's `innodb_snapshot_isolation` (11.6+) under
    ///   REPEATABLE READ.
    fn apply(
        self,
        conn: &mut sqlx::MySqlConnection,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + '_>> {
        Box::pin(async move {
            use sqlx::Executor as _;
            let row = conn.fetch_one("SELECT VERSION()").await?;
            let version: String = sqlx::Row::try_get(&row, 0)?;
            let ms = self.statement_ms;
            let limit = if version.to_ascii_lowercase().contains("mariadb") {
                format!("max_statement_time = {}.{:03}", ms / 1000, ms % 1000)
            } else {
                format!("max_execution_time = {ms}")
            };
            let sql = format!(
                "SET SESSION {limit}, SESSION innodb_lock_wait_timeout = {}; \
                 SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
                self.lock_secs
            );
            conn.execute(sqlx::raw_sql(&sql)).await?;
            Ok(())
        })
    }
}

impl SqlStore {
    /// Settings for [`SqlStoreBuilder::connect`]. `url` is
    /// `postgres://user:password@host:port/db`,
    /// `mysql://user:password@host:port/db` (MariaDB or MySQL; `mariadb://`
    /// is taken as a synonym), `sqlite:path/to/file.db`, `sqlite::memory:`,
    /// or a plain file path (SQLite).
    pub fn builder(url: impl Into<String>) -> SqlStoreBuilder {
        SqlStoreBuilder {
            url: url.into(),
            layout: Layout::OwnSchema,
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(10),
            op_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(600)),
            seed_demo: None,
            password_cost: None,
        }
    }

    /// Connects with the default settings (own schema; demo data seeded into
    /// an empty SQLite database).
    pub async fn connect(url: impl Into<String>) -> Result<SqlStore, SqlError> {
        Self::builder(url).connect().await
    }

    /// bcrypt cost of the passwords the admin operations hash: as set with
    /// [`SqlStoreBuilder::password_cost`], else the most common cost of the
    /// bcrypt hashes in `spy_user.password` when connecting (10 without
    /// any). Give the token endpoint's dummy hash the same cost
    /// (`HashingSettings::password_cost` of `glue-auth-token`), so that
    /// unknown users take as long as wrong passwords.
    pub fn password_cost(&self) -> u32 {
        self.inner.password_cost.load(Ordering::Relaxed)
    }

    /// The most common cost among the stored bcrypt hashes (ties: the
    /// higher), `None` without any.
    async fn common_stored_cost(&self) -> Result<Option<u32>, SqlError> {
        const COSTS: &str = "SELECT SUBSTR(password, 5, 2) AS c, COUNT(*) AS n FROM spy_user \
                             WHERE password LIKE '$2%' GROUP BY SUBSTR(password, 5, 2)";
        let rows: Vec<(String, i64)> = with_pool!(&self.inner.pool, p => sqlx::query_as(COSTS)
            .fetch_all(p)
            .await
            .map_err(sql_error)?);
        Ok(rows
            .into_iter()
            .filter_map(|(c, n)| Some((c.parse::<u32>().ok().filter(|c| (4..=31).contains(c))?, n)))
            .max_by_key(|&(c, n)| (n, c))
            .map(|(c, _)| c))
    }

    /// SQLite, PostgreSQL or MariaDB/MySQL.
    pub fn kind(&self) -> DatabaseKind {
        match self.inner.dialect {
            Dialect::Sqlite => DatabaseKind::Sqlite,
            Dialect::Postgres => DatabaseKind::Postgres,
            Dialect::Mysql => DatabaseKind::Mysql,
        }
    }

    /// The table layout in use.
    pub fn layout(&self) -> Layout {
        self.inner.layout
    }

    /// Checks that the database answers (`SELECT 1`), within the operation
    /// timeout: for readiness probes.
    pub async fn ping(&self) -> Result<(), SqlError> {
        let r = self
            .bounded(async {
                with_pool!(&self.inner.pool, p => sqlx::query("SELECT 1")
                    .execute(p)
                    .await
                    .map_err(store_error)
                    .map(drop))
            })
            .await;
        r.map_err(SqlError::from)
    }

    /// Closes every pooled connection; later calls fail with
    /// [`StoreError::Unavailable`].
    pub async fn close(&self) {
        with_pool!(&self.inner.pool, p => p.close().await)
    }

    /// Runs `fut` under the operation deadline.
    pub(crate) async fn bounded<T>(
        &self,
        fut: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        Self::until(tokio::time::Instant::now() + self.inner.op_timeout, fut).await
    }

    /// Runs `fut` until `deadline`.
    async fn until<T>(
        deadline: tokio::time::Instant,
        fut: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout_at(deadline, fut).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::unavailable(Timeout)),
        }
    }

    fn remember_family(&self, family: RefreshFamily, subject: &str, client: &str) {
        let mut map = self
            .inner
            .families
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if map.len() >= 10_000 {
            map.clear();
        }
        map.insert(family, (subject.to_owned(), client.to_owned()));
    }

    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        type Row = (i64, Option<String>, String, String, String, Option<bool>);
        let sql = &self.inner.sql.find_user;
        let row: Option<Row> = with_pool!(&self.inner.pool, p => bind!(
            sqlx::query_as(&sql.text), sql, [username])
            .fetch_optional(p)
            .await
            .map_err(store_error)?);
        let Some((id_user, uuid, found, password, status, is_warehouse_user)) = row else {
            return Ok(None);
        };
        // Exactly the name asked for: MySQL's usual collations compare
        // case-insensitively and ignore trailing spaces, and "SONIA@…" or
        // "sonia@… " must neither log in as sonia nor count as another
        // username for the per-username login throttle.
        if found != username {
            return Ok(None);
        }
        let username = found;
        let uuid =
            uuid.ok_or_else(|| StoreError::Inconsistent(format!("user {id_user} has no uuid")))?;
        let status = parse_status(&status).ok_or_else(|| {
            StoreError::Inconsistent(format!("user {id_user} has an unknown status"))
        })?;
        Ok(Some(UserRecord {
            id_user,
            uuid,
            username,
            password_hash: PasswordHash::new(password),
            status,
            is_warehouse_user: is_warehouse_user.unwrap_or(false),
            user_reference: None,
        }))
    }

    async fn user_standing(&self, uuid: &str) -> Result<Option<UserStanding>, StoreError> {
        let sql = &self.inner.sql.user_standing;
        let row: Option<(String, Option<i64>)> = with_pool!(&self.inner.pool, p => bind!(
            sqlx::query_as(&sql.text), sql, [uuid])
            .fetch_optional(p)
            .await
            .map_err(store_error)?);
        let Some((status, changed)) = row else {
            return Ok(None);
        };
        let status = parse_status(&status)
            .ok_or_else(|| StoreError::Inconsistent("a user has an unknown status".into()))?;
        Ok(Some(UserStanding {
            status,
            revoked_before: changed.map(NumericDate::from_micros),
        }))
    }

    async fn active_warehouse_of(&self, user_uuid: &str) -> Result<Option<i64>, StoreError> {
        let sql = &self.inner.sql.active_warehouse;
        let rows: Vec<(i64,)> = with_pool!(&self.inner.pool, p => bind!(
            sqlx::query_as(&sql.text), sql, [user_uuid, true])
            .fetch_all(p)
            .await
            .map_err(store_error)?);
        match rows.as_slice() {
            [] => Ok(None),
            [(id,)] => Ok(Some(*id)),
            _ => Err(StoreError::Inconsistent(
                "a user has two active warehouse assignments".into(),
            )),
        }
    }

    async fn warehouse_is_there(&self, id_warehouse: i64) -> Result<bool, StoreError> {
        let sql = &self.inner.sql.warehouse_exists;
        let row: Option<(i64,)> = with_pool!(&self.inner.pool, p => bind!(
            sqlx::query_as(&sql.text), sql, [id_warehouse, true])
            .fetch_optional(p)
            .await
            .map_err(store_error)?);
        Ok(row.is_some())
    }

    async fn refresh_insert(&self, r: RefreshTokenRecord) -> Result<(), StoreError> {
        let row = RefreshRow::of(&r);
        let sql = &self.inner.sql.refresh_insert;
        let now = NumericDate::now().as_micros();
        with_pool!(&self.inner.pool, p => {
            // `$8` (the family) only in our own schema.
            bind!(sqlx::query(&sql.text), sql, [
                &row.identifier,
                &row.scopes,
                &row.subject,
                &row.client,
                row.expires_at,
                row.revoked_at,
                now,
                &row.family,
            ])
            .execute(p)
            .await
            .map_err(store_error)?;
        });
        Ok(())
    }

    async fn refresh_find(
        &self,
        hash: RefreshTokenHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        let sql = &self.inner.sql.refresh_find;
        let hex = hash.to_hex();
        let row: Option<RefreshTuple> = with_pool!(&self.inner.pool, p => bind!(
            sqlx::query_as(&sql.text), sql, [&hex])
            .fetch_optional(p)
            .await
            .map_err(store_error)?);
        row.map(|t| self.record_of(t)).transpose()
    }

    pub(crate) fn record_of(&self, t: RefreshTuple) -> Result<RefreshTokenRecord, StoreError> {
        let (identifier, family, subject, scopes, client, expires_at, revoked_at) = t;
        let bad = |what: &str| StoreError::Inconsistent(format!("refresh token row: {what}"));
        let hash =
            RefreshTokenHash(decode_hex::<32>(&identifier).ok_or_else(|| bad("identifier"))?);
        let principal = Principal::from_subject(&subject).map_err(|_| bad("user_identifier"))?;
        let scopes = parse_scopes(scopes.as_deref()).ok_or_else(|| bad("scopes"))?;
        let family = match family.as_deref().map(str::trim) {
            Some(hex) => RefreshFamily(decode_hex::<16>(hex).ok_or_else(|| bad("glue_family"))?),
            None => {
                let f = derived_family(&subject, &client);
                self.remember_family(f, &subject, &client);
                f
            }
        };
        Ok(RefreshTokenRecord {
            hash,
            family,
            principal,
            scopes,
            client_id: client,
            expires_at: NumericDate::from_micros(expires_at),
            revoked_at: revoked_at.map(NumericDate::from_micros),
        })
    }

    /// One rotation. The operation deadline covers everything up to the
    /// COMMIT (the connection, `BEGIN`, the spending `UPDATE`, the insert of
    /// the successor) and the look-up that says why a token was not spent,
    /// but **not the COMMIT itself**: once COMMIT is sent the token may be
    /// spent, and answering "unavailable" then would have the client retry a
    /// spent token, which the next rotation takes for a replay (revoking the
    /// family). So the COMMIT's answer is awaited beyond that deadline, with
    /// a budget of its own: the operation timeout again (plus 1 s, so that
    /// PostgreSQL's `statement_timeout`, which also applies to the COMMIT,
    /// answers first), counted from the moment it is sent. That budget only
    /// runs out on a server that stopped answering without closing the
    /// connection (a frozen MariaDB/MySQL process, a network partition);
    /// a broken connection fails the COMMIT at once, and SQLite commits
    /// locally, holding the write lock since `BEGIN IMMEDIATE`. When the
    /// COMMIT fails or runs out of time, its outcome is looked up (the
    /// successor's row exists only if it committed): `Rotated` if so, else
    /// unavailable.
    async fn refresh_rotate(
        &self,
        used: RefreshTokenHash,
        next: RefreshTokenRecord,
        now: NumericDate,
    ) -> Result<Rotation, StoreError> {
        let inner = &*self.inner;
        let deadline = tokio::time::Instant::now() + inner.op_timeout;
        let own = inner.layout == Layout::OwnSchema;
        let used_hex = used.to_hex();
        let row = RefreshRow::of(&next);
        let spent = with_pool!(&inner.pool, p => {
            // Up to the COMMIT: under the deadline (a timeout here drops the
            // transaction, which rolls back).
            let (tx, n) = Self::until(deadline, async {
                let mut tx = p
                    .begin_with(inner.dialect.begin_write())
                    .await
                    .map_err(store_error)?;
                // Own schema: `$3` the family; Spryker's: `$3`/`$4` the
                // subject and client.
                let spend = &inner.sql.refresh_spend;
                let family_or_subject = if own { &row.family } else { &row.subject };
                let n = bind!(sqlx::query(&spend.text), spend, [
                    &used_hex,
                    now.as_micros(),
                    family_or_subject,
                    &row.client,
                ])
                .execute(&mut *tx)
                .await
                .map_err(store_error)?
                .rows_affected();
                if n != 1 {
                    tx.rollback().await.map_err(store_error)?;
                    return Ok((None, n));
                }
                let insert = &inner.sql.refresh_insert;
                bind!(sqlx::query(&insert.text), insert, [
                    &row.identifier,
                    &row.scopes,
                    &row.subject,
                    &row.client,
                    row.expires_at,
                    row.revoked_at,
                    now.as_micros(),
                    &row.family,
                ])
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                Ok((Some(tx), n))
            })
            .await?;
            // The COMMIT: a budget of its own (see above).
            if let Some(tx) = tx {
                let budget = inner.op_timeout + COMMIT_GRACE;
                let failed = match tokio::time::timeout(budget, tx.commit()).await {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(store_error(e)),
                    Err(_) => Some(StoreError::unavailable(Timeout)),
                };
                if let Some(e) = failed {
                    return self.after_failed_commit(e, next.hash).await;
                }
            }
            n
        });
        match spent {
            1 => return Ok(Rotation::Rotated),
            0 => {}
            n => {
                return Err(StoreError::Inconsistent(format!(
                    "{n} refresh tokens share one identifier"
                )));
            }
        }
        // Not spent: say why, from the row as it is now (it can only have
        // moved towards revoked since).
        let Some(current) = Self::until(deadline, self.refresh_find(used)).await? else {
            return Ok(Rotation::NotFound);
        };
        if current.revoked_at.is_some() {
            Ok(Rotation::Reused)
        } else if current.expires_at <= now {
            Ok(Rotation::Expired)
        } else {
            Err(StoreError::Inconsistent(
                "rotation into another family".into(),
            ))
        }
    }

    /// A COMMIT of a rotation answered an error (a connection lost after
    /// sending it, a cancelled COMMIT, …) or no answer in time: the rotation
    /// happened if and only if the successor's row exists (its identifier is
    /// the hash of a fresh secret, written by this transaction only).
    async fn after_failed_commit(
        &self,
        e: StoreError,
        successor: RefreshTokenHash,
    ) -> Result<Rotation, StoreError> {
        match self.bounded(self.refresh_find(successor)).await {
            Ok(Some(_)) => Ok(Rotation::Rotated),
            Ok(None) | Err(_) => Err(e),
        }
    }

    async fn refresh_revoke_family(
        &self,
        family: RefreshFamily,
        now: NumericDate,
    ) -> Result<u64, StoreError> {
        let inner = &*self.inner;
        let sql = &inner.sql.revoke_family;
        if inner.layout == Layout::OwnSchema {
            let hex = family.to_hex();
            let n = with_pool!(&inner.pool, p => bind!(
                sqlx::query(&sql.text), sql, [&hex, now.as_micros()])
                .execute(p)
                .await
                .map_err(store_error)?
                .rows_affected());
            return Ok(n);
        }
        let known = inner
            .families
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&family)
            .cloned();
        let pairs = match known {
            Some(pair) => vec![pair],
            None => {
                let all: Vec<(String, String)> = with_pool!(&inner.pool, p => sqlx::query_as(
                    &inner.sql.live_subjects.text
                )
                .fetch_all(p)
                .await
                .map_err(store_error)?);
                all.into_iter()
                    .filter(|(s, c)| derived_family(s, c) == family)
                    .collect()
            }
        };
        let mut total = 0;
        for (subject, client) in pairs {
            total += with_pool!(&inner.pool, p => bind!(
                sqlx::query(&sql.text), sql, [&subject, now.as_micros(), &client])
                .execute(p)
                .await
                .map_err(store_error)?
                .rows_affected());
        }
        Ok(total)
    }

    async fn access_record(&self, r: AccessTokenRecord) -> Result<(), StoreError> {
        let sql = &self.inner.sql.access_insert;
        let scopes = scopes_json(&r.scopes);
        let subject = r.principal.to_subject();
        let now = NumericDate::now().as_micros();
        with_pool!(&self.inner.pool, p => bind!(sqlx::query(&sql.text), sql, [
                &r.jti,
                &scopes,
                &subject,
                &r.client_id,
                r.expires_at.as_micros(),
                now,
            ])
            .execute(p)
            .await
            .map_err(store_error)
            .map(drop))
    }
}

/// `identifier, glue_family, user_identifier, scopes, fk_oauth_client,
/// expires_at µs, revoked_at µs`.
pub(crate) type RefreshTuple = (
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    i64,
    Option<i64>,
);

/// A refresh token as bound parameters.
struct RefreshRow {
    identifier: String,
    family: String,
    scopes: String,
    subject: String,
    client: String,
    expires_at: i64,
    revoked_at: Option<i64>,
}

impl RefreshRow {
    fn of(r: &RefreshTokenRecord) -> Self {
        RefreshRow {
            identifier: r.hash.to_hex(),
            family: r.family.to_hex(),
            scopes: scopes_json(&r.scopes),
            subject: r.principal.to_subject(),
            client: r.client_id.clone(),
            expires_at: r.expires_at.as_micros(),
            revoked_at: r.revoked_at.map(NumericDate::as_micros),
        }
    }
}

/// `scopes` as Spryker writes it: a JSON array of names.
pub(crate) fn scopes_json(scopes: &Scopes) -> String {
    serde_json::to_string(scopes).unwrap_or_else(|_| "[]".to_owned())
}

/// A `scopes` column: a JSON array; NULL or empty is no scope.
pub(crate) fn parse_scopes(s: Option<&str>) -> Option<Scopes> {
    match s.map(str::trim) {
        None | Some("") => Some(Scopes::default()),
        Some(s) => serde_json::from_str(s).ok(),
    }
}

/// `spy_user.status`: Propel's ENUM index or the name.
pub(crate) fn parse_status(s: &str) -> Option<UserStatus> {
    match s.trim() {
        "0" => Some(UserStatus::Active),
        "1" => Some(UserStatus::Blocked),
        "2" => Some(UserStatus::Deleted),
        other => UserStatus::parse(other),
    }
}

/// The family of a token in an existing Spryker database (which has no
/// column for it): every refresh token of one principal and client.
pub(crate) fn derived_family(subject: &str, client: &str) -> RefreshFamily {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(b"glue-auth refresh family\0");
    ctx.update(subject.as_bytes());
    ctx.update(b"\0");
    ctx.update(client.as_bytes());
    let d = ctx.finish();
    let mut out = [0u8; 16];
    out.copy_from_slice(&d.as_ref()[..16]);
    RefreshFamily(out)
}

pub(crate) fn decode_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = nibble(b[2 * i])? << 4 | nibble(b[2 * i + 1])?;
    }
    Some(out)
}

impl UserDirectory for SqlStore {
    fn find_by_username<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRecord>> {
        Box::pin(self.bounded(self.find_user(username)))
    }

    fn standing<'a>(&'a self, user_uuid: &'a str) -> StoreFuture<'a, Option<UserStanding>> {
        Box::pin(self.bounded(self.user_standing(user_uuid)))
    }
}

impl WarehouseAssignments for SqlStore {
    fn active_warehouse<'a>(&'a self, user_uuid: &'a str) -> StoreFuture<'a, Option<i64>> {
        Box::pin(self.bounded(self.active_warehouse_of(user_uuid)))
    }

    fn warehouse_exists(&self, id_warehouse: i64) -> StoreFuture<'_, bool> {
        Box::pin(self.bounded(self.warehouse_is_there(id_warehouse)))
    }
}

impl RefreshTokens for SqlStore {
    fn insert(&self, record: RefreshTokenRecord) -> StoreFuture<'_, ()> {
        Box::pin(self.bounded(self.refresh_insert(record)))
    }

    fn find(&self, hash: RefreshTokenHash) -> StoreFuture<'_, Option<RefreshTokenRecord>> {
        Box::pin(self.bounded(self.refresh_find(hash)))
    }

    fn rotate(
        &self,
        used: RefreshTokenHash,
        next: RefreshTokenRecord,
        now: NumericDate,
    ) -> StoreFuture<'_, Rotation> {
        // Bounded inside, up to the COMMIT only (see `refresh_rotate`).
        Box::pin(self.refresh_rotate(used, next, now))
    }

    fn revoke_family(&self, family: RefreshFamily, now: NumericDate) -> StoreFuture<'_, u64> {
        Box::pin(self.bounded(self.refresh_revoke_family(family, now)))
    }
}

impl AccessTokenLog for SqlStore {
    fn record(&self, record: AccessTokenRecord) -> StoreFuture<'_, ()> {
        Box::pin(self.bounded(self.access_record(record)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_status() {
        assert_eq!(decode_hex::<2>("0aFf"), Some([0x0a, 0xff]));
        assert_eq!(decode_hex::<2>("0aF"), None);
        assert_eq!(decode_hex::<1>("zz"), None);
        assert_eq!(parse_status("0"), Some(UserStatus::Active));
        assert_eq!(parse_status("blocked"), Some(UserStatus::Blocked));
        assert_eq!(parse_status("2"), Some(UserStatus::Deleted));
        assert_eq!(parse_status("7"), None);
    }

    /// Every place the crate shows the URL goes through `redact_url`.
    #[tokio::test]
    async fn urls_are_redacted_in_debug_and_errors() {
        let debug = format!("{:?}", SqlStore::builder("postgres://glue:p@ss@db/glue"));
        assert!(debug.contains("postgres://glue:***@db/glue"), "{debug}");
        assert!(!debug.contains("ss@"), "{debug}");
        let debug = format!(
            "{:?}",
            SqlStore::builder("postgres://db/glue?password=s3cret")
        );
        assert!(!debug.contains("s3cret"), "{debug}");

        for (url, secret) in [
            // Bad port: refused by the URL parser.
            ("postgres://glue:p@ss@db:99999/glue", "ss@"),
            ("postgres://glue@db:99999/glue?password=s3cret", "s3cret"),
            ("mysql://glue:p@ss@db:99999/glue", "ss@"),
            ("mariadb://glue:p@ss@db:99999/glue", "ss@"),
            // Unknown scheme.
            ("mssql://glue:p@ss@db/glue", "ss@"),
            // Unknown SQLite parameter value.
            ("sqlite:x.db?mode=bogus&password=s3cret", "s3cret"),
        ] {
            let e = SqlStore::connect(url).await.unwrap_err();
            let msg = format!("{e} {e:?}");
            assert!(matches!(e, SqlError::Config(_)), "{url}: {msg}");
            assert!(!msg.contains(secret), "{url}: {msg}");
            assert!(msg.contains("***"), "{url}: {msg}");
        }
    }

    /// SQLite connections wait for the write lock (busy timeout = the
    /// operation timeout) and use WAL.
    #[tokio::test]
    async fn sqlite_connections_have_a_busy_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("glue.db").display());
        let store = SqlStore::builder(url)
            .seed_demo(false)
            .operation_timeout(Duration::from_millis(1234))
            .connect()
            .await
            .unwrap();
        let Pool::Sqlite(pool) = &store.inner.pool else {
            panic!("not SQLite");
        };
        let (ms,): (i64,) = sqlx::query_as("PRAGMA busy_timeout")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(ms, 1234);
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        store.close().await;
    }

    /// MariaDB/MySQL sessions: UTC, the statement and lock-wait bounds,
    /// READ COMMITTED. Needs `GLUE_TEST_MYSQL_URL` (scripts/with-mariadb.sh).
    #[tokio::test]
    async fn mysql_sessions_are_bounded_and_utc() {
        let Ok(url) = std::env::var("GLUE_TEST_MYSQL_URL") else {
            eprintln!("SKIPPED mysql_sessions_are_bounded_and_utc: GLUE_TEST_MYSQL_URL is not set");
            return;
        };
        // The URL asks for another time zone: UTC all the same.
        let sep = if url.contains('?') { '&' } else { '?' };
        let store = SqlStore::builder(format!("{url}{sep}timezone=%2B05:30"))
            .operation_timeout(Duration::from_millis(2500))
            .connect()
            .await
            .unwrap();
        assert_eq!(store.kind(), DatabaseKind::Mysql);
        let Pool::Mysql(pool) = &store.inner.pool else {
            panic!("not MySQL");
        };
        let mut conn = pool.acquire().await.unwrap();
        let (version,): (String,) = sqlx::query_as("SELECT VERSION()")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let mariadb = version.to_ascii_lowercase().contains("mariadb");
        // MariaDB before 11.1 knows only tx_isolation, MySQL 8 only
        // transaction_isolation.
        let isolation = if mariadb {
            "tx_isolation"
        } else {
            "transaction_isolation"
        };
        let (tz, lock, iso): (String, i64, String) = sqlx::query_as(&format!(
            "SELECT CAST(@@session.time_zone AS CHAR), \
             CAST(@@session.innodb_lock_wait_timeout AS SIGNED), \
             CAST(@@session.{isolation} AS CHAR)"
        ))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        drop(conn);
        assert_eq!(tz, "+00:00");
        assert_eq!(lock, 3);
        assert_eq!(iso, "READ-COMMITTED");
        if mariadb {
            let (limit,): (f64,) = sqlx::query_as("SELECT @@session.max_statement_time")
                .fetch_one(pool)
                .await
                .unwrap();
            assert!((limit - 2.5).abs() < 1e-9, "{limit}");
        } else {
            let (limit,): (i64,) =
                sqlx::query_as("SELECT CAST(@@session.max_execution_time AS SIGNED)")
                    .fetch_one(pool)
                    .await
                    .unwrap();
            assert_eq!(limit, 2500);
        }
        store.close().await;
    }

    #[test]
    fn derived_family_depends_on_subject_and_client() {
        let a = derived_family(r#"{"id_warehouse":1}"#, "frontend");
        assert_eq!(a, derived_family(r#"{"id_warehouse":1}"#, "frontend"));
        assert_ne!(a, derived_family(r#"{"id_warehouse":2}"#, "frontend"));
        assert_ne!(a, derived_family(r#"{"id_warehouse":1}"#, "other"));
    }
}
