//! Configuration: defaults < TOML file (`--config`) < environment < flags.
//!
//! Every setting has one name in three spellings: the TOML key
//! (`user_token_ttl`), the flag (`--user-token-ttl`) and the environment
//! variable (`GLUE_GATEWAY_USER_TOKEN_TTL`). Spryker's own names are accepted
//! where Spryker has one (`PRIVATE_KEY_PATH`, `SPRYKER_OAUTH_KEY_PRIVATE`,
//! `GLUE_BACKEND_CORS_ALLOW_ORIGIN`, …), as environment variables and as TOML
//! keys.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser};
use glue_auth_core::UnauthenticatedStatus;
use glue_auth_token::{Compatibility, HashingSettings, Lifetimes, ResponseStyle, ThrottleSettings};
use http::{HeaderName, Uri};
use serde::Deserialize;

/// A setting that cannot be used, named the way the operator wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigError {
    pub(crate) setting: &'static str,
    pub(crate) message: String,
}

impl ConfigError {
    pub(crate) fn new(setting: &'static str, message: impl Into<String>) -> Self {
        ConfigError {
            setting,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid setting `{}`: {}", self.setting, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Command line.
#[derive(Parser)]
#[command(
    name = "glue-gateway",
    version,
    about = "Spryker Glue Backend API authentication gateway: POST /token, /warehouse-tokens, \
             bearer validation and scopes in front of a demo picking-lists service or an \
             upstream Glue backend.",
    after_help = "Every option can also be set in the TOML file (key = option name with \
                  underscores) and in the environment (the name shown in [env: ...]). \
                  Precedence: flag > environment > file > default. See docs/operations.md."
)]
pub(crate) struct Cli {
    /// TOML configuration file.
    #[arg(long, env = "GLUE_GATEWAY_CONFIG", value_name = "PATH", global = true)]
    pub(crate) config: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) options: Options,

    /// Administration; without a subcommand the gateway serves.
    #[command(subcommand)]
    pub(crate) command: Option<crate::admin::Command>,
}

