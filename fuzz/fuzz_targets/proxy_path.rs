//! `glue_auth_scope::normalize_path`, the gateway's proxy path screen, on
//! arbitrary text.
//!
//! Checks: no panic; a normal form is absolute, made only of RFC 3986
//! `pchar`s and `/` without `%`, `\`, `;`, `//` or a `.`/`..` segment, and
//! is its own normal form (borrowed, unchanged); a path that needs no change
//! is borrowed as is; the Spryker route table decides the input and its
//! normal form alike for every method the gateway forwards.
#![no_main]

use std::borrow::Cow;
use std::sync::OnceLock;

use glue_auth_scope::{RouteTable, normalize_path};
use http::Method;
use libfuzzer_sys::fuzz_target;

fn table() -> &'static RouteTable {
    static T: OnceLock<RouteTable> = OnceLock::new();
    T.get_or_init(RouteTable::spryker_backend)
}

fn pchar_or_slash(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,=:@/".contains(&b)
}

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(normal) = normalize_path(path) else {
        return;
    };
    let n: &str = &normal;
    assert!(n.starts_with('/'), "{path:?} -> {n:?}");
    assert!(n.bytes().all(pchar_or_slash), "{path:?} -> {n:?}");
    assert!(!n.contains("//"), "{path:?} -> {n:?}");
    assert!(
        !n.split('/').any(|s| s == "." || s == ".."),
        "{path:?} -> {n:?}"
    );
    match normalize_path(n) {
        Ok(Cow::Borrowed(again)) => assert_eq!(again, n),
        other => panic!("{n:?} is not its own normal form: {other:?}"),
    }
    if !path.contains('%') && !path.contains("//") {
        assert!(matches!(normal, Cow::Borrowed(_)), "{path:?} was copied");
    }
    let t = table();
    for m in [Method::GET, Method::POST, Method::PATCH, Method::DELETE] {
        let a = t.find(&m, path).map(|r| format!("{r:?}"));
        let b = t.find(&m, n).map(|r| format!("{r:?}"));
        assert_eq!(a, b, "{m} {path:?} and {n:?} route differently");
    }
});
