//! The settings of a [`TokenServer`], in groups that a configuration file
//! maps onto one to one, and their builder.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use glue_auth_core::{Clock, UnauthenticatedStatus};
use glue_auth_jwt::Signer;

pub use crate::config_error::ConfigError;
use crate::redirect::{self, RedirectUris};
use crate::store::{
    AccessTokenLog, AuthorizationCodes, RefreshTokens, UserDirectory, WarehouseAssignments,
};
use crate::{ClientAddress, LoginThrottle, ThrottleSettings, TokenServer};

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

/// Token lifetimes (SPEC §4). Default: Spryker's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// User access tokens. Default 28 800 s (8 h).
    pub user: Duration,
    /// Warehouse access tokens. Default 604 800 s (7 days).
    pub warehouse: Duration,
    /// Refresh tokens. Default 2 592 000 s (30 days; Spryker's `P1M`).
    /// Counted from the login (or warehouse token): a rotated token keeps the
    /// expiry of the one it replaces.
    pub refresh: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            user: Duration::from_secs(28_800),
            warehouse: Duration::from_secs(604_800),
            refresh: Duration::from_secs(2_592_000),
        }
    }
}

/// PHP's `password_hash` cost, which Spryker's `spy_user.password` hashes use.
pub const DEFAULT_PASSWORD_COST: u32 = 10;

/// Password verification (bcrypt) on a bounded blocking pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingSettings {
    /// Verifications running at once. Default: the number of CPUs.
    pub max_concurrent: usize,
    /// Verifications allowed to wait for a slot; one more answers 503.
    /// Default 64.
    pub max_queued: usize,
    /// The bcrypt cost of the stored hashes: unknown and inactive users are
    /// checked against a dummy hash of this cost, so their answers take as
    /// long as a wrong password. Default 10 (PHP's `password_hash`, and the
    /// cost of Spryker's stored hashes; not `bcrypt::DEFAULT_COST`, which is
    /// 12). The first stored hash seen with another cost logs a warning once.
    pub password_cost: u32,
    /// Stored hashes with a higher cost are refused (`invalid_grant`)
    /// without being hashed, and logged once: a hostile `spy_user.password`
    /// of cost 31 would pin a core for hours per login. Default 14 (PHP's
    /// default is 10, then 12 since PHP 8.4).
    pub max_stored_cost: u32,
}

impl Default for HashingSettings {
    fn default() -> Self {
        HashingSettings {
            max_concurrent: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_queued: 64,
            password_cost: DEFAULT_PASSWORD_COST,
            max_stored_cost: 14,
        }
    }
}

/// What differs between Spryker releases (SPEC: "a setting, never a fork").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Compatibility {
    /// Success shape of `/token`: 200 object (default) or 201 array.
    pub response_style: ResponseStyle,
    /// Issue user tokens with only `["user"]`, as Spryker did before
    /// February 2024. Default: off (`["user","back-office-user"]` or
    /// `["user","warehouse-user"]`).
    pub legacy_scopes: bool,
    /// "Unauthorized request." status of `/warehouse-tokens` without
    /// credentials: 401 (default) or 403. Normally the scope layer answers
    /// first; this is the endpoint's own answer when it runs without one.
    pub unauthenticated_status: UnauthenticatedStatus,
}

/// Settings of a [`TokenServer`]; see each method for its default.
pub struct TokenServerBuilder {
    pub(crate) signer: Signer,
    pub(crate) users: Arc<dyn UserDirectory>,
    pub(crate) assignments: Arc<dyn WarehouseAssignments>,
    pub(crate) refresh_tokens: Option<Arc<dyn RefreshTokens>>,
    pub(crate) authorization_codes: Option<Arc<dyn AuthorizationCodes>>,
    pub(crate) redirect_uris: RedirectUris,
    pub(crate) plain_pkce: bool,
    pub(crate) code_lifetime: Duration,
    pub(crate) authorize_path: String,
    pub(crate) access_log: Option<Arc<dyn AccessTokenLog>>,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) token_path: String,
    pub(crate) warehouse_path: String,
    pub(crate) clients: Vec<String>,
    pub(crate) refresh_grant: bool,
    pub(crate) compatibility: Compatibility,
    pub(crate) lifetimes: Lifetimes,
    pub(crate) throttle: ThrottleSettings,
    pub(crate) login_throttle: Option<Arc<dyn LoginThrottle>>,
    pub(crate) hashing: HashingSettings,
    pub(crate) body_limit: usize,
    pub(crate) retry_after: u32,
    pub(crate) client_address: ClientAddress,
}

