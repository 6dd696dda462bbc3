//! What the upstream will interpret is what the route table decides on
//! (issue: requests outside the table reached the upstream unchecked).
//!
//! Before the auth layers, every request is screened once:
//!
//! - methods: only `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE` and
//!   `OPTIONS`, spelled exactly (methods are case-sensitive: `patch` is not
//!   `PATCH`, and a server that upper-cases it would run a route the table
//!   never saw); anything else is 405 with the resource's `Allow` (a
//!   client's mistake, not a server error: no 501);
//! - method overrides: `X-HTTP-Method-Override`, `X-HTTP-Method`,
//!   `X-Method-Override` and a `_method` query parameter are refused with
//!   400 (Symfony, Glue's framework, turns a POST into the named method);
//! - the path: one spelling ([`normalize_path`]) replaces the request's, so
//!   the scope layer and the upstream see the same bytes; a path it refuses
//!   is 400.

use glue_auth_core::{Envelope, GlueError, PercentDecode};
use glue_auth_scope::normalize_path;
use http::header::ALLOW;
use http::uri::PathAndQuery;
use http::{HeaderValue, Method, Request, Response, StatusCode, Uri};

use crate::body::{Body, full};

/// Headers that make Symfony (and other frameworks) treat a POST as another
/// method.
const OVERRIDE_HEADERS: [&str; 3] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// A refused request: its status, Glue message and, for a 405, `Allow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused(
    pub(crate) StatusCode,
    pub(crate) &'static str,
    pub(crate) Option<&'static str>,
);

impl Refused {
    /// Glue's error body, in the request's envelope.
    pub(crate) fn answer<B>(self, req: &Request<B>) -> Response<Body> {
        let envelope = Envelope::for_request(req.method(), req.headers());
        let mut res = GlueError::new_static(self.0, None, self.1)
            .to_response(envelope)
            .map(full);
        if let Some(allow) = self.2 {
            res.headers_mut()
                .insert(ALLOW, HeaderValue::from_static(allow));
        }
        res
    }
}

/// `Allow` for a method outside the allowlist: the methods of the
/// resource, for the gateway's and Glue's routes (every method the gateway
/// passes on, for others).
fn allowed_methods(path: &str) -> &'static str {
    let path = path.strip_suffix('/').unwrap_or(path);
    let mut s = path.split('/').skip(1);
    match (s.next(), s.next(), s.next(), s.next()) {
        (Some("token" | "warehouse-tokens" | "authorize"), None, ..) => "POST",
        (Some("picking-lists"), _, None, _) => "GET, HEAD",
        (Some("picking-lists"), Some(_), Some("start-picking"), None) => "POST",
        (Some("picking-lists"), Some(_), Some("picking-list-items"), None) => "PATCH",
        (Some("warehouse-user-assignments"), None, ..) => "GET, HEAD, POST",
        (Some("warehouse-user-assignments"), Some(_), None, _) => "GET, HEAD, PATCH, DELETE",
        (Some("healthz" | "metrics" | "openapi.json"), None, ..)
        | (Some(".well-known"), Some("jwks.json"), None, _) => "GET, HEAD",
        _ => "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
    }
}

fn known_method(m: &Method) -> bool {
    [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ]
    .contains(m)
}

/// A `_method` key in the query string, in any percent-encoded spelling.
fn has_method_parameter(query: &str) -> bool {
    query.split('&').any(|pair| {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        PercentDecode::form(key.as_bytes()).eq(b"_method".iter().copied())
            || PercentDecode::form(key.as_bytes()).eq(b"_method[]".iter().copied())
    })
}

