//! Failed-login throttling: sliding windows per username and per client
//! address, in bounded memory.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use glue_auth_core::NumericDate;
use moka::sync::Cache;

/// The newest failures of one key (at most `limit` of them are kept: that is
/// all the decision needs), and the attempts under way.
#[derive(Debug, Default)]
struct Window {
    failures: VecDeque<NumericDate>,
    /// Attempts admitted and not yet decided: each holds a place, so that
    /// concurrent attempts cannot overshoot the limit.
    in_flight: u32,
}

impl Window {
    fn prune(&mut self, now: NumericDate, window: Duration) {
        let oldest_kept = now.saturating_sub(window);
        while self.failures.front().is_some_and(|&t| t <= oldest_kept) {
            self.failures.pop_front();
        }
    }

    /// `Some(seconds)` when counted failures and attempts in flight together
    /// reach `limit`.
    fn blocked_for(&mut self, now: NumericDate, window: Duration, limit: u32) -> Option<u32> {
        self.prune(now, window);
        let limit = limit as usize;
        if self.failures.len() + (self.in_flight as usize) < limit {
            return None;
        }
        if self.failures.len() < limit {
            // Attempts in flight hold the free places; they are decided within
            // one password verification.
            return Some(1);
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

    fn release(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
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
///
/// Attempts under way count against the limits too: with `per_username` 5,
/// at most 5 logins of one username are verified at once, and the next gets
/// 429 (`Retry-After: 1`) until one of them is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failures per username within the window before 429.
    pub per_username: u32,
    /// Failures per client address within the window before 429.
    pub per_address: u32,
    /// The sliding window.
    pub window: Duration,
    /// Keys remembered per counter (memory bound; least recently used go, and
    /// with them their failures and attempts in flight).
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

/// A username as a throttling key (see [`crate::UserKey`]).
#[cfg(test)]
pub(crate) fn user_key(username: &str) -> UserKey {
    *crate::UserKey::of(username).as_bytes()
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

    /// The limits.
    pub(crate) fn settings(&self) -> ThrottleSettings {
        self.settings
    }

    /// Admits one attempt, in one locked step per counter: refused
    /// (`Err(retry_after_secs)`) when failures plus attempts in flight reach
    /// either limit; otherwise the attempt holds a place in both counters
    /// until it is decided ([`Attempt::fail`], [`Attempt::succeed`]) or
    /// dropped (released: a cancelled request does not keep its place).
    pub(crate) fn reserve(
        &self,
        user: Option<&UserKey>,
        addr: Option<IpAddr>,
        now: NumericDate,
    ) -> Result<Attempt, u32> {
        let s = self.settings;
        let user = user
            .filter(|_| s.per_username > 0)
            .map(|k| self.by_user.get_with(*k, Slot::default));
        let addr = addr
            .filter(|_| s.per_address > 0)
            .map(|a| self.by_addr.get_with(a, Slot::default));
        // Both locks at once, always the username's first (no lock-order
        // inversion: `Attempt` takes them one at a time).
        let mut user_window = user.as_ref().map(lock);
        let mut addr_window = addr.as_ref().map(lock);
        let wait = Option::max(
            user_window
                .as_mut()
                .and_then(|w| w.blocked_for(now, s.window, s.per_username)),
            addr_window
                .as_mut()
                .and_then(|w| w.blocked_for(now, s.window, s.per_address)),
        );
        if let Some(wait) = wait {
            return Err(wait);
        }
        for w in user_window.iter_mut().chain(addr_window.iter_mut()) {
            w.in_flight += 1;
        }
        drop((user_window, addr_window));
        Ok(Attempt {
            settings: s,
            user,
            addr,
        })
    }
}

/// An admitted attempt holding a place in its counters. Dropping it
/// undecided releases the places.
#[derive(Debug)]
pub(crate) struct Attempt {
    settings: ThrottleSettings,
    user: Option<Slot>,
    addr: Option<Slot>,
}

impl Attempt {
    /// The attempt failed (`invalid_grant`): its places become failures.
    pub(crate) fn fail(mut self, now: NumericDate) {
        let s = self.settings;
        if let Some(slot) = self.user.take() {
            let mut w = lock(&slot);
            w.release();
            w.push(now, s.window, s.per_username);
        }
        if let Some(slot) = self.addr.take() {
            let mut w = lock(&slot);
            w.release();
            w.push(now, s.window, s.per_address);
        }
    }

    /// The login succeeded: clears the username's failures, releases the
    /// places.
    pub(crate) fn succeed(mut self) {
        if let Some(slot) = self.user.take() {
            let mut w = lock(&slot);
            w.release();
            w.failures.clear();
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        for slot in self.user.take().into_iter().chain(self.addr.take()) {
            lock(&slot).release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> NumericDate {
        NumericDate::from_secs(1_700_000_000 + secs)
    }

    fn fail(t: &Throttle, user: Option<&UserKey>, addr: Option<IpAddr>, now: NumericDate) {
        t.reserve(user, addr, now).unwrap().fail(now);
    }

    #[test]
    fn sliding_window_per_username() {
        let t = Throttle::new(ThrottleSettings::default());
        let u = user_key("Sonia@spryker.com");
        assert_eq!(u, user_key("sonia@SPRYKER.com"));
        for i in 0..5 {
            fail(&t, Some(&u), None, at(i * 10));
        }
        // Fifth failure at t=40; the first (t=0) leaves the window at t=300.
        assert_eq!(t.reserve(Some(&u), None, at(41)).err(), Some(259));
        assert_eq!(t.reserve(Some(&u), None, at(299)).err(), Some(1));
        fail(&t, Some(&u), None, at(300));
        assert_eq!(t.reserve(Some(&u), None, at(301)).err(), Some(9));
        assert!(t.reserve(Some(&user_key("other")), None, at(301)).is_ok());
    }

    #[test]
    fn attempts_in_flight_hold_places_until_decided_or_dropped() {
        let t = Throttle::new(ThrottleSettings {
            per_username: 2,
            ..ThrottleSettings::default()
        });
        let u = user_key("x");
        let a = t.reserve(Some(&u), None, at(0)).unwrap();
        let b = t.reserve(Some(&u), None, at(0)).unwrap();
        assert_eq!(t.reserve(Some(&u), None, at(0)).err(), Some(1));
        // Dropped undecided (a cancelled request): the place is free again.
        drop(a);
        let c = t.reserve(Some(&u), None, at(1)).unwrap();
        b.fail(at(1));
        assert_eq!(t.reserve(Some(&u), None, at(2)).err(), Some(1));
        c.fail(at(2));
        assert_eq!(t.reserve(Some(&u), None, at(3)).err(), Some(298));
        // A success clears the username's failures, not the places held.
        let t = Throttle::new(ThrottleSettings {
            per_username: 3,
            ..ThrottleSettings::default()
        });
        fail(&t, Some(&u), None, at(0));
        let ok = t.reserve(Some(&u), None, at(1)).unwrap();
        let other = t.reserve(Some(&u), None, at(1)).unwrap();
        assert!(t.reserve(Some(&u), None, at(1)).is_err());
        ok.succeed();
        // `other` still holds its place: two more fit, not three.
        let d = t.reserve(Some(&u), None, at(2)).unwrap();
        let e = t.reserve(Some(&u), None, at(2)).unwrap();
        assert!(t.reserve(Some(&u), None, at(2)).is_err());
        drop((other, d, e));
        assert!(t.reserve(Some(&u), None, at(2)).is_ok());
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
        fail(&t, Some(&u), Some(ip), at(0));
        assert!(t.reserve(Some(&u), Some(ip), at(0)).is_ok());
        fail(&t, Some(&user_key("y")), Some(ip), at(1));
        assert_eq!(t.reserve(None, Some(ip), at(1)).err(), Some(299));
        assert!(t.reserve(Some(&u), None, at(1)).is_ok());
        // A refused attempt holds no place.
        assert!(t.reserve(Some(&u), None, at(1)).is_ok());
    }
}
