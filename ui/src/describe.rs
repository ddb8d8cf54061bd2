//! How the light node's facts read to a person: states, ages, durations, times, dates, node
//! health and attack kinds, in the chosen language.

use tradeseal_api::{ApiError, ErrorCode, NodeHealth, NodeState, NodeStatus};

use crate::i18n::{fill, Texts};

/// A value (an address, a time, a chain's name) set apart from the sentence around it, so a
/// right-to-left sentence does not reorder its parts (Unicode first-strong isolate).
pub fn isolate(value: &str) -> String {
    format!("\u{2068}{value}\u{2069}")
}

/// A stable name for each state: the status bar's `data-state` and CSS class.
pub fn state_slug(state: &NodeState) -> &'static str {
    match state {
        NodeState::NotConfigured => "not_configured",
        NodeState::ConfigInvalid { .. } => "config_invalid",
        NodeState::Starting => "starting",
        NodeState::Syncing { .. } => "syncing",
        NodeState::Synced => "synced",
        NodeState::Stale { .. } => "stale",
        NodeState::Offline { .. } => "offline",
        NodeState::TrustExpired { .. } => "trust_expired",
        NodeState::ForkDetected { .. } => "fork_detected",
    }
}

/// The state in one line, without the chain's name. `head_age` is the newest verified header's
/// age now (it keeps growing between two statuses).
pub fn state_line(t: &Texts, status: &NodeStatus, head_age: Option<u64>) -> String {
    let head = || match (&status.head, head_age) {
        (Some(head), Some(age_secs)) => {
            fill(t.head_at, &[&head.height.to_string(), &ago(t, age_secs)])
        }
        _ => t.head_none.to_owned(),
    };
    match &status.state {
        NodeState::NotConfigured => t.status_not_configured.to_owned(),
        NodeState::ConfigInvalid { .. } => t.status_config_invalid.to_owned(),
        NodeState::Starting => t.status_starting.to_owned(),
        NodeState::Syncing { to, current, .. } => {
            fill(t.status_syncing, &[&current.to_string(), &to.to_string()])
        }
        NodeState::Synced => fill(t.status_synced, &[&head()]),
        NodeState::Stale { .. } => fill(t.status_stale, &[&head()]),
        NodeState::Offline { .. } => fill(t.status_offline, &[&head()]),
        NodeState::TrustExpired { .. } => t.status_trust_expired.to_owned(),
        NodeState::ForkDetected { .. } => t.status_fork.to_owned(),
    }
}

/// Why there is no status: "backend not reachable", with the backend's own words when it
/// answered with an error (outside the app there is nothing to add).
pub fn unreachable(t: &Texts, error: &ApiError) -> String {
    match error.code {
        ErrorCode::Unavailable => t.status_unreachable.to_owned(),
        _ => format!("{}: {}", t.status_unreachable, error.message),
    }
}

/// A duration in its largest whole unit: "12 s", "3 min", "5 h", "2 d".
pub fn span(t: &Texts, secs: u64) -> String {
    let (value, unit) = match secs {
        0..60 => (secs, t.unit_seconds),
        60..3_600 => (secs / 60, t.unit_minutes),
        3_600..86_400 => (secs / 3_600, t.unit_hours),
        _ => (secs / 86_400, t.unit_days),
    };
    fill(unit, &[&value.to_string()])
}

/// "12 s ago", "3 h ago".
pub fn ago(t: &Texts, secs: u64) -> String {
    fill(t.ago, &[&span(t, secs)])
}

/// A configured period such as the trusting period: whole days or hours when it is one.
pub fn period(t: &Texts, secs: u64) -> String {
    if secs >= 86_400 && secs.is_multiple_of(86_400) {
        fill(t.days, &[&(secs / 86_400).to_string()])
    } else if secs >= 3_600 && secs.is_multiple_of(3_600) {
        fill(t.hours, &[&(secs / 3_600).to_string()])
    } else {
        span(t, secs)
    }
}

