//! `Time`: a UTC instant with nanosecond precision, printed as CometBFT prints it (RFC 3339).

use core::fmt;
use core::str::FromStr;
use core::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Seconds from the Unix epoch to 0001-01-01T00:00:00Z (the smallest protobuf `Timestamp`).
const MIN_SECONDS: i64 = -62_135_596_800;
/// Seconds from the Unix epoch to 9999-12-31T23:59:59Z (the largest protobuf `Timestamp`).
const MAX_SECONDS: i64 = 253_402_300_799;

/// Why a time could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The text is not an RFC 3339 date-time.
    #[error("not an RFC 3339 date-time ({reason}): {text:?}")]
    Syntax {
        /// The text that was parsed.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The instant lies outside 0001-01-01 .. 9999-12-31 (the protobuf `Timestamp` range).
    #[error("time out of range: {seconds} s, {nanos} ns from the Unix epoch")]
    OutOfRange {
        /// Seconds from the Unix epoch.
        seconds: i64,
        /// Nanoseconds within the second.
        nanos: u32,
    },
}

/// A UTC instant: seconds from the Unix epoch plus nanoseconds (`0..1_000_000_000`), in the
/// range of a protobuf `Timestamp` (years 1 to 9999).
///
/// Serialises as RFC 3339 with as many fractional digits as needed and a `Z` suffix, like Go's
/// `time.RFC3339Nano` (`2023-09-06T14:17:14.918487025Z`, `1970-01-01T00:00:01Z`). Parses any
/// RFC 3339 offset and normalises it to UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time {
    seconds: i64,
    nanos: u32,
}

impl Time {
    /// The Unix epoch, 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: Time = Time {
        seconds: 0,
        nanos: 0,
    };

    /// Go's zero `time.Time`, 0001-01-01T00:00:00Z: the timestamp CometBFT gives absent votes
    /// (JSON `"0001-01-01T00:00:00Z"`), and the smallest representable time.
    pub const ZERO: Time = Time {
        seconds: MIN_SECONDS,
        nanos: 0,
    };

    /// Whether this is Go's zero time ([`Time::ZERO`]), as Go's `Time.IsZero` decides.
    pub fn is_zero(self) -> bool {
        self == Time::ZERO
    }

    /// Builds a time from seconds and nanoseconds since the Unix epoch.
    pub fn from_unix(seconds: i64, nanos: u32) -> Result<Time, TimeError> {
        if nanos >= 1_000_000_000 || !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
            return Err(TimeError::OutOfRange { seconds, nanos });
        }
        Ok(Time { seconds, nanos })
    }

    /// Seconds since the Unix epoch (negative before 1970).
    pub fn unix_seconds(self) -> i64 {
        self.seconds
    }

    /// Nanoseconds within the second.
    pub fn subsec_nanos(self) -> u32 {
        self.nanos
    }

    /// Nanoseconds since the Unix epoch, as an `i128` (never overflows).
    pub fn unix_nanos(self) -> i128 {
        i128::from(self.seconds) * 1_000_000_000 + i128::from(self.nanos)
    }

    fn from_unix_nanos(total: i128) -> Option<Time> {
        let seconds = i64::try_from(total.div_euclid(1_000_000_000)).ok()?;
        let nanos = u32::try_from(total.rem_euclid(1_000_000_000)).ok()?;
        Time::from_unix(seconds, nanos).ok()
    }

    /// `self + duration`, or `None` past year 9999.
    pub fn checked_add(self, duration: Duration) -> Option<Time> {
        Time::from_unix_nanos(
            self.unix_nanos()
                .checked_add(i128::try_from(duration.as_nanos()).ok()?)?,
        )
    }

    /// `self - duration`, or `None` before year 1.
    pub fn checked_sub(self, duration: Duration) -> Option<Time> {
        Time::from_unix_nanos(
            self.unix_nanos()
                .checked_sub(i128::try_from(duration.as_nanos()).ok()?)?,
        )
    }

    /// The duration from `earlier` to `self`, or `None` if `earlier` is later.
    pub fn duration_since(self, earlier: Time) -> Option<Duration> {
        let diff = self.unix_nanos() - earlier.unix_nanos();
        let diff = u128::try_from(diff).ok()?;
        let secs = u64::try_from(diff / 1_000_000_000).ok()?;
        let nanos = u32::try_from(diff % 1_000_000_000).ok()?;
        Some(Duration::new(secs, nanos))
    }

    /// Parses an RFC 3339 date-time (`2023-09-06T14:17:14.918487025Z`, offsets allowed).
    pub fn parse_rfc3339(text: &str) -> Result<Time, TimeError> {
        let fail = |reason| TimeError::Syntax {
            text: text.to_owned(),
            reason,
        };
        let b = text.as_bytes();
        if b.len() < 20 {
            return Err(fail("too short"));
        }
        let num = |range: core::ops::Range<usize>| -> Result<i64, TimeError> {
            let part = b.get(range).ok_or_else(|| fail("truncated"))?;
            let mut value = 0i64;
            for &c in part {
                if !c.is_ascii_digit() {
                    return Err(fail("expected a digit"));
                }
                value = value * 10 + i64::from(c - b'0');
            }
            Ok(value)
        };
        let year = num(0..4)?;
        let month = num(5..7)?;
        let day = num(8..10)?;
        let hour = num(11..13)?;
        let minute = num(14..16)?;
        let second = num(17..19)?;
        if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
            return Err(fail("bad separator"));
        }
        if !matches!(b[10], b'T' | b't' | b' ') {
            return Err(fail("expected 'T' between date and time"));
        }
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(fail("no such date"));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(fail("no such time of day"));
        }
        let mut pos = 19;
        let mut nanos = 0u32;
        if b.get(pos) == Some(&b'.') {
            pos += 1;
            let start = pos;
            while pos < b.len() && b[pos].is_ascii_digit() {
                if pos - start >= 9 {
                    return Err(fail("more than 9 fractional digits"));
                }
                nanos = nanos * 10 + u32::from(b[pos] - b'0');
                pos += 1;
            }
            let digits = pos - start;
            if digits == 0 {
                return Err(fail("empty fraction"));
            }
            for _ in digits..9 {
                nanos *= 10;
            }
        }
        let offset_seconds = match &b[pos..] {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let digit = |c: u8| -> Result<i64, TimeError> {
                    if c.is_ascii_digit() {
                        Ok(i64::from(c - b'0'))
                    } else {
                        Err(fail("bad offset"))
                    }
                };
                let hours = digit(*h1)? * 10 + digit(*h2)?;
                let minutes = digit(*m1)? * 10 + digit(*m2)?;
                if hours > 23 || minutes > 59 {
                    return Err(fail("bad offset"));
                }
                let offset = hours * 3600 + minutes * 60;
                if *sign == b'-' {
                    -offset
                } else {
                    offset
                }
            }
            _ => return Err(fail("expected 'Z' or an offset like +01:00")),
        };
        let days = days_from_civil(year, month, day);
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
        Time::from_unix(seconds, nanos)
    }

    /// Formats as RFC 3339 in UTC with trailing fractional zeros removed (Go's `RFC3339Nano`).
    pub fn to_rfc3339(self) -> String {
        let days = self.seconds.div_euclid(86_400);
        let secs_of_day = self.seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let mut out = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            year,
            month,
            day,
            secs_of_day / 3600,
            (secs_of_day / 60) % 60,
            secs_of_day % 60
        );
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        out.push('Z');
        out
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Time({})", self.to_rfc3339())
    }
}

