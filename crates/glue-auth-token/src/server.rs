//! [`TokenServer`]: the configured token endpoints, shared by the layer and the
//! standalone service.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use glue_auth_bearer::Validator;
use glue_auth_core::{Clock, NumericDate, SystemClock};
use http::StatusCode;

use crate::client_addr::ClientAddress;
use crate::hashing::HashPool;
use crate::store::memory::MemoryRefreshTokens;
use crate::store::{AccessTokenLog, RefreshTokens, UserDirectory, WarehouseAssignments};
use crate::throttle::{Throttle, ThrottleSettings};
use crate::{SigningKey, TokenEndpointLayer};

/// PHP's `password_hash` cost, which Spryker's `spy_user.password` hashes use.
const DEFAULT_PASSWORD_COST: u32 = 10;

/// The shape of a successful `POST /token` answer (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseStyle {
    /// **200** and a plain object, as Spryker's suite and demo shops answer
    /// (default).
    #[default]
    Object,
    /// **201** and the same object in a one-element array (Spryker's "core
    /// response" setting).
    Array,
}

/// Why a [`TokenServerBuilder`] refused its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A route path must start with `/`, be longer than `/`, and contain no
    /// trailing slash, query or fragment.
    InvalidPath(String),
    /// `/token` and `/warehouse-tokens` must differ.
    SamePath,
    /// At least one OAuth client id is required, and none may be empty.
    NoClient,
    /// A TTL or the throttling window is shorter than one second.
    ZeroDuration(&'static str),
    /// A limit that must be positive is zero.
    ZeroLimit(&'static str),
    /// bcrypt costs run from 4 to 31.
    InvalidCost(u32),
    /// The "no credentials" status must be 401 or 403.
    UnauthorizedStatus(u16),
    /// The default validator could not be built.
    Validator(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::InvalidPath(p) => write!(
                f,
                "invalid route path {p:?}: it must start with '/', not end with '/', and have no query"
            ),
            ConfigError::SamePath => f.write_str("the token and warehouse-token paths are equal"),
            ConfigError::NoClient => {
                f.write_str("at least one non-empty OAuth client id is required")
            }
            ConfigError::ZeroDuration(what) => write!(f, "{what} must be at least one second"),
            ConfigError::ZeroLimit(what) => write!(f, "{what} must be positive"),
            ConfigError::InvalidCost(c) => write!(f, "bcrypt cost {c} is outside 4..=31"),
            ConfigError::UnauthorizedStatus(s) => {
                write!(f, "status {s} for missing credentials: use 401 or 403")
            }
            ConfigError::Validator(e) => write!(f, "token validator: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The settings, checked once by [`TokenServerBuilder::build`].
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) token_path: Box<str>,
    pub(crate) warehouse_path: Box<str>,
    /// The first is the default client.
    pub(crate) clients: Box<[Box<str>]>,
    pub(crate) style: ResponseStyle,
    pub(crate) legacy_scopes: bool,
    pub(crate) user_ttl: Duration,
    pub(crate) warehouse_ttl: Duration,
    pub(crate) refresh_ttl: Duration,
    pub(crate) refresh_grant: bool,
    pub(crate) unauthorized_status: StatusCode,
    pub(crate) body_limit: usize,
    pub(crate) retry_after: u32,
    pub(crate) client_address: ClientAddress,
}

/// Everything a request needs: one `Arc` away from every clone.
pub(crate) struct Shared {
    pub(crate) key: SigningKey,
    pub(crate) users: Arc<dyn UserDirectory>,
    pub(crate) assignments: Arc<dyn WarehouseAssignments>,
    pub(crate) refresh_tokens: Arc<dyn RefreshTokens>,
    pub(crate) access_log: Option<Arc<dyn AccessTokenLog>>,
    pub(crate) validator: Validator,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: Settings,
    pub(crate) throttle: Throttle,
    pub(crate) pool: HashPool,
    /// Set once the missing client address was reported.
    pub(crate) addr_warned: AtomicBool,
}

impl Shared {
    pub(crate) fn now(&self) -> NumericDate {
        self.clock.now()
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenServer")
            .field("key", &self.key)
            .field("users", &self.users)
            .field("assignments", &self.assignments)
            .field("refresh_tokens", &self.refresh_tokens)
            .field("access_log", &self.access_log)
            .field("clock", &self.clock)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The token endpoints of the Glue Backend API, configured: `POST /token`
/// (password and, optionally, refresh grant) and `POST /warehouse-tokens`.
///
/// Built once with [`TokenServer::builder`]; cheap to clone (one `Arc`),
/// `Send + Sync + 'static`. Use it:
///
/// - as a layer in front of your routes: [`TokenServer::layer`] gives a
///   [`TokenEndpointLayer`] that answers the two routes and forwards everything
///   else untouched;
/// - as a standalone service: `TokenServer` itself implements
///   `tower_service::Service<http::Request<B>>` (for axum's `route_service`,
///   hyper's `service_fn`, …); requests to other paths get 404 `007`.
///
/// Password hashing uses `tokio::task::spawn_blocking`: call the service from
/// within a Tokio runtime (without one, logins answer 503).
#[derive(Clone, Debug)]
pub struct TokenServer {
    pub(crate) shared: Arc<Shared>,
}

impl TokenServer {
    /// Starts a configuration: the signing key, the user directory (`spy_user`)
    /// and the warehouse assignments (`spy_warehouse_user_assignment`).
    ///
    /// Every other setting has Spryker's default; refresh tokens are kept in a
    /// [`MemoryRefreshTokens`] unless [`TokenServerBuilder::refresh_tokens`]
    /// says otherwise.
    pub fn builder(
        key: SigningKey,
        users: impl UserDirectory + 'static,
        assignments: impl WarehouseAssignments + 'static,
    ) -> TokenServerBuilder {
        TokenServerBuilder {
            key,
            users: Arc::new(users),
            assignments: Arc::new(assignments),
            refresh_tokens: None,
            access_log: None,
            validator: None,
            clock: Arc::new(SystemClock),
            token_path: "/token".into(),
            warehouse_path: "/warehouse-tokens".into(),
            clients: vec!["frontend".into()],
            style: ResponseStyle::Object,
            legacy_scopes: false,
            user_ttl: Duration::from_secs(28_800),
            warehouse_ttl: Duration::from_secs(604_800),
            refresh_ttl: Duration::from_secs(2_592_000),
            refresh_grant: false,
            unauthorized_status: StatusCode::UNAUTHORIZED,
            body_limit: 16 * 1024,
            retry_after: 5,
            client_address: ClientAddress::default(),
            throttle: ThrottleSettings::default(),
            max_concurrent_hashes: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_queued_hashes: 64,
            // Not `bcrypt::DEFAULT_COST` (12 in bcrypt 0.19): PHP's
            // `password_hash` and Spryker's stored hashes use 10.
            password_cost: DEFAULT_PASSWORD_COST,
        }
    }

    /// A layer that answers the token routes in front of an inner service.
    pub fn layer(&self) -> TokenEndpointLayer {
        TokenEndpointLayer::new(self.clone())
    }

    /// The validator `/warehouse-tokens` uses when no bearer layer ran before it.
    pub fn validator(&self) -> &Validator {
        &self.shared.validator
    }

    /// The signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.shared.key
    }

    /// The bcrypt cost of the dummy hash unknown and inactive users are
    /// checked against ([`TokenServerBuilder::password_cost`], default 10).
    pub fn password_cost(&self) -> u32 {
        self.shared.pool.dummy_cost()
    }
}

/// Settings of a [`TokenServer`]; see each method for its default.
pub struct TokenServerBuilder {
    key: SigningKey,
    users: Arc<dyn UserDirectory>,
    assignments: Arc<dyn WarehouseAssignments>,
    refresh_tokens: Option<Arc<dyn RefreshTokens>>,
    access_log: Option<Arc<dyn AccessTokenLog>>,
    validator: Option<Validator>,
    clock: Arc<dyn Clock>,
    token_path: String,
    warehouse_path: String,
    clients: Vec<String>,
    style: ResponseStyle,
    legacy_scopes: bool,
    user_ttl: Duration,
    warehouse_ttl: Duration,
    refresh_ttl: Duration,
    refresh_grant: bool,
    unauthorized_status: StatusCode,
    body_limit: usize,
    retry_after: u32,
    client_address: ClientAddress,
    throttle: ThrottleSettings,
    max_concurrent_hashes: usize,
    max_queued_hashes: usize,
    password_cost: u32,
}

impl fmt::Debug for TokenServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenServerBuilder")
            .field("key", &self.key)
            .field("token_path", &self.token_path)
            .field("warehouse_path", &self.warehouse_path)
            .field("clients", &self.clients)
            .field("style", &self.style)
            .field("refresh_grant", &self.refresh_grant)
            .finish_non_exhaustive()
    }
}

/// The clock handed to the default validator.
#[derive(Debug)]
struct SharedClock(Arc<dyn Clock>);

impl Clock for SharedClock {
    fn now(&self) -> NumericDate {
        self.0.now()
    }
}

fn check_path(p: &str) -> Result<Box<str>, ConfigError> {
    let ok = p.starts_with('/') && p.len() > 1 && !p.ends_with('/') && !p.contains(['?', '#']);
    if ok {
        Ok(p.into())
    } else {
        Err(ConfigError::InvalidPath(p.to_owned()))
    }
}

impl TokenServerBuilder {
    /// Refresh token storage. Default: a [`MemoryRefreshTokens`] of 100 000
    /// tokens on the server's clock (a full one evicts, it never refuses).
    ///
    /// Used only when the [refresh grant](Self::refresh_grant) is on. When it
    /// is off (the default), logins and warehouse tokens still answer with a
    /// `refresh_token` (Spryker's wire format), but it is not stored: it can
    /// never be redeemed, and nothing fills the store.
    pub fn refresh_tokens(mut self, store: impl RefreshTokens + 'static) -> Self {
        self.refresh_tokens = Some(Arc::new(store));
        self
    }

    /// Writes a row per issued access token (Spryker's `spy_oauth_access_token`).
    /// Default: none.
    pub fn access_token_log(mut self, log: impl AccessTokenLog + 'static) -> Self {
        self.access_log = Some(Arc::new(log));
        self
    }

    /// The validator `/warehouse-tokens` checks the `Authorization` header with
    /// when no bearer layer put [`Claims`](glue_auth_core::Claims) into the
    /// request extensions. Default: one over the signing key's public half, on
    /// this builder's clock, zero leeway.
    pub fn validator(mut self, validator: Validator) -> Self {
        self.validator = Some(validator);
        self
    }

    /// Where times come from (`iat`, expiries, throttling windows). Default:
    /// the system clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The password-grant route. Default `/token`; the same path with a
    /// trailing slash matches too.
    pub fn token_path(mut self, path: impl Into<String>) -> Self {
        self.token_path = path.into();
        self
    }

    /// The warehouse-token route. Default `/warehouse-tokens`; the same path
    /// with a trailing slash matches too (and is equally protected).
    pub fn warehouse_tokens_path(mut self, path: impl Into<String>) -> Self {
        self.warehouse_path = path.into();
        self
    }

    /// The OAuth client ids accepted in `client_id` (`spy_oauth_client`). The
    /// first is the default, used when the request names none, and the `aud`
    /// of warehouse tokens. Default: `["frontend"]`.
    pub fn clients<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.clients = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Success shape of `/token`: [`ResponseStyle::Object`] (200, default) or
    /// [`ResponseStyle::Array`] (201, Spryker's core response).
    pub fn response_style(mut self, style: ResponseStyle) -> Self {
        self.style = style;
        self
    }

    /// Issue user tokens with only `["user"]`, as Spryker did before February
    /// 2024. Default: off (`["user","back-office-user"]` or
    /// `["user","warehouse-user"]`).
    pub fn legacy_scopes(mut self, on: bool) -> Self {
        self.legacy_scopes = on;
        self
    }

    /// Lifetime of user access tokens. Default 28 800 s (8 h).
    pub fn user_token_ttl(mut self, ttl: Duration) -> Self {
        self.user_ttl = ttl;
        self
    }

    /// Lifetime of warehouse access tokens. Default 604 800 s (7 days).
    pub fn warehouse_token_ttl(mut self, ttl: Duration) -> Self {
        self.warehouse_ttl = ttl;
        self
    }

    /// Lifetime of refresh tokens. Default 2 592 000 s (30 days; Spryker's
    /// `P1M`). Counted from the login (or warehouse token): a rotated token
    /// keeps the expiry of the one it replaces.
    pub fn refresh_token_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_ttl = ttl;
        self
    }

    /// Accept `grant_type=refresh_token` with rotation and reuse detection.
    /// Default: off, refused as Spryker does (`unsupported_grant_type`); the
    /// refresh tokens issued meanwhile are not stored, so turning the grant on
    /// later does not make them redeemable.
    pub fn refresh_grant(mut self, on: bool) -> Self {
        self.refresh_grant = on;
        self
    }

    /// Status of "Unauthorized request." when `/warehouse-tokens` is called
    /// without credentials: 401 (default, current Spryker) or 403 (older
    /// releases).
    pub fn unauthorized_status(mut self, status: StatusCode) -> Self {
        self.unauthorized_status = status;
        self
    }

    /// Largest accepted request body; larger ones get 413 and are never
    /// buffered beyond this. Default 16 KiB.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// `Retry-After` seconds of 503 answers (store down, hashing queue full).
    /// Default 5.
    pub fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after = secs;
        self
    }

    /// Where the client address for throttling comes from. Default: the
    /// peer address in the request extensions, which your server must put
    /// there (see [`ClientAddress`]): without it the per-address counter is
    /// off, and the first such request logs a warning.
    pub fn client_address(mut self, source: ClientAddress) -> Self {
        self.client_address = source;
        self
    }

    /// Failed-login throttling. Default: 5 per username, 20 per address,
    /// 300 s sliding window.
    pub fn throttle(mut self, settings: ThrottleSettings) -> Self {
        self.throttle = settings;
        self
    }

    /// Password verifications running at once on the blocking pool. Default:
    /// the number of CPUs.
    pub fn max_concurrent_hashes(mut self, n: usize) -> Self {
        self.max_concurrent_hashes = n;
        self
    }

    /// Verifications allowed to wait for a slot; one more answers 503.
    /// Default 64.
    pub fn max_queued_hashes(mut self, n: usize) -> Self {
        self.max_queued_hashes = n;
        self
    }

    /// The bcrypt cost of the stored hashes: unknown and inactive users are
    /// checked against a dummy hash of this cost, so their answers take as
    /// long as a wrong password. Default 10 (PHP's `password_hash`, and the
    /// cost of Spryker's stored hashes; not `bcrypt::DEFAULT_COST`, which is
    /// 12). The first stored hash seen with another cost logs a warning once:
    /// keep this equal to the cost of the stored hashes.
    pub fn password_cost(mut self, cost: u32) -> Self {
        self.password_cost = cost;
        self
    }

    /// Checks the settings and builds the server. Computes the dummy hash
    /// (one bcrypt hash at [`password_cost`](Self::password_cost)).
    pub fn build(self) -> Result<TokenServer, ConfigError> {
        let token_path = check_path(&self.token_path)?;
        let warehouse_path = check_path(&self.warehouse_path)?;
        if token_path == warehouse_path {
            return Err(ConfigError::SamePath);
        }
        if self.clients.is_empty() || self.clients.iter().any(String::is_empty) {
            return Err(ConfigError::NoClient);
        }
        for (what, d) in [
            ("the user token TTL", self.user_ttl),
            ("the warehouse token TTL", self.warehouse_ttl),
            ("the refresh token TTL", self.refresh_ttl),
            ("the throttling window", self.throttle.window),
        ] {
            if d < Duration::from_secs(1) {
                return Err(ConfigError::ZeroDuration(what));
            }
        }
        for (what, n) in [
            ("the body limit", self.body_limit),
            ("max_concurrent_hashes", self.max_concurrent_hashes),
            ("the throttle capacity", self.throttle.capacity as usize),
        ] {
            if n == 0 {
                return Err(ConfigError::ZeroLimit(what));
            }
        }
        if !(4..=31).contains(&self.password_cost) {
            return Err(ConfigError::InvalidCost(self.password_cost));
        }
        if !matches!(self.unauthorized_status.as_u16(), 401 | 403) {
            return Err(ConfigError::UnauthorizedStatus(
                self.unauthorized_status.as_u16(),
            ));
        }
        let validator = match self.validator {
            Some(v) => v,
            None => Validator::builder(self.key.key_set())
                .clock(SharedClock(Arc::clone(&self.clock)))
                .build()
                .map_err(|e| ConfigError::Validator(e.to_string()))?,
        };
        let refresh_tokens = self.refresh_tokens.unwrap_or_else(|| {
            Arc::new(MemoryRefreshTokens::with_clock(
                100_000,
                SharedClock(Arc::clone(&self.clock)),
            ))
        });
        let pool = HashPool::new(
            self.max_concurrent_hashes,
            self.max_queued_hashes,
            self.password_cost,
        )
        .map_err(|_| ConfigError::InvalidCost(self.password_cost))?;
        let settings = Settings {
            token_path,
            warehouse_path,
            clients: self.clients.into_iter().map(Into::into).collect(),
            style: self.style,
            legacy_scopes: self.legacy_scopes,
            user_ttl: self.user_ttl,
            warehouse_ttl: self.warehouse_ttl,
            refresh_ttl: self.refresh_ttl,
            refresh_grant: self.refresh_grant,
            unauthorized_status: self.unauthorized_status,
            body_limit: self.body_limit,
            retry_after: self.retry_after.max(1),
            client_address: self.client_address,
        };
        Ok(TokenServer {
            shared: Arc::new(Shared {
                key: self.key,
                users: self.users,
                assignments: self.assignments,
                refresh_tokens,
                access_log: self.access_log,
                validator,
                clock: self.clock,
                throttle: Throttle::new(self.throttle),
                pool,
                settings,
                addr_warned: AtomicBool::new(false),
            }),
        })
    }
}