impl fmt::Debug for TokenServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenServerBuilder")
            .field("signer", &self.signer)
            .field("token_path", &self.token_path)
            .field("authorize_path", &self.authorize_path)
            .field("warehouse_path", &self.warehouse_path)
            .field("redirect_uris", &self.redirect_uris)
            .field("plain_pkce", &self.plain_pkce)
            .field("code_lifetime", &self.code_lifetime)
            .field("clients", &self.clients)
            .field("refresh_grant", &self.refresh_grant)
            .field("compatibility", &self.compatibility)
            .field("lifetimes", &self.lifetimes)
            .field("throttle", &self.throttle)
            .field("hashing", &self.hashing)
            .finish_non_exhaustive()
    }
}

impl TokenServerBuilder {
    pub(crate) fn new(
        signer: Signer,
        users: Arc<dyn UserDirectory>,
        assignments: Arc<dyn WarehouseAssignments>,
    ) -> Self {
        TokenServerBuilder {
            signer,
            users,
            assignments,
            refresh_tokens: None,
            authorization_codes: None,
            redirect_uris: RedirectUris::default(),
            plain_pkce: false,
            code_lifetime: Duration::from_secs(60),
            authorize_path: "/authorize".into(),
            access_log: None,
            clock: None,
            token_path: "/token".into(),
            warehouse_path: "/warehouse-tokens".into(),
            clients: vec!["frontend".into()],
            refresh_grant: false,
            compatibility: Compatibility::default(),
            lifetimes: Lifetimes::default(),
            throttle: ThrottleSettings::default(),
            login_throttle: None,
            hashing: HashingSettings::default(),
            body_limit: 16 * 1024,
            retry_after: 5,
            client_address: ClientAddress::default(),
        }
    }

    /// Refresh token storage. Default: a
    /// [`MemoryRefreshTokens`](crate::MemoryRefreshTokens) of 100 000 tokens
    /// on the server's clock (a full one evicts, it never refuses).
    ///
    /// Used only when the [refresh grant](Self::refresh_grant) is on. When it
    /// is off (the default), logins and warehouse tokens still answer with a
    /// `refresh_token` (Spryker's wire format), but it is not stored: it can
    /// never be redeemed, and nothing fills the store.
    pub fn refresh_tokens(mut self, store: impl RefreshTokens + 'static) -> Self {
        self.refresh_tokens = Some(Arc::new(store));
        self
    }

    /// Authorization-code storage for `POST /authorize` and the
    /// `authorization_code` grant (SPEC §2a). Default: a
    /// [`MemoryAuthorizationCodes`](crate::MemoryAuthorizationCodes) of
    /// 10 000 codes on the server's clock. Several gateway instances behind
    /// one load balancer need a shared store (`glue-auth-sql`).
    pub fn authorization_codes(mut self, store: impl AuthorizationCodes + 'static) -> Self {
        self.authorization_codes = Some(Arc::new(store));
        self
    }

    /// Registers redirect URIs of a client for the code flow
    /// (`spy_oauth_client.redirect_uri`). A client without one answers
    /// `invalid_client` at `/authorize` (Spryker: 500). A request's
    /// `redirect_uri` must equal a registered one, except that a loopback
    /// URI (`http://127.0.0.1`, `http://[::1]`, `http://localhost`) matches
    /// on any port (RFC 8252 §7.3). May be called several times. Default:
    /// none.
    pub fn redirect_uris<I, S>(mut self, client: &str, uris: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for uri in uris {
            self.redirect_uris.add(client, uri.as_ref());
        }
        self
    }

    /// Accept `code_challenge_method=plain` (or none, which means plain).
    /// Default: off, `invalid_request`: only `S256` (RFC 9700 §2.1.1;
    /// Spryker accepts plain).
    pub fn plain_pkce(mut self, allow: bool) -> Self {
        self.plain_pkce = allow;
        self
    }

    /// How long an authorization code can be redeemed. Default 60 s
    /// (Spryker's).
    pub fn code_lifetime(mut self, ttl: Duration) -> Self {
        self.code_lifetime = ttl;
        self
    }

    /// The code flow's login route. Default `/authorize`; the same path with
    /// a trailing slash matches too.
    pub fn authorize_path(mut self, path: impl Into<String>) -> Self {
        self.authorize_path = path.into();
        self
    }

