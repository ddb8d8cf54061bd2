//! The only place the wallet reads the wall-clock time: a [`Clock`] trait, the system clock,
//! and a manual clock that tests drive.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use light_client::Time;

/// A source of the current time (UTC). Verification takes the time as a parameter; this is
/// where the light node gets it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> Time;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Time {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        // Clamp rather than fail: a clock past year 9999 is not a case worth a panic.
        Time::from_unix(since.as_secs() as i64, since.subsec_nanos())
            .unwrap_or_else(|_| Time::from_unix(253_402_300_799, 0).expect("year 9999 is valid"))
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Time>,
}

impl ManualClock {
    /// A clock standing at `now`.
    pub fn new(now: Time) -> ManualClock {
        ManualClock {
            now: Mutex::new(now),
        }
    }

    /// Sets the time.
    pub fn set(&self, now: Time) {
        *self.now.lock().expect("clock lock") = now;
    }

    /// Moves the time forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().expect("clock lock");
        *now = now.checked_add(by).unwrap_or(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Time {
        *self.now.lock().expect("clock lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_after_2020_and_manual_clock_moves_when_told() {
        assert!(SystemClock.now().unix_seconds() > 1_577_836_800);
        let t = Time::from_unix(1_700_000_000, 0).unwrap();
        let clock = ManualClock::new(t);
        assert_eq!(clock.now(), t);
        clock.advance(Duration::from_secs(5));
        assert_eq!(clock.now().unix_seconds(), 1_700_000_005);
    }
}
