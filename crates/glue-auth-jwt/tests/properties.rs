//! Property tests of `KeySet::verify` (proptest; 64 signed tokens per
//! property, each changed up to 8 ways).
//!
//! What is asserted about a changed token, precisely:
//!
//! - **Security property** (what must hold): no change to a signed token
//!   ever makes it verify to *different* claims.
//! - **What actually holds, and is asserted**: every change — one character
//!   replaced by any other, one inserted, one removed — makes verification
//!   fail. This is stronger than the security property because of one
//!   detail: the signature is 256 bytes, 342 base64url characters, and the
//!   last one carries 2 bits of the signature and 4 unused bits. A decoder
//!   that ignored unused bits would accept 15 other last characters for the
//!   same signature bytes (a "different token" with the same claims, which
//!   the security property allows but the strong one does not). The base64
//!   decoder jsonwebtoken uses refuses non-zero unused bits, so those
//!   spellings fail too; `non_canonical_last_signature_character_is_refused`
//!   pins that separately. Header and payload changes alter the signed
//!   bytes (the signature covers their base64url text, not the decoded
//!   JSON), so any spelling change there fails on the signature.

use std::sync::OnceLock;
use std::time::Duration;

use glue_auth_core::{Claims, NumericDate, Principal, Scopes, UserPrincipal, WarehousePrincipal};
use glue_auth_jwt::{KeySet, SigningKey, TokenError};
use proptest::prelude::*;

fn key() -> &'static (SigningKey, KeySet) {
    static K: OnceLock<(SigningKey, KeySet)> = OnceLock::new();
    K.get_or_init(|| {
        let pem = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/test-private.pem"
        ))
        .unwrap();
        let k = SigningKey::from_pem(&pem).unwrap();
        let set = k.key_set();
        (k, set)
    })
}

fn claims() -> impl Strategy<Value = Claims> {
    (
        prop_oneof![
            (1i64..1_000_000, "[0-9a-f-]{36}").prop_map(|(id, uuid)| Principal::User(
                UserPrincipal::new(id, uuid, None::<String>)
            )),
            (1i64..1_000_000).prop_map(|id| Principal::Warehouse(WarehousePrincipal::new(id))),
        ],
        proptest::sample::subsequence(vec!["user", "back-office-user", "warehouse"], 0..=3),
        1_577_836_800_000_000i64..2_208_988_800_000_000,
        1u64..1_000_000_000_000,
        "[0-9a-f]{80}",
    )
        .prop_map(|(p, s, iat, ttl, jti)| {
            Claims::builder(p, Scopes::from_iter(s))
                .jti(jti)
                .audience("frontend")
                .issued_at(NumericDate::from_micros(iat), Duration::from_micros(ttl))
                .build()
        })
}

/// A change to a token: replace, insert or remove one character.
#[derive(Debug, Clone)]
enum Change {
    Replace(usize, char),
    Insert(usize, char),
    Remove(usize),
}

/// Any character a mangled header could carry: the base64url alphabet, the
/// separators and padding, other ASCII, and a few non-ASCII ones.
fn character() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => proptest::sample::select(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                .chars()
                .collect::<Vec<_>>()
        ),
        2 => proptest::sample::select(vec!['.', '=', '+', '/', ' ', '\t', '%', '\0']),
        1 => any::<char>(),
    ]
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        4 => (any::<usize>(), character()).prop_map(|(i, c)| Change::Replace(i, c)),
        1 => (any::<usize>(), character()).prop_map(|(i, c)| Change::Insert(i, c)),
        1 => any::<usize>().prop_map(Change::Remove),
    ]
}

/// `token` changed; `None` when the change leaves it as it was.
fn apply(token: &str, change: &Change) -> Option<String> {
    let mut chars: Vec<char> = token.chars().collect();
    match *change {
        Change::Replace(i, c) => {
            let i = i % chars.len();
            if chars[i] == c {
                return None;
            }
            chars[i] = c;
        }
        Change::Insert(i, c) => chars.insert(i % (chars.len() + 1), c),
        Change::Remove(i) => {
            chars.remove(i % chars.len());
        }
    }
    Some(chars.into_iter().collect())
}

proptest! {
    // Signing is the expensive step (aws-lc unoptimised in test builds):
    // 64 tokens, each changed up to 8 ways, keeps this file near a second.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_change_to_a_signed_token_is_refused(
        claims in claims(),
        changes in proptest::collection::vec(change(), 1..=8),
    ) {
        let (signer, keys) = key();
        let token = signer.sign(&claims).unwrap();
        prop_assert_eq!(keys.verify(&token).map(|(c, _)| c), Ok(claims.clone()));
        for change in &changes {
            let Some(changed) = apply(&token, change) else {
                continue;
            };
            let outcome = keys.verify(&changed);
            // The security property, stated on its own so that a failure of
            // the strong one below says which one broke.
            if let Ok((other, _)) = &outcome {
                prop_assert_eq!(other, &claims, "a change produced different claims");
            }
            prop_assert!(
                matches!(outcome, Err(TokenError::Invalid(_))),
                "{:?} still verifies", change
            );
        }
    }

    #[test]
    fn changes_to_the_signature_part_are_refused(
        claims in claims(),
        changes in proptest::collection::vec((any::<usize>(), character()), 1..=8),
    ) {
        // Aimed at the signature (the part with unused bits at its end): a
        // uniformly chosen position rarely lands there.
        let (signer, keys) = key();
        let token = signer.sign(&claims).unwrap();
        let sig_start = token.rfind('.').unwrap() + 1;
        for (pos, c) in changes {
            let i = sig_start + pos % (token.len() - sig_start);
            let Some(changed) = apply(&token, &Change::Replace(i, c)) else {
                continue;
            };
            prop_assert!(matches!(keys.verify(&changed), Err(TokenError::Invalid(_))));
        }
    }
}

#[test]
fn non_canonical_last_signature_character_is_refused() {
    let (signer, keys) = key();
    let claims = Claims::builder(
        Principal::Warehouse(WarehousePrincipal::new(1)),
        Scopes::from_iter(["warehouse"]),
    )
    .issued_at(
        NumericDate::from_secs(1_764_000_000),
        Duration::from_secs(60),
    )
    .build();
    let token = signer.sign(&claims).unwrap();
    let sig = token.rsplit('.').next().unwrap();
    assert_eq!(
        sig.len(),
        342,
        "256 bytes: 342 characters, the last with 4 unused bits"
    );
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = token.as_bytes()[token.len() - 1];
    let value = ALPHABET.iter().position(|&b| b == last).unwrap();
    assert_eq!(value & 0x0f, 0, "a canonical last character");
    // The 15 other characters with the same 2 significant bits decode to
    // the same signature bytes under a lenient decoder: all refused here.
    for low in 1..16 {
        let other = ALPHABET[(value & 0x30) | low] as char;
        let changed = format!("{}{other}", &token[..token.len() - 1]);
        assert!(
            matches!(keys.verify(&changed), Err(TokenError::Invalid(_))),
            "{other}"
        );
    }
    assert_eq!(keys.verify(&token).unwrap().0, claims);
}
