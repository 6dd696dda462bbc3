//! Inputs the fuzz targets in `fuzz/` found, kept as ordinary tests (the
//! crash files are also seeds in `fuzz/seeds/<target>/`).

use glue_auth_core::{Claims, NumericDate};

/// `subject`, crash-5aba840c1e11c0497c5af733a6e83c80b5ce9169: a negative
/// fractional date displayed Euclidean-style (-17.000002 s as
/// `-18.999998`), so `Display` and `Debug` (logs) did not read back as the
/// date; `Display` now prints sign and magnitude.
#[test]
fn negative_fractional_dates_display_as_they_read() {
    let c = Claims::parse_unverified_payload(r#"{"exp":-17.0000015,"sub":"{\"id_warehouse\":1}"}"#)
        .unwrap();
    let exp = c.expires_at();
    assert_eq!(exp.as_micros(), -17_000_002);
    assert_eq!(exp.to_string(), "-17.000002");
    assert_eq!(format!("{exp:?}"), "-17.000002");
    for micros in [
        -1,
        -999_999,
        -1_000_000,
        -1_000_001,
        -1_500_000,
        1_500_000,
        0,
        i64::MIN,
    ] {
        let d = NumericDate::from_micros(micros);
        let shown = d.to_string();
        if micros == i64::MIN {
            assert_eq!(shown, "-9223372036854.775808");
            continue;
        }
        assert_eq!(
            serde_json::from_str::<NumericDate>(&shown).unwrap(),
            d,
            "{shown}"
        );
    }
    assert_eq!(NumericDate::from_micros(-500_000).to_string(), "-0.5");
    assert_eq!(NumericDate::from_micros(-2_000_000).to_string(), "-2");
}

/// The limit the `subject` target allows for (its `EXACT_SECS`): a JSON
/// date is an f64 of seconds, which holds every microsecond only within
/// ±2^32 s of the epoch (until 2106). Inside, a payload's dates survive
/// `to_payload_json` and a new parse exactly; beyond, a fractional date
/// may move by 1 µs per round trip (as in PHP, whose floats are the same
/// doubles). Harmless for tokens (8-hour and 7-day lifetimes), pinned here.
#[test]
fn fractional_dates_round_trip_exactly_until_2106_and_within_a_microsecond_after() {
    let round_trip = |micros: i64| -> i64 {
        let json = serde_json::to_string(&NumericDate::from_micros(micros)).unwrap();
        serde_json::from_str::<NumericDate>(&json)
            .unwrap()
            .as_micros()
    };
    let limit = (1i64 << 32) * 1_000_000;
    // A deterministic sweep below the limit, edges included.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let micros = (x % limit as u64) as i64;
        assert_eq!(round_trip(micros), micros);
        assert_eq!(round_trip(-micros), -micros);
    }
    for micros in [limit - 1, 1, 4_102_444_800_654_321] {
        assert_eq!(round_trip(micros), micros);
    }
    // Beyond: 4384547968.996265 (2108) reads back as …266.
    assert_eq!(round_trip(4_384_547_968_996_265), 4_384_547_968_996_266);
}