/// Screens `req` in place: `Err` is the answer.
pub(crate) fn screen<B>(req: &mut Request<B>) -> Result<(), Refused> {
    const BAD: Refused = Refused(StatusCode::BAD_REQUEST, "Bad request.", None);
    if !known_method(req.method()) {
        return Err(Refused(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed.",
            Some(allowed_methods(req.uri().path())),
        ));
    }
    if OVERRIDE_HEADERS
        .iter()
        .any(|h| req.headers().contains_key(*h))
        || req.uri().query().is_some_and(has_method_parameter)
    {
        return Err(Refused(
            StatusCode::BAD_REQUEST,
            "Method overrides are not supported.",
            None,
        ));
    }
    let normal = match normalize_path(req.uri().path()) {
        Ok(p) => p,
        Err(e) => {
            tracing::debug!(reason = %e, "path refused");
            return Err(BAD);
        }
    };
    if let std::borrow::Cow::Owned(path) = normal {
        let pq = match req.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        let mut parts = req.uri().clone().into_parts();
        match PathAndQuery::try_from(pq) {
            Ok(pq) => parts.path_and_query = Some(pq),
            Err(_) => return Err(BAD),
        }
        match Uri::from_parts(parts) {
            Ok(uri) => *req.uri_mut() = uri,
            Err(_) => return Err(BAD),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, uri: &str) -> Request<()> {
        Request::builder().method(method).uri(uri).body(()).unwrap()
    }

    #[test]
    fn methods_are_case_sensitive_and_an_allowlist() {
        for m in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            assert!(screen(&mut req(m, "/x")).is_ok(), "{m}");
        }
        for m in ["patch", "Get", "TRACE", "CONNECT", "PROPFIND", "FOO"] {
            let res = screen(&mut req(m, "/x")).unwrap_err();
            assert_eq!(res.0, StatusCode::METHOD_NOT_ALLOWED, "{m}");
            assert_eq!(res.2, Some("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"));
        }
        for (path, allow) in [
            ("/token", "POST"),
            ("/warehouse-tokens/", "POST"),
            ("/picking-lists", "GET, HEAD"),
            ("/picking-lists/a", "GET, HEAD"),
            ("/picking-lists/a/start-picking", "POST"),
            ("/picking-lists/a/picking-list-items", "PATCH"),
            ("/warehouse-user-assignments", "GET, HEAD, POST"),
            ("/warehouse-user-assignments/a", "GET, HEAD, PATCH, DELETE"),
            ("/healthz", "GET, HEAD"),
            ("/.well-known/jwks.json", "GET, HEAD"),
            (
                "/picking-lists/a/b",
                "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
            ),
        ] {
            let res = screen(&mut req("TRACE", path)).unwrap_err();
            assert_eq!(res.2, Some(allow), "{path}");
        }
    }

    #[test]
    fn overrides_are_refused() {
        for h in OVERRIDE_HEADERS {
            let mut r = req("POST", "/picking-lists/1/picking-list-items");
            r.headers_mut().insert(h, "PATCH".parse().unwrap());
            assert_eq!(screen(&mut r).unwrap_err().0, 400, "{h}");
        }
        for q in [
            "_method=PATCH",
            "a=1&_method=PATCH",
            "%5Fmethod=PATCH",
            "_method[]=x",
            "_method",
        ] {
            let mut r = req("POST", &format!("/x?{q}"));
            assert_eq!(screen(&mut r).unwrap_err().0, 400, "{q}");
        }
        assert!(screen(&mut req("POST", "/x?method=PATCH&x_method=1")).is_ok());
    }

    #[test]
    fn paths_are_rewritten_to_their_normal_form_and_queries_kept() {
        let mut r = req("GET", "//%70icking-lists?include=a,b&x=%2F");
        screen(&mut r).unwrap();
        assert_eq!(r.uri(), "/picking-lists?include=a,b&x=%2F");
        for p in [
            "/picking-lists%2Fx",
            "/a;b",
            "/a%00",
            "/a/%2e%2e/b",
            "/a%5Cb",
        ] {
            let mut r = req("GET", p);
            assert_eq!(screen(&mut r).unwrap_err().0, 400, "{p}");
        }
    }
}