/// Every setting, all optional: the same struct is read from flags/env and
/// from the TOML file, then merged.
#[derive(Default, Clone, Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Options {
    // ---- server -------------------------------------------------------
    /// Address to listen on (port 0: any free port; the bound address is printed).
    /// Default 127.0.0.1:8080.
    #[arg(long, env = "GLUE_GATEWAY_LISTEN", value_name = "ADDR")]
    pub(crate) listen: Option<SocketAddr>,

    /// Data directory (dev keys and the default SQLite database live here).
    /// Default ./data.
    #[arg(long, env = "GLUE_GATEWAY_DATA_DIR", value_name = "DIR", global = true)]
    pub(crate) data_dir: Option<PathBuf>,

    /// Forward authenticated requests to this Glue backend (http://host:port[/prefix])
    /// instead of serving the built-in demo picking lists.
    #[arg(long, env = "GLUE_GATEWAY_UPSTREAM", value_name = "URL")]
    pub(crate) upstream: Option<String>,

    /// PEM file of CA certificates trusted for an https upstream, beside the
    /// system's roots (a private CA).
    #[arg(long, env = "GLUE_GATEWAY_UPSTREAM_CA_FILE", value_name = "PATH")]
    pub(crate) upstream_ca_file: Option<PathBuf>,

    // ---- keys ---------------------------------------------------------
    /// RSA private key file (PEM, PKCS#1 or PKCS#8; `file://` prefix allowed).
    #[arg(long, env = "PRIVATE_KEY_PATH", value_name = "PATH")]
    #[serde(alias = "PRIVATE_KEY_PATH")]
    pub(crate) private_key_path: Option<String>,

    /// RSA public key file (PEM; `file://` prefix allowed).
    #[arg(long, env = "PUBLIC_KEY_PATH", value_name = "PATH")]
    #[serde(alias = "PUBLIC_KEY_PATH")]
    pub(crate) public_key_path: Option<String>,

    /// RSA private key as PEM text, `__LINE__` standing for newlines (Spryker's
    /// SPRYKER_OAUTH_KEY_PRIVATE). Prefer the environment over the flag.
    #[arg(
        long,
        env = "SPRYKER_OAUTH_KEY_PRIVATE",
        value_name = "PEM",
        hide_env_values = true
    )]
    #[serde(alias = "SPRYKER_OAUTH_KEY_PRIVATE")]
    pub(crate) private_key: Option<String>,

    /// RSA public key as PEM text, `__LINE__` standing for newlines.
    #[arg(long, env = "SPRYKER_OAUTH_KEY_PUBLIC", value_name = "PEM")]
    #[serde(alias = "SPRYKER_OAUTH_KEY_PUBLIC")]
    pub(crate) public_key: Option<String>,

    /// More public key files accepted for validation (key rotation), comma separated.
    #[arg(
        long,
        env = "GLUE_GATEWAY_EXTRA_PUBLIC_KEY_PATHS",
        value_name = "PATHS",
        value_delimiter = ','
    )]
    pub(crate) extra_public_key_paths: Option<Vec<String>>,

    /// Put a `kid` (the RFC 7638 thumbprint) into issued token headers. Default:
    /// only when more than one public key is configured.
    #[arg(long, env = "GLUE_GATEWAY_JWT_KID", value_name = "BOOL", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub(crate) jwt_kid: Option<bool>,

    /// Which key checks tokens without `kid` when several public keys are
    /// configured: `previous` (the first of extra_public_key_paths: the key
    /// that signed before a rotation; default) or `current` (public_key_path,
    /// e.g. Spryker signing with the new pair).
    #[arg(
        long,
        env = "GLUE_GATEWAY_KIDLESS_KEY",
        value_name = "previous|current"
    )]
    pub(crate) kidless_key: Option<String>,

    /// How often the key files are read for changes, in seconds (a changed
    /// file reloads the keys as SIGHUP does; 0: off). Default 5.
    #[arg(long, env = "GLUE_GATEWAY_KEY_WATCH_INTERVAL", value_name = "SECS")]
    pub(crate) key_watch_interval: Option<u64>,

    /// Verify-only mode following another gateway's (or an identity
    /// provider's) keys: the http:// URL of its JWK Set, such as
    /// `http://issuer:8080/.well-known/jwks.json`. Not combinable with key
    /// files.
    #[arg(long, env = "GLUE_GATEWAY_JWKS_URL", value_name = "URL")]
    pub(crate) jwks_url: Option<String>,

    /// Shortest time between two JWKS fetches (unknown `kid`s, failures), in
    /// seconds. Default 10.
    #[arg(long, env = "GLUE_GATEWAY_JWKS_COOLDOWN", value_name = "SECS")]
    pub(crate) jwks_cooldown: Option<u64>,

    /// Bounds on the JWKS refresh interval taken from its `Cache-Control:
    /// max-age`, in seconds. Defaults 60 and 3600.
    #[arg(long, env = "GLUE_GATEWAY_JWKS_MIN_REFRESH", value_name = "SECS")]
    pub(crate) jwks_min_refresh: Option<u64>,

    /// See `jwks_min_refresh`.
    #[arg(long, env = "GLUE_GATEWAY_JWKS_MAX_REFRESH", value_name = "SECS")]
    pub(crate) jwks_max_refresh: Option<u64>,

    // ---- database -----------------------------------------------------
    /// Where users, warehouse assignments, refresh tokens and the access-token
    /// log live: `postgres://user:password@host:port/db`,
    /// `mysql://user:password@host:port/db` (MariaDB or MySQL; `mariadb://`
    /// too), `sqlite:PATH` (or a plain path), or `memory:` (the demo data in
    /// memory, lost on exit).
    /// Default: the SQLite file glue.db in the data directory, created and
    /// seeded with the demo data on first start. Prefer the environment over
    /// the flag (flags show up in `ps`).
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "URL",
        hide_env_values = true,
        global = true
    )]
    #[serde(alias = "DATABASE_URL")]
    pub(crate) database_url: Option<String>,

    /// Spryker's database settings, read when `database_url` is not set:
    /// the engine (`mysql`, Spryker's default, or `pgsql`).
    #[arg(long, env = "SPRYKER_DB_ENGINE", hide = true, global = true)]
    #[serde(alias = "SPRYKER_DB_ENGINE")]
    pub(crate) spryker_db_engine: Option<String>,
    /// Spryker's database host (`SPRYKER_DB_HOST`).
    #[arg(long, env = "SPRYKER_DB_HOST", hide = true, global = true)]
    #[serde(alias = "SPRYKER_DB_HOST")]
    pub(crate) spryker_db_host: Option<String>,
    /// Spryker's database port (`SPRYKER_DB_PORT`; default 3306 or 5432).
    #[arg(long, env = "SPRYKER_DB_PORT", hide = true, global = true)]
    #[serde(alias = "SPRYKER_DB_PORT")]
    pub(crate) spryker_db_port: Option<u16>,
    /// Spryker's database name (`SPRYKER_DB_DATABASE`).
    #[arg(long, env = "SPRYKER_DB_DATABASE", hide = true, global = true)]
    #[serde(alias = "SPRYKER_DB_DATABASE")]
    pub(crate) spryker_db_database: Option<String>,
    /// Spryker's database user (`SPRYKER_DB_USERNAME`).
    #[arg(long, env = "SPRYKER_DB_USERNAME", hide = true, global = true)]
    #[serde(alias = "SPRYKER_DB_USERNAME")]
    pub(crate) spryker_db_username: Option<String>,
    /// Spryker's database password (`SPRYKER_DB_PASSWORD`).
    #[arg(
        long,
        env = "SPRYKER_DB_PASSWORD",
        hide = true,
        hide_env_values = true,
        global = true
    )]
    #[serde(alias = "SPRYKER_DB_PASSWORD")]
    pub(crate) spryker_db_password: Option<String>,
    /// Spryker's OAuth client (`SPRYKER_OAUTH_CLIENT_IDENTIFIER`): the
    /// default of `client_ids`.
    #[arg(
        long,
        env = "SPRYKER_OAUTH_CLIENT_IDENTIFIER",
        hide = true,
        global = true
    )]
    #[serde(alias = "SPRYKER_OAUTH_CLIENT_IDENTIFIER")]
    pub(crate) spryker_oauth_client_identifier: Option<String>,

    /// Table layout: `own` (tables created and migrated by the gateway,
    /// default) or `spryker` (an existing Spryker PostgreSQL or MariaDB/MySQL
    /// database: nothing is created, users are read from spy_user).
    #[arg(
        long,
        env = "GLUE_GATEWAY_DATABASE_LAYOUT",
        value_name = "own|spryker",
        global = true
    )]
    pub(crate) database_layout: Option<String>,

    /// Seed the demo data (sonia@spryker.com, warehouses 1 and 2) into an empty
    /// database. Default: true for SQLite, false for PostgreSQL and
    /// MariaDB/MySQL; never with the spryker layout.
    #[arg(long, env = "GLUE_GATEWAY_DATABASE_SEED_DEMO", value_name = "BOOL", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new(), global = true)]
    pub(crate) database_seed_demo: Option<bool>,

    /// Pooled database connections at most. Default 10.
    #[arg(
        long,
        env = "GLUE_GATEWAY_DATABASE_MAX_CONNECTIONS",
        value_name = "N",
        global = true
    )]
    pub(crate) database_max_connections: Option<u32>,

    /// Seconds a request waits for a pooled connection (connecting included)
    /// before answering 503. Default 2.
    #[arg(
        long,
        env = "GLUE_GATEWAY_DATABASE_ACQUIRE_TIMEOUT",
        value_name = "SECS",
        global = true
    )]
    pub(crate) database_acquire_timeout: Option<u64>,

    /// Deadline of one database operation in seconds (also PostgreSQL's
    /// statement_timeout and lock_timeout, MariaDB's max_statement_time,
    /// MySQL's max_execution_time, and innodb_lock_wait_timeout); past it:
    /// 503. Default 5.
    #[arg(
        long,
        env = "GLUE_GATEWAY_DATABASE_OPERATION_TIMEOUT",
        value_name = "SECS",
        global = true
    )]
    pub(crate) database_operation_timeout: Option<u64>,

    /// Seconds to wait at start for the database to answer (connect, migrate,
    /// seed), retrying. Default 30.
    #[arg(
        long,
        env = "GLUE_GATEWAY_DATABASE_CONNECT_TIMEOUT",
        value_name = "SECS",
        global = true
    )]
    pub(crate) database_connect_timeout: Option<u64>,

    // ---- users --------------------------------------------------------
    /// Users, warehouses and assignments as JSON, kept in memory instead of a
    /// database (see docs/operations.md); excludes `database_url`.
    #[arg(long, env = "GLUE_GATEWAY_USERS_FILE", value_name = "PATH")]
    pub(crate) users_file: Option<PathBuf>,

    // ---- wire settings (SPEC) ----------------------------------------
    /// Status of "Missing access token." and of "Unauthorized request." without
    /// credentials: 401 (current Spryker) or 403 (older releases). Default 401.
    #[arg(
        long,
        env = "GLUE_GATEWAY_UNAUTHENTICATED_STATUS",
        value_name = "401|403"
    )]
    pub(crate) unauthenticated_status: Option<u16>,

    /// Shape of a successful POST /token: `object` (200, default) or `array`
    /// (201, Spryker's core response).
    #[arg(long, env = "GLUE_GATEWAY_TOKEN_RESPONSE", value_name = "object|array")]
    pub(crate) token_response: Option<String>,

    /// Issue user tokens with scopes ["user"] only (before Feb 2024). Default false.
    #[arg(long, env = "GLUE_GATEWAY_LEGACY_SCOPES", value_name = "BOOL", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub(crate) legacy_scopes: Option<bool>,

    /// Accept grant_type=refresh_token (rotation, reuse detection). Default false.
    #[arg(long, env = "GLUE_GATEWAY_REFRESH_GRANT", value_name = "BOOL", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub(crate) refresh_grant: Option<bool>,

    /// User access token lifetime in seconds. Default 28800.
    #[arg(long, env = "GLUE_GATEWAY_USER_TOKEN_TTL", value_name = "SECS")]
    pub(crate) user_token_ttl: Option<u64>,

    /// Warehouse access token lifetime in seconds. Default 604800.
    #[arg(long, env = "GLUE_GATEWAY_WAREHOUSE_TOKEN_TTL", value_name = "SECS")]
    pub(crate) warehouse_token_ttl: Option<u64>,

    /// Refresh token lifetime in seconds. Default 2592000.
    #[arg(long, env = "GLUE_GATEWAY_REFRESH_TOKEN_TTL", value_name = "SECS")]
    pub(crate) refresh_token_ttl: Option<u64>,

    /// OAuth client ids (spy_oauth_client), comma separated; the first is the
    /// default and the `aud` of issued tokens. Default frontend.
    #[arg(
        long,
        env = "GLUE_GATEWAY_CLIENT_IDS",
        value_name = "IDS",
        value_delimiter = ','
    )]
    pub(crate) client_ids: Option<Vec<String>>,

    /// Redirect URIs of the code flow (`POST /authorize`, SPEC §2a), comma
    /// separated, each `client=uri`, or a bare URI for the default client.
    /// Loopback URIs (`http://127.0.0.1`, `http://[::1]`, `http://localhost`)
    /// match on any port. Added to those of spy_oauth_client.redirect_uri.
    /// Default: none (`/authorize` answers invalid_client).
    #[arg(
        long,
        env = "GLUE_GATEWAY_REDIRECT_URIS",
        value_name = "URIS",
        value_delimiter = ','
    )]
    pub(crate) redirect_uris: Option<Vec<String>>,

    /// Accept `code_challenge_method=plain` at `/authorize` (Spryker does;
    /// RFC 9700 says no). Default false: S256 only.
    #[arg(long, env = "GLUE_GATEWAY_PLAIN_PKCE", value_name = "BOOL", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub(crate) plain_pkce: Option<bool>,

    /// Accepted `aud` values, comma separated. Default: empty = not checked.
    #[arg(
        long,
        env = "GLUE_GATEWAY_AUDIENCES",
        value_name = "AUDS",
        value_delimiter = ','
    )]
    pub(crate) audiences: Option<Vec<String>>,

    /// Clock leeway for exp/nbf/iat in seconds. Default 0.
    #[arg(long, env = "GLUE_GATEWAY_LEEWAY", value_name = "SECS")]
    pub(crate) leeway: Option<u64>,

    /// Longest accepted access token in bytes. Default 8192.
    #[arg(long, env = "GLUE_GATEWAY_MAX_TOKEN_SIZE", value_name = "BYTES")]
    pub(crate) max_token_size: Option<usize>,

    /// Validated-token cache size (entries; 0 turns the cache off). Default 10000.
    #[arg(long, env = "GLUE_GATEWAY_TOKEN_CACHE_CAPACITY", value_name = "N")]
    pub(crate) token_cache_capacity: Option<u64>,

    /// Largest body of POST /token and /warehouse-tokens in bytes (413 above). Default 16384.
    #[arg(long, env = "GLUE_GATEWAY_TOKEN_BODY_LIMIT", value_name = "BYTES")]
    pub(crate) token_body_limit: Option<usize>,

    /// Failed logins per username within the window before 429 (0: off). Default 5.
    #[arg(long, env = "GLUE_GATEWAY_THROTTLE_PER_USERNAME", value_name = "N")]
    pub(crate) throttle_per_username: Option<u32>,

    /// Failed logins per client address within the window before 429 (0: off). Default 20.
    #[arg(long, env = "GLUE_GATEWAY_THROTTLE_PER_ADDRESS", value_name = "N")]
    pub(crate) throttle_per_address: Option<u32>,

    /// Throttling window in seconds (sliding). Default 300.
    #[arg(long, env = "GLUE_GATEWAY_THROTTLE_WINDOW", value_name = "SECS")]
    pub(crate) throttle_window: Option<u64>,

    /// Take the client address for throttling from the last entry of this header
    /// (set it only behind a proxy that writes it, e.g. x-forwarded-for).
    /// Default: the TCP peer address.
    #[arg(long, env = "GLUE_GATEWAY_CLIENT_IP_HEADER", value_name = "HEADER")]
    pub(crate) client_ip_header: Option<String>,

    /// Count failed logins in this Redis, shared by every gateway using it
    /// (`redis://[:password@]host[:port][/db]`). Default: in this process.
    #[arg(long, env = "REDIS_URL", value_name = "URL", hide_env_values = true)]
    #[serde(alias = "REDIS_URL")]
    pub(crate) redis_url: Option<String>,

    /// How long a Redis round trip of the login throttle may take before the
    /// attempt is counted in this process instead, in milliseconds. Default 100.
    #[arg(long, env = "GLUE_GATEWAY_REDIS_TIMEOUT", value_name = "MS")]
    pub(crate) redis_timeout: Option<u64>,

    /// Prefix of the throttle's Redis keys. Default glue-auth:throttle:.
    #[arg(long, env = "GLUE_GATEWAY_REDIS_KEY_PREFIX", value_name = "PREFIX")]
    pub(crate) redis_key_prefix: Option<String>,

    /// bcrypt cost of the dummy hash (unknown and blocked users) and of
    /// passwords the admin commands hash, 4 to 31. Default: the most common
    /// cost of the stored hashes (10 without any).
    #[arg(
        long,
        env = "GLUE_GATEWAY_PASSWORD_COST",
        value_name = "COST",
        global = true
    )]
    pub(crate) password_cost: Option<u32>,

    /// Password verifications running at once. Default: number of CPUs.
    #[arg(long, env = "GLUE_GATEWAY_MAX_CONCURRENT_HASHES", value_name = "N")]
    pub(crate) max_concurrent_hashes: Option<usize>,

    /// Password verifications allowed to wait (one more answers 503). Default 64.
    #[arg(long, env = "GLUE_GATEWAY_MAX_QUEUED_HASHES", value_name = "N")]
    pub(crate) max_queued_hashes: Option<usize>,

    /// Stored bcrypt hashes above this cost are refused without hashing
    /// (a hostile cost-31 hash would pin a core for hours). 4 to 31. Default 14.
    #[arg(
        long,
        env = "GLUE_GATEWAY_MAX_STORED_PASSWORD_COST",
        value_name = "COST"
    )]
    pub(crate) max_stored_password_cost: Option<u32>,

    /// Requests to routes outside Spryker's route table: `deny` (refused;
    /// the default with an upstream), `authenticated` (any valid token) or
    /// `public` (the default of the demo service, which answers 404).
    #[arg(
        long,
        env = "GLUE_GATEWAY_UNMATCHED_ROUTES",
        value_name = "deny|authenticated|public"
    )]
    pub(crate) unmatched_routes: Option<String>,

    // ---- browser / headers -------------------------------------------
    /// CORS allowed origins: empty (no CORS, default), one origin, a comma list, or `*`.
    #[arg(long, env = "GLUE_BACKEND_CORS_ALLOW_ORIGIN", value_name = "ORIGINS")]
    #[serde(alias = "GLUE_BACKEND_CORS_ALLOW_ORIGIN")]
    pub(crate) cors_allow_origin: Option<String>,

    /// Add Glue's security headers (X-Frame-Options, CSP, HSTS, …) to every
    /// response. Default true.
    #[arg(long, env = "GLUE_GATEWAY_SECURITY_HEADERS", value_name = "BOOL", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub(crate) security_headers: Option<bool>,

    // ---- upstream principal headers ----------------------------------
    /// Header carrying the user's uuid to the upstream. Default x-glue-user-uuid.
    #[arg(long, env = "GLUE_GATEWAY_HEADER_USER_UUID", value_name = "NAME")]
    pub(crate) header_user_uuid: Option<String>,

    /// Header carrying the user's id_user to the upstream. Default x-glue-user-id.
    #[arg(long, env = "GLUE_GATEWAY_HEADER_USER_ID", value_name = "NAME")]
    pub(crate) header_user_id: Option<String>,

    /// Header carrying the warehouse id to the upstream. Default x-glue-warehouse-id.
    #[arg(long, env = "GLUE_GATEWAY_HEADER_WAREHOUSE_ID", value_name = "NAME")]
    pub(crate) header_warehouse_id: Option<String>,

    /// Header carrying the token's scopes (space separated). Default x-glue-scopes.
    #[arg(long, env = "GLUE_GATEWAY_HEADER_SCOPES", value_name = "NAME")]
    pub(crate) header_scopes: Option<String>,

    // ---- limits -------------------------------------------------------
    /// Whole-request timeout in seconds (504 in upstream mode, 503 otherwise). Default 30.
    #[arg(long, env = "GLUE_GATEWAY_REQUEST_TIMEOUT", value_name = "SECS")]
    pub(crate) request_timeout: Option<u64>,

    /// Time a new connection has to deliver its first complete request head
    /// (HTTP/1.1 or HTTP/2), and on HTTP/1.1 every later one, seconds. Default 10.
    #[arg(long, env = "GLUE_GATEWAY_HEADER_READ_TIMEOUT", value_name = "SECS")]
    pub(crate) header_read_timeout: Option<u64>,

    /// Largest request head in bytes (HTTP/1.1 buffer, HTTP/2 header list). At
    /// least 8192. Default 16384.
    #[arg(long, env = "GLUE_GATEWAY_MAX_HEADER_SIZE", value_name = "BYTES")]
    pub(crate) max_header_size: Option<usize>,

    /// Largest request body of other routes in bytes (413 above). Default 1048576.
    #[arg(long, env = "GLUE_GATEWAY_BODY_LIMIT", value_name = "BYTES")]
    pub(crate) body_limit: Option<usize>,

    /// Open connections at most; more wait in the kernel backlog. Default 10000.
    #[arg(long, env = "GLUE_GATEWAY_MAX_CONNECTIONS", value_name = "N")]
    pub(crate) max_connections: Option<usize>,

    /// Concurrent HTTP/2 streams per connection. Default 200.
    #[arg(long, env = "GLUE_GATEWAY_H2_MAX_CONCURRENT_STREAMS", value_name = "N")]
    pub(crate) h2_max_concurrent_streams: Option<u32>,

    /// Seconds to let in-flight requests finish after SIGTERM/Ctrl-C. Default 30.
    #[arg(long, env = "GLUE_GATEWAY_SHUTDOWN_TIMEOUT", value_name = "SECS")]
    pub(crate) shutdown_timeout: Option<u64>,

    // ---- operations ---------------------------------------------------
    /// Serve Prometheus metrics at GET /metrics. Default true.
    #[arg(long, env = "GLUE_GATEWAY_METRICS", value_name = "BOOL", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub(crate) metrics: Option<bool>,

    /// Log filter (tracing EnvFilter syntax). Default `info`; RUST_LOG is used
    /// when this is unset.
    #[arg(long, env = "GLUE_GATEWAY_LOG", value_name = "FILTER")]
    pub(crate) log: Option<String>,

    /// Log format: `text` (default) or `json`.
    #[arg(long, env = "GLUE_GATEWAY_LOG_FORMAT", value_name = "text|json")]
    pub(crate) log_format: Option<String>,
}

