//! `Principal::from_subject` and `Claims::parse_unverified_payload` on
//! arbitrary text.
//!
//! Checks: no panic; whatever parses, serializes back (`to_subject`,
//! `to_payload_json`) to text that parses to the same value; a date's
//! `Display` (logs, `Debug`) reads back as the same date.
//!
//! "The same date": exactly, to the microsecond, for dates within ±2^32 s
//! of the epoch (until 2106). Beyond, a JSON number (an f64 of seconds, in
//! PHP as here) no longer holds every microsecond, and a round trip may move
//! a fractional date by 1 µs (docs/security.md, fuzzing findings).
#![no_main]

use glue_auth_core::{Claims, NumericDate, Principal};
use libfuzzer_sys::fuzz_target;

/// Seconds from the epoch within which f64 seconds hold every microsecond.
const EXACT_SECS: i64 = 1 << 32;

fn same_date(a: NumericDate, b: NumericDate) -> bool {
    if a.as_secs().abs() < EXACT_SECS {
        a == b
    } else {
        a.as_micros().abs_diff(b.as_micros()) <= 1
    }
}

fn dates(c: &Claims) -> [Option<NumericDate>; 3] {
    [Some(c.expires_at()), c.issued_at(), c.not_before()]
}

fn same_claims(a: &Claims, b: &Claims) -> bool {
    a.principal() == b.principal()
        && a.scopes() == b.scopes()
        && a.jti() == b.jti()
        && a.audience().eq(b.audience())
        && dates(a).into_iter().zip(dates(b)).all(|pair| match pair {
            (Some(x), Some(y)) => same_date(x, y),
            (None, None) => true,
            _ => false,
        })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = Principal::from_subject(text) {
        let again = p.to_subject();
        assert_eq!(Principal::from_subject(&again), Ok(p), "{again}");
    }
    if let Ok(c) = Claims::parse_unverified_payload(text) {
        let again = c.to_payload_json();
        let reparsed = Claims::parse_unverified_payload(&again).expect("our own payload parses");
        assert!(same_claims(&reparsed, &c), "{c:?} became {reparsed:?} through {again}");
        for date in dates(&c).into_iter().flatten() {
            let shown = date.to_string();
            let read = serde_json::from_str::<NumericDate>(&shown);
            assert!(
                read.as_ref().is_ok_and(|d| same_date(*d, date)),
                "{} displays as {shown}, which reads as {read:?}",
                date.as_micros()
            );
        }
    }
});
