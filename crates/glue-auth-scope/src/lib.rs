//! Per-route authorization for Spryker Glue Backend API tokens, as a tower
//! layer: which routes need a Back Office user, which accept a warehouse
//! token, and which are public (SPEC §5.2).
//!
//! [`ScopeLayer`] sits behind the bearer layer (`glue-auth-bearer`), which
//! validates the token and puts its [`Claims`](glue_auth_core::Claims) into the
//! request extensions; a request without an `Authorization` header arrives with
//! none. The layer looks the request up in a [`RouteTable`] and lets the
//! route's [`Policy`] decide. A refusal is answered by a
//! [`Reject`](glue_auth_core::Reject) responder: Glue's bodies by default
//! ([`GlueRejection`](glue_auth_core::GlueRejection)), RFC 6750
//! ([`Rfc6750Rejection`](glue_auth_core::Rfc6750Rejection)) or gRPC
//! trailers-only ([`GrpcRejection`](glue_auth_core::GrpcRejection)).
//!
//! - [`ScopeLayer::spryker`] / [`RouteTable::spryker_backend`] /
//!   [`SprykerBackend`]: the Spryker suite table in one line.
//! - [`RouteTable::builder`]: your own routes (HTTP paths and gRPC methods).
//! - [`Policy`]: the building blocks (user required, warehouse required, user
//!   scope, warehouse or user, scopes all/any, closures, combinations).
//! - [`RouteTable::check`]: the per-request decision on its own (for
//!   benchmarks and custom integrations).
//! - [`normalize_path`]: one spelling of a path for the table and an
//!   upstream alike (a reverse proxy decides on what it forwards).
//!
//! Decisions where Spryker is loose or silent (each also documented where it
//! applies):
//!
//! - `OPTIONS` always passes; `HEAD` follows the `GET` route.
//! - A trailing slash, doubled slashes and percent-encoded spellings of a path
//!   match the same route (deviation: in Spryker `/warehouse-tokens/` escapes
//!   protection).
//! - "Warehouse or user" accepts legacy `["user"]` tokens and requires the
//!   `warehouse` scope of warehouse tokens (deviation: Spryker checks only
//!   `id_warehouse`); it answers 403 "Authorization failed." also when no token
//!   was sent (gRPC: `PERMISSION_DENIED`).
//! - `POST /warehouse-tokens` accepts `warehouse-user` tokens (SPEC §3).
//! - Refusals carry a `required_scope` for RFC 6750's `scope` attribute:
//!   `user`, `back-office-user`, `back-office-user warehouse-user`,
//!   `warehouse`, or the scopes of a [`Policy::scopes_all`]/[`Policy::scopes_any`].
//!
//! ```
//! use std::convert::Infallible;
//! use std::time::Duration;
//!
//! use bytes::Bytes;
//! use glue_auth_core::{Claims, NumericDate, Principal, Rejection, Scopes, WarehousePrincipal};
//! use glue_auth_scope::ScopeLayer;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let app = ScopeLayer::spryker().layer(service_fn(|_req: Request<Full<Bytes>>| async {
//!     Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"[picking lists]"))))
//! }));
//!
//! // What the bearer layer inserts for a valid warehouse token.
//! let warehouse = Claims::builder(
//!     Principal::Warehouse(WarehousePrincipal::new(1)),
//!     Scopes::from_iter(["warehouse"]),
//! )
//! .issued_at(NumericDate::from_secs(1_699_347_834), Duration::from_secs(604_800))
//! .build();
//!
//! // Allowed: a warehouse token may read picking lists.
//! let mut req = Request::get("/picking-lists").body(Full::default()).unwrap();
//! req.extensions_mut().insert(warehouse.principal().clone());
//! req.extensions_mut().insert(warehouse.clone());
//! let res = app.clone().oneshot(req).await.unwrap();
//! assert_eq!(res.status(), StatusCode::OK);
//! assert_eq!(res.into_body().collect().await.unwrap().to_bytes(), "[picking lists]");
//!
//! // Refused: a warehouse token cannot mint another one (a user is required).
//! let mut req = Request::post("/warehouse-tokens").body(Full::default()).unwrap();
//! req.extensions_mut().insert(warehouse);
//! let res = app.clone().oneshot(req).await.unwrap();
//! assert_eq!(res.status(), StatusCode::FORBIDDEN);
//! assert!(matches!(
//!     res.extensions().get::<Rejection>(),
//!     Some(Rejection::Unauthorized { credentials: true, .. })
//! ));
//! assert_eq!(
//!     res.into_body().collect().await.unwrap().to_bytes(),
//!     r#"[{"status":403,"code":null,"message":"Unauthorized request."}]"#
//! );
//!
//! // Refused: no token on a JSON:API picking-list route.
//! let req = Request::get("/picking-lists/7f2a/")
//!     .header("accept", "application/vnd.api+json")
//!     .body(Full::default())
//!     .unwrap();
//! let res = app.oneshot(req).await.unwrap();
//! assert_eq!(res.status(), StatusCode::FORBIDDEN);
//! assert_eq!(
//!     res.into_body().collect().await.unwrap().to_bytes(),
//!     r#"{"errors":[{"status":403,"code":null,"message":"Authorization failed."}]}"#
//! );
//! # }
//! ```

#![forbid(unsafe_code)]

// The README's example, compiled and run as a doc test (crates.io shows the
// README, so it must stay true).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod error;
mod layer;
mod normalize;
mod policy;
mod routes;
mod service;
mod spryker;

pub use error::ConfigError;
/// The response future of [`Scope`]: the one all glue-auth layers share.
pub use glue_auth_core::ResponseFuture;
pub use layer::ScopeLayer;
pub use normalize::{UnsafePath, normalize_path};
pub use policy::{Policy, WarehouseExists};
pub use routes::{RouteTable, RouteTableBuilder};
pub use service::Scope;
pub use spryker::SprykerBackend;
