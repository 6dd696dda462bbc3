//! Typed rejections and the responders that render them.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};

use crate::{Envelope, GlueError};

/// Why a token was found invalid. Never shown to clients (they all get the same
/// message); for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvalidReason {
    /// More than one `Authorization` header.
    MultipleHeaders,
    /// A scheme other than `Bearer`, or more than two parts.
    Scheme,
    /// The header value is not visible ASCII.
    NotAscii,
    /// Longer than the configured maximum.
    Oversized,
    /// Not a compact JWS (three base64url parts with a JSON header).
    Malformed,
    /// `alg` other than RS256.
    Algorithm,
    /// The signature does not match any key.
    Signature,
    /// The payload is not Spryker's format (missing `exp`/`sub`, `sub` not a
    /// JSON object, wrong types).
    Claims,
    /// `exp` has passed.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` is in the future.
    IssuedInFuture,
    /// `aud` is not on the allowlist.
    Audience,
    /// No key of the set fits the token: its `kid` names no key, or it has
    /// no `kid` and the set has no key for kid-less tokens. A key source
    /// that can refetch (a JWKS URL) is asked to, within its cooldown.
    UnknownKey,
    /// The `iss` claim names no configured issuer.
    Issuer,
}

impl InvalidReason {
    /// A short stable label (`"expired"`, `"signature"`, …) for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidReason::MultipleHeaders => "multiple_headers",
            InvalidReason::Scheme => "scheme",
            InvalidReason::NotAscii => "not_ascii",
            InvalidReason::Oversized => "oversized",
            InvalidReason::Malformed => "malformed",
            InvalidReason::Algorithm => "algorithm",
            InvalidReason::Signature => "signature",
            InvalidReason::Claims => "claims",
            InvalidReason::Expired => "expired",
            InvalidReason::NotYetValid => "not_yet_valid",
            InvalidReason::IssuedInFuture => "issued_in_future",
            InvalidReason::Audience => "audience",
            InvalidReason::UnknownKey => "unknown_key",
            InvalidReason::Issuer => "issuer",
        }
    }
}

impl fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a layer refused a request. Rendered by a [`Reject`] responder, and also
/// put into the response extensions so outer layers can inspect it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// `Authorization` with fewer than two parts: Glue `002` "Missing access
    /// token." with the configured status (401 now, 403 in older releases).
    MissingToken {
        /// 401 or 403.
        status: StatusCode,
    },
    /// Any failed token check: 401 `001` "Invalid access token.".
    InvalidToken {
        /// The precise reason (logs only).
        reason: InvalidReason,
    },
    /// A valid token whose subject is neither a user nor a warehouse: 400 `001`.
    UnsupportedSubject,
    /// A route needs a user (or a user scope) and did not get one: "Unauthorized
    /// request.", code null.
    Unauthorized {
        /// 401 when no credentials were sent (403 in older releases), 403 otherwise.
        status: StatusCode,
        /// Whether the request carried a valid token at all.
        credentials: bool,
        /// The scope the route wanted, for the RFC 6750 `scope` attribute.
        required_scope: Option<Cow<'static, str>>,
    },
    /// The warehouse-or-user check failed: 403 "Authorization failed.", code null.
    AuthorizationFailed {
        /// Whether the request carried a valid token at all (gRPC answers
        /// UNAUTHENTICATED without one, PERMISSION_DENIED with one).
        credentials: bool,
        /// The scope the route wanted, for the RFC 6750 `scope` attribute.
        required_scope: Option<Cow<'static, str>>,
    },
    /// A store the decision needs is down: 503 with `Retry-After`.
    Unavailable {
        /// Seconds for `Retry-After`.
        retry_after: u32,
    },
    /// `POST /warehouse-tokens` for a user without an active warehouse
    /// assignment: Glue 403 `5101` "Operation is forbidden." (gRPC 7).
    NoActiveWarehouse,
    /// A layer this one depends on did not run for the request (for example
    /// no bearer layer in front of the token endpoint): a wiring bug, 500
    /// (gRPC 13 INTERNAL), never a silent fallback.
    MissingLayer {
        /// The type name of the missing layer.
        layer: &'static str,
    },
}

