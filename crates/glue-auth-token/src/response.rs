//! The answers of the token endpoints (SPEC §1–§3).

use bytes::Bytes;
use glue_auth_core::{Envelope, GlueError, Rejection};
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, PRAGMA, RETRY_AFTER};
use http::{Response, StatusCode};
use serde::Serialize;

use crate::ResponseStyle;
use crate::issue::Minted;

/// `invalid_request`'s message (league/oauth2-server's wording).
pub(crate) const INVALID_REQUEST: &str = "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.";
/// `invalid_grant`'s message for the password grant.
pub(crate) const INVALID_CREDENTIALS: &str = "The user credentials were incorrect.";
/// `invalid_grant`'s message for the refresh grant.
pub(crate) const INVALID_REFRESH: &str = "The refresh token is invalid.";
/// `invalid_client`'s message.
pub(crate) const INVALID_CLIENT: &str = "Client authentication failed";
/// `invalid_scope`'s message (`POST /authorize`).
pub(crate) const INVALID_SCOPE: &str = "The requested scope is invalid, unknown, or malformed";
/// 429's message.
pub(crate) const TOO_MANY: &str = "Too many unsuccessful login attempts.";

/// Adds `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub(crate) fn no_store(mut res: Response<Bytes>) -> Response<Bytes> {
    let h = res.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

/// A plain-convention error (`[{"status","code","message"}]`).
pub(crate) fn plain(error: &GlueError) -> Response<Bytes> {
    no_store(error.to_response(Envelope::Plain))
}

/// 400 with the OAuth error name as the Glue code.
pub(crate) fn oauth(
    code: &'static str,
    message: impl Into<std::borrow::Cow<'static, str>>,
) -> Response<Bytes> {
    plain(&GlueError::new(
        StatusCode::BAD_REQUEST,
        Some(code),
        message,
    ))
}

pub(crate) fn invalid_request() -> Response<Bytes> {
    oauth("invalid_request", INVALID_REQUEST)
}

pub(crate) fn unsupported_grant_type(value: &str) -> Response<Bytes> {
    oauth(
        "unsupported_grant_type",
        format!("Grant type \"{value}\" not found"),
    )
}

/// 404 `007`: what Glue answers a JSON:API request to a plain-only route.
pub(crate) fn not_found() -> Response<Bytes> {
    GlueError::NOT_FOUND.to_response(Envelope::Plain)
}

/// 405 with `Allow: POST`.
pub(crate) fn method_not_allowed() -> Response<Bytes> {
    let mut res = plain(&GlueError::new_static(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        "Method not allowed.",
    ));
    res.headers_mut()
        .insert(ALLOW, HeaderValue::from_static("POST"));
    res
}

/// 413.
pub(crate) fn too_large() -> Response<Bytes> {
    plain(&GlueError::new_static(
        StatusCode::PAYLOAD_TOO_LARGE,
        None,
        "Request body is too large.",
    ))
}

/// 429 with `Retry-After`.
pub(crate) fn too_many(retry_after: u32) -> Response<Bytes> {
    let mut res = plain(&GlueError::new_static(
        StatusCode::TOO_MANY_REQUESTS,
        None,
        TOO_MANY,
    ));
    res.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after));
    res
}

/// 503 with `Retry-After`: the core's `Unavailable` rejection.
pub(crate) fn unavailable(retry_after: u32) -> Response<Bytes> {
    let rejection = Rejection::Unavailable { retry_after };
    let mut res = plain(&rejection.glue_error());
    res.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after));
    res.extensions_mut().insert(rejection);
    res
}

#[derive(Serialize)]
struct TokenBody<'a> {
    token_type: &'static str,
    expires_in: u64,
    access_token: &'a str,
    refresh_token: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WarehouseTokenBody<'a> {
    token_type: &'static str,
    expires_in: u64,
    access_token: &'a str,
    refresh_token: &'a str,
}

fn json(status: StatusCode, body: Vec<u8>) -> Response<Bytes> {
    let mut res = Response::new(Bytes::from(body));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    no_store(res)
}

/// `/token` success: 200 object (default) or 201 one-element array.
pub(crate) fn token_success(style: ResponseStyle, minted: &Minted) -> Response<Bytes> {
    let body = TokenBody {
        token_type: "Bearer",
        expires_in: minted.expires_in,
        access_token: &minted.access,
        refresh_token: &minted.refresh,
    };
    let (status, bytes) = match style {
        ResponseStyle::Object => (StatusCode::OK, serde_json::to_vec(&body)),
        ResponseStyle::Array => (StatusCode::CREATED, serde_json::to_vec(&[body])),
    };
    json(status, bytes.unwrap_or_default())
}

/// `/warehouse-tokens` success: 201, bare array, camelCase.
pub(crate) fn warehouse_success(minted: &Minted) -> Response<Bytes> {
    let body = [WarehouseTokenBody {
        token_type: "Bearer",
        expires_in: minted.expires_in,
        access_token: &minted.access,
        refresh_token: &minted.refresh,
    }];
    json(
        StatusCode::CREATED,
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

#[derive(Serialize)]
struct AuthorizeBody<'a> {
    code: &'a str,
    state: Option<&'a str>,
}

/// `/authorize` success: 200, `[{"code":"…","state":<sent or null>}]`.
pub(crate) fn authorize_success(code: &str, state: Option<&str>) -> Response<Bytes> {
    let body = [AuthorizeBody { code, state }];
    json(
        StatusCode::OK,
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}
