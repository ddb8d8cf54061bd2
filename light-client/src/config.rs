//! The wallet's root of trust for one chain ([`ChainConfig`]), the trust level and durations.

use core::fmt;
use core::str::FromStr;
use core::time::Duration;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::types::{ChainId, Hash, Height, MAX_CHAIN_ID_LEN};

/// Why a configuration value is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The JSON does not have the config's shape.
    #[error("{path}: {reason}")]
    Json {
        /// Where in the document (`checkpoint.hash`).
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A trust level that is not a fraction `n/d` with `1/3 <= n/d <= 1`.
    #[error("invalid trust level {text:?}: {reason}")]
    TrustLevel {
        /// The text given.
        text: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A duration that cannot be read.
    #[error("invalid duration {text:?}: {reason}")]
    Duration {
        /// The text given.
        text: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A field with a value outside its allowed range.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The fraction of the trusted validator set's voting power that must have signed a header
/// for skipping verification (CometBFT's `trustLevel`). Between 1/3 and 1 inclusive; the
/// default is 1/3. JSON and text: `"1/3"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TrustLevel {
    numerator: u64,
    denominator: u64,
}

impl TrustLevel {
    /// 1/3, the CometBFT default.
    pub const ONE_THIRD: TrustLevel = TrustLevel {
        numerator: 1,
        denominator: 3,
    };
    /// 2/3 (the share of the untrusted set that must sign, as a strict `>`).
    pub const TWO_THIRDS: TrustLevel = TrustLevel {
        numerator: 2,
        denominator: 3,
    };

    /// `numerator / denominator`, which must lie in `[1/3, 1]`.
    pub fn new(numerator: u64, denominator: u64) -> Result<TrustLevel, ConfigError> {
        let fail = |reason| ConfigError::TrustLevel {
            text: format!("{numerator}/{denominator}"),
            reason,
        };
        if denominator == 0 {
            return Err(fail("zero denominator"));
        }
        if numerator > denominator {
            return Err(fail("above 1"));
        }
        if u128::from(numerator) * 3 < u128::from(denominator) {
            return Err(fail("below 1/3"));
        }
        Ok(TrustLevel {
            numerator,
            denominator,
        })
    }

    /// The numerator.
    pub fn numerator(self) -> u64 {
        self.numerator
    }

    /// The denominator.
    pub fn denominator(self) -> u64 {
        self.denominator
    }

    /// The voting power that must be exceeded: `total * n / d` (rounded down), as CometBFT
    /// computes it (`tallied > needed` passes).
    pub fn power_needed(self, total: u64) -> u64 {
        let needed = u128::from(total) * u128::from(self.numerator) / u128::from(self.denominator);
        u64::try_from(needed).unwrap_or(u64::MAX)
    }
}

impl Default for TrustLevel {
    fn default() -> Self {
        TrustLevel::ONE_THIRD
    }
}

impl fmt::Display for TrustLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

impl FromStr for TrustLevel {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<TrustLevel, ConfigError> {
        let fail = |reason| ConfigError::TrustLevel {
            text: s.to_owned(),
            reason,
        };
        let (n, d) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| fail("expected N/D"))?;
        let parse = |t: &str| {
            if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit()) {
                return Err(fail("expected N/D with decimal integers"));
            }
            t.parse::<u64>().map_err(|_| fail("number too large"))
        };
        TrustLevel::new(parse(n)?, parse(d)?)
    }
}

impl Serialize for TrustLevel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TrustLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(de::Error::custom)
    }
}

/// Parses a duration: one or more `<integer><unit>` groups with units `d`, `h`, `m`, `s`,
/// `ms`, `us`, `ns` (`"21d"`, `"1h30m"`, `"1814400s"`, `"10s"`), or a bare integer meaning
/// seconds.
pub fn parse_duration(text: &str) -> Result<Duration, ConfigError> {
    let fail = |reason| ConfigError::Duration {
        text: text.to_owned(),
        reason,
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(fail("empty"));
    }
    if t.bytes().all(|c| c.is_ascii_digit()) {
        return t
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| fail("too large"));
    }
    let mut total: u128 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(fail("expected a number before each unit"));
        }
        let value: u128 = rest[..digits].parse().map_err(|_| fail("too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let nanos_per: u128 = match &rest[..unit_len] {
            "d" => 86_400_000_000_000,
            "h" => 3_600_000_000_000,
            "m" => 60_000_000_000,
            "s" => 1_000_000_000,
            "ms" => 1_000_000,
            "us" => 1_000,
            "ns" => 1,
            "" => return Err(fail("missing unit (d, h, m, s, ms, us, ns)")),
            _ => return Err(fail("unknown unit (use d, h, m, s, ms, us, ns)")),
        };
        rest = &rest[unit_len..];
        total = value
            .checked_mul(nanos_per)
            .and_then(|n| total.checked_add(n))
            .ok_or_else(|| fail("too large"))?;
    }
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| fail("too large"))?;
    Ok(Duration::new(secs, (total % 1_000_000_000) as u32))
}

