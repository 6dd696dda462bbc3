//! Calendar dates of Unix times (UTC, proleptic Gregorian) for the dates the
//! gateway writes itself: the log's time stamps, the admin commands' RFC 3339
//! dates, the demo's Spryker dates.

/// A Unix time's UTC date and time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: u8,
    pub(crate) day: u8,
    pub(crate) hour: u8,
    pub(crate) minute: u8,
    pub(crate) second: u8,
}

impl Civil {
    /// The date and time `secs` seconds after 1970-01-01T00:00:00Z (before
    /// it when negative), by Howard Hinnant's `civil_from_days`.
    pub(crate) fn from_unix(secs: i64) -> Civil {
        let (days, in_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        // Each of these is below 60 (the day below 32, the month below 13):
        // the casts cannot truncate.
        let small = |v: i64| v as u8;
        Civil {
            year: yoe + era * 400 + i64::from(month <= 2),
            month: small(month),
            day: small(day),
            hour: small(in_day / 3600),
            minute: small(in_day / 60 % 60),
            second: small(in_day % 60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The inverse (Howard Hinnant's `days_from_civil`), written
    /// independently for the test.
    fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    fn month_days(y: i64, m: u8) -> u8 {
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        match m {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Every second of ±100,000 years reads back as itself, as a valid
        /// date.
        #[test]
        fn dates_read_back_as_their_second(secs in -3_200_000_000_000i64..3_200_000_000_000) {
            let c = Civil::from_unix(secs);
            prop_assert!((1..=12).contains(&c.month));
            prop_assert!(c.day >= 1 && c.day <= month_days(c.year, c.month));
            prop_assert!(c.hour < 24 && c.minute < 60 && c.second < 60);
            let back = days_from_civil(c.year, c.month.into(), c.day.into()) * 86_400
                + i64::from(c.hour) * 3600
                + i64::from(c.minute) * 60
                + i64::from(c.second);
            prop_assert_eq!(back, secs);
        }
    }

    #[test]
    fn known_dates() {
        let c = |year, month, day, hour, minute, second| Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
        };
        for (secs, want) in [
            (0, c(1970, 1, 1, 0, 0, 0)),
            (-1, c(1969, 12, 31, 23, 59, 59)),
            (951_782_400, c(2000, 2, 29, 0, 0, 0)),
            (1_796_391_224, c(2026, 12, 4, 13, 33, 44)),
            (4_107_542_400, c(2100, 3, 1, 0, 0, 0)),
            (253_402_300_799, c(9999, 12, 31, 23, 59, 59)),
            (-62_135_596_800, c(1, 1, 1, 0, 0, 0)),
        ] {
            assert_eq!(Civil::from_unix(secs), want, "{secs}");
        }
    }
}
