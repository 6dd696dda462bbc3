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
