//! Vocabulary shared by the glue-auth layers: who a Spryker Glue Backend API
//! token speaks for, how its claims and dates are read, the keys it is checked
//! against, and how a refusal is answered.
//!
//! - [`Principal`] (a Back Office user or a warehouse), [`Scopes`] and
//!   [`Claims`]: what the bearer layer puts into the request extensions.
//! - [`NumericDate`]: JWT dates with microseconds, as Spryker writes them.
//! - [`UnauthenticatedStatus`]: 401 or 403 for requests without
//!   credentials, the one setting every layer shares.
//! - [`GlueError`] and [`Envelope`]: Glue's error object, plain or JSON:API.
//! - [`Rejection`] and the [`Reject`] responders: [`GlueRejection`] (default),
//!   [`Rfc6750Rejection`] and [`GrpcRejection`].
//! - With feature `axum`: `Claims` and `Principal` are axum extractors
//!   (required and `Option<_>`), answering 401 for anonymous requests and 500
//!   naming the missing layer when no bearer layer ran.
//! - [`ResponseBody`] and [`ResponseFuture`]: the body and future types of
//!   every layer.
//! - [`PercentDecode`]: the percent-decoder of form bodies and paths.
//!
//! No cryptography here: keys, signing and verification live in
//! `glue-auth-jwt`, so crates that only read [`Claims`] (the scope layer, your
//! handlers) build without a crypto library.
//!
//! ```
//! use glue_auth_core::{GlueRejection, Reject, Rejection, RequestHead};
//! use http::{Request, StatusCode};
//!
//! // An allowed request never reaches a responder; a rejected one gets Glue's body.
//! let req = Request::get("/picking-lists")
//!     .header("accept", "application/vnd.api+json")
//!     .body(())
//!     .unwrap();
//! let res = GlueRejection.reject(&Rejection::UnsupportedSubject, &RequestHead::of(&req));
//! assert_eq!(res.status(), StatusCode::BAD_REQUEST);
//! assert_eq!(
//!     res.body().as_ref(),
//!     br#"{"errors":[{"status":400,"code":"001","message":"Invalid access token."}]}"#
//! );
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The README's example, compiled and run as a doc test (crates.io shows the
// README, so it must stay true).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod accessors;
mod body;
mod claims;
mod date;
mod error;
#[cfg(feature = "axum")]
mod extract;
mod future;
mod percent;
mod principal;
mod reject;
mod scopes;
mod status;

pub use body::ResponseBody;
pub use claims::{Claims, ClaimsBuilder, ClaimsPayload};
pub use date::{Clock, ManualClock, NumericDate, SystemClock};
pub use error::{Envelope, GlueError, JSON_API};
#[cfg(feature = "axum")]
pub use extract::ExtractRejection;
pub use future::ResponseFuture;
pub use percent::PercentDecode;
pub use principal::{Anonymous, Principal, SubjectError, UserPrincipal, WarehousePrincipal};
pub use reject::{
    GlueRejection, GrpcRejection, InvalidReason, Reject, Rejection, RequestHead, Rfc6750Rejection,
};
pub use scopes::Scopes;
pub use status::{InvalidUnauthenticatedStatus, UnauthenticatedStatus};
