//! [`TokenServer`]: the configured endpoints, shared by the layer and the
//! standalone service.

use std::fmt;
use std::sync::Arc;

use glue_auth_core::{Clock, NumericDate, SystemClock};
use glue_auth_jwt::Signer;

use crate::client_addr::AddressSource;
use crate::code_flow::CodeFlow;
use crate::hashing::HashPool;
use crate::issue::Issuer;
use crate::login_throttle::{
    AttemptKeys, LoginThrottle, MemoryThrottle, Reservation, Throttled, UserKey,
};
use crate::password::PasswordGrant;
use crate::refresh::RefreshGrant;
use crate::settings::ConfigError;
use crate::store::memory::{MemoryAuthorizationCodes, MemoryRefreshTokens};
use crate::store::{UserDirectory, WarehouseAssignments};
use crate::warehouse::WarehouseExchange;
use crate::{TokenEndpointLayer, TokenServerBuilder};

/// The token endpoints of Spryker's Glue Backend API: `POST /token` (password
/// and authorization-code grants; optionally, refresh grant), `POST /authorize`
/// (the code flow's login, SPEC §2a) and `POST /warehouse-tokens`.
///
/// Built once with [`TokenServer::builder`]; cheap to clone (one `Arc`),
/// `Send + Sync + 'static`. Use it:
///
/// - as a layer **behind** the bearer and scope layers:
///   [`TokenServer::layer`] gives a [`TokenEndpointLayer`] that answers the
///   three routes and forwards everything else untouched;
/// - as a standalone service: `TokenServer` itself implements
///   `tower_service::Service<http::Request<B>>` (for axum's `route_service`);
///   requests to other paths get 404 `007`.
///
/// Either way `POST /warehouse-tokens` reads the caller from the
/// [`Claims`](glue_auth_core::Claims) that `BearerAuthLayer` put into the
/// request extensions: the endpoint never verifies a token itself. Reached
/// without a bearer layer in front, it answers 500 and logs an error naming
/// the missing layer, at the first such request.
///
/// Password hashing uses `tokio::task::spawn_blocking`: call the service from
/// within a Tokio runtime (without one, logins answer 503).
#[derive(Clone)]
pub struct TokenServer {
    pub(crate) shared: Arc<Endpoints>,
}

/// Everything a request needs, one `Arc` away from every clone: each
/// endpoint's own state, and what they share (the issuer, the throttle).
pub(crate) struct Endpoints {
    pub(crate) token_path: Box<str>,
    pub(crate) authorize_path: Box<str>,
    pub(crate) warehouse_path: Box<str>,
    pub(crate) body_limit: usize,
    pub(crate) retry_after: u32,
    /// OAuth client ids; the first is the default.
    pub(crate) clients: Box<[Box<str>]>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) throttle: Arc<dyn LoginThrottle>,
    pub(crate) addresses: AddressSource,
    pub(crate) issuer: Issuer,
    pub(crate) password: PasswordGrant,
    /// `None` when the refresh grant is off.
    pub(crate) refresh: Option<RefreshGrant>,
    /// `POST /authorize` and the authorization-code grant.
    pub(crate) code_flow: CodeFlow,
    pub(crate) warehouse: WarehouseExchange,
}

impl Endpoints {
    pub(crate) fn now(&self) -> NumericDate {
        self.clock.now()
    }

    /// Whether the per-address counter is on (its limit is above 0).
    pub(crate) fn per_address_on(&self) -> bool {
        self.throttle.settings().per_address > 0
    }

    /// Reserves a place for one attempt in the throttle: against the
    /// client address of `parts` and, for credentials, the username. The
    /// place holds until the reservation is decided or dropped.
    pub(crate) async fn reserve(
        &self,
        parts: &http::request::Parts,
        user: Option<UserKey>,
    ) -> Result<Reservation, Throttled> {
        let keys = AttemptKeys {
            user,
            address: self.addresses.of(parts, self.per_address_on()),
        };
        self.throttle.reserve(keys, self.now()).await
    }

    /// The first configured client (the build checks there is one).
    pub(crate) fn default_client(&self) -> &str {
        self.clients.first().map_or("frontend", |c| c)
    }

    /// The client a request names, or the default one; `None` when unknown.
    pub(crate) fn client(&self, requested: Option<&str>) -> Option<&str> {
        match requested {
            None => Some(self.default_client()),
            Some(id) => self.clients.iter().find(|c| ***c == *id).map(|c| &**c),
        }
    }
}