macro_rules! merge_fields {
    ($hi:ident, $lo:ident; $($f:ident),* $(,)?) => {
        Options { $($f: $hi.$f.or($lo.$f)),* }
    };
}

impl Options {
    /// `self` wins over `lower`, field by field.
    fn merge(self, lower: Options) -> Options {
        let hi = self;
        let lo = lower;
        merge_fields!(hi, lo;
            listen, data_dir, database_url, spryker_db_engine, spryker_db_host, spryker_db_port,
            spryker_db_database, spryker_db_username, spryker_db_password,
            spryker_oauth_client_identifier, database_layout, database_seed_demo,
            database_max_connections, database_acquire_timeout, database_operation_timeout,
            database_connect_timeout, upstream, upstream_ca_file, private_key_path, public_key_path, private_key,
            public_key, extra_public_key_paths, jwt_kid, kidless_key, key_watch_interval,
            jwks_url, jwks_cooldown, jwks_min_refresh, jwks_max_refresh, users_file, unauthenticated_status,
            token_response, legacy_scopes, refresh_grant, user_token_ttl, warehouse_token_ttl,
            refresh_token_ttl, client_ids, redirect_uris, plain_pkce, audiences, leeway, max_token_size,
            token_cache_capacity, token_body_limit, throttle_per_username,
            throttle_per_address, throttle_window, client_ip_header, redis_url, redis_timeout, redis_key_prefix,
            password_cost, max_concurrent_hashes,
            max_queued_hashes, max_stored_password_cost, unmatched_routes, cors_allow_origin, security_headers, header_user_uuid,
            header_user_id, header_warehouse_id, header_scopes, request_timeout,
            header_read_timeout, max_header_size, body_limit, max_connections,
            h2_max_concurrent_streams, shutdown_timeout, metrics, log, log_format,
        )
    }
}

