//! Shared pieces of the fuzz targets: the fixture key and tokens, the clock
//! they are valid at, and a small text format for requests whose header
//! values can splice fragments of valid tokens.
//!
//! Request text (targets `authorization_header`, `bearer_scope_service`):
//! lines separated by `\n`; in a header line `name: value`, the value may
//! contain `$` escapes that expand to fixture tokens and their parts:
//!
//! | escape | expands to |
//! |---|---|
//! | `$T<c>` | the whole token number `c` |
//! | `$H<c>`, `$P<c>`, `$S<c>` | its header, payload or signature part |
//!
//! where `<c>` is one character, `0`–`9` then `a`–`z`, taken modulo the
//! number of tokens. Anything else is copied as is. libFuzzer can thus
//! recombine parts of genuinely signed tokens (a valid header with another
//! token's payload, a valid signature under a changed payload, …) instead of
//! hoping to rediscover 300 bytes of base64 by mutation.

use std::sync::OnceLock;
use std::time::Duration;

use glue_auth_bearer::Validator;
use glue_auth_core::{
    Claims, ManualClock, NumericDate, Principal, Scopes, UserPrincipal, WarehousePrincipal,
};
use glue_auth_jwt::{KeySet, SigningKey};

/// The fixture public key (`shared/fixtures/foreign-signer/test-public.pem`).
pub const PUBLIC_PEM: &[u8] =
    include_bytes!("../../../shared/fixtures/foreign-signer/test-public.pem");
/// Its private half: signs extra seed tokens in our own format.
pub const PRIVATE_PEM: &[u8] =
    include_bytes!("../../../shared/fixtures/foreign-signer/test-private.pem");
/// Tokens in Spryker's format signed by PyJWT with that key, and the clock
/// (`now`) they are judged at.
pub const TOKENS_JSON: &str = include_str!("../../../shared/fixtures/foreign-signer/tokens.json");

/// The fixtures' clock: 1764000000.123456.
pub const NOW: NumericDate = NumericDate::from_micros(1_764_000_000_123_456);

/// The fixture key as a key set.
pub fn keys() -> &'static KeySet {
    static K: OnceLock<KeySet> = OnceLock::new();
    K.get_or_init(|| KeySet::from_pem(PUBLIC_PEM).expect("fixture public key"))
}

/// A validator with Glue's defaults on the fixture key, its clock standing at
/// [`NOW`]; with or without the validated-token cache.
pub fn validator(cache: bool) -> &'static Validator {
    static CACHED: OnceLock<Validator> = OnceLock::new();
    static UNCACHED: OnceLock<Validator> = OnceLock::new();
    let build = |cache: bool| {
        let b = Validator::builder(keys().clone()).clock(ManualClock::new(NOW));
        let b = if cache { b } else { b.no_cache() };
        b.build().expect("default settings")
    };
    if cache {
        CACHED.get_or_init(|| build(true))
    } else {
        UNCACHED.get_or_init(|| build(false))
    }
}

/// Every fixture token: PyJWT's (valid and invalid cases), then ours, signed
/// by the fixture key with [`SigningKey::sign`] (a user, a warehouse-user, a
/// warehouse, and one with a `kid`).
pub fn tokens() -> &'static [String] {
    static T: OnceLock<Vec<String>> = OnceLock::new();
    T.get_or_init(|| {
        let doc: serde_json::Value = serde_json::from_str(TOKENS_JSON).expect("tokens.json");
        let mut out: Vec<String> = doc["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|c| c["token"].as_str().expect("token").to_owned())
            .collect();
        let key = SigningKey::from_pem(PRIVATE_PEM).expect("fixture private key");
        let day = Duration::from_secs(86_400);
        let user = |scopes: &[&str]| {
            Claims::builder(
                Principal::User(UserPrincipal::new(
                    4,
                    "0d743cc3-a772-5145-971e-d4018ee7a489",
                    None::<String>,
                )),
                Scopes::from_iter(scopes.iter().copied()),
            )
            .jti("5f".repeat(40))
            .audience("frontend")
            .issued_at(NOW, day)
            .build()
        };
        let warehouse = Claims::builder(
            Principal::Warehouse(WarehousePrincipal::new(1)),
            Scopes::from_iter(["warehouse"]),
        )
        .jti("6f".repeat(40))
        .audience("frontend")
        .issued_at(NOW, day)
        .build();
        for (k, c) in [
            (&key, user(&["user", "back-office-user"])),
            (&key, user(&["user", "warehouse-user"])),
            (&key, warehouse),
            (&key.clone().with_kid("k1"), user(&["user"])),
        ] {
            out.push(k.sign(&c).expect("sign"));
        }
        out
    })
}

