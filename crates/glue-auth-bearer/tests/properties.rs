//! Property tests of token validation (proptest):
//!
//! - an issued token validates at every instant of `[nbf, exp)` and at none
//!   from `exp` on, to the microsecond (zero leeway): 64 random tokens, each
//!   checked at seven instants around its dates;
//! - the validated-token cache never changes a decision: a validator with
//!   the cache and one without answer every step of any sequence of tokens,
//!   clock moves (forward and back, by microseconds to a day) and key
//!   changes identically: 256 sequences of up to 31 steps;
//! - `authenticate` reads any `Authorization` value as the plain reading of
//!   SPEC §5.1 does (split on ASCII whitespace, empty parts dropped): a
//!   reference model, 2,048 values.

use std::sync::OnceLock;
use std::time::Duration;

use glue_auth_bearer::{KeySet, TokenError, Validator};
use glue_auth_core::Rejection;
use glue_auth_core::{
    Claims, InvalidReason, ManualClock, NumericDate, Principal, Scopes, UserPrincipal,
    WarehousePrincipal,
};
use glue_auth_jwt::SigningKey;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

/// Two signing keys: the fixture key (`shared/fixtures/foreign-signer`, copied
/// to `tests/data/`) and
/// one generated once per test binary (RSA key generation is slow in test
/// builds).
fn keys() -> &'static [SigningKey; 2] {
    static K: OnceLock<[SigningKey; 2]> = OnceLock::new();
    K.get_or_init(|| {
        let pem = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/test-private.pem"
        ))
        .unwrap();
        [
            SigningKey::from_pem(&pem).unwrap(),
            SigningKey::generate().unwrap(),
        ]
    })
}

/// 2020-01-01 .. 2040-01-01, in µs.
fn instant() -> impl Strategy<Value = NumericDate> {
    (1_577_836_800_000_000i64..2_208_988_800_000_000).prop_map(NumericDate::from_micros)
}

fn principal() -> impl Strategy<Value = Principal> {
    prop_oneof![
        (
            1i64..1_000_000,
            "[0-9a-f-]{1,36}",
            proptest::option::of("[A-Z]{2}--[0-9]{1,4}")
        )
            .prop_map(|(id, uuid, r)| Principal::User(UserPrincipal::new(id, uuid, r))),
        (1i64..1_000_000).prop_map(|id| Principal::Warehouse(WarehousePrincipal::new(id))),
    ]
}

fn scopes() -> impl Strategy<Value = Scopes> {
    proptest::sample::subsequence(
        vec!["user", "back-office-user", "warehouse-user", "warehouse"],
        0..=4,
    )
    .prop_map(Scopes::from_iter)
}

/// Claims as the token endpoint builds them: `iat = nbf`, `exp = iat + ttl`
/// (1 µs to 30 days).
fn claims() -> impl Strategy<Value = Claims> {
    (
        principal(),
        scopes(),
        instant(),
        1u64..30 * 86_400 * 1_000_000,
        "[0-9a-f]{80}",
    )
        .prop_map(|(p, s, iat, ttl, jti)| {
            Claims::builder(p, s)
                .jti(jti)
                .audience("frontend")
                .issued_at(iat, Duration::from_micros(ttl))
                .build()
        })
}

fn validator(keys: &KeySet, clock: &ManualClock, cache: bool) -> Validator {
    let b = Validator::builder(keys.clone()).clock(clock.clone());
    let b = if cache { b } else { b.no_cache() };
    b.build().unwrap()
}