/// Where a key comes from.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum KeySource {
    /// A file (reloaded on SIGHUP).
    File(PathBuf),
    /// PEM text from the environment or the config file (not reloadable).
    Inline(String),
}

/// Never prints inline key material.
impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::File(p) => f.debug_tuple("File").field(p).finish(),
            KeySource::Inline(_) => f.write_str("Inline(..)"),
        }
    }
}

/// Where the stores live.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum DatabaseUrl {
    /// `memory:`: `MemoryDirectory` (demo data) and `MemoryRefreshTokens`.
    Memory,
    /// `users_file`: that file in a `MemoryDirectory`, refresh tokens in memory.
    UsersFile(PathBuf),
    /// A SQLite file or in-memory SQLite database (`SqlStore`).
    Sqlite(String),
    /// A database server (`SqlStore`): PostgreSQL, or MariaDB/MySQL
    /// (`mysql://`, `mariadb://`); may carry a password.
    Server(String),
}

/// Never prints a password.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Memory => f.write_str("memory:"),
            DatabaseUrl::UsersFile(p) => write!(f, "users file {}", p.display()),
            DatabaseUrl::Sqlite(u) => f.write_str(u),
            DatabaseUrl::Server(u) => f.write_str(&redact_url(u)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Database URLs are shown only through glue-auth-sql's redactor (userinfo
/// passwords and `password`/`sslpassword` query parameters masked).
pub(crate) use glue_auth_sql::redact_url;

/// Database settings (SQL stores).
#[derive(Debug, Clone)]
pub(crate) struct DatabaseSettings {
    pub(crate) url: DatabaseUrl,
    /// Where the URL came from, for the start-up log.
    pub(crate) source: &'static str,
    /// The existing-Spryker-database layout (a database server only).
    pub(crate) spryker_layout: bool,
    pub(crate) seed_demo: Option<bool>,
    pub(crate) max_connections: u32,
    pub(crate) acquire_timeout: Duration,
    pub(crate) operation_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    /// `password_cost` as set (`None`: the most common cost of the stored
    /// hashes).
    pub(crate) password_cost: Option<u32>,
}

/// What happens to requests outside the route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unmatched {
    Deny,
    Authenticated,
    Public,
}

/// CORS origins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cors {
    Off,
    Any,
    List(Vec<http::HeaderValue>),
}

/// Checked settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) listen: SocketAddr,
    pub(crate) data_dir: PathBuf,
    pub(crate) upstream: Option<Uri>,
    pub(crate) upstream_ca_file: Option<PathBuf>,
    pub(crate) private_key: Option<KeySource>,
    pub(crate) public_key: Option<KeySource>,
    pub(crate) extra_public_keys: Vec<PathBuf>,
    pub(crate) jwt_kid: bool,
    /// Kid-less tokens go to the current key (`true`) or the previous one.
    pub(crate) kidless_current: bool,
    /// `None`: key files are not watched.
    pub(crate) key_watch_interval: Option<Duration>,
    /// Verify-only mode following a JWK Set.
    pub(crate) jwks: Option<JwksSettings>,
    pub(crate) database: DatabaseSettings,
    /// `unauthenticated_status`, `token_response`, `legacy_scopes`.
    pub(crate) compatibility: Compatibility,
    pub(crate) refresh_grant: bool,
    /// `user_token_ttl`, `warehouse_token_ttl`, `refresh_token_ttl`.
    pub(crate) lifetimes: Lifetimes,
    pub(crate) client_ids: Vec<String>,
    /// `redirect_uris`: (client, URI) pairs.
    pub(crate) redirect_uris: Vec<(String, String)>,
    pub(crate) plain_pkce: bool,
    pub(crate) audiences: Vec<String>,
    pub(crate) leeway: Duration,
    pub(crate) max_token_size: usize,
    pub(crate) token_cache_capacity: u64,
    pub(crate) token_body_limit: usize,
    /// `throttle_per_username`, `throttle_per_address`, `throttle_window`.
    pub(crate) throttle: ThrottleSettings,
    pub(crate) client_ip_header: Option<HeaderName>,
    /// `redis_url` and its settings: the shared login throttle.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) redis: Option<RedisSettings>,
    /// `max_concurrent_hashes`, `max_queued_hashes`.
    pub(crate) hashing: HashingSettings,
    pub(crate) cors: Cors,
    pub(crate) security_headers: bool,
    pub(crate) unmatched_routes: Unmatched,
    pub(crate) principal_headers: PrincipalHeaders,
    pub(crate) request_timeout: Duration,
    pub(crate) header_read_timeout: Duration,
    pub(crate) max_header_size: usize,
    pub(crate) body_limit: usize,
    pub(crate) max_connections: usize,
    pub(crate) h2_max_concurrent_streams: u32,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) metrics: bool,
    pub(crate) log: Option<String>,
    pub(crate) log_json: bool,
}

/// The shared login throttle: `redis_url`, `redis_timeout`,
/// `redis_key_prefix`. The URL's password is never shown (`Debug`).
#[derive(Clone)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) struct RedisSettings {
    pub(crate) url: String,
    pub(crate) timeout: Duration,
    pub(crate) key_prefix: Option<String>,
}

impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &glue_auth_sql::redact_url(&self.url))
            .field("timeout", &self.timeout)
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

/// `jwks_url` and its fetch settings.
#[derive(Debug, Clone)]
pub(crate) struct JwksSettings {
    pub(crate) url: String,
    pub(crate) cooldown: Duration,
    pub(crate) min_refresh: Duration,
    pub(crate) max_refresh: Duration,
}

/// Names of the headers that carry the principal to the upstream.
#[derive(Debug, Clone)]
pub(crate) struct PrincipalHeaders {
    pub(crate) user_uuid: HeaderName,
    pub(crate) user_id: HeaderName,
    pub(crate) warehouse_id: HeaderName,
    pub(crate) scopes: HeaderName,
}

impl PrincipalHeaders {
    pub(crate) fn all(&self) -> [&HeaderName; 4] {
        [
            &self.user_uuid,
            &self.user_id,
            &self.warehouse_id,
            &self.scopes,
        ]
    }
}

/// Reads the command line, the environment and the config file.
pub(crate) fn load(config: Option<&Path>, options: Options) -> Result<Settings, ConfigError> {
    let file = match config {
        Some(path) => read_file(path)?,
        None => Options::default(),
    };
    check(options.merge(file))
}

