//! Property tests of the Spryker route table (proptest; 256 cases unless
//! `PROPTEST_CASES` says otherwise): a path and its respellings — literal
//! characters percent-encoded (upper- or lowercase hex), doubled slashes,
//! a trailing slash — get the same decision from
//! `RouteTable::spryker_backend()`, for every method and principal.
//!
//! Extension point: the proxy path normaliser (`normalize_path`, used by
//! the gateway's proxy screen) gets the same treatment later: the scope
//! decision on the normalised respelling equals the decision on the
//! original. Reuse [`path`], [`respelling`] and [`decision`] there.

mod common;

use common::{user, warehouse};
use glue_auth_core::{Claims, Rejection};
use glue_auth_scope::RouteTable;
use http::{Method, Request};
use proptest::prelude::*;

const ALLOWED_IN_ID: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~";

/// Paths made of the preset's segments and ids (a `.` or `..` now and then,
/// which every spelling must refuse alike).
fn path() -> impl Strategy<Value = Vec<String>> {
    let segment = prop_oneof![
        6 => proptest::sample::select(vec![
            "token",
            "authorize",
            "warehouse-tokens",
            "picking-lists",
            "start-picking",
            "picking-list-items",
            "warehouse-user-assignments",
            "other",
        ])
        .prop_map(str::to_owned),
        3 => proptest::collection::vec(
            proptest::sample::select(ALLOWED_IN_ID.chars().collect::<Vec<_>>()),
            1..12,
        )
        .prop_map(|c| c.into_iter().collect::<String>()),
        1 => proptest::sample::select(vec![".", ".."]).prop_map(str::to_owned),
    ];
    proptest::collection::vec(segment, 0..5)
}

/// How to respell one path: per character, whether to percent-encode it
/// (and in which case); per slash, how many extra slashes; a trailing one.
#[derive(Debug, Clone)]
struct Respelling {
    encode: Vec<(bool, bool)>,
    extra_slashes: Vec<u8>,
    trailing: bool,
}

fn respelling() -> impl Strategy<Value = Respelling> {
    (
        proptest::collection::vec((proptest::bool::weighted(0.2), any::<bool>()), 64),
        proptest::collection::vec(prop_oneof![4 => Just(0u8), 1 => 1u8..3], 8),
        any::<bool>(),
    )
        .prop_map(|(encode, extra_slashes, trailing)| Respelling {
            encode,
            extra_slashes,
            trailing,
        })
}

fn plain(segments: &[String]) -> String {
    format!("/{}", segments.join("/"))
}

fn respell(segments: &[String], r: &Respelling) -> String {
    let mut out = String::new();
    let mut k = 0;
    for (i, segment) in segments.iter().enumerate() {
        out.push('/');
        for _ in 0..r.extra_slashes[i % r.extra_slashes.len()] {
            out.push('/');
        }
        for b in segment.bytes() {
            let (encode, lower) = r.encode[k % r.encode.len()];
            k += 1;
            match (encode, lower) {
                (false, _) => out.push(b as char),
                (true, false) => out.push_str(&format!("%{b:02X}")),
                (true, true) => out.push_str(&format!("%{b:02x}")),
            }
        }
    }
    if r.trailing || out.is_empty() {
        out.push('/');
    }
    out
}

fn principals() -> Vec<Option<Claims>> {
    vec![
        None,
        Some(user(&["user", "back-office-user"])),
        Some(user(&["user", "warehouse-user"])),
        Some(user(&["user"])),
        Some(warehouse(1, &["warehouse"])),
        Some(warehouse(1, &[])),
    ]
}

/// The scope layer's decision for one request.
fn decision(
    table: &RouteTable,
    method: &Method,
    path: &str,
    claims: Option<&Claims>,
) -> Result<(), Rejection> {
    let mut req = Request::builder()
        .method(method.clone())
        .uri(path)
        .body(())
        .unwrap_or_else(|e| panic!("{path:?}: {e}"));
    if let Some(c) = claims {
        req.extensions_mut().insert(c.clone());
    }
    table.check_request(&req)
}

proptest! {
    #[test]
    fn respellings_of_a_path_get_the_same_decision(
        segments in path(),
        r in respelling(),
        method in proptest::sample::select(vec![
            Method::GET, Method::HEAD, Method::POST, Method::PATCH, Method::PUT, Method::DELETE,
        ]),
        who in 0usize..6,
    ) {
        let table = RouteTable::spryker_backend();
        let claims = principals().swap_remove(who);
        let original = plain(&segments);
        let respelled = respell(&segments, &r);
        prop_assert_eq!(
            decision(&table, &method, &respelled, claims.as_ref()),
            decision(&table, &method, &original, claims.as_ref()),
            "{} vs {}", respelled, original
        );
    }
}

#[test]
fn respelling_covers_what_it_claims() {
    let segments = vec!["picking-lists".to_owned(), "a.b".to_owned()];
    let r = Respelling {
        encode: vec![(true, false), (false, false), (true, true)],
        extra_slashes: vec![1, 0],
        trailing: true,
    };
    let respelled = respell(&segments, &r);
    assert!(respelled.starts_with("//%70i%63%6Bi%6e"), "{respelled}");
    assert!(respelled.ends_with('/'), "{respelled}");
    let decoded: Vec<u8> = glue_auth_core::PercentDecode::path(respelled.as_bytes()).collect();
    assert_eq!(decoded, b"//picking-lists/a.b/");
    let table = RouteTable::spryker_backend();
    // And the decision is a refusal, not a vacuous pass.
    assert!(decision(&table, &Method::GET, "//%70icking-lists/", None).is_err());
}