proptest! {
    // One RSA signature per case (aws-lc is unoptimised in test builds):
    // 64 tokens, each checked at seven instants.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn issued_tokens_validate_until_exp_and_never_after(
        claims in claims(),
        inside in 0.0f64..1.0,
        after in 0u64..10 * 365 * 86_400 * 1_000_000,
        cache in any::<bool>(),
    ) {
        let key = &keys()[0];
        let token = key.sign(&claims).unwrap();
        let clock = ManualClock::new(NumericDate::EPOCH);
        let v = validator(&key.key_set(), &clock, cache);
        let iat = claims.issued_at().unwrap();
        let exp = claims.expires_at();
        let us = Duration::from_micros(1);
        let span = exp.as_micros() - iat.as_micros();
        let middle = NumericDate::from_micros(iat.as_micros() + (span as f64 * inside) as i64);

        // Valid from iat (= nbf) up to the last microsecond before exp.
        for t in [iat, middle.min(exp.saturating_sub(us)), exp.saturating_sub(us)] {
            clock.set(t);
            prop_assert_eq!(v.validate(&token), Ok(claims.clone()), "at {} (exp {})", t, exp);
        }
        // Invalid from exp on, however far after (the cache included: it
        // holds the token from the steps above when on).
        for t in [exp, exp.saturating_add(us), exp.saturating_add(Duration::from_micros(after))] {
            clock.set(t);
            prop_assert_eq!(
                v.validate(&token),
                Err(TokenError::Invalid(InvalidReason::Expired)),
                "at {} (exp {})", t, exp
            );
        }
        // And never before nbf.
        clock.set(iat.saturating_sub(us));
        prop_assert_eq!(
            v.validate(&token),
            Err(TokenError::Invalid(InvalidReason::NotYetValid))
        );
    }
}

/// One step of the cache-equivalence sequences.
#[derive(Debug, Clone)]
enum Step {
    /// Validate token number `n` of the pool (modulo its size).
    Validate(usize),
    /// Move the clock by this many µs (negative: back).
    Move(i64),
    /// Put key 0 or key 1 in the key set (a key reload).
    Keys(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => any::<usize>().prop_map(Step::Validate),
        3 => prop_oneof![
            -3_600_000_000i64..3_600_000_000,
            -2i64..=2,
            Just(86_400_000_000i64),
        ]
        .prop_map(Step::Move),
        1 => (0usize..2).prop_map(Step::Keys),
    ]
}

/// The tokens the cache sequences draw from, signed once per test binary:
/// lifetimes from one second to two hours starting every 15 minutes from
/// [`BASE`], one with `nbf` after `iat`, signed by either key; then each of
/// them with its signature corrupted.
fn pool() -> &'static [String] {
    static P: OnceLock<Vec<String>> = OnceLock::new();
    P.get_or_init(|| {
        let ttls = [1u64, 60, 600, 3_600, 7_200, 30, 900, 5];
        let mut tokens: Vec<String> = ttls
            .iter()
            .enumerate()
            .map(|(k, &ttl)| {
                let iat = BASE.saturating_add(Duration::from_secs(900 * k as u64));
                let who = if k % 2 == 0 {
                    Principal::User(UserPrincipal::new(4, "u-4", None::<String>))
                } else {
                    Principal::Warehouse(WarehousePrincipal::new(1))
                };
                let mut b = Claims::builder(who, Scopes::from_iter(["user"]))
                    .jti(format!("{k:080}"))
                    .issued_at(iat, Duration::from_secs(ttl));
                if k == 3 {
                    b = b.not_before(Some(iat.saturating_add(Duration::from_secs(60))));
                }
                keys()[k % 2].sign(&b.build()).unwrap()
            })
            .collect();
        let corrupted: Vec<String> = tokens
            .iter()
            .map(|t| {
                let last = if t.ends_with('A') { 'B' } else { 'A' };
                format!("{}{last}", &t[..t.len() - 1])
            })
            .collect();
        tokens.extend(corrupted);
        tokens
    })
}

/// The pool's first `iat`: 2025-11-24 16:00:00.123456.
const BASE: NumericDate = NumericDate::from_micros(1_764_000_000_123_456);

proptest! {
    #[test]
    fn cache_on_and_off_give_the_same_decisions(
        steps in proptest::collection::vec(step(), 1..32),
        start in -3_600i64..10_800,
    ) {
        let clock = ManualClock::new(NumericDate::from_micros(
            BASE.as_micros() + start * 1_000_000,
        ));
        let tokens = pool();
        let key_set = KeySet::single(keys()[0].public_key());
        let cached = validator(&key_set, &clock, true);
        let uncached = validator(&key_set, &clock, false);
        for step in steps {
            match step {
                Step::Validate(n) => {
                    let token = &tokens[n % tokens.len()];
                    let a = cached.validate(token);
                    let b = uncached.validate(token);
                    prop_assert_eq!(a, b, "at {}", clock_now(&clock));
                }
                Step::Move(us) if us >= 0 => clock.advance(Duration::from_micros(us as u64)),
                Step::Move(us) => {
                    let now = clock_now(&clock);
                    clock.set(now.saturating_sub(Duration::from_micros(us.unsigned_abs())));
                }
                Step::Keys(k) => key_set.replace([keys()[k].public_key()]).unwrap(),
            }
        }
    }
}