/// Percent-encodes a URL userinfo or path component (all but unreserved
/// characters).
fn url_component(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The database URL of Spryker's `SPRYKER_DB_*` settings, when its host is
/// set.
fn spryker_database_url(o: &Options) -> Result<Option<String>, ConfigError> {
    let Some(host) = o
        .spryker_db_host
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
    else {
        return Ok(None);
    };
    let (scheme, port) = match o
        .spryker_db_engine
        .as_deref()
        .map(|e| e.trim().to_ascii_lowercase())
        .as_deref()
    {
        // Spryker's config_default.php falls back to MySQL.
        None | Some("") | Some("mysql") => ("mysql", 3306),
        Some("pgsql") | Some("postgresql") | Some("postgres") => ("postgres", 5432),
        Some(other) => {
            return Err(ConfigError::new(
                "SPRYKER_DB_ENGINE",
                format!("{other:?} is neither `mysql` nor `pgsql`"),
            ));
        }
    };
    let port = o.spryker_db_port.unwrap_or(port);
    let database = o.spryker_db_database.as_deref().unwrap_or_default();
    if database.trim().is_empty() {
        return Err(ConfigError::new(
            "SPRYKER_DB_DATABASE",
            "is required with SPRYKER_DB_HOST",
        ));
    }
    let userinfo = match (
        o.spryker_db_username.as_deref().filter(|u| !u.is_empty()),
        o.spryker_db_password.as_deref().filter(|p| !p.is_empty()),
    ) {
        (Some(u), Some(p)) => format!("{}:{}@", url_component(u), url_component(p)),
        (Some(u), None) => format!("{}@", url_component(u)),
        (None, _) => String::new(),
    };
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    Ok(Some(format!(
        "{scheme}://{userinfo}{host}:{port}/{}",
        url_component(database.trim())
    )))
}

fn database(o: &Options, data_dir: &Path) -> Result<DatabaseSettings, ConfigError> {
    let explicit = o
        .database_url
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let from_spryker = if explicit.is_none() {
        spryker_database_url(o)?
    } else {
        None
    };
    // DATABASE_URL wins over SPRYKER_DB_*.
    let (raw, source) = match (explicit, from_spryker.as_deref()) {
        (Some(u), _) => (Some(u), "database_url"),
        (None, Some(u)) => (Some(u), "SPRYKER_DB_*"),
        (None, None) => (None, "default"),
    };
    let url = match (raw, &o.users_file) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::new(
                "users_file",
                "users_file keeps users in memory: it cannot be combined with database_url \
                 (import the users into the database with `glue-gateway user add` instead)",
            ));
        }
        (None, Some(path)) => DatabaseUrl::UsersFile(path.clone()),
        (None, None) => {
            DatabaseUrl::Sqlite(data_dir.join("glue.db").to_string_lossy().into_owned())
        }
        (Some("memory:"), None) => DatabaseUrl::Memory,
        (Some(u), None)
            if ["postgres://", "postgresql://", "mysql://", "mariadb://"]
                .iter()
                .any(|scheme| u.starts_with(scheme)) =>
        {
            DatabaseUrl::Server(u.to_owned())
        }
        (Some(u), None) if u.starts_with("sqlite:") || !u.contains("://") => {
            DatabaseUrl::Sqlite(u.to_owned())
        }
        (Some(u), None) => {
            return Err(ConfigError::new(
                "database_url",
                format!(
                    "{} is not a database URL: use postgres://, mysql:// (or mariadb://), \
                     sqlite:PATH, a file path or memory:",
                    redact_url(u)
                ),
            ));
        }
    };
    let spryker_layout = match o
        .database_layout
        .as_deref()
        .map(|s| s.trim().to_ascii_lowercase())
        .as_deref()
    {
        // Spryker's own settings point at Spryker's own database.
        None | Some("") => source == "SPRYKER_DB_*",
        Some("own") => false,
        Some("spryker") => true,
        Some(other) => {
            return Err(ConfigError::new(
                "database_layout",
                format!("{other:?} is neither `own` nor `spryker`"),
            ));
        }
    };
    if spryker_layout && !matches!(url, DatabaseUrl::Server(_)) {
        return Err(ConfigError::new(
            "database_layout",
            "the spryker layout needs a postgres:// or mysql:// database_url",
        ));
    }
    let max_connections = positive(o.database_max_connections, 10, "database_max_connections")?;
    Ok(DatabaseSettings {
        url,
        source,
        spryker_layout,
        seed_demo: o.database_seed_demo,
        max_connections,
        acquire_timeout: secs(o.database_acquire_timeout, 2, "database_acquire_timeout", 1)?,
        operation_timeout: secs(
            o.database_operation_timeout,
            5,
            "database_operation_timeout",
            1,
        )?,
        connect_timeout: secs(
            o.database_connect_timeout,
            30,
            "database_connect_timeout",
            1,
        )?,
        password_cost: match o.password_cost {
            None => None,
            Some(c) if (4..=31).contains(&c) => Some(c),
            Some(c) => {
                return Err(ConfigError::new(
                    "password_cost",
                    format!("{c} is outside 4..=31"),
                ));
            }
        },
    })
}

fn read_file(path: &Path) -> Result<Options, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new("config", format!("cannot read {}: {e}", path.display())))?;
    parse_toml(&text).map_err(|e| ConfigError::new("config", format!("{}: {e}", path.display())))
}

/// Parses the file; the error names line, column and key but never shows
/// the file's text (a line may hold a password or a key).
fn parse_toml(text: &str) -> Result<Options, String> {
    toml::from_str(text).map_err(|e| {
        let message = redact_quoted(e.message().trim());
        let Some(span) = e.span() else {
            return message;
        };
        let before = &text.as_bytes()[..span.start.min(text.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        let key = text
            .lines()
            .nth(line - 1)
            .and_then(|l| l.split_once('='))
            .map(|(k, _)| k.trim())
            .filter(|k| {
                !k.is_empty()
                    && k.len() <= 64
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-.\"' ".contains(c))
            });
        match key {
            Some(k) => format!("line {line}, column {column}, key `{k}`: {message}"),
            None => format!("line {line}, column {column}: {message}"),
        }
    })
}

/// `invalid type: string "s3cret", expected u64` → `… string "…", …`:
/// serde quotes offending values in double quotes.
fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    for c in message.chars() {
        if c == '"' {
            if inside {
                out.push('…');
            }
            inside = !inside;
            out.push(c);
        } else if !inside {
            out.push(c);
        }
    }
    out
}

fn key_path(raw: &str) -> PathBuf {
    PathBuf::from(raw.strip_prefix("file://").unwrap_or(raw))
}

fn inline_pem(raw: &str) -> String {
    raw.replace("__LINE__", "\n").replace("\\n", "\n")
}

fn key_source(
    path: Option<String>,
    inline: Option<String>,
    path_name: &'static str,
    inline_name: &'static str,
) -> Result<Option<KeySource>, ConfigError> {
    let path = path.filter(|p| !p.trim().is_empty());
    let inline = inline.filter(|p| !p.trim().is_empty());
    match (path, inline) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            path_name,
            format!("set either {path_name} or {inline_name}, not both"),
        )),
        (Some(p), None) => Ok(Some(KeySource::File(key_path(p.trim())))),
        (None, Some(pem)) => Ok(Some(KeySource::Inline(inline_pem(&pem)))),
        (None, None) => Ok(None),
    }
}

fn secs(
    v: Option<u64>,
    default: u64,
    name: &'static str,
    min: u64,
) -> Result<Duration, ConfigError> {
    let v = v.unwrap_or(default);
    if v < min {
        return Err(ConfigError::new(
            name,
            format!("{v} is too small (at least {min} seconds)"),
        ));
    }
    Ok(Duration::from_secs(v))
}

fn positive<T: Copy + PartialOrd + Default + fmt::Display>(
    v: Option<T>,
    default: T,
    name: &'static str,
) -> Result<T, ConfigError> {
    let v = v.unwrap_or(default);
    if v <= T::default() {
        return Err(ConfigError::new(name, "must be greater than 0"));
    }
    Ok(v)
}

/// Headers that frame the message, route it, authenticate the caller or are
/// written by the proxy itself: none of them may carry the principal.
const RESERVED_HEADERS: [&str; 17] = [
    "authorization",
    "connection",
    "content-length",
    "content-type",
    "cookie",
    "expect",
    "forwarded",
    "host",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "set-cookie",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
];

/// A header name for the principal: valid, not reserved, no `_` (CGI-style
/// upstreams read `a_b` and `a-b` as one variable, and the proxy drops
/// client headers with `_`, so only a dashed name is safe).
fn principal_header(
    v: Option<String>,
    default: &'static str,
    name: &'static str,
) -> Result<HeaderName, ConfigError> {
    let h = header_name(v, default, name)?;
    let s = h.as_str();
    if RESERVED_HEADERS.contains(&s) || s.starts_with("x-forwarded-") {
        return Err(ConfigError::new(
            name,
            format!("{s} cannot carry the principal (a reserved header)"),
        ));
    }
    if s.contains('_') {
        return Err(ConfigError::new(
            name,
            format!("{s}: use `-` instead of `_` (upstreams may map both to one variable)"),
        ));
    }
    Ok(h)
}

fn header_name(
    v: Option<String>,
    default: &'static str,
    name: &'static str,
) -> Result<HeaderName, ConfigError> {
    match v {
        None => Ok(HeaderName::from_static(default)),
        Some(s) => HeaderName::from_bytes(s.trim().to_ascii_lowercase().as_bytes())
            .map_err(|_| ConfigError::new(name, format!("{s:?} is not a valid header name"))),
    }
}