/// Formats a duration as `"<seconds>s"` (with a fraction when needed), the form
/// [`ChainConfig`] writes.
pub fn format_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        let frac = format!("{:09}", d.subsec_nanos());
        format!("{}.{}s", d.as_secs(), frac.trim_end_matches('0'))
    }
}

/// Serde for durations in the config: written as `"<secs>s"`; read from a string accepted by
/// [`parse_duration`] (a fractional `"1.5s"` too) or from an integer number of seconds.
pub mod duration_serde {
    use super::*;

    /// Writes `"<secs>s"`.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(*d))
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }

    /// Reads a string or an integer number of seconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        match Raw::deserialize(d)? {
            Raw::Secs(s) => Ok(Duration::from_secs(s)),
            Raw::Text(t) => parse_fractional_seconds(&t)
                .map_or_else(|| parse_duration(&t), Ok)
                .map_err(de::Error::custom),
        }
    }

    fn parse_fractional_seconds(t: &str) -> Option<Duration> {
        let body = t.strip_suffix('s')?;
        let (int, frac) = body.split_once('.')?;
        if int.is_empty()
            || frac.is_empty()
            || frac.len() > 9
            || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit())
        {
            return None;
        }
        let secs = int.parse().ok()?;
        let nanos: u32 = format!("{frac:0<9}").parse().ok()?;
        Some(Duration::new(secs, nanos))
    }
}

/// The trusted checkpoint: a header hash at a height, obtained out of band.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Height of the trusted header.
    pub height: Height,
    /// Hash of the trusted header (upper-case hex).
    pub hash: Hash,
}

/// Default trusting period: 21 days (two thirds of a three-week unbonding period is common;
/// chains set their own).
pub const DEFAULT_TRUSTING_PERIOD: Duration = Duration::from_secs(21 * 24 * 3600);
/// Default maximum clock drift: 10 seconds.
pub const DEFAULT_MAX_CLOCK_DRIFT: Duration = Duration::from_secs(10);

/// The wallet's root of trust and node list for one chain. JSON:
///
/// ```json
/// {
///   "chain_id": "tradeseal-devnet",
///   "checkpoint": { "height": "1", "hash": "A1B2...64 hex" },
///   "trusting_period": "1814400s",
///   "trust_level": "1/3",
///   "max_clock_drift": "10s",
///   "primary": "http://127.0.0.1:26657",
///   "witnesses": ["http://127.0.0.1:26757"]
/// }
/// ```
///
/// Durations are written as `"<seconds>s"`; when read, an integer number of seconds or a
/// duration text (`"21d"`, `"1h30m"`, `"10s"`) is accepted. `trust_level` and
/// `max_clock_drift` may be left out (defaults 1/3 and 10 s). Use [`ChainConfig::from_json`],
/// which also runs [`ChainConfig::validate`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// The chain id every header must carry.
    pub chain_id: ChainId,
    /// The trusted header to start from.
    pub checkpoint: Checkpoint,
    /// How long a verified header stays trusted (must be below the unbonding period).
    #[serde(with = "duration_serde")]
    pub trusting_period: Duration,
    /// Trust level for skipping verification, in `[1/3, 1]`.
    #[serde(default)]
    pub trust_level: TrustLevel,
    /// How far in the future a header time may be, to allow for clock differences.
    #[serde(with = "duration_serde", default = "default_drift")]
    pub max_clock_drift: Duration,
    /// The primary full node's JSON-RPC URL.
    pub primary: String,
    /// Witness full nodes' JSON-RPC URLs, cross-checked against the primary.
    #[serde(default)]
    pub witnesses: Vec<String>,
}

fn default_drift() -> Duration {
    DEFAULT_MAX_CLOCK_DRIFT
}

fn check_url(field: &'static str, url: &str) -> Result<(), ConfigError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| ConfigError::Invalid {
            field,
            reason: format!("{url:?} is not an http:// or https:// URL"),
        })?;
    if rest.is_empty() || rest.starts_with('/') || rest.chars().any(char::is_whitespace) {
        return Err(ConfigError::Invalid {
            field,
            reason: format!("{url:?} has no host or contains spaces"),
        });
    }
    Ok(())
}

