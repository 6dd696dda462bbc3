//! Numeric dates with microsecond precision and the injectable clock.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

const MICROS_PER_SEC: i64 = 1_000_000;

/// A JWT numeric date (seconds since the Unix epoch) kept to the microsecond.
///
/// Spryker writes `iat`, `nbf` and `exp` as JSON numbers with a fractional part
/// (`1699347834.4615901`); other issuers write integers. Both parse, and no
/// rounding to whole seconds ever happens, so `exp = 1699376634.44` is expired at
/// `1699376634.5`. Serialization prints the shortest form that reads back to the
/// same value (`1699347834.46159`), or an integer when the microseconds are zero,
/// exactly as Spryker's JWT library does.
///
/// ```
/// use glue_auth_core::NumericDate;
///
/// let exp: NumericDate = serde_json::from_str("1699376634.44").unwrap();
/// let now: NumericDate = serde_json::from_str("1699376634.5").unwrap();
/// assert!(now > exp);
/// assert_eq!(serde_json::to_string(&exp).unwrap(), "1699376634.44");
/// assert_eq!(serde_json::to_string(&NumericDate::from_secs(1700000000)).unwrap(), "1700000000");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NumericDate(i64);

impl NumericDate {
    /// The Unix epoch.
    pub const EPOCH: NumericDate = NumericDate(0);

    /// A date from whole seconds since the epoch.
    pub const fn from_secs(secs: i64) -> Self {
        NumericDate(secs.saturating_mul(MICROS_PER_SEC))
    }

    /// A date from microseconds since the epoch.
    pub const fn from_micros(micros: i64) -> Self {
        NumericDate(micros)
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch (rounded towards negative infinity).
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(MICROS_PER_SEC)
    }

    /// The date as the JSON number Spryker writes: a float with microseconds.
    pub fn as_f64(self) -> f64 {
        // Both operands are exact in f64 (|micros| < 2^53 for any date before
        // year 287396), and IEEE division is correctly rounded: the result is the
        // double nearest to the exact decimal value.
        self.0 as f64 / MICROS_PER_SEC as f64
    }

    /// A date from a JSON number in seconds, rounded to the nearest microsecond.
    ///
    /// Returns `None` for NaN, infinities and values outside ±2^53 µs.
    pub fn from_f64(secs: f64) -> Option<Self> {
        if !secs.is_finite() {
            return None;
        }
        let micros = (secs * MICROS_PER_SEC as f64).round();
        // Beyond 2^53 microseconds (year 287396) f64 no longer holds every
        // microsecond; such dates are nonsense in a token.
        const LIMIT: f64 = 9_007_199_254_740_992.0;
        if micros.abs() > LIMIT {
            return None;
        }
        Some(NumericDate(micros as i64))
    }

    /// The current time from the system clock.
    pub fn now() -> Self {
        SystemClock.now()
    }

    /// This date plus a duration (saturating).
    pub fn saturating_add(self, d: Duration) -> Self {
        let micros = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        NumericDate(self.0.saturating_add(micros))
    }

    /// This date minus a duration (saturating).
    pub fn saturating_sub(self, d: Duration) -> Self {
        let micros = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        NumericDate(self.0.saturating_sub(micros))
    }

    /// The time from `earlier` to `self`, or zero when `earlier` is later.
    pub fn duration_since(self, earlier: NumericDate) -> Duration {
        let diff = self.0.saturating_sub(earlier.0);
        if diff <= 0 {
            Duration::ZERO
        } else {
            Duration::from_micros(diff as u64)
        }
    }
}

impl fmt::Debug for NumericDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for NumericDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Sign and magnitude: -1.5 s is "-1.5", not the Euclidean "-2.5"
        // (found by the `subject` fuzz target).
        let sign = if self.0 < 0 { "-" } else { "" };
        let magnitude = self.0.unsigned_abs();
        let secs = magnitude / MICROS_PER_SEC as u64;
        let micros = magnitude % MICROS_PER_SEC as u64;
        if micros == 0 {
            write!(f, "{sign}{secs}")
        } else {
            let frac = format!("{micros:06}");
            write!(f, "{sign}{secs}.{}", frac.trim_end_matches('0'))
        }
    }
}

