//! [`MemoryAuthorizationCodes`]: bounded authorization-code storage in memory.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use glue_auth_core::{Clock, NumericDate, SystemClock};

use super::{lock, ready};
use crate::store::{
    AuthorizationCodeHash, AuthorizationCodeRecord, AuthorizationCodes, StoreFuture,
};

/// Authorization codes in memory, bounded: an insert into a full store
/// first drops the expired codes, then, if still full, the code that expires
/// soonest (its user logs in again). Codes live 60 s, so a full store means
/// `capacity` logins within a minute.
pub struct MemoryAuthorizationCodes {
    codes: Mutex<HashMap<AuthorizationCodeHash, AuthorizationCodeRecord>>,
    capacity: usize,
    clock: Box<dyn Clock>,
}

impl MemoryAuthorizationCodes {
    /// An empty store of at most `capacity` codes (at least 1), on the
    /// system clock.
    pub fn new(capacity: usize) -> Self {
        Self::with_clock(capacity, SystemClock)
    }

    /// The same on another clock (the one that decides which codes have
    /// expired when the store is full).
    pub fn with_clock(capacity: usize, clock: impl Clock) -> Self {
        MemoryAuthorizationCodes {
            codes: Mutex::default(),
            capacity: capacity.max(1),
            clock: Box::new(clock),
        }
    }

    /// How many codes are stored (expired ones included until evicted).
    pub fn len(&self) -> usize {
        lock(&self.codes).len()
    }

    /// Whether no code is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for MemoryAuthorizationCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryAuthorizationCodes")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl AuthorizationCodes for MemoryAuthorizationCodes {
    fn insert(&self, record: AuthorizationCodeRecord) -> StoreFuture<'_, ()> {
        let mut codes = lock(&self.codes);
        if codes.len() >= self.capacity && !codes.contains_key(&record.hash) {
            let now = self.clock.now();
            codes.retain(|_, r| r.expires_at > now);
            if codes.len() >= self.capacity {
                let soonest = codes.values().min_by_key(|r| r.expires_at).map(|r| r.hash);
                if let Some(h) = soonest {
                    codes.remove(&h);
                }
            }
        }
        codes.insert(record.hash, record);
        ready(Ok(()))
    }

    fn take(
        &self,
        hash: AuthorizationCodeHash,
        now: NumericDate,
    ) -> StoreFuture<'_, Option<AuthorizationCodeRecord>> {
        let taken = lock(&self.codes)
            .remove(&hash)
            .filter(|r| r.expires_at > now);
        ready(Ok(taken))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use glue_auth_core::{ManualClock, Principal, Scopes, UserPrincipal};

    use super::super::now as poll;
    use super::*;
    use crate::store::CodeChallengeMethod;

    fn record(code: &str, expires_at: NumericDate) -> AuthorizationCodeRecord {
        AuthorizationCodeRecord {
            hash: AuthorizationCodeHash::of(code),
            client_id: "frontend".into(),
            redirect_uri: "http://127.0.0.1/cb".into(),
            principal: Principal::User(UserPrincipal::new(4, "u", None::<String>)),
            scopes: Scopes::from_iter(["user"]),
            challenge: "c".repeat(43),
            challenge_method: CodeChallengeMethod::S256,
            expires_at,
        }
    }

    #[test]
    fn single_use_expiry_and_eviction() {
        let t0 = NumericDate::from_secs(1_700_000_000);
        let clock = ManualClock::new(t0);
        let store = MemoryAuthorizationCodes::with_clock(2, clock.clone());
        let exp = t0.saturating_add(Duration::from_secs(60));
        poll(store.insert(record("a", exp))).unwrap();
        let got = poll(store.take(AuthorizationCodeHash::of("a"), t0)).unwrap();
        assert_eq!(got, Some(record("a", exp)));
        assert_eq!(
            poll(store.take(AuthorizationCodeHash::of("a"), t0)).unwrap(),
            None
        );
        // Expired: refused (and gone).
        poll(store.insert(record("b", exp))).unwrap();
        assert_eq!(
            poll(store.take(AuthorizationCodeHash::of("b"), exp)).unwrap(),
            None
        );
        assert!(store.is_empty());
        // Full: the soonest-expiring code goes first.
        poll(store.insert(record("c", exp))).unwrap();
        poll(store.insert(record("d", exp.saturating_add(Duration::from_secs(1))))).unwrap();
        poll(store.insert(record("e", exp.saturating_add(Duration::from_secs(2))))).unwrap();
        assert_eq!(store.len(), 2);
        assert_eq!(
            poll(store.take(AuthorizationCodeHash::of("c"), t0)).unwrap(),
            None
        );
        assert!(
            poll(store.take(AuthorizationCodeHash::of("d"), t0))
                .unwrap()
                .is_some()
        );
        // Debug shows no challenge.
        assert!(!format!("{:?}", record("f", exp)).contains("ccccc"));
    }
}