/// The clock handed to the default refresh store.
#[derive(Debug)]
struct SharedClock(Arc<dyn Clock>);

impl Clock for SharedClock {
    fn now(&self) -> NumericDate {
        self.0.now()
    }
}

impl TokenServer {
    /// Starts a configuration: the signing key (a [`SigningKey`](glue_auth_jwt::SigningKey),
    /// or a [`Signer`] to swap it at run time), the user directory
    /// (`spy_user`) and the warehouse assignments
    /// (`spy_warehouse_user_assignment`).
    ///
    /// Every other setting has Spryker's default.
    pub fn builder(
        signer: impl Into<Signer>,
        users: impl UserDirectory + 'static,
        assignments: impl WarehouseAssignments + 'static,
    ) -> TokenServerBuilder {
        TokenServerBuilder::new(signer.into(), Arc::new(users), Arc::new(assignments))
    }

    pub(crate) fn from_settings(
        b: TokenServerBuilder,
        paths: [Box<str>; 3],
    ) -> Result<TokenServer, ConfigError> {
        let [token_path, authorize_path, warehouse_path] = paths;
        let clock = b.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let pool = HashPool::new(b.hashing)
            .map_err(|_| ConfigError::InvalidCost(b.hashing.password_cost))?;
        let refresh_store = b.refresh_grant.then(|| {
            b.refresh_tokens.unwrap_or_else(|| {
                Arc::new(MemoryRefreshTokens::with_clock(
                    100_000,
                    SharedClock(Arc::clone(&clock)),
                ))
            })
        });
        let code_store = b.authorization_codes.unwrap_or_else(|| {
            Arc::new(MemoryAuthorizationCodes::with_clock(
                10_000,
                SharedClock(Arc::clone(&clock)),
            ))
        });
        let issuer = Issuer {
            signer: b.signer,
            lifetimes: b.lifetimes,
            compatibility: b.compatibility,
            refresh_tokens: refresh_store.clone(),
            access_log: b.access_log,
        };
        Ok(TokenServer {
            shared: Arc::new(Endpoints {
                token_path,
                authorize_path,
                warehouse_path,
                body_limit: b.body_limit,
                retry_after: b.retry_after.max(1),
                clients: b.clients.into_iter().map(Into::into).collect(),
                clock,
                throttle: b
                    .login_throttle
                    .unwrap_or_else(|| Arc::new(MemoryThrottle::new(b.throttle))),
                addresses: AddressSource::new(b.client_address),
                issuer,
                password: PasswordGrant::new(Arc::clone(&b.users), pool),
                refresh: refresh_store.map(|s| RefreshGrant::new(s, Arc::clone(&b.users))),
                code_flow: CodeFlow {
                    store: code_store,
                    redirects: b.redirect_uris,
                    plain_pkce: b.plain_pkce,
                    ttl: b.code_lifetime,
                },
                warehouse: WarehouseExchange::new(
                    b.users,
                    b.assignments,
                    b.compatibility.unauthenticated_status,
                ),
            }),
        })
    }

    /// A layer that answers the token routes in front of an inner service.
    /// Put it behind `BearerAuthLayer` and `ScopeLayer` (see the crate docs).
    pub fn layer(&self) -> TokenEndpointLayer {
        TokenEndpointLayer::new(self.clone())
    }

    /// The signing key slot: [`Signer::replace`] swaps the key for every
    /// clone of this server at once (a key reload), keeping throttle counters,
    /// the hashing pool and requests in flight.
    pub fn signer(&self) -> &Signer {
        &self.shared.issuer.signer
    }

    /// The bcrypt cost of the dummy hash unknown and inactive users are
    /// checked against ([`HashingSettings::password_cost`](crate::HashingSettings::password_cost)).
    pub fn password_cost(&self) -> u32 {
        self.shared.password.password_cost()
    }
}

impl fmt::Debug for TokenServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &*self.shared;
        f.debug_struct("TokenServer")
            .field("token_path", &s.token_path)
            .field("authorize_path", &s.authorize_path)
            .field("warehouse_path", &s.warehouse_path)
            .field("clients", &s.clients)
            .field("signer", &s.issuer.signer)
            .field("refresh_grant", &s.refresh.is_some())
            .field("throttle", &s.throttle.settings())
            .finish_non_exhaustive()
    }
}
