//! The token endpoints of Spryker's Glue Backend API as a Tower layer, wire
//! compatible with the PHP original (SPEC §2–§4):
//!
//! - `POST /token`: the password grant (form or JSON body, snake/camel/Pascal
//!   keys), Spryker's exact success and error bodies, throttling of failed
//!   logins, and an optional refresh grant with rotation and reuse detection;
//! - `POST /authorize` and `grant_type=authorization_code` (SPEC §2a): the
//!   Fulfillment App's login, the authorization-code flow with PKCE S256.
//!   `/authorize` checks the credentials through the password grant's path
//!   (same throttle, one bcrypt verification on every path) and answers
//!   `[{"code":"…","state":…}]`; the code is single use, lives 60 s, is
//!   stored only as its SHA-256 (an [`AuthorizationCodes`](store::AuthorizationCodes)
//!   store) and is bound to the client, the redirect URI, the user, the
//!   scopes and the challenge. Redirect URIs are registered per client
//!   ([`TokenServerBuilder::redirect_uris`]); loopback URIs match on any port
//!   (RFC 8252 §7.3); `plain` PKCE is refused unless
//!   [`TokenServerBuilder::plain_pkce`] allows it;
//! - `POST /warehouse-tokens`: exchanges a Back Office user token for a
//!   warehouse token of the user's active warehouse assignment.
//!
//! Access tokens are RS256 JWTs byte for byte in Spryker's shape (header
//! `{"typ":"JWT","alg":"RS256"}`, claims `aud, jti, iat, nbf, exp, sub,
//! scopes`, microsecond float dates, JSON-string `sub`), signed by a
//! [`SigningKey`] held in a [`Signer`] that a key reload swaps at run time.
//! Refresh tokens are 256 random bits, stored only as SHA-256 hashes.
//!
//! # Where it goes
//!
//! ```text
//! client ─► BearerAuthLayer ─► ScopeLayer ─► TokenEndpointLayer ─► your routes
//!           validates every    the route      answers /token,
//!           token, once        table decides  /authorize and /warehouse-tokens,
//!                              who may call   forwards the rest
//! ```
//!
//! The endpoint never verifies a bearer token: `/warehouse-tokens` reads the
//! [`Claims`](glue_auth_core::Claims) the bearer layer put into the request
//! extensions, and the scope layer's Spryker preset has already decided that
//! the caller is a user with a user scope (SPEC §3, §5.2). A token sent to
//! `/token` is validated too, as Glue validates every request (a login with a
//! bad `Authorization` header is 401 `001`). Reached without a bearer layer in
//! front, `/warehouse-tokens` answers 500 and logs which layer is missing.
//!
//! Build a [`TokenServer`] once with its settings (grouped as
//! [`Lifetimes`], [`ThrottleSettings`], [`HashingSettings`],
//! [`Compatibility`]); put it into the stack with [`TokenServer::layer`]
//! ([`TokenEndpointLayer`]), or mount it alone as a service. Users, warehouse
//! assignments, refresh tokens and the access-token log sit behind the
//! object-safe store traits of [`store`]; in-memory versions
//! ([`MemoryDirectory`], [`MemoryRefreshTokens`], [`MemoryAccessTokenLog`])
//! serve tests and small deployments.
//!
//! ```
//! use bytes::Bytes;
//! use glue_auth_bearer::{BearerAuthLayer, Validator};
//! use glue_auth_scope::ScopeLayer;
//! use glue_auth_token::store::{PasswordHash, UserRecord, UserStatus};
//! use glue_auth_token::{HashingSettings, MemoryDirectory, SigningKey, TokenServer};
//! use http::{Request, Response, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let users = MemoryDirectory::demo();
//! // A cheap hash for the example; Spryker's (and the demo data's) cost is 10.
//! users.insert_user(UserRecord {
//!     id_user: 5,
//!     uuid: "5e1fa1d8-2d0a-4a8e-9c6b-2f9e6f6c0a11".into(),
//!     username: "ann@example.com".into(),
//!     password_hash: PasswordHash::new(bcrypt::hash("s3cret", 4).unwrap()),
//!     status: UserStatus::Active,
//!     is_warehouse_user: false,
//!     user_reference: None,
//! });
//! let key = SigningKey::generate().unwrap();
//! let validator = Validator::new(key.key_set());
//! let server = TokenServer::builder(key, users.clone(), users)
//!     .hashing(HashingSettings { password_cost: 4, ..Default::default() })
//!     .build()
//!     .unwrap();
//!
//! let app = ServiceBuilder::new()
//!     .layer(BearerAuthLayer::new(validator))
//!     .layer(ScopeLayer::spryker())
//!     .layer(server.layer())
//!     .service(service_fn(|_req: Request<Full<Bytes>>| async {
//!         Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("picking lists"))))
//!     }));
//! let login = |password: &str| {
//!     Request::post("/token")
//!         .header("content-type", "application/x-www-form-urlencoded")
//!         .body(Full::new(Bytes::from(format!(
//!             "grant_type=password&username=ann%40example.com&password={password}"
//!         ))))
//!         .unwrap()
//! };
//!
//! // Allowed: the right password gets Spryker's 200 answer.
//! let res = app.clone().oneshot(login("s3cret")).await.unwrap();
//! assert_eq!(res.status(), StatusCode::OK);
//! assert_eq!(res.headers()["cache-control"], "no-store");
//! let body = res.into_body().collect().await.unwrap().to_bytes();
//! let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
//! assert_eq!(json["token_type"], "Bearer");
//! assert_eq!(json["expires_in"], 28800);
//!
//! // Rejected: a wrong password gets 400 `invalid_grant`.
//! let res = app.clone().oneshot(login("guess")).await.unwrap();
//! assert_eq!(res.status(), StatusCode::BAD_REQUEST);
//! let body = res.into_body().collect().await.unwrap().to_bytes();
//! assert_eq!(
//!     &body[..],
//!     br#"[{"status":400,"code":"invalid_grant","message":"The user credentials were incorrect."}]"#
//! );
//!
//! // Refused before the endpoint: no token for /warehouse-tokens (scope layer).
//! let res = app.clone().oneshot(Request::post("/warehouse-tokens").body(Full::default()).unwrap()).await.unwrap();
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//!
//! // Everything else goes to the inner service untouched.
//! let res = app.oneshot(Request::get("/other").body(Full::default()).unwrap()).await.unwrap();
//! assert_eq!(res.into_body().collect().await.unwrap().to_bytes(), "picking lists");
//! # }
//! ```
//!
//! # Decisions beyond the specification
//!
//! - **Error bodies** of `/token` are always plain, HTTP 400, `code` = the
//!   OAuth error name. The answers Spryker does not have (405, 413, 429, 503)
//!   use the plain convention with `code` null. Every answer of both routes
//!   carries `Cache-Control: no-store` and `Pragma: no-cache`, except the 404
//!   for JSON:API requests, which is Glue's generic "no such route".
//! - **Passwords over 72 bytes** are verified on their first 72 bytes, as
//!   PHP's `password_verify` does (so a Spryker user with a long password
//!   logs in here too; the cut is by bytes and may split a UTF-8 character,
//!   as in PHP).
//! - **Passwords containing NUL** are refused as `invalid_grant` after one
//!   dummy verification (deviation): PHP's bcrypt stops at the NUL, so in
//!   Spryker `change123\0anything` logs in as a user whose password is
//!   `change123`, while the Rust bcrypt crate hashes every byte; copying
//!   either behaviour is a trap, and no one types a NUL. An empty `password`
//!   is present (league's rule: only a missing one is `invalid_request`) and
//!   simply does not match.
//! - **Duplicates**: a parameter given twice, also under two spellings
//!   (`grant_type` and `grantType`), is `invalid_request`; so is a JSON value
//!   that is not a string (`null` counts as absent) and a body that is not
//!   UTF-8 after percent-decoding. `scope` is read and ignored: the scopes
//!   follow from the user, as in Spryker.
//! - **Throttling** (429, `code` null, `Retry-After` = seconds until the
//!   oldest counted failure leaves the window): usernames are counted
//!   case-insensitively (by SHA-256 of the lowercase form); refused refresh
//!   tokens count against the client address only. Admission is one locked
//!   step: an attempt is refused when counted failures plus attempts in
//!   flight reach the limit, so concurrent guesses cannot overshoot it (at
//!   most 5 per username per window, however many arrive at once). An
//!   admitted attempt becomes a failure on `invalid_grant` and is released on
//!   any other answer or when the request is dropped. The price: more than
//!   `per_username` *concurrent* logins of one username get 429 with
//!   `Retry-After: 1`, even with the right password. The per-address counter
//!   needs the client address ([`ClientAddress`]: by default a `SocketAddr`
//!   the server puts into the request extensions, which neither plain hyper
//!   nor axum does by itself); without one it is off, and the first such
//!   request logs a `warn` once per server. The counters sit behind the
//!   [`LoginThrottle`] trait: in this process by default ([`MemoryThrottle`];
//!   N instances behind a load balancer then allow N × the limit), or shared
//!   by every instance through Redis (`glue-auth-redis`, set with
//!   [`TokenServerBuilder::login_throttle`]), with the same semantics.
//! - **Timing**: unknown, blocked and deleted users cost one bcrypt
//!   verification against a dummy hash of [`password_cost`](HashingSettings::password_cost)
//!   (default 10, PHP's and Spryker's cost; not `bcrypt::DEFAULT_COST`, 12):
//!   keep it equal to the cost of the stored hashes. The first stored hash
//!   seen with another cost logs a `warn` once per server.
//! - **Hashing pool**: full queue → 503 with `Retry-After` (the same answer as
//!   a store outage), so that overload never turns into unbounded latency.
//! - **Refresh grant** (off by default). When off, the answers still carry a
//!   `refresh_token` (wire compatibility) but it is not stored: it can never
//!   be redeemed, and callers cannot fill the store. When on: the refresh
//!   token must belong to the requesting client (default client when none is
//!   named); a spent or revoked token revokes its whole family, concurrent
//!   presentations included (exactly one of them wins). The user's status is
//!   not checked again on refresh (as in league/oauth2-server); revoke the
//!   family to cut a user off. Every token of a rotation chain expires when
//!   the chain's first one does (login + refresh TTL): rotation never extends
//!   a session. A full [`MemoryRefreshTokens`] evicts
//!   (expired, then revoked, then soonest-expiring tokens) instead of
//!   refusing, so filling it never blocks logins.
//! - **Warehouse tokens** get the default client as `aud`; their refresh
//!   tokens live as long as user refresh tokens.
//! - Request body buffers are not zeroized (they may be shared with the HTTP
//!   stack); parsed passwords and issued tokens are.
//!
//! # Boxing
//!
//! Forwarded requests never allocate: [`ResponseFuture`](future::ResponseFuture)
//! is an enum polling the inner future in place. The endpoints' own answers
//! that need I/O (body, stores, bcrypt) run in one boxed future per request;
//! at tens of milliseconds per bcrypt verification the allocation is noise.
//! The store traits return boxed futures too, which keeps them object safe
//! (`Arc<dyn UserDirectory>`).

