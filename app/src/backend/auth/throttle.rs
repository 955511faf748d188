//! Login throttling: after [`ThrottlePolicy::max_failures`] failed logins for one key (an email,
//! or a client address) within the window, further attempts for that key are refused until the
//! window ends. A successful login clears its keys. Memory is bounded: at most
//! [`ThrottlePolicy::capacity`] keys are tracked; when full, expired entries go first, then the
//! oldest.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct ThrottlePolicy {
    pub max_failures: u32,
    pub window: Duration,
    pub capacity: usize,
}

/// Failures allowed per email in 15 minutes, and per client address (which may be a shared NAT).
pub const PER_EMAIL: ThrottlePolicy = ThrottlePolicy {
    max_failures: 5,
    window: Duration::from_secs(15 * 60),
    capacity: 50_000,
};
pub const PER_CLIENT: ThrottlePolicy = ThrottlePolicy {
    max_failures: 30,
    window: Duration::from_secs(15 * 60),
    capacity: 50_000,
};

#[derive(Clone, Copy, Debug)]
struct Entry {
    failures: u32,
    since: Instant,
}

pub struct Throttle {
    policy: ThrottlePolicy,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Throttle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Throttle {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // The map holds no invariant a panic elsewhere could break: keep using it.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `Err(seconds)` while `key` is locked out: how long until it may try again.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), u64> {
        self.check_in(&self.entries(), key, now)
    }

    pub fn record_failure(&self, key: &str, now: Instant) {
        self.record_in(&mut self.entries(), key, now);
    }

    /// Counts one use of `key` unless it is locked out (then `Err(seconds)`), atomically: for
    /// rate limits, where every attempt counts.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut entries = self.entries();
        self.check_in(&entries, key, now)?;
        self.record_in(&mut entries, key, now);
        Ok(())
    }

    fn check_in(
        &self,
        entries: &HashMap<String, Entry>,
        key: &str,
        now: Instant,
    ) -> Result<(), u64> {
        match entries.get(key) {
            Some(entry) if entry.failures >= self.policy.max_failures => {
                let elapsed = now.saturating_duration_since(entry.since);
                match self.policy.window.checked_sub(elapsed) {
                    Some(left) if !left.is_zero() => Err(left.as_secs().max(1)),
                    _ => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }

    fn record_in(&self, entries: &mut HashMap<String, Entry>, key: &str, now: Instant) {
        if let Some(entry) = entries.get_mut(key) {
            if now.saturating_duration_since(entry.since) >= self.policy.window {
                *entry = Entry {
                    failures: 1,
                    since: now,
                };
            } else {
                entry.failures = entry.failures.saturating_add(1);
            }
            return;
        }
        if entries.len() >= self.policy.capacity {
            let window = self.policy.window;
            entries.retain(|_, entry| now.saturating_duration_since(entry.since) < window);
        }
        if entries.len() >= self.policy.capacity
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, entry)| entry.since)
                .map(|(key, _)| key.clone())
        {
            entries.remove(&oldest);
        }
        entries.insert(
            key.to_owned(),
            Entry {
                failures: 1,
                since: now,
            },
        );
    }

    pub fn clear(&self, key: &str) {
        self.entries().remove(key);
    }

    pub fn tracked(&self) -> usize {
        self.entries().len()
    }
}

/// The two throttles a login consults.
pub struct LoginThrottle {
    pub per_email: Throttle,
    pub per_client: Throttle,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            per_email: Throttle::new(PER_EMAIL),
            per_client: Throttle::new(PER_CLIENT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: ThrottlePolicy = ThrottlePolicy {
        max_failures: 3,
        window: Duration::from_secs(60),
        capacity: 4,
    };

    #[test]
    fn take_counts_each_use_and_refuses_past_the_limit_without_counting() {
        let throttle = Throttle::new(POLICY);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.take("a", t0), Ok(()));
        }
        assert_eq!(throttle.take("a", t0 + Duration::from_secs(20)), Err(40));
        assert_eq!(throttle.take("a", t0 + Duration::from_secs(60)), Ok(()));
        assert_eq!(throttle.take("a", t0 + Duration::from_secs(60)), Ok(()));
    }

    #[test]
    fn locks_after_max_failures_until_the_window_ends() {
        let throttle = Throttle::new(POLICY);
        let t0 = Instant::now();
        for _ in 0..2 {
            throttle.record_failure("a", t0);
            assert_eq!(throttle.check("a", t0), Ok(()));
        }
        throttle.record_failure("a", t0);
        assert_eq!(throttle.check("a", t0), Err(60));
        assert_eq!(throttle.check("a", t0 + Duration::from_secs(45)), Err(15));
        assert_eq!(throttle.check("b", t0), Ok(()), "other keys are unaffected");
        let later = t0 + Duration::from_secs(60);
        assert_eq!(throttle.check("a", later), Ok(()));
        throttle.record_failure("a", later);
        assert_eq!(
            throttle.check("a", later),
            Ok(()),
            "a new window starts afresh"
        );
    }

    #[test]
    fn success_clears_the_key() {
        let throttle = Throttle::new(POLICY);
        let t0 = Instant::now();
        for _ in 0..3 {
            throttle.record_failure("a", t0);
        }
        throttle.clear("a");
        assert_eq!(throttle.check("a", t0), Ok(()));
    }

    #[test]
    fn memory_stays_bounded_and_drops_expired_then_oldest() {
        let throttle = Throttle::new(POLICY);
        let t0 = Instant::now();
        for i in 0..4 {
            throttle.record_failure(&format!("k{i}"), t0 + Duration::from_secs(i));
        }
        for _ in 0..2 {
            throttle.record_failure("k3", t0 + Duration::from_secs(3));
        }
        // k0 is the oldest: adding a fifth key evicts it, and k3 (locked) is kept.
        throttle.record_failure("k4", t0 + Duration::from_secs(10));
        assert_eq!(throttle.tracked(), 4);
        assert!(throttle.check("k3", t0 + Duration::from_secs(10)).is_err());
        // Long after the window every old entry is expired and dropped at once.
        throttle.record_failure("late", t0 + Duration::from_secs(1000));
        assert_eq!(throttle.tracked(), 1);
        for i in 0..10_000 {
            throttle.record_failure(&format!("flood{i}"), t0 + Duration::from_secs(1000));
        }
        assert_eq!(throttle.tracked(), 4);
    }
}
