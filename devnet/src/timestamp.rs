//! Block and vote timestamps: UTC instants with nanosecond precision, RFC 3339 formatting.

use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC instant as seconds and nanoseconds since the Unix epoch (what CometBFT's
/// `google.protobuf.Timestamp` holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    pub secs: i64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub nanos: u32,
}

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Self {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => Self {
                secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                nanos: d.subsec_nanos(),
            },
            Err(_) => Self::default(),
        }
    }

    /// This instant plus `millis` milliseconds.
    pub fn plus_millis(self, millis: u64) -> Self {
        let total = u64::from(self.nanos) + (millis % 1000) * 1_000_000;
        let secs = self
            .secs
            .saturating_add(i64::try_from(millis / 1000).unwrap_or(i64::MAX))
            .saturating_add(i64::try_from(total / 1_000_000_000).unwrap_or(0));
        Self {
            secs,
            nanos: u32::try_from(total % 1_000_000_000).unwrap_or(0),
        }
    }

    /// This instant plus one nanosecond.
    pub fn plus_one_nano(self) -> Self {
        if self.nanos >= 999_999_999 {
            Self {
                secs: self.secs.saturating_add(1),
                nanos: 0,
            }
        } else {
            Self {
                secs: self.secs,
                nanos: self.nanos + 1,
            }
        }
    }

    /// The instant `nanos` nanoseconds after the epoch (before it when negative; clamped to
    /// the range of [`Timestamp`]).
    pub fn from_unix_nanos(nanos: i128) -> Self {
        let secs = nanos.div_euclid(1_000_000_000);
        Self {
            secs: i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX }),
            nanos: u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0),
        }
    }

    /// Nanoseconds since the epoch (saturating).
    pub fn unix_nanos(self) -> i128 {
        i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// RFC 3339 in UTC with as many fractional digits as needed (CometBFT's format, e.g.
    /// `2023-09-06T14:17:14.918487025Z`).
    pub fn to_rfc3339(self) -> String {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let (hh, mm, ss) = (rem / 3600, (rem % 3600) / 60, rem % 60);
        let mut out = format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}");
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        out.push('Z');
        out
    }
}

/// Proleptic Gregorian date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_cometbft() {
        let t = Timestamp {
            secs: 1_694_009_834,
            nanos: 918_487_025,
        };
        assert_eq!(t.to_rfc3339(), "2023-09-06T14:17:14.918487025Z");
        let t = Timestamp { secs: 0, nanos: 0 };
        assert_eq!(t.to_rfc3339(), "1970-01-01T00:00:00Z");
        let t = Timestamp {
            secs: 951_782_400,
            nanos: 500_000_000,
        };
        assert_eq!(t.to_rfc3339(), "2000-02-29T00:00:00.5Z");
    }

    #[test]
    fn arithmetic_carries() {
        let t = Timestamp {
            secs: 10,
            nanos: 999_999_999,
        };
        assert_eq!(t.plus_one_nano(), Timestamp { secs: 11, nanos: 0 });
        assert_eq!(
            t.plus_millis(1),
            Timestamp {
                secs: 11,
                nanos: 999_999
            }
        );
        assert_eq!(t.plus_millis(2500).secs, 13);
        assert_eq!(Timestamp::from_unix_nanos(t.unix_nanos()), t);
        assert_eq!(
            Timestamp::from_unix_nanos(-1),
            Timestamp {
                secs: -1,
                nanos: 999_999_999
            }
        );
    }
}