impl ChainConfig {
    /// Parses and validates a config file's JSON.
    pub fn from_json(json: &str) -> Result<ChainConfig, ConfigError> {
        let de = &mut serde_json::Deserializer::from_str(json);
        let config: ChainConfig =
            serde_path_to_error::deserialize(de).map_err(|e| ConfigError::Json {
                path: e.path().to_string(),
                reason: e.inner().to_string(),
            })?;
        config.validate()?;
        Ok(config)
    }

    /// The config as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks every field's range: chain id 1 to 50 characters, checkpoint height above zero,
    /// trusting period above zero, http(s) URLs, witnesses distinct and not the primary.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let id = self.chain_id.as_str();
        if id.is_empty() || id.len() > MAX_CHAIN_ID_LEN {
            return Err(ConfigError::Invalid {
                field: "chain_id",
                reason: format!("must be 1 to {MAX_CHAIN_ID_LEN} bytes"),
            });
        }
        if self.checkpoint.height.value() == 0 || self.checkpoint.height.value() > i64::MAX as u64 {
            return Err(ConfigError::Invalid {
                field: "checkpoint.height",
                reason: "must be a positive int64".into(),
            });
        }
        if self.trusting_period.is_zero() {
            return Err(ConfigError::Invalid {
                field: "trusting_period",
                reason: "must be above zero".into(),
            });
        }
        // Re-check in case the value was built in code rather than parsed.
        TrustLevel::new(self.trust_level.numerator, self.trust_level.denominator)?;
        check_url("primary", &self.primary)?;
        for (i, w) in self.witnesses.iter().enumerate() {
            check_url("witnesses", w)?;
            if *w == self.primary || self.witnesses[..i].contains(w) {
                return Err(ConfigError::Invalid {
                    field: "witnesses",
                    reason: format!("{w:?} is listed twice (or is the primary)"),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{
        "chain_id": "tradeseal-devnet",
        "checkpoint": {"height": "5", "hash": "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"},
        "trusting_period": "1814400s",
        "trust_level": "1/3",
        "max_clock_drift": 10,
        "primary": "http://127.0.0.1:26657",
        "witnesses": ["http://127.0.0.1:26757"]
    }"#;

    #[test]
    fn parses_validates_and_round_trips() {
        let c = ChainConfig::from_json(EXAMPLE).unwrap();
        assert_eq!(c.trusting_period, DEFAULT_TRUSTING_PERIOD);
        assert_eq!(c.max_clock_drift, Duration::from_secs(10));
        assert_eq!(c.trust_level, TrustLevel::ONE_THIRD);
        let again = ChainConfig::from_json(&c.to_json()).unwrap();
        assert_eq!(again, c);
        assert!(c.to_json().contains("\"trusting_period\": \"1814400s\""));
    }

    #[test]
    fn rejects_bad_values_with_the_field() {
        let bad = EXAMPLE.replace("\"1/3\"", "\"1/4\"");
        assert!(matches!(
            ChainConfig::from_json(&bad),
            Err(ConfigError::Json { path, .. }) if path == "trust_level"
        ));
        let bad = EXAMPLE.replace("E3B0", "XXXX");
        assert!(matches!(
            ChainConfig::from_json(&bad),
            Err(ConfigError::Json { path, .. }) if path == "checkpoint.hash"
        ));
        let bad = EXAMPLE.replace("http://127.0.0.1:26757", "http://127.0.0.1:26657");
        assert!(matches!(
            ChainConfig::from_json(&bad),
            Err(ConfigError::Invalid {
                field: "witnesses",
                ..
            })
        ));
        let bad = EXAMPLE.replace("\"5\"", "\"0\"");
        assert!(ChainConfig::from_json(&bad).is_err());
    }

    #[test]
    fn trust_levels_and_durations() {
        assert_eq!("2/3".parse::<TrustLevel>().unwrap().power_needed(100), 66);
        assert_eq!(TrustLevel::ONE_THIRD.power_needed(100), 33);
        assert!("3/2".parse::<TrustLevel>().is_err());
        assert!("1/0".parse::<TrustLevel>().is_err());
        assert!("x/3".parse::<TrustLevel>().is_err());
        assert_eq!(parse_duration("21d").unwrap(), DEFAULT_TRUSTING_PERIOD);
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("42").unwrap(), Duration::from_secs(42));
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("99999999999999999999999d").is_err());
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
    }
}