/// A count or a height with its digits grouped by thousands ("1,234,567"; French groups them
/// with narrow no-break spaces).
pub fn grouped(t: &Texts, n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(t.digit_group);
        }
        out.push(c);
    }
    out
}

/// An RFC 3339 UTC time as "2025-06-01 12:34:56 UTC" (joined by no-break spaces, so it never
/// wraps); anything else as it came.
pub fn time(rfc3339: &str) -> String {
    let Some((date, clock)) = rfc3339.split_once('T') else {
        return rfc3339.to_owned();
    };
    let utc = clock.ends_with('Z') || clock.ends_with("+00:00");
    let seconds: String = clock.chars().take(8).collect();
    let looks_right = date.len() == 10
        && seconds.len() == 8
        && seconds.chars().all(|c| c.is_ascii_digit() || c == ':');
    match (looks_right, utc) {
        (true, true) => format!("{date}\u{a0}{seconds}\u{a0}UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// A date (UTC) from unix seconds, as "2026-01-31".
pub fn day(secs: u64) -> String {
    // Days since 1970-01-01 to a civil date (proleptic Gregorian), in 400-year eras.
    let z = secs / 86_400 + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

pub fn health_slug(health: NodeHealth) -> &'static str {
    match health {
        NodeHealth::Unknown => "unknown",
        NodeHealth::Ok => "ok",
        NodeHealth::Lagging => "lagging",
        NodeHealth::Silent => "silent",
        NodeHealth::Faulty => "faulty",
        NodeHealth::Forked => "forked",
    }
}

pub fn health(t: &Texts, health: NodeHealth) -> &'static str {
    match health {
        NodeHealth::Unknown => t.health_unknown,
        NodeHealth::Ok => t.health_ok,
        NodeHealth::Lagging => t.health_lagging,
        NodeHealth::Silent => t.health_silent,
        NodeHealth::Faulty => t.health_faulty,
        NodeHealth::Forked => t.health_forked,
    }
}

/// The attack kind explained; a kind this version does not know is shown as it came.
pub fn attack(t: &Texts, kind: &str) -> String {
    match kind {
        "equivocation" => t.attack_equivocation.to_owned(),
        "lunatic" => t.attack_lunatic.to_owned(),
        "amnesia" => t.attack_amnesia.to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::texts;
    use tradeseal_api::Language;

    #[test]
    fn ages_read_in_their_largest_unit() {
        let en = texts(Language::En);
        assert_eq!(ago(en, 12), "12\u{a0}s ago");
        assert_eq!(ago(en, 3 * 3_600 + 59), "3\u{a0}h ago");
        assert_eq!(ago(en, 150), "2\u{a0}min ago");
        assert_eq!(ago(texts(Language::Fr), 2 * 86_400), "il y a 2\u{a0}j");
        assert_eq!(period(en, 14 * 86_400), "14 days");
        assert_eq!(period(en, 36 * 3_600), "36 hours");
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        let en = texts(Language::En);
        assert_eq!(grouped(en, 1_234_567), "1,234,567");
        assert_eq!(grouped(en, 999), "999");
        assert_eq!(grouped(en, 1_000), "1,000");
        assert_eq!(grouped(texts(Language::Fr), 12_345), "12\u{202f}345");
    }

    #[test]
    fn days_are_utc_dates() {
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(1_767_225_600), "2026-01-01");
        assert_eq!(day(1_767_225_600 - 1), "2025-12-31");
        assert_eq!(day(951_782_400), "2000-02-29");
        assert_eq!(day(4_107_542_400), "2100-03-01");
    }

    #[test]
    fn times_drop_fractions_and_name_utc() {
        assert_eq!(
            time("2025-06-01T12:34:56.123456789Z"),
            "2025-06-01\u{a0}12:34:56\u{a0}UTC"
        );
        assert_eq!(time("yesterday"), "yesterday");
    }
}
