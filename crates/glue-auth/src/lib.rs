//! Spryker Glue Backend API authentication for any tower stack (hyper, axum,
//! tonic), wire-compatible with the PHP original.
//!
//! Three layers that compose with each other and with any tower middleware:
//!
//! ```text
//! client ──► BearerAuthLayer ──► ScopeLayer ──► TokenEndpointLayer ──► your routes
//!            validates every     user / warehouse   POST /token,
//!            token once;         scopes per route   POST /warehouse-tokens
//!            Claims + Principal                     (forwards the rest)
//!            in the extensions
//! ```
//!
//! This crate re-exports the workspace crates behind features:
//!
//! | feature | module | what |
//! |---|---|---|
//! | (always) | crate root | [`Principal`], [`Claims`], [`Scopes`], [`GlueError`], responders |
//! | `bearer` (default) | [`bearer`] | [`BearerAuthLayer`], [`Validator`], [`KeySet`] |
//! | `scope` (default) | [`scope`] | [`ScopeLayer`], `Policy`, `RouteTable`, the Spryker preset |
//! | `token` (default) | [`token`] | [`TokenEndpointLayer`], `TokenServer`, [`SigningKey`], store traits |
//! | `sql` | `sql` | the store traits on SQLite, PostgreSQL and MariaDB/MySQL |
//! | `axum` | — | `Claims` and `Principal` as axum extractors |
//! | `watch` | `bearer::sources` | key files polled for changes |
//! | `remote-keys` | `bearer::sources` | JWKS URLs and OIDC discovery, fetched in the background |
//!
//! The whole stack, end to end — log in, then read a protected route with the
//! token, and be refused without it:
//!
//! ```
//! use bytes::Bytes;
//! use glue_auth::token::{MemoryDirectory, TokenServer};
//! use glue_auth::{BearerAuthLayer, KeySet, Principal, ScopeLayer, SigningKey, Validator};
//! use http::{Request, Response, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let signing_key = SigningKey::generate().unwrap();
//! let keys = KeySet::single(signing_key.public_key());
//! let users = MemoryDirectory::demo(); // sonia@spryker.com / change123
//! let tokens = TokenServer::builder(signing_key, users.clone(), users).build().unwrap();
//!
//! // Validation first (every request, once), then the route table, then the
//! // token endpoint, then your routes.
//! let app = ServiceBuilder::new()
//!     .layer(BearerAuthLayer::new(Validator::new(keys)))
//!     .layer(ScopeLayer::spryker())
//!     .layer(tokens.layer())
//!     .service(service_fn(|req: Request<Full<Bytes>>| async move {
//!         let who = format!("{:?}", req.extensions().get::<Principal>());
//!         Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(who))))
//!     }));
//!
//! let login = Request::post("/token")
//!     .body(Full::new(Bytes::from(
//!         "grant_type=password&username=sonia%40spryker.com&password=change123",
//!     )))
//!     .unwrap();
//! let res = app.clone().oneshot(login).await.unwrap();
//! assert_eq!(res.status(), StatusCode::OK);
//! let body: serde_json::Value =
//!     serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
//! let token = body["access_token"].as_str().unwrap();
//!
//! let list = |auth: Option<String>| {
//!     let mut req = Request::get("/picking-lists");
//!     if let Some(a) = auth {
//!         req = req.header("authorization", a);
//!     }
//!     req.body(Full::default()).unwrap()
//! };
//! // Allowed: the route sees the user.
//! let res = app.clone().oneshot(list(Some(format!("Bearer {token}")))).await.unwrap();
//! assert_eq!(res.status(), StatusCode::OK);
//! // Refused by the scope layer: no token on a picking-list route.
//! let res = app.oneshot(list(None)).await.unwrap();
//! assert_eq!(res.status(), StatusCode::FORBIDDEN);
//! # }
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's example, compiled and run as a doc test (crates.io shows the
// README, so it must stay true).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use glue_auth_core::*;

/// The bearer-token validation layer ([`glue_auth_bearer`]).
#[cfg(feature = "bearer")]
pub mod bearer {
    pub use glue_auth_bearer::*;
}

/// The scope layer ([`glue_auth_scope`]).
#[cfg(feature = "scope")]
pub mod scope {
    pub use glue_auth_scope::*;
}

/// The token endpoint layer ([`glue_auth_token`]).
#[cfg(feature = "token")]
pub mod token {
    pub use glue_auth_token::*;
}

/// SQL stores ([`glue_auth_sql`]).
#[cfg(feature = "sql")]
pub mod sql {
    pub use glue_auth_sql::*;
}

#[cfg(feature = "bearer")]
pub use glue_auth_bearer::{BearerAuthLayer, KeySet, PublicKey, Validator};
#[cfg(feature = "scope")]
pub use glue_auth_scope::ScopeLayer;
#[cfg(feature = "token")]
pub use glue_auth_token::{Signer, SigningKey, TokenEndpointLayer};
