//! Glue's error object and its two envelopes.

use std::borrow::Cow;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, Method, Response, StatusCode};
use serde::Serialize;

/// `application/vnd.api+json`
pub const JSON_API: &str = "application/vnd.api+json";

/// How an error answer is wrapped (SPEC §1), chosen per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// A bare JSON array `[{...}]`, `Content-Type: application/json`.
    Plain,
    /// `{"errors":[{...}]}`, `Content-Type: application/vnd.api+json`.
    JsonApi,
}

fn first_value(headers: &HeaderMap, name: http::header::HeaderName) -> Option<&[u8]> {
    let v = headers.get(name)?.as_bytes();
    let first = v.split(|&b| b == b',').next().unwrap_or(v);
    Some(first.trim_ascii())
}

impl Envelope {
    /// JSON:API when the first `Content-Type` value is exactly
    /// `application/vnd.api+json`, or the method is GET and the first `Accept`
    /// value is exactly that; plain otherwise.
    ///
    /// ```
    /// use glue_auth_core::Envelope;
    /// use http::{HeaderMap, Method, header};
    ///
    /// let mut h = HeaderMap::new();
    /// h.insert(header::ACCEPT, "application/vnd.api+json".parse().unwrap());
    /// assert_eq!(Envelope::for_request(&Method::GET, &h), Envelope::JsonApi);
    /// assert_eq!(Envelope::for_request(&Method::POST, &h), Envelope::Plain);
    /// ```
    pub fn for_request(method: &Method, headers: &HeaderMap) -> Envelope {
        let json_api = JSON_API.as_bytes();
        if first_value(headers, CONTENT_TYPE) == Some(json_api) {
            return Envelope::JsonApi;
        }
        if method == Method::GET && first_value(headers, ACCEPT) == Some(json_api) {
            return Envelope::JsonApi;
        }
        Envelope::Plain
    }

    /// The `Content-Type` of answers in this envelope.
    pub fn content_type(self) -> &'static str {
        match self {
            Envelope::Plain => "application/json",
            Envelope::JsonApi => JSON_API,
        }
    }
}

/// A Glue error object: always exactly `status`, `code` (string or null) and
/// `message`.
///
/// ```
/// use glue_auth_core::{Envelope, GlueError};
///
/// let res = GlueError::INVALID_ACCESS_TOKEN.to_response(Envelope::Plain);
/// assert_eq!(res.status(), 401);
/// assert_eq!(
///     res.body().as_ref(),
///     br#"[{"status":401,"code":"001","message":"Invalid access token."}]"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GlueError {
    #[serde(serialize_with = "ser_status")]
    status: StatusCode,
    code: Option<Cow<'static, str>>,
    message: Cow<'static, str>,
}

fn ser_status<S: serde::Serializer>(s: &StatusCode, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_u16(s.as_u16())
}

impl GlueError {
    /// 401 `001` "Invalid access token."
    pub const INVALID_ACCESS_TOKEN: GlueError = GlueError::new_static(
        StatusCode::UNAUTHORIZED,
        Some("001"),
        "Invalid access token.",
    );
    /// 404 `007` "Not found"
    pub const NOT_FOUND: GlueError =
        GlueError::new_static(StatusCode::NOT_FOUND, Some("007"), "Not found");

    /// An error object with static texts.
    pub const fn new_static(
        status: StatusCode,
        code: Option<&'static str>,
        message: &'static str,
    ) -> Self {
        GlueError {
            status,
            code: match code {
                Some(c) => Some(Cow::Borrowed(c)),
                None => None,
            },
            message: Cow::Borrowed(message),
        }
    }

    /// An error object.
    pub fn new(
        status: StatusCode,
        code: Option<impl Into<Cow<'static, str>>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        GlueError {
            status,
            code: code.map(Into::into),
            message: message.into(),
        }
    }

    /// The same error with another HTTP status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Glue error code.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The body in the given envelope.
    pub fn to_body(&self, envelope: Envelope) -> Bytes {
        #[derive(Serialize)]
        struct Errors<'a> {
            errors: [&'a GlueError; 1],
        }
        let json = match envelope {
            Envelope::Plain => serde_json::to_vec(&[self]),
            Envelope::JsonApi => serde_json::to_vec(&Errors { errors: [self] }),
        };
        Bytes::from(json.unwrap_or_default())
    }

    /// A complete answer: status, `Content-Type` of the envelope, body.
    pub fn to_response(&self, envelope: Envelope) -> Response<Bytes> {
        let mut res = Response::new(self.to_body(envelope));
        *res.status_mut() = self.status;
        res.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static(envelope.content_type()),
        );
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(method: Method, ct: Option<&str>, accept: Option<&str>) -> Envelope {
        let mut h = HeaderMap::new();
        if let Some(v) = ct {
            h.insert(CONTENT_TYPE, v.parse().unwrap());
        }
        if let Some(v) = accept {
            h.insert(ACCEPT, v.parse().unwrap());
        }
        Envelope::for_request(&method, &h)
    }

    #[test]
    fn envelope_rules() {
        assert_eq!(env(Method::POST, Some(JSON_API), None), Envelope::JsonApi);
        assert_eq!(env(Method::PATCH, Some(JSON_API), None), Envelope::JsonApi);
        assert_eq!(env(Method::GET, None, Some(JSON_API)), Envelope::JsonApi);
        assert_eq!(
            env(Method::GET, None, Some("application/vnd.api+json, */*")),
            Envelope::JsonApi
        );
        assert_eq!(
            env(Method::GET, None, Some("*/*, application/vnd.api+json")),
            Envelope::Plain
        );
        assert_eq!(env(Method::POST, None, Some(JSON_API)), Envelope::Plain);
        assert_eq!(
            env(
                Method::POST,
                Some("application/vnd.api+json; charset=utf-8"),
                None
            ),
            Envelope::Plain
        );
        assert_eq!(
            env(Method::GET, Some("application/json"), None),
            Envelope::Plain
        );
        assert_eq!(env(Method::GET, None, None), Envelope::Plain);
    }

    #[test]
    fn json_api_body_and_null_code() {
        let e = GlueError::new(StatusCode::FORBIDDEN, None::<&str>, "Unauthorized request.");
        assert_eq!(
            e.to_body(Envelope::JsonApi).as_ref(),
            br#"{"errors":[{"status":403,"code":null,"message":"Unauthorized request."}]}"#
        );
        let res = e.to_response(Envelope::JsonApi);
        assert_eq!(res.headers()[CONTENT_TYPE], JSON_API);
    }
}
