//! The fulfillment demo page (`demo-page/` in the crate: plain HTML and
//! JavaScript modules), served at `/demo/` in demo mode. It logs in with the
//! code flow and PKCE S256 (SPEC §2a), picks a warehouse and works a pick
//! list, as Spryker's Fulfillment App does; served from another origin it
//! takes the gateway's address from `?api=`.

use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, LOCATION};
use http::{Method, Response, StatusCode};

use crate::body::{Body, full};

const FILES: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../demo-page/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../demo-page/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("../../demo-page/api.js"),
    ),
    (
        "pkce.js",
        "text/javascript; charset=utf-8",
        include_str!("../../demo-page/pkce.js"),
    ),
];

/// The page's answer for `GET /demo…`, or `None` when the path is not the
/// page's.
pub(crate) fn serve(method: &Method, path: &str) -> Option<Response<Body>> {
    if path == "/demo" {
        let mut res = Response::new(full(""));
        *res.status_mut() = StatusCode::MOVED_PERMANENTLY;
        res.headers_mut()
            .insert(LOCATION, HeaderValue::from_static("/demo/"));
        return Some(res);
    }
    let name = path.strip_prefix("/demo/")?;
    let name = if name.is_empty() { "index.html" } else { name };
    let (_, content_type, text) = FILES.iter().find(|(n, _, _)| *n == name)?;
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let mut res = Response::new(full(*text));
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Some(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_redirect() {
        let res = serve(&Method::GET, "/demo/").unwrap();
        assert_eq!(res.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        let res = serve(&Method::GET, "/demo/app.js").unwrap();
        assert_eq!(
            res.headers()[CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(serve(&Method::GET, "/demo").unwrap().status(), 301);
        assert!(serve(&Method::GET, "/demo/../Cargo.toml").is_none());
        assert!(serve(&Method::GET, "/demo/other.js").is_none());
        assert!(serve(&Method::POST, "/demo/").is_none());
        assert!(serve(&Method::GET, "/picking-lists").is_none());
    }
}