impl Serialize for NumericDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 % MICROS_PER_SEC == 0 {
            serializer.serialize_i64(self.0 / MICROS_PER_SEC)
        } else {
            // serde_json prints f64 in the shortest form that round-trips (ryu),
            // like PHP >= 7.1 with serialize_precision = -1.
            serializer.serialize_f64(self.as_f64())
        }
    }
}

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON number of seconds since the Unix epoch")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumericDate, E> {
                let secs = i64::try_from(v).map_err(|_| E::custom("date out of range"))?;
                self.visit_i64(secs)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumericDate, E> {
                v.checked_mul(MICROS_PER_SEC)
                    .map(NumericDate)
                    .ok_or_else(|| E::custom("date out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumericDate, E> {
                NumericDate::from_f64(v).ok_or_else(|| E::custom("date out of range"))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Where the layers read the current time from.
///
/// Production uses [`SystemClock`]; tests inject a [`ManualClock`] so expiry can
/// be tested without sleeping.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> NumericDate;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NumericDate {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        NumericDate(i64::try_from(since.as_micros()).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to; clones share the same time.
///
/// ```
/// use glue_auth_core::{Clock, ManualClock, NumericDate};
/// use std::time::Duration;
///
/// let clock = ManualClock::new(NumericDate::from_secs(1_700_000_000));
/// let shared = clock.clone();
/// clock.advance(Duration::from_micros(1));
/// assert_eq!(shared.now().as_micros(), 1_700_000_000_000_001);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn new(at: NumericDate) -> Self {
        ManualClock(Arc::new(AtomicI64::new(at.as_micros())))
    }

    /// Sets the time.
    pub fn set(&self, at: NumericDate) {
        self.0.store(at.as_micros(), Ordering::SeqCst);
    }

    /// Moves the time forward.
    pub fn advance(&self, by: Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        self.0.fetch_add(micros, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> NumericDate {
        NumericDate(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> NumericDate {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn spryker_sample_dates_parse_to_the_microsecond() {
        assert_eq!(
            parse("1699347834.4615901").as_micros(),
            1_699_347_834_461_590
        );
        assert_eq!(
            parse("1699376634.4426761").as_micros(),
            1_699_376_634_442_676
        );
        assert_eq!(
            parse("1700641066.735831").as_micros(),
            1_700_641_066_735_831
        );
        assert_eq!(parse("1764000000").as_micros(), 1_764_000_000_000_000);
    }

    #[test]
    fn float_expiry_is_not_rounded() {
        assert!(parse("1699376634.44") < parse("1699376634.5"));
        assert!(parse("1699376634.000001") > parse("1699376634"));
    }

    #[test]
    fn serializes_shortest_round_trip_form() {
        let d = parse("1699347834.4615901");
        assert_eq!(serde_json::to_string(&d).unwrap(), "1699347834.46159");
        assert_eq!(
            serde_json::to_string(&NumericDate::from_micros(1_764_000_000_123_456)).unwrap(),
            "1764000000.123456"
        );
        assert_eq!(
            serde_json::to_string(&NumericDate::from_micros(1_764_000_000_000_010)).unwrap(),
            "1764000000.00001"
        );
        assert_eq!(
            serde_json::to_string(&NumericDate::from_secs(1_764_000_000)).unwrap(),
            "1764000000"
        );
    }

    #[test]
    fn every_microsecond_of_a_day_round_trips() {
        // Bounded sweep over one second at a 7-µs stride plus edges.
        let base = 1_764_000_000_000_000i64;
        for micros in (0..1_000_000).step_by(7).chain([1, 999_999]) {
            let d = NumericDate::from_micros(base + micros);
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(parse(&json), d, "{json}");
        }
    }

    #[test]
    fn rejects_non_finite_and_absurd_dates() {
        assert!(serde_json::from_str::<NumericDate>("1e300").is_err());
        assert!(serde_json::from_str::<NumericDate>("\"1700000000\"").is_err());
        assert!(serde_json::from_str::<NumericDate>("18446744073709551615").is_err());
        assert!(NumericDate::from_f64(f64::NAN).is_none());
    }

    #[test]
    fn display_matches_json() {
        assert_eq!(parse("1699347834.4615901").to_string(), "1699347834.46159");
        assert_eq!(NumericDate::from_secs(5).to_string(), "5");
    }
}
