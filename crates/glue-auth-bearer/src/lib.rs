//! A Tower layer that validates Spryker Glue Backend API bearer tokens.
//!
//! [`BearerAuthLayer`] reads `Authorization: Bearer <JWT>`, checks the RS256
//! signature against an in-memory [`KeySet`], reads
//! Spryker's payload format (float dates with microseconds, JSON-encoded
//! `sub`), checks `exp`/`nbf`/`iat` with zero leeway, and puts the
//! [`Claims`](glue_auth_core::Claims) and
//! [`Principal`](glue_auth_core::Principal) into the request extensions. Every
//! failure is answered exactly as Glue answers it (SPEC §5.1), or by another
//! [`Reject`](glue_auth_core::Reject) responder. Validated tokens are cached,
//! never past their own `exp`.
//!
//! ```
//! use glue_auth_bearer::{BearerAuthLayer, Validator};
//! use glue_auth_core::Principal;
//! use http::{Request, Response, StatusCode};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # async fn demo() {
//! // In production: KeySet::from_pem(&std::fs::read("public.pem")?)?
//! let keys = glue_auth_jwt::SigningKey::generate().unwrap().key_set();
//! let svc = ServiceBuilder::new()
//!     .layer(BearerAuthLayer::new(Validator::new(keys)))
//!     .service(service_fn(|req: Request<String>| async move {
//!         let who = match req.extensions().get::<Principal>() {
//!             Some(Principal::User(u)) => format!("user {}", u.id_user()),
//!             Some(Principal::Warehouse(w)) => format!("warehouse {}", w.id_warehouse()),
//!             None => "anonymous".to_owned(),
//!         };
//!         Ok::<_, std::convert::Infallible>(Response::new(who))
//!     }));
//!
//! // No credentials: passed on, the route decides.
//! let res = svc.clone().oneshot(Request::new(String::new())).await.unwrap();
//! assert_eq!(res.status(), StatusCode::OK);
//!
//! // A forged token: answered by the layer, the route never runs.
//! let req = Request::builder()
//!     .header("authorization", "Bearer eyJhbGciOiJub25lIn0.e30.")
//!     .body(String::new())
//!     .unwrap();
//! let res = svc.oneshot(req).await.unwrap();
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! # }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(demo());
//! ```

#![forbid(unsafe_code)]

// The README's example, compiled and run as a doc test (crates.io shows the
// README, so it must stay true).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod cache;
mod issuer;
mod layer;
mod service;
#[cfg(feature = "watch")]
pub mod sources;
mod validator;

/// Keys and verification, from `glue-auth-jwt`.
pub use glue_auth_jwt::{
    Algorithm, Algorithms, JwksError, JwksLimits, KeyError, KeySet, KeyType, MIN_RSA_BITS,
    PublicKey, TokenError,
};
pub use issuer::{DEFAULT_SCOPE_CLAIMS, ExternalClaims, Issuer, MapFn, SubjectMapping};
pub use layer::BearerAuthLayer;
pub use service::BearerAuth;
pub use validator::{
    CacheStats, ConfigError, DEFAULT_CACHE_CAPACITY, DEFAULT_MAX_TOKEN_LEN, Validator,
    ValidatorBuilder,
};

/// The response future of [`BearerAuth`].
pub use glue_auth_core::ResponseFuture;