impl Rejection {
    /// The Glue error object for this rejection.
    pub fn glue_error(&self) -> GlueError {
        match self {
            Rejection::MissingToken { status } => {
                GlueError::new_static(*status, Some("002"), "Missing access token.")
            }
            Rejection::InvalidToken { .. } => GlueError::INVALID_ACCESS_TOKEN,
            Rejection::UnsupportedSubject => {
                GlueError::INVALID_ACCESS_TOKEN.with_status(StatusCode::BAD_REQUEST)
            }
            Rejection::Unauthorized { status, .. } => {
                GlueError::new_static(*status, None, "Unauthorized request.")
            }
            Rejection::AuthorizationFailed { .. } => {
                GlueError::new_static(StatusCode::FORBIDDEN, None, "Authorization failed.")
            }
            Rejection::Unavailable { .. } => GlueError::new_static(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "Service temporarily unavailable.",
            ),
            Rejection::NoActiveWarehouse => GlueError::new_static(
                StatusCode::FORBIDDEN,
                Some("5101"),
                "Operation is forbidden.",
            ),
            Rejection::MissingLayer { .. } => GlueError::new_static(
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                "Server misconfiguration: an authentication layer is missing.",
            ),
        }
    }

    /// `true` for authentication failures (gRPC `UNAUTHENTICATED`), `false` for
    /// authorization failures and outages.
    pub fn is_authentication(&self) -> bool {
        match self {
            Rejection::MissingToken { .. }
            | Rejection::InvalidToken { .. }
            | Rejection::UnsupportedSubject => true,
            Rejection::Unauthorized { credentials, .. }
            | Rejection::AuthorizationFailed { credentials, .. } => !credentials,
            Rejection::Unavailable { .. }
            | Rejection::NoActiveWarehouse
            | Rejection::MissingLayer { .. } => false,
        }
    }
}

/// The parts of a request a responder may look at.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    /// Request method.
    pub method: &'a Method,
    /// Request URI.
    pub uri: &'a Uri,
    /// Request headers.
    pub headers: &'a HeaderMap,
}

impl<'a> RequestHead<'a> {
    /// Borrows the head of a request.
    pub fn of<B>(req: &'a Request<B>) -> Self {
        RequestHead {
            method: req.method(),
            uri: req.uri(),
            headers: req.headers(),
        }
    }
}

