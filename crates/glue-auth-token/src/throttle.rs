//! Failed-login throttling: sliding windows per username and per client
//! address, in bounded memory.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use glue_auth_core::NumericDate;
use moka::sync::Cache;

/// The newest failures of one key (at most `limit` of them are kept: that is
/// all the decision needs).
#[derive(Debug, Default)]
struct Window {
    failures: VecDeque<NumericDate>,
}

impl Window {
    fn prune(&mut self, now: NumericDate, window: Duration) {
        let oldest_kept = now.saturating_sub(window);
        while self.failures.front().is_some_and(|&t| t <= oldest_kept) {
            self.failures.pop_front();
        }
    }

    /// `Some(seconds)` when `limit` failures lie inside the window.
    fn blocked_for(&mut self, now: NumericDate, window: Duration, limit: u32) -> Option<u32> {
        self.prune(now, window);
        let limit = limit as usize;
        if limit == 0 || self.failures.len() < limit {
            return None;
        }
        // The window opens again when the oldest of the last `limit` failures
        // leaves it.
        let oldest = self.failures[self.failures.len() - limit];
        let wait = oldest.saturating_add(window).duration_since(now);
        Some(secs_ceil(wait))
    }

    fn push(&mut self, now: NumericDate, window: Duration, limit: u32) {
        self.prune(now, window);
        self.failures.push_back(now);
        while self.failures.len() > (limit as usize).max(1) {
            self.failures.pop_front();
        }
    }
}

fn secs_ceil(d: Duration) -> u32 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    u32::try_from(secs.max(1)).unwrap_or(u32::MAX)
}

type Slot = Arc<Mutex<Window>>;

/// Throttling settings (SPEC §2): 5 failures per username, 20 per client
/// address, in a sliding 300 s window by default. A limit of 0 turns that
/// counter off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failures per username within the window before 429.
    pub per_username: u32,
    /// Failures per client address within the window before 429.
    pub per_address: u32,
    /// The sliding window.
    pub window: Duration,
    /// Keys remembered per counter (memory bound; least recently used go).
    pub capacity: u64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        ThrottleSettings {
            per_username: 5,
            per_address: 20,
            window: Duration::from_secs(300),
            capacity: 100_000,
        }
    }
}

pub(crate) type UserKey = [u8; 32];

/// A username as a throttling key: SHA-256 of its lowercase form, so that
/// case variants share a counter and what users typed is not kept in memory.
pub(crate) fn user_key(username: &str) -> UserKey {
    crate::crypto::sha256(username.to_lowercase().as_bytes())
}

#[derive(Debug)]
pub(crate) struct Throttle {
    settings: ThrottleSettings,
    by_user: Cache<UserKey, Slot>,
    by_addr: Cache<IpAddr, Slot>,
}

fn lock(slot: &Slot) -> std::sync::MutexGuard<'_, Window> {
    slot.lock().unwrap_or_else(|p| p.into_inner())
}

impl Throttle {
    pub(crate) fn new(settings: ThrottleSettings) -> Self {
        // An idle key holds only failures older than the window: moka may drop it.
        Throttle {
            settings,
            by_user: Cache::builder()
                .max_capacity(settings.capacity)
                .time_to_idle(settings.window)
                .build(),
            by_addr: Cache::builder()
                .max_capacity(settings.capacity)
                .time_to_idle(settings.window)
                .build(),
        }
    }

    /// `Err(retry_after_secs)` when either counter is full.
    pub(crate) fn check(
        &self,
        user: Option<&UserKey>,
        addr: Option<IpAddr>,
        now: NumericDate,
    ) -> Result<(), u32> {
        let s = &self.settings;
        let mut wait = None::<u32>;
        if let Some(slot) = user.and_then(|k| self.by_user.get(k)) {
            wait = wait.max(lock(&slot).blocked_for(now, s.window, s.per_username));
        }
        if let Some(slot) = addr.and_then(|a| self.by_addr.get(&a)) {
            wait = wait.max(lock(&slot).blocked_for(now, s.window, s.per_address));
        }
        wait.map_or(Ok(()), Err)
    }

    /// Counts one failed login.
    pub(crate) fn fail(&self, user: Option<&UserKey>, addr: Option<IpAddr>, now: NumericDate) {
        let s = &self.settings;
        if let Some(k) = user.filter(|_| s.per_username > 0) {
            let slot = self.by_user.get_with(*k, Slot::default);
            lock(&slot).push(now, s.window, s.per_username);
        }
        if let Some(a) = addr.filter(|_| s.per_address > 0) {
            let slot = self.by_addr.get_with(a, Slot::default);
            lock(&slot).push(now, s.window, s.per_address);
        }
    }

    /// A successful login clears the username's failures.
    pub(crate) fn succeed(&self, user: &UserKey) {
        self.by_user.invalidate(user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> NumericDate {
        NumericDate::from_secs(1_700_000_000 + secs)
    }

    #[test]
    fn sliding_window_per_username() {
        let t = Throttle::new(ThrottleSettings::default());
        let u = user_key("Sonia@spryker.com");
        assert_eq!(u, user_key("sonia@SPRYKER.com"));
        for i in 0..5 {
            assert_eq!(t.check(Some(&u), None, at(i * 10)), Ok(()));
            t.fail(Some(&u), None, at(i * 10));
        }
        // Fifth failure at t=40; the first (t=0) leaves the window at t=300.
        assert_eq!(t.check(Some(&u), None, at(41)), Err(259));
        assert_eq!(t.check(Some(&u), None, at(299)), Err(1));
        assert_eq!(t.check(Some(&u), None, at(300)), Ok(()));
        t.fail(Some(&u), None, at(300));
        assert_eq!(t.check(Some(&u), None, at(301)), Err(9));
        t.succeed(&u);
        assert_eq!(t.check(Some(&u), None, at(302)), Ok(()));
    }

    #[test]
    fn per_address_and_disabled() {
        let t = Throttle::new(ThrottleSettings {
            per_username: 0,
            per_address: 2,
            ..ThrottleSettings::default()
        });
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let u = user_key("x");
        t.fail(Some(&u), Some(ip), at(0));
        assert_eq!(t.check(Some(&u), Some(ip), at(0)), Ok(()));
        t.fail(Some(&user_key("y")), Some(ip), at(1));
        assert_eq!(t.check(None, Some(ip), at(1)), Err(299));
        assert_eq!(t.check(Some(&u), None, at(1)), Ok(()));
    }
}