    /// Writes a row per issued access token (Spryker's `spy_oauth_access_token`).
    /// Default: none.
    pub fn access_token_log(mut self, log: impl AccessTokenLog + 'static) -> Self {
        self.access_log = Some(Arc::new(log));
        self
    }

    /// Where times come from (`iat`, expiries, throttling windows). Default:
    /// the system clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// The password-grant route. Default `/token`; the same path with a
    /// trailing slash matches too.
    pub fn token_path(mut self, path: impl Into<String>) -> Self {
        self.token_path = path.into();
        self
    }

    /// The warehouse-token route. Default `/warehouse-tokens`; the same path
    /// with a trailing slash matches too.
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

    /// Accept `grant_type=refresh_token` with rotation and reuse detection.
    /// Default: off, refused as Spryker does (`unsupported_grant_type`); the
    /// refresh tokens issued meanwhile are not stored, so turning the grant on
    /// later does not make them redeemable.
    pub fn refresh_grant(mut self, on: bool) -> Self {
        self.refresh_grant = on;
        self
    }

    /// The settings that differ between Spryker releases.
    pub fn compatibility(mut self, compatibility: Compatibility) -> Self {
        self.compatibility = compatibility;
        self
    }

    /// Token lifetimes.
    pub fn lifetimes(mut self, lifetimes: Lifetimes) -> Self {
        self.lifetimes = lifetimes;
        self
    }

    /// Failed-login throttling. Default: 5 per username, 20 per address,
    /// 300 s sliding window, counted in this process
    /// ([`MemoryThrottle`](crate::MemoryThrottle)).
    pub fn throttle(mut self, settings: ThrottleSettings) -> Self {
        self.throttle = settings;
        self
    }

    /// Where failed logins are counted, instead of this process's own
    /// counters: for example the Redis-backed throttle of `glue-auth-redis`,
    /// shared by every instance behind a load balancer. Its own
    /// [`settings`](LoginThrottle::settings) apply; [`throttle`](Self::throttle)
    /// is then not used.
    pub fn login_throttle(mut self, throttle: impl LoginThrottle) -> Self {
        self.login_throttle = Some(Arc::new(throttle));
        self
    }

    /// Password verification: pool size, queue, and the cost of the dummy
    /// hash.
    pub fn hashing(mut self, settings: HashingSettings) -> Self {
        self.hashing = settings;
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

    /// Checks the settings and builds the server. Computes the dummy hash
    /// (one bcrypt hash at [`HashingSettings::password_cost`]).
    pub fn build(self) -> Result<TokenServer, ConfigError> {
        let token_path = check_path(&self.token_path)?;
        let authorize_path = check_path(&self.authorize_path)?;
        let warehouse_path = check_path(&self.warehouse_path)?;
        if token_path == warehouse_path
            || token_path == authorize_path
            || authorize_path == warehouse_path
        {
            return Err(ConfigError::SamePath);
        }
        if self.clients.is_empty() || self.clients.iter().any(String::is_empty) {
            return Err(ConfigError::NoClient);
        }
        if let Some(c) = self
            .redirect_uris
            .clients()
            .find(|c| !self.clients.iter().any(|k| k == c))
        {
            return Err(ConfigError::UnknownClient(c.to_owned()));
        }
        if let Some(u) = self
            .redirect_uris
            .uris()
            .find(|u| !redirect::registrable(u))
        {
            return Err(ConfigError::InvalidRedirectUri(u.to_owned()));
        }
        let l = self.lifetimes;
        let throttle = match &self.login_throttle {
            Some(t) => t.settings(),
            None => self.throttle,
        };
        for (what, d) in [
            ("the user token TTL", l.user),
            ("the warehouse token TTL", l.warehouse),
            ("the refresh token TTL", l.refresh),
            ("the throttling window", throttle.window),
            ("the authorization code lifetime", self.code_lifetime),
        ] {
            if d < Duration::from_secs(1) {
                return Err(ConfigError::ZeroDuration(what));
            }
        }
        for (what, n) in [
            ("the body limit", self.body_limit),
            ("max_concurrent_hashes", self.hashing.max_concurrent),
            ("the throttle capacity", throttle.capacity as usize),
        ] {
            if n == 0 {
                return Err(ConfigError::ZeroLimit(what));
            }
        }
        for cost in [self.hashing.password_cost, self.hashing.max_stored_cost] {
            if !(4..=31).contains(&cost) {
                return Err(ConfigError::InvalidCost(cost));
            }
        }
        TokenServer::from_settings(self, [token_path, authorize_path, warehouse_path])
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