/// Renders a [`Rejection`] into a response.
///
/// Implemented by [`GlueRejection`] (the default), [`Rfc6750Rejection`],
/// [`GrpcRejection`], and by any closure
/// `Fn(&Rejection, &RequestHead<'_>) -> Response<Bytes>`:
///
/// ```
/// use glue_auth_core::{Reject, Rejection, RequestHead};
/// use bytes::Bytes;
/// use http::{Request, Response};
///
/// let teapot = |_: &Rejection, _: &RequestHead<'_>| {
///     Response::builder().status(418).body(Bytes::new()).unwrap()
/// };
/// let req = Request::new(());
/// let res = teapot.reject(&Rejection::UnsupportedSubject, &RequestHead::of(&req));
/// assert_eq!(res.status(), 418);
/// ```
pub trait Reject {
    /// The response for `rejection` of `request`.
    fn reject(&self, rejection: &Rejection, request: &RequestHead<'_>) -> Response<Bytes>;
}

impl<F> Reject for F
where
    F: Fn(&Rejection, &RequestHead<'_>) -> Response<Bytes>,
{
    fn reject(&self, rejection: &Rejection, request: &RequestHead<'_>) -> Response<Bytes> {
        self(rejection, request)
    }
}

/// Glue's own answers (SPEC §1, §5): the error object in the request's envelope,
/// `WWW-Authenticate: Bearer error="invalid_token"` on 401 token errors.
#[derive(Debug, Clone, Copy, Default)]
pub struct GlueRejection;

impl Reject for GlueRejection {
    fn reject(&self, rejection: &Rejection, request: &RequestHead<'_>) -> Response<Bytes> {
        let envelope = Envelope::for_request(request.method, request.headers);
        let error = rejection.glue_error();
        let mut res = error.to_response(envelope);
        let www = match rejection {
            Rejection::Unauthorized {
                credentials: false, ..
            } if error.status() == StatusCode::UNAUTHORIZED => Some("Bearer"),
            _ if error.status() == StatusCode::UNAUTHORIZED => {
                Some(r#"Bearer error="invalid_token""#)
            }
            _ => None,
        };
        if let Some(www) = www {
            res.headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static(www));
        }
        if let Rejection::Unavailable { retry_after } = rejection {
            res.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        res
    }
}

/// Plain OAuth 2.0 bearer-token answers (RFC 6750 §3) for non-Glue stacks:
/// `{"error","error_description"}` bodies and `WWW-Authenticate` challenges,
/// `error="insufficient_scope", scope="..."` on 403.
#[derive(Debug, Clone, Default)]
pub struct Rfc6750Rejection {
    realm: Option<HeaderSafe>,
}

#[derive(Debug, Clone)]
struct HeaderSafe(String);

impl Rfc6750Rejection {
    /// A responder without a realm.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `realm="..."` to challenges. Characters other than visible ASCII,
    /// `"` and `\` are dropped.
    pub fn realm(mut self, realm: &str) -> Self {
        let clean: String = realm
            .chars()
            .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' || *c == ' ')
            .collect();
        self.realm = Some(HeaderSafe(clean));
        self
    }
}

fn quote_scope(scope: &str) -> String {
    scope
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' || *c == ' ')
        .collect()
}

impl Reject for Rfc6750Rejection {
    fn reject(&self, rejection: &Rejection, _request: &RequestHead<'_>) -> Response<Bytes> {
        let (status, error, description, scope): (StatusCode, Option<&str>, &str, Option<&str>) =
            match rejection {
                Rejection::MissingToken { .. }
                | Rejection::InvalidToken {
                    reason: InvalidReason::MultipleHeaders,
                } => (
                    StatusCode::BAD_REQUEST,
                    Some("invalid_request"),
                    "The Authorization header is malformed.",
                    None,
                ),
                Rejection::InvalidToken { .. } | Rejection::UnsupportedSubject => (
                    StatusCode::UNAUTHORIZED,
                    Some("invalid_token"),
                    "The access token is invalid.",
                    None,
                ),
                Rejection::Unauthorized {
                    credentials: false, ..
                }
                | Rejection::AuthorizationFailed {
                    credentials: false, ..
                } => (
                    StatusCode::UNAUTHORIZED,
                    None,
                    "Authentication required.",
                    None,
                ),
                Rejection::Unauthorized { required_scope, .. }
                | Rejection::AuthorizationFailed { required_scope, .. } => (
                    StatusCode::FORBIDDEN,
                    Some("insufficient_scope"),
                    "The access token does not allow this request.",
                    required_scope.as_deref(),
                ),
                Rejection::Unavailable { .. } => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Some("temporarily_unavailable"),
                    "Service temporarily unavailable.",
                    None,
                ),
                Rejection::NoActiveWarehouse => (
                    StatusCode::FORBIDDEN,
                    Some("access_denied"),
                    "The user has no active warehouse assignment.",
                    None,
                ),
                Rejection::MissingLayer { .. } => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Some("server_error"),
                    "Server misconfiguration.",
                    None,
                ),
            };
        let mut challenge = String::from("Bearer");
        let mut params = Vec::new();
        if let Some(HeaderSafe(realm)) = &self.realm {
            params.push(format!("realm=\"{realm}\""));
        }
        if let Some(e) = error {
            params.push(format!("error=\"{e}\""));
        }
        if let Some(s) = scope {
            params.push(format!("scope=\"{}\"", quote_scope(s)));
        }
        if !params.is_empty() {
            challenge.push(' ');
            challenge.push_str(&params.join(", "));
        }
        let body = serde_json::json!({
            "error": error.unwrap_or("unauthorized"),
            "error_description": description,
        });
        let mut res = Response::new(Bytes::from(body.to_string()));
        *res.status_mut() = status;
        let h = res.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        // Only RFC 6750's own error codes go into a challenge.
        let challenged = status == StatusCode::UNAUTHORIZED
            || matches!(error, Some("invalid_request" | "insufficient_scope"));
        if let (true, Ok(v)) = (challenged, HeaderValue::from_str(&challenge)) {
            h.insert(WWW_AUTHENTICATE, v);
        }
        if let Rejection::Unavailable { retry_after } = rejection {
            h.insert(RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        res
    }
}

/// gRPC trailers-only answers: HTTP 200, `content-type: application/grpc`,
/// `grpc-status` 16 (UNAUTHENTICATED), 7 (PERMISSION_DENIED) or 14
/// (UNAVAILABLE), and a `grpc-message`.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcRejection;

impl GrpcRejection {
    /// `grpc-status` for a rejection.
    pub fn code(rejection: &Rejection) -> u8 {
        match rejection {
            Rejection::Unavailable { .. } => 14,
            Rejection::MissingLayer { .. } => 13,
            r if r.is_authentication() => 16,
            _ => 7,
        }
    }
}

impl Reject for GrpcRejection {
    fn reject(&self, rejection: &Rejection, _request: &RequestHead<'_>) -> Response<Bytes> {
        let mut res = Response::new(Bytes::new());
        let h = res.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        h.insert(
            "grpc-status",
            HeaderValue::from(u16::from(Self::code(rejection))),
        );
        // The Glue messages are plain ASCII without '%', so they need no
        // percent-encoding.
        if let Ok(msg) = HeaderValue::from_str(rejection.glue_error().message()) {
            h.insert("grpc-message", msg);
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> Request<()> {
        Request::new(())
    }

    #[test]
    fn glue_missing_token_and_www_authenticate() {
        let req = head();
        let res = GlueRejection.reject(
            &Rejection::MissingToken {
                status: StatusCode::UNAUTHORIZED,
            },
            &RequestHead::of(&req),
        );
        assert_eq!(res.status(), 401);
        assert_eq!(
            res.headers()[WWW_AUTHENTICATE],
            r#"Bearer error="invalid_token""#
        );
        assert_eq!(
            res.body().as_ref(),
            br#"[{"status":401,"code":"002","message":"Missing access token."}]"#
        );
    }

    #[test]
    fn rfc_insufficient_scope() {
        let req = head();
        let res = Rfc6750Rejection::new().realm("glue").reject(
            &Rejection::AuthorizationFailed {
                credentials: true,
                required_scope: Some("warehouse".into()),
            },
            &RequestHead::of(&req),
        );
        assert_eq!(res.status(), 403);
        assert_eq!(
            res.headers()[WWW_AUTHENTICATE],
            r#"Bearer realm="glue", error="insufficient_scope", scope="warehouse""#
        );
    }

    #[test]
    fn grpc_codes() {
        assert_eq!(GrpcRejection::code(&Rejection::UnsupportedSubject), 16);
        assert_eq!(
            GrpcRejection::code(&Rejection::AuthorizationFailed {
                credentials: true,
                required_scope: None
            }),
            7
        );
        assert_eq!(
            GrpcRejection::code(&Rejection::AuthorizationFailed {
                credentials: false,
                required_scope: None
            }),
            16
        );
        assert_eq!(
            GrpcRejection::code(&Rejection::Unavailable { retry_after: 1 }),
            14
        );
        let req = head();
        let res = GrpcRejection.reject(
            &Rejection::InvalidToken {
                reason: InvalidReason::Expired,
            },
            &RequestHead::of(&req),
        );
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["grpc-status"], "16");
        assert_eq!(res.headers()["grpc-message"], "Invalid access token.");
    }
}