impl FromStr for Time {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Time, TimeError> {
        Time::parse_rfc3339(s)
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Time, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Time::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go_rfc3339nano() {
        let t = Time::parse_rfc3339("2023-09-06T14:17:14.918487025Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2023-09-06T14:17:14.918487025Z");
        assert_eq!(t.unix_seconds(), 1_694_009_834);
        let t = Time::parse_rfc3339("1970-01-01T00:00:01.500Z").unwrap();
        assert_eq!(t.to_rfc3339(), "1970-01-01T00:00:01.5Z");
        let zero = Time::parse_rfc3339("0001-01-01T00:00:00Z").unwrap();
        assert_eq!(zero.unix_seconds(), MIN_SECONDS);
        assert!(zero.is_zero());
        assert_eq!(Time::ZERO.to_rfc3339(), "0001-01-01T00:00:00Z");
        // The same instant written with an offset is still Go's zero time.
        assert!(Time::parse_rfc3339("0001-01-01T01:00:00+01:00")
            .unwrap()
            .is_zero());
        assert!(!Time::UNIX_EPOCH.is_zero());
    }

    #[test]
    fn normalises_offsets() {
        let a = Time::parse_rfc3339("2020-02-29T01:30:00+02:00").unwrap();
        assert_eq!(a.to_rfc3339(), "2020-02-28T23:30:00Z");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "2023-02-29T00:00:00Z",
            "2023-01-01T24:00:00Z",
            "2023-01-01T00:00:00",
            "2023-01-01T00:00:00.Z",
            "2023-01-01T00:00:00.1234567890Z",
            "2023-01-01X00:00:00Z",
            "2023-01-01T00:00:00+0100",
            "२०२३-01-01T00:00:00Z",
        ] {
            assert!(Time::parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arithmetic_is_checked() {
        let t = Time::parse_rfc3339("9999-12-31T23:59:59Z").unwrap();
        assert!(t.checked_add(Duration::from_secs(1)).is_none());
        let e = Time::UNIX_EPOCH;
        assert_eq!(t.duration_since(e).unwrap().as_secs(), MAX_SECONDS as u64);
        assert!(e.duration_since(t).is_none());
    }
}