fn check(o: Options) -> Result<Settings, ConfigError> {
    let data_dir = o.data_dir.clone().unwrap_or_else(|| PathBuf::from("data"));
    let database = database(&o, &data_dir)?;
    let listen = o
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let upstream = match o.upstream.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => {
            let uri: Uri = raw
                .parse()
                .map_err(|e| ConfigError::new("upstream", format!("{raw:?}: {e}")))?;
            match uri.scheme_str() {
                Some("http" | "https") => {}
                _ => {
                    return Err(ConfigError::new(
                        "upstream",
                        format!("{raw:?} must be an absolute http:// or https:// URL"),
                    ));
                }
            }
            if uri.authority().is_none() {
                return Err(ConfigError::new("upstream", format!("{raw:?} has no host")));
            }
            if uri.query().is_some() {
                return Err(ConfigError::new(
                    "upstream",
                    format!("{raw:?} must not have a query"),
                ));
            }
            Some(uri)
        }
    };
    let private_key = key_source(
        o.private_key_path,
        o.private_key,
        "private_key_path",
        "SPRYKER_OAUTH_KEY_PRIVATE",
    )?;
    let public_key = key_source(
        o.public_key_path,
        o.public_key,
        "public_key_path",
        "SPRYKER_OAUTH_KEY_PUBLIC",
    )?;
    let extra_public_keys: Vec<PathBuf> = o
        .extra_public_key_paths
        .unwrap_or_default()
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(key_path)
        .collect();
    let kidless_current = match o.kidless_key.as_deref().map(str::trim) {
        None | Some("") | Some("previous") => false,
        Some("current") => true,
        Some(other) => {
            return Err(ConfigError::new(
                "kidless_key",
                format!("{other:?} is neither `previous` nor `current`"),
            ));
        }
    };
    let key_watch_interval = match o.key_watch_interval.unwrap_or(5) {
        0 => None,
        n => Some(Duration::from_secs(n)),
    };
    let jwks = match o.jwks_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(url) => {
            if private_key.is_some() || public_key.is_some() || !extra_public_keys.is_empty() {
                return Err(ConfigError::new(
                    "jwks_url",
                    "jwks_url is verify-only: it cannot be combined with private, public or extra key files",
                ));
            }
            match url.parse::<Uri>() {
                Ok(u) if u.scheme_str() == Some("http") && u.authority().is_some() => {}
                _ => {
                    return Err(ConfigError::new(
                        "jwks_url",
                        format!("{url:?} must be an absolute http:// URL"),
                    ));
                }
            }
            let min_refresh = secs(o.jwks_min_refresh, 60, "jwks_min_refresh", 1)?;
            let max_refresh = secs(o.jwks_max_refresh, 3600, "jwks_max_refresh", 1)?;
            if min_refresh > max_refresh {
                return Err(ConfigError::new(
                    "jwks_min_refresh",
                    "must not be above jwks_max_refresh",
                ));
            }
            Some(JwksSettings {
                url: url.to_owned(),
                cooldown: secs(o.jwks_cooldown, 10, "jwks_cooldown", 0)?,
                min_refresh,
                max_refresh,
            })
        }
    };
    let unauthenticated_status =
        UnauthenticatedStatus::try_from(o.unauthenticated_status.unwrap_or(401))
            .map_err(|e| ConfigError::new("unauthenticated_status", e.to_string()))?;
    let response_style = match o
        .token_response
        .as_deref()
        .map(|s| s.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("object") | Some("200") => ResponseStyle::Object,
        Some("array") | Some("201") => ResponseStyle::Array,
        Some(other) => {
            return Err(ConfigError::new(
                "token_response",
                format!("{other:?} is neither `object` (200) nor `array` (201)"),
            ));
        }
    };
    let client_ids: Vec<String> = o
        .client_ids
        .or_else(|| {
            o.spryker_oauth_client_identifier
                .as_ref()
                .map(|c| vec![c.clone()])
        })
        .unwrap_or_else(|| vec!["frontend".into()])
        .into_iter()
        .map(|s| s.trim().to_owned())
        .collect();
    if client_ids.is_empty() || client_ids.iter().any(String::is_empty) {
        return Err(ConfigError::new(
            "client_ids",
            "needs at least one non-empty client id",
        ));
    }
    let redirect_uris = redirect_uris(o.redirect_uris.as_deref().unwrap_or_default(), &client_ids)?;
    let audiences = o
        .audiences
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let max_token_size = positive(o.max_token_size, 8192, "max_token_size")?;
    let client_ip_header = match o.client_ip_header.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(h) => Some(header_name(Some(h.into()), "x", "client_ip_header")?),
    };
    let hashing = HashingSettings {
        max_concurrent: positive(
            o.max_concurrent_hashes,
            HashingSettings::default().max_concurrent,
            "max_concurrent_hashes",
        )?,
        max_queued: o.max_queued_hashes.unwrap_or(64),
        max_stored_cost: match o.max_stored_password_cost {
            None => HashingSettings::default().max_stored_cost,
            Some(c) if (4..=31).contains(&c) => c,
            Some(c) => {
                return Err(ConfigError::new(
                    "max_stored_password_cost",
                    format!("{c} is outside 4..=31"),
                ));
            }
        },
        ..HashingSettings::default()
    };
    let unmatched_routes = match o.unmatched_routes.as_deref().map(str::trim) {
        None | Some("") if upstream.is_some() => Unmatched::Deny,
        None | Some("") => Unmatched::Public,
        Some("deny") => Unmatched::Deny,
        Some("authenticated") => Unmatched::Authenticated,
        Some("public") => Unmatched::Public,
        Some(other) => {
            return Err(ConfigError::new(
                "unmatched_routes",
                format!("{other:?} is not one of deny, authenticated, public"),
            ));
        }
    };
    let cors = match o.cors_allow_origin.as_deref().map(str::trim) {
        None | Some("") => Cors::Off,
        Some("*") => Cors::Any,
        Some(list) => {
            let mut origins = Vec::new();
            for written in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                // Browsers send the serialized origin: scheme and host in
                // lowercase (an origin has no path, so all of it).
                let lower = written.to_ascii_lowercase();
                let origin = lower.as_str();
                if origin == "*" {
                    return Err(ConfigError::new(
                        "cors_allow_origin",
                        "`*` cannot be combined with other origins",
                    ));
                }
                let ok = (origin.starts_with("http://") || origin.starts_with("https://"))
                    && !origin.ends_with('/');
                let value = http::HeaderValue::from_str(origin).ok().filter(|_| ok);
                match value {
                    Some(v) => origins.push(v),
                    None => {
                        return Err(ConfigError::new(
                            "cors_allow_origin",
                            format!("{written:?} is not an origin (scheme://host[:port], no path)"),
                        ));
                    }
                }
            }
            Cors::List(origins)
        }
    };
    let principal_headers = PrincipalHeaders {
        user_uuid: principal_header(o.header_user_uuid, "x-glue-user-uuid", "header_user_uuid")?,
        user_id: principal_header(o.header_user_id, "x-glue-user-id", "header_user_id")?,
        warehouse_id: principal_header(
            o.header_warehouse_id,
            "x-glue-warehouse-id",
            "header_warehouse_id",
        )?,
        scopes: principal_header(o.header_scopes, "x-glue-scopes", "header_scopes")?,
    };
    {
        let all = principal_headers.all();
        let names = [
            "header_user_uuid",
            "header_user_id",
            "header_warehouse_id",
            "header_scopes",
        ];
        for (i, a) in all.iter().enumerate() {
            if all[i + 1..].contains(a) {
                return Err(ConfigError::new(
                    names[i],
                    format!("the principal header {a} is configured twice"),
                ));
            }
        }
    }
    let max_header_size = o.max_header_size.unwrap_or(16 * 1024);
    if max_header_size < 8192 {
        return Err(ConfigError::new(
            "max_header_size",
            format!("{max_header_size} is below the minimum of 8192 bytes"),
        ));
    }
    let log_json = match o
        .log_format
        .as_deref()
        .map(|s| s.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => {
            return Err(ConfigError::new(
                "log_format",
                format!("{other:?} is neither `text` nor `json`"),
            ));
        }
    };
    let redis = match o.redis_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(url) => {
            if !cfg!(feature = "redis") {
                return Err(ConfigError::new(
                    "redis_url",
                    "this glue-gateway is built without the `redis` feature".to_owned(),
                ));
            }
            let timeout = match o.redis_timeout {
                None => Duration::from_millis(100),
                Some(ms @ 1..=60_000) => Duration::from_millis(ms),
                Some(ms) => {
                    return Err(ConfigError::new(
                        "redis_timeout",
                        format!("{ms} ms is outside 1..=60000"),
                    ));
                }
            };
            let key_prefix = match o.redis_key_prefix.as_deref().map(str::trim) {
                None => None,
                Some("") => {
                    return Err(ConfigError::new(
                        "redis_key_prefix",
                        "must not be empty".to_owned(),
                    ));
                }
                Some(p) => Some(p.to_owned()),
            };
            Some(RedisSettings {
                url: url.to_owned(),
                timeout,
                key_prefix,
            })
        }
    };
    if let Some(filter) = &o.log
        && tracing_subscriber::EnvFilter::try_new(filter).is_err()
    {
        return Err(ConfigError::new(
            "log",
            format!("{filter:?} is not a valid log filter"),
        ));
    }
    Ok(Settings {
        listen,
        data_dir,
        upstream,
        upstream_ca_file: o.upstream_ca_file.clone(),
        private_key,
        public_key,
        extra_public_keys,
        jwt_kid: o.jwt_kid.unwrap_or(false),
        kidless_current,
        key_watch_interval,
        jwks,
        database,
        compatibility: Compatibility {
            response_style,
            legacy_scopes: o.legacy_scopes.unwrap_or(false),
            unauthenticated_status,
        },
        refresh_grant: o.refresh_grant.unwrap_or(false),
        lifetimes: Lifetimes {
            user: secs(o.user_token_ttl, 28_800, "user_token_ttl", 1)?,
            warehouse: secs(o.warehouse_token_ttl, 604_800, "warehouse_token_ttl", 1)?,
            refresh: secs(o.refresh_token_ttl, 2_592_000, "refresh_token_ttl", 1)?,
        },
        client_ids,
        redirect_uris,
        plain_pkce: o.plain_pkce.unwrap_or(false),
        audiences,
        leeway: secs(o.leeway, 0, "leeway", 0)?,
        max_token_size,
        token_cache_capacity: o.token_cache_capacity.unwrap_or(10_000),
        token_body_limit: positive(o.token_body_limit, 16 * 1024, "token_body_limit")?,
        throttle: ThrottleSettings {
            per_username: o.throttle_per_username.unwrap_or(5),
            per_address: o.throttle_per_address.unwrap_or(20),
            window: secs(o.throttle_window, 300, "throttle_window", 1)?,
            ..ThrottleSettings::default()
        },
        client_ip_header,
        redis,
        hashing,
        cors,
        security_headers: o.security_headers.unwrap_or(true),
        unmatched_routes,
        principal_headers,
        request_timeout: secs(o.request_timeout, 30, "request_timeout", 1)?,
        header_read_timeout: secs(o.header_read_timeout, 10, "header_read_timeout", 1)?,
        max_header_size,
        body_limit: positive(o.body_limit, 1024 * 1024, "body_limit")?,
        max_connections: positive(o.max_connections, 10_000, "max_connections")?,
        h2_max_concurrent_streams: positive(
            o.h2_max_concurrent_streams,
            200,
            "h2_max_concurrent_streams",
        )?,
        shutdown_timeout: secs(o.shutdown_timeout, 30, "shutdown_timeout", 0)?,
        metrics: o.metrics.unwrap_or(true),
        log: o.log,
        log_json,
    })
}