#![forbid(unsafe_code)]

// The README's example, compiled and run as a doc test (crates.io shows the
// README, so it must stay true).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod client_addr;
mod code_flow;
mod code_grant;
mod config_error;
mod crypto;
mod endpoint;
pub mod future;
mod hashing;
mod issue;
mod layer;
pub mod login_throttle;
mod params;
mod password;
mod pkce;
mod redirect;
mod refresh;
mod response;
mod server;
mod service;
mod settings;
pub mod store;
mod throttle;
mod warehouse;

/// Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`): not an
/// API, no semver promise.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz {
    /// What [`parse`] read from a `POST /token` body.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ParamsSummary {
        /// `grant_type`.
        pub grant_type: Option<String>,
        /// `username`.
        pub username: Option<String>,
        /// `password`.
        pub password: Option<String>,
        /// `scope`.
        pub scope: Option<String>,
        /// `client_id`.
        pub client_id: Option<String>,
        /// `refresh_token`.
        pub refresh_token: Option<String>,
        /// A duplicate, a non-string JSON value or invalid UTF-8.
        pub malformed: bool,
    }

    /// The `POST /token` body parser (form or JSON, SPEC §2).
    pub fn parse(body: &[u8]) -> ParamsSummary {
        let p = crate::params::TokenParams::parse(body);
        let secret = |s: Option<zeroize::Zeroizing<String>>| s.map(|s| s.as_str().to_owned());
        ParamsSummary {
            grant_type: p.grant_type,
            username: p.username,
            password: secret(p.password),
            scope: p.scope,
            client_id: p.client_id,
            refresh_token: secret(p.refresh_token),
            malformed: p.malformed,
        }
    }
}

pub use client_addr::ClientAddress;
/// The signing key and its run-time slot, from `glue-auth-jwt`.
pub use glue_auth_jwt::{KeyError, SignError, Signer, SigningKey};
pub use layer::TokenEndpointLayer;
pub use login_throttle::{
    AttemptKeys, LoginThrottle, MemoryThrottle, Reservation, Reserved, ThrottleFuture, Throttled,
    UserKey,
};
pub use server::TokenServer;
pub use service::TokenEndpoint;
pub use settings::{
    Compatibility, ConfigError, DEFAULT_PASSWORD_COST, HashingSettings, Lifetimes, ResponseStyle,
    TokenServerBuilder,
};
pub use store::memory::{
    LoadError, MemoryAccessTokenLog, MemoryAuthorizationCodes, MemoryDirectory,
    MemoryRefreshTokens, Warehouse,
};
pub use throttle::ThrottleSettings;
