//! The `POST /token` body parser (form or JSON; SPEC §2), through the
//! `fuzzing` feature's hook `glue_auth_token::__fuzz::parse`.
//!
//! Checks: no panic; what a well-formed body says is said again, the same,
//! by its re-encoding as a form and as a JSON object (the two readers agree).
#![no_main]

use glue_auth_token::__fuzz::{ParamsSummary, parse};
use libfuzzer_sys::fuzz_target;

fn fields(s: &ParamsSummary) -> [(&'static str, Option<&str>); 6] {
    [
        ("grant_type", s.grant_type.as_deref()),
        ("username", s.username.as_deref()),
        ("password", s.password.as_deref()),
        ("scope", s.scope.as_deref()),
        ("client_id", s.client_id.as_deref()),
        ("refresh_token", s.refresh_token.as_deref()),
    ]
}

fn form(s: &ParamsSummary) -> Vec<u8> {
    let mut out = Vec::new();
    for (key, value) in fields(s) {
        let Some(value) = value else { continue };
        if !out.is_empty() {
            out.push(b'&');
        }
        out.extend_from_slice(key.as_bytes());
        out.push(b'=');
        for &b in value.as_bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                out.push(b);
            } else {
                out.extend_from_slice(format!("%{b:02X}").as_bytes());
            }
        }
    }
    out
}

fn json(s: &ParamsSummary) -> Vec<u8> {
    let map: serde_json::Map<String, serde_json::Value> = fields(s)
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_owned(), serde_json::Value::from(v?))))
        .collect();
    serde_json::to_vec(&map).expect("a map of strings serializes")
}

fuzz_target!(|data: &[u8]| {
    let parsed = parse(data);
    assert_eq!(parse(data), parsed, "the parser is not deterministic");
    if parsed.malformed {
        return;
    }
    assert_eq!(parse(&form(&parsed)), parsed, "form re-encoding");
    assert_eq!(parse(&json(&parsed)), parsed, "JSON re-encoding");
});