/// `redirect_uris` entries: `client=uri` (the part before `=` has no `:`
/// or `/`, so a URI's own `=` never splits it), or a bare URI for the
/// default client. The URIs themselves are checked by the token server.
fn redirect_uris(
    entries: &[String],
    client_ids: &[String],
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
        let (client, uri) = match entry.split_once('=') {
            Some((c, u)) if !c.contains([':', '/']) => (c.trim(), u.trim()),
            _ => (client_ids[0].as_str(), entry),
        };
        if !client_ids.iter().any(|c| c == client) {
            return Err(ConfigError::new(
                "redirect_uris",
                format!("{client:?} is not one of client_ids"),
            ));
        }
        out.push((client.to_owned(), uri.to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, ConfigError> {
        let mut v = vec!["glue-gateway"];
        v.extend_from_slice(args);
        let cli = Cli::try_parse_from(v).unwrap();
        check(cli.options)
    }

    #[test]
    fn defaults() {
        let s = check(Options::default()).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("data"));
        assert_eq!(
            s.compatibility.unauthenticated_status,
            UnauthenticatedStatus::Unauthorized
        );
        assert_eq!(s.lifetimes, Lifetimes::default());
        assert_eq!(s.throttle, ThrottleSettings::default());
        assert_eq!(s.client_ids, ["frontend"]);
        assert_eq!(s.cors, Cors::Off);
        assert!(s.upstream.is_none());
        assert!(s.private_key.is_none());
        assert_eq!(s.principal_headers.user_uuid, "x-glue-user-uuid");
    }

    #[test]
    #[cfg(feature = "redis")]
    fn redis_and_password_cost_settings() {
        let s = parse(&[
            "--redis-url",
            "redis://:s3cret-pw@127.0.0.1:6379/0",
            "--redis-timeout",
            "250",
            "--password-cost",
            "12",
        ])
        .unwrap();
        let r = s.redis.as_ref().unwrap();
        assert_eq!(r.timeout, Duration::from_millis(250));
        assert_eq!(s.database.password_cost, Some(12));
        // The password never shows.
        assert!(!format!("{s:?}").contains("s3cret-pw"));
        assert!(parse(&[]).unwrap().redis.is_none());
        for (args, setting) in [
            (&["--password-cost", "3"][..], "password_cost"),
            (&["--password-cost", "32"][..], "password_cost"),
            (
                &["--redis-url", "redis://h/", "--redis-timeout", "0"][..],
                "redis_timeout",
            ),
            (
                &["--redis-url", "redis://h/", "--redis-key-prefix", " "][..],
                "redis_key_prefix",
            ),
        ] {
            assert_eq!(parse(args).unwrap_err().setting, setting, "{args:?}");
        }
    }

    #[test]
    fn bad_settings_are_named() {
        let e = parse(&["--unauthenticated-status", "402"]).unwrap_err();
        assert_eq!(e.setting, "unauthenticated_status");
        let e = parse(&["--upstream", "ftp://x"]).unwrap_err();
        assert_eq!(e.setting, "upstream");
        let e = parse(&["--cors-allow-origin", "example.com"]).unwrap_err();
        assert_eq!(e.setting, "cors_allow_origin");
        let e = parse(&["--max-header-size", "100"]).unwrap_err();
        assert_eq!(e.setting, "max_header_size");
        let e = parse(&["--token-response", "list"]).unwrap_err();
        assert_eq!(e.setting, "token_response");
        let e = parse(&["--user-token-ttl", "0"]).unwrap_err();
        assert_eq!(e.setting, "user_token_ttl");
    }

    #[test]
    fn file_merges_under_flags_and_accepts_spryker_names() {
        let file: Options = toml::from_str(
            r#"
            PRIVATE_KEY_PATH = "file:///keys/private.pem"
            SPRYKER_OAUTH_KEY_PUBLIC = "-----BEGIN PUBLIC KEY-----__LINE__abc__LINE__-----END PUBLIC KEY-----"
            GLUE_BACKEND_CORS_ALLOW_ORIGIN = "https://app.example, http://localhost:3000"
            user_token_ttl = 60
            legacy_scopes = true
            "#,
        )
        .unwrap();
        let cli = Cli::try_parse_from(["glue-gateway", "--user-token-ttl", "120"]).unwrap();
        let s = check(cli.options.merge(file)).unwrap();
        assert_eq!(
            s.private_key,
            Some(KeySource::File(PathBuf::from("/keys/private.pem")))
        );
        assert_eq!(
            s.public_key,
            Some(KeySource::Inline(
                "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----".into()
            ))
        );
        assert!(matches!(s.cors, Cors::List(ref v) if v.len() == 2));
        assert_eq!(s.lifetimes.user, Duration::from_secs(120));
        assert!(s.compatibility.legacy_scopes);
    }

    /// From a TOML text: unlike the command line, never sees the
    /// environment (scripts/with-postgres.sh exports DATABASE_URL).
    fn from_toml(text: &str) -> Result<Settings, ConfigError> {
        check(toml::from_str::<Options>(text).unwrap())
    }

    #[test]
    fn database_settings() {
        let s = check(Options::default()).unwrap();
        assert_eq!(
            s.database.url,
            DatabaseUrl::Sqlite(Path::new("data").join("glue.db").display().to_string())
        );
        assert!(!s.database.spryker_layout);
        assert_eq!(s.database.max_connections, 10);
        assert_eq!(s.database.acquire_timeout, Duration::from_secs(2));
        assert_eq!(s.database.operation_timeout, Duration::from_secs(5));

        let s = from_toml(
            r#"
            DATABASE_URL = "postgres://glue:s3cret@db:5432/spryker"
            database_layout = "spryker"
            database_max_connections = 4
            "#,
        )
        .unwrap();
        assert!(matches!(s.database.url, DatabaseUrl::Server(_)));
        assert!(s.database.spryker_layout);
        assert_eq!(s.database.max_connections, 4);
        let shown = format!("{s:?} {}", s.database.url);
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("postgres://glue:***@db:5432/spryker"),
            "{shown}"
        );

        let s = from_toml(r#"database_url = "memory:""#).unwrap();
        assert_eq!(s.database.url, DatabaseUrl::Memory);
        let s = from_toml(r#"users_file = "u.json""#).unwrap();
        assert_eq!(s.database.url, DatabaseUrl::UsersFile("u.json".into()));
        let s = from_toml(r#"database_url = "sqlite:/var/lib/glue/glue.db""#).unwrap();
        assert!(matches!(s.database.url, DatabaseUrl::Sqlite(_)));

        let e = from_toml(r#"database_url = "mssql://x@y/z""#).unwrap_err();
        assert_eq!(e.setting, "database_url");
        let e = from_toml(r#"database_url = "mssql://x:s3cret@y/z""#).unwrap_err();
        assert!(!e.to_string().contains("s3cret"), "{e}");
        let e = from_toml(r#"database_layout = "spryker""#).unwrap_err();
        assert_eq!(e.setting, "database_layout");
        let e = from_toml("database_operation_timeout = 0").unwrap_err();
        assert_eq!(e.setting, "database_operation_timeout");
        let e = from_toml("database_url = \"memory:\"\nusers_file = \"u.json\"").unwrap_err();
        assert_eq!(e.setting, "users_file");
    }

    /// MariaDB/MySQL URLs are database servers like PostgreSQL's, the
    /// spryker layout included, and never shown with their password.
    #[test]
    fn mysql_and_mariadb_urls_are_accepted() {
        for url in [
            "mysql://glue:s3cret@db:3306/spryker",
            "mariadb://glue:s3cret@db:3306/spryker",
        ] {
            let s = from_toml(&format!(
                "DATABASE_URL = \"{url}\"\ndatabase_layout = \"spryker\"\n"
            ))
            .unwrap();
            assert_eq!(s.database.url, DatabaseUrl::Server(url.to_owned()));
            assert!(s.database.spryker_layout);
            assert_eq!(s.database.seed_demo, None);
            let shown = format!("{s:?} {}", s.database.url);
            assert!(!shown.contains("s3cret"), "{shown}");
            let scheme = url.split("://").next().unwrap();
            assert!(
                shown.contains(&format!("{scheme}://glue:***@db:3306/spryker")),
                "{shown}"
            );
            let s = from_toml(&format!("database_url = \"{url}\"")).unwrap();
            assert!(!s.database.spryker_layout);
        }
        // Passwords in the query string are masked too.
        let shown = redact_url("mysql://glue@db/glue?password=s3cret");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://glue:s3cret@127.0.0.1:5432/db"),
            "postgres://glue:***@127.0.0.1:5432/db"
        );
        assert_eq!(redact_url("postgres://glue@h/db"), "postgres://glue@h/db");
        assert_eq!(
            redact_url("postgres://u:p@ss@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("sqlite:x.db"), "sqlite:x.db");
        let shown = redact_url("postgres://h/db?password=s3cret");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn principal_headers_must_not_be_reserved_or_underscored() {
        for bad in [
            "content-length",
            "Transfer-Encoding",
            "connection",
            "host",
            "cookie",
            "authorization",
            "x-forwarded-for",
            "X-Forwarded-Host",
            "te",
            "x_glue_user",
        ] {
            let e = parse(&["--header-user-id", bad]).unwrap_err();
            assert_eq!(e.setting, "header_user_id", "{bad}");
            let e = parse(&["--header-scopes", bad]).unwrap_err();
            assert_eq!(e.setting, "header_scopes", "{bad}");
        }
        let e = parse(&["--header-scopes", "x-glue-user-id"]).unwrap_err();
        assert_eq!(e.setting, "header_user_id");
        let s = parse(&["--header-scopes", "X-Scopes"]).unwrap();
        assert_eq!(s.principal_headers.scopes, "x-scopes");
    }

    #[test]
    fn cors_origins_are_lowercased() {
        let s = parse(&[
            "--cors-allow-origin",
            "HTTPS://Fulfillment.Example.COM, http://LOCALHOST:3000",
        ])
        .unwrap();
        assert_eq!(
            s.cors,
            Cors::List(vec![
                http::HeaderValue::from_static("https://fulfillment.example.com"),
                http::HeaderValue::from_static("http://localhost:3000"),
            ])
        );
    }

    #[test]
    fn toml_errors_name_line_and_key_but_never_show_the_text() {
        let cases = [
            (
                "DATABASE_URL = \"postgres://u:s3cret@h/db\"\nuser_token_ttl = \"s3cret-too\"\n",
                "line 2",
                "key `user_token_ttl`",
            ),
            (
                "listen = \"127.0.0.1:1\"\nPRIVATE_KEY = -----BEGIN s3cret\n",
                "line 2",
                "key `PRIVATE_KEY`",
            ),
            (
                "private_key = \"\"\"\n-----BEGIN s3cret\nstill s3cret\n",
                "line 4",
                "",
            ),
            ("user_token_tll = 5\n", "line 1", "user_token_tll"),
        ];
        for (text, line, key) in cases {
            let e = parse_toml(text).err().expect("refused");
            assert!(!e.contains("s3cret"), "{e}");
            assert!(e.contains(line), "{line} not in {e}");
            assert!(e.contains(key), "{key} not in {e}");
        }
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        assert!(toml::from_str::<Options>("user_token_tll = 5").is_err());
    }

    #[test]
    fn spryker_db_settings_make_a_database_url_and_database_url_wins() {
        let o = |pairs: &[(&str, &str)]| {
            let mut o = Options::default();
            for (k, v) in pairs {
                let v = Some(v.to_string());
                match *k {
                    "engine" => o.spryker_db_engine = v,
                    "host" => o.spryker_db_host = v,
                    "port" => o.spryker_db_port = v.and_then(|p| p.parse().ok()),
                    "db" => o.spryker_db_database = v,
                    "user" => o.spryker_db_username = v,
                    "password" => o.spryker_db_password = v,
                    "client" => o.spryker_oauth_client_identifier = v,
                    "url" => o.database_url = v,
                    _ => unreachable!(),
                }
            }
            o
        };
        let base = [
            ("host", "db"),
            ("db", "spryker"),
            ("user", "glue"),
            ("password", "p@ss:w/rd"),
        ];
        // MySQL is Spryker's default engine.
        let s = check(o(&base)).unwrap();
        assert_eq!(
            s.database.url,
            DatabaseUrl::Server("mysql://glue:p%40ss%3Aw%2Frd@db:3306/spryker".into())
        );
        assert_eq!(s.database.source, "SPRYKER_DB_*");
        assert!(
            s.database.spryker_layout,
            "Spryker's settings mean Spryker's database"
        );
        assert!(
            !s.database.url.to_string().contains("p%40ss"),
            "{}",
            s.database.url
        );
        let mut pg = base.to_vec();
        pg.extend([
            ("engine", "pgsql"),
            ("port", "6432"),
            ("client", "fulfillment"),
        ]);
        let s = check(o(&pg)).unwrap();
        assert_eq!(
            s.database.url,
            DatabaseUrl::Server("postgres://glue:p%40ss%3Aw%2Frd@db:6432/spryker".into())
        );
        assert_eq!(s.client_ids, ["fulfillment"]);
        // DATABASE_URL wins.
        let mut both = base.to_vec();
        both.push(("url", "postgres://other@h/db"));
        let s = check(o(&both)).unwrap();
        assert_eq!(
            s.database.url,
            DatabaseUrl::Server("postgres://other@h/db".into())
        );
        assert_eq!(s.database.source, "database_url");
        assert!(!s.database.spryker_layout);
        let e = check(o(&[("host", "db"), ("db", "x"), ("engine", "oracle")])).unwrap_err();
        assert_eq!(e.setting, "SPRYKER_DB_ENGINE");
        let e = check(o(&[("host", "db")])).unwrap_err();
        assert_eq!(e.setting, "SPRYKER_DB_DATABASE");
    }

    #[test]
    fn key_watch_kidless_key_and_jwks_url() {
        let s = parse(&[]).unwrap();
        assert_eq!(s.key_watch_interval, Some(Duration::from_secs(5)));
        assert!(!s.kidless_current);
        assert!(s.jwks.is_none());
        let s = parse(&["--key-watch-interval", "0", "--kidless-key", "current"]).unwrap();
        assert_eq!(s.key_watch_interval, None);
        assert!(s.kidless_current);
        assert_eq!(
            parse(&["--kidless-key", "newest"]).unwrap_err().setting,
            "kidless_key"
        );
        let s = parse(&["--jwks-url", "http://issuer:8080/.well-known/jwks.json"]).unwrap();
        let j = s.jwks.unwrap();
        assert_eq!(j.cooldown, Duration::from_secs(10));
        assert_eq!(
            (j.min_refresh, j.max_refresh),
            (Duration::from_secs(60), Duration::from_secs(3600))
        );
        for bad in [
            &["--jwks-url", "https://issuer/jwks"][..],
            &["--jwks-url", "issuer/jwks"],
            &["--jwks-url", "http://i/j", "--public-key-path", "p.pem"],
            &[
                "--jwks-url",
                "http://i/j",
                "--jwks-min-refresh",
                "10",
                "--jwks-max-refresh",
                "5",
            ],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