fn token_index(c: u8) -> Option<usize> {
    let i = match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'z' => c - b'a' + 10,
        _ => return None,
    };
    Some(usize::from(i) % tokens().len())
}

/// Expands the `$` escapes of the module docs.
pub fn expand(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'$' && i + 2 < input.len() {
            if let Some(t) = token_index(input[i + 2]) {
                let token = &tokens()[t];
                let mut parts = token.split('.');
                let part = match input[i + 1] {
                    b'T' => Some(token.as_str()),
                    b'H' => parts.next(),
                    b'P' => parts.nth(1),
                    b'S' => parts.nth(2),
                    _ => None,
                };
                if let Some(part) = part {
                    out.extend_from_slice(part.as_bytes());
                    i += 3;
                    continue;
                }
            }
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

/// A request head in the text format: the first line is the method, the
/// second the URI, every further line a header (`name: value`, value
/// expanded; a line without `:` is an `Authorization` value). Lines may end
/// in `\r\n`.
pub struct Head<'a> {
    /// First line.
    pub method: &'a [u8],
    /// Second line.
    pub uri: &'a [u8],
    /// `(name, expanded value)`.
    pub headers: Vec<(&'a [u8], Vec<u8>)>,
}

/// Splits `data` into header lines only (no method or URI lines).
pub fn header_lines(data: &[u8]) -> Vec<(&[u8], Vec<u8>)> {
    data.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            match line.iter().position(|&b| b == b':') {
                Some(i) => {
                    let value = &line[i + 1..];
                    let value = value.strip_prefix(b" ").unwrap_or(value);
                    (&line[..i], expand(value))
                }
                None => (&b"authorization"[..], expand(line)),
            }
        })
        .collect()
}

impl<'a> Head<'a> {
    /// Parses the text format.
    pub fn parse(data: &'a [u8]) -> Head<'a> {
        let mut lines = data.splitn(3, |&b| b == b'\n');
        let trim = |l: &'a [u8]| l.strip_suffix(b"\r").unwrap_or(l);
        let method = trim(lines.next().unwrap_or_default());
        let uri = trim(lines.next().unwrap_or_default());
        let headers = header_lines(lines.next().unwrap_or_default());
        Head {
            method,
            uri,
            headers,
        }
    }
}

/// The principals a route decision is taken for, chosen by one byte: none,
/// a Back Office user, a warehouse user, a legacy `["user"]` user, a
/// warehouse with and without the `warehouse` scope, a user without scopes.
pub fn claims_for(selector: u8) -> Option<Claims> {
    static ALL: OnceLock<Vec<Claims>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        let user = |scopes: &[&str]| {
            Claims::builder(
                Principal::User(UserPrincipal::new(4, "u-4", None::<String>)),
                Scopes::from_iter(scopes.iter().copied()),
            )
            .issued_at(NOW, Duration::from_secs(60))
            .build()
        };
        let warehouse = |scopes: &[&str]| {
            Claims::builder(
                Principal::Warehouse(WarehousePrincipal::new(1)),
                Scopes::from_iter(scopes.iter().copied()),
            )
            .issued_at(NOW, Duration::from_secs(60))
            .build()
        };
        vec![
            user(&["user", "back-office-user"]),
            user(&["user", "warehouse-user"]),
            user(&["user"]),
            warehouse(&["warehouse"]),
            warehouse(&[]),
            user(&[]),
        ]
    });
    match usize::from(selector) % (all.len() + 1) {
        0 => None,
        i => Some(all[i - 1].clone()),
    }
}