fn clock_now(clock: &ManualClock) -> NumericDate {
    glue_auth_core::Clock::now(clock)
}

/// What the reference reading of an `Authorization` value yields.
#[derive(Debug, PartialEq)]
enum Read {
    Missing,
    Invalid(InvalidReason),
    /// The token goes on to `validate`.
    Token(String),
}

/// SPEC §5.1 read plainly: split on ASCII whitespace, drop empty parts;
/// fewer than two parts are "missing", more than two or another scheme than
/// `Bearer` (any case) invalid, then the size limit, then ASCII only.
fn reference(value: &[u8], max_len: usize) -> Read {
    let parts: Vec<&[u8]> = value
        .split(u8::is_ascii_whitespace)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() < 2 {
        return Read::Missing;
    }
    if parts.len() > 2 || !parts[0].eq_ignore_ascii_case(b"bearer") {
        return Read::Invalid(InvalidReason::Scheme);
    }
    if parts[1].len() > max_len {
        return Read::Invalid(InvalidReason::Oversized);
    }
    match std::str::from_utf8(parts[1]) {
        Ok(t) if t.is_ascii() => Read::Token(t.to_owned()),
        _ => Read::Invalid(InvalidReason::NotAscii),
    }
}

/// Pieces of header values: whitespace of every kind a header value can
/// hold, schemes, tokens (a valid one among them), non-ASCII bytes.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b" ".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"  \t ".to_vec()),
        Just(b"Bearer".to_vec()),
        Just(b"bEaReR".to_vec()),
        Just(b"Basic".to_vec()),
        Just(b"x.y.z".to_vec()),
        Just(pool()[0].as_bytes().to_vec()),
        Just(b"\xc3\xa9".to_vec()),
        Just(b"\xff".to_vec()),
        proptest::collection::vec(0x21u8..0x7f, 1..12),
        proptest::collection::vec(prop_oneof![Just(b'\t'), 0x20u8..0x7f, 0x80u8..=0xff], 1..24),
    ];
    proptest::collection::vec(piece, 0..7).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn authorization_values_are_read_as_the_reference_reads_them(
        value in header_value(),
        small in any::<bool>(),
        warm in any::<bool>(),
    ) {
        let Ok(header) = HeaderValue::from_bytes(&value) else {
            return Ok(());
        };
        let clock = ManualClock::new(BASE);
        // The smallest allowed limit half of the time, so that "oversized"
        // is reached too.
        let max_len = if small { 64 } else { glue_auth_bearer::DEFAULT_MAX_TOKEN_LEN };
        let v = Validator::builder(KeySet::single(keys()[0].public_key()))
            .clock(clock.clone())
            .max_token_len(max_len)
            .build()
            .unwrap();
        // Half of the time the valid token is in the cache already, which
        // answers a byte-equal token before the checks: the reading must not
        // change.
        if warm {
            let _ = v.validate(&pool()[0]);
        }
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, header);
        let got = v.authenticate(&headers);
        match reference(&value, max_len) {
            Read::Missing => prop_assert!(
                matches!(got, Err(Rejection::MissingToken { .. })), "{:?}: {:?}", value, got
            ),
            Read::Invalid(reason) => prop_assert!(
                matches!(&got, Err(Rejection::InvalidToken { reason: r }) if *r == reason),
                "{:?}: {:?}, expected {:?}", value, got, reason
            ),
            Read::Token(token) => {
                let expected = v.validate(&token);
                match (&got, &expected) {
                    (Ok(Some(a)), Ok(b)) => prop_assert_eq!(a, b),
                    (Err(Rejection::InvalidToken { reason: a }), Err(TokenError::Invalid(b))) => {
                        prop_assert_eq!(a, b)
                    }
                    (Err(Rejection::UnsupportedSubject), Err(TokenError::UnsupportedSubject)) => {}
                    _ => prop_assert!(false, "{:?}: {:?} vs {:?}", value, got, expected),
                }
            }
        }
    }
}
