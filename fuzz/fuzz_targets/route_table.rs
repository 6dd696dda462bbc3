//! `RouteTable::find` / `check_request` of `RouteTable::spryker_backend()` on
//! arbitrary methods and paths.
//!
//! Input: a selector byte (which principal, see `glue_auth_fuzz::claims_for`),
//! then the method, a newline, and the request target (path, or any URI).
//! Checks: no panic; `OPTIONS` always passes; refusals are 401 or 403 with
//! Glue's messages; a trailing slash, a doubled slash and a percent-encoded
//! spelling of an unreserved character never change the decision (SPEC §5.2,
//! docs/security.md "respelled paths"). The gateway's proxy path normaliser
//! gets a target of its own (`proxy_path`, reserved in Cargo.toml).
#![no_main]

use std::sync::OnceLock;

use glue_auth_fuzz::claims_for;
use glue_auth_scope::RouteTable;
use http::{Method, Request, Uri};
use libfuzzer_sys::fuzz_target;

fn table() -> &'static RouteTable {
    static T: OnceLock<RouteTable> = OnceLock::new();
    T.get_or_init(RouteTable::spryker_backend)
}

fn request(method: &Method, uri: Uri, claims: &Option<glue_auth_core::Claims>) -> Request<()> {
    let mut req = Request::new(());
    *req.method_mut() = method.clone();
    *req.uri_mut() = uri;
    if let Some(c) = claims {
        req.extensions_mut().insert(c.clone());
    }
    req
}

/// `uri` with its path replaced by `path` (query kept).
fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let mut parts = uri.clone().into_parts();
    let pq = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    parts.path_and_query = Some(pq.parse().ok()?);
    Uri::from_parts(parts).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (method, target) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&b"GET"[..], rest),
    };
    let Ok(method) = Method::from_bytes(method) else {
        return;
    };
    let claims = claims_for(selector);
    let t = table();
    // `find` takes any text as the path.
    if let Ok(text) = std::str::from_utf8(target) {
        let _ = t.find(&method, text);
    }
    let Ok(uri) = Uri::try_from(target) else {
        return;
    };
    let path = uri.path().to_owned();
    let decision = t.check_request(&request(&method, uri.clone(), &claims));
    if method == Method::OPTIONS {
        assert_eq!(decision, Ok(()));
    }
    if let Err(r) = &decision {
        let e = r.glue_error();
        assert!(matches!(e.status().as_u16(), 401 | 403), "{r:?}");
        assert!(
            matches!(
                e.message(),
                "Unauthorized request." | "Authorization failed."
            ),
            "{r:?}"
        );
    }
    // Respellings of the same path: the same decision.
    let mut respelled = vec![format!("{path}/"), format!("/{path}")];
    if let Some(i) = path[1.min(path.len())..].find('/') {
        let i = i + 1;
        respelled.push(format!("{}/{}", &path[..i], &path[i..]));
    }
    // An unreserved character outside any `%XX` escape (encoding a digit
    // of an escape would change what the path decodes to).
    let bytes = path.as_bytes();
    let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
    let in_escape = |i: usize| {
        (i >= 1 && bytes[i - 1] == b'%' && hex(i) && hex(i + 1))
            || (i >= 2 && bytes[i - 2] == b'%' && hex(i - 1) && hex(i))
    };
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    if let Some(i) = (0..bytes.len()).find(|&i| unreserved(bytes[i]) && !in_escape(i)) {
        let b = bytes[i];
        respelled.push(format!("{}%{b:02X}{}", &path[..i], &path[i + 1..]));
        respelled.push(format!("{}%{b:02x}{}", &path[..i], &path[i + 1..]));
    }
    for p in respelled {
        if !p.starts_with('/') {
            continue;
        }
        let Some(other) = with_path(&uri, &p) else {
            continue;
        };
        assert_eq!(
            t.check_request(&request(&method, other, &claims)),
            decision,
            "{path:?} and {p:?} differ"
        );
    }
});
