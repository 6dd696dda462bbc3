//! [`MemoryRefreshTokens`]: bounded refresh-token storage in memory.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Mutex;

use glue_auth_core::{Clock, NumericDate, SystemClock};

use super::{lock, ready};
use crate::store::{
    RefreshFamily, RefreshTokenHash, RefreshTokenRecord, RefreshTokens, Rotation, StoreError,
    StoreFuture,
};

/// Refresh tokens in memory, bounded: an insert into a full store (`capacity`
/// tokens) never fails, it evicts one token first, in this order:
///
/// 1. an expired token (it can no longer be redeemed);
/// 2. a revoked (spent) token, the soonest-expiring first: it serves only to
///    detect reuse, so under pressure reuse detection of old chains is the
///    first thing lost (a replayed token that was evicted is refused as
///    unknown, without revoking its family);
/// 3. the live token that expires soonest (its holder logs in again).
///
/// Each eviction is `O(log n)` (indexes by expiry); nothing rescans the map.
/// A full store therefore never turns logins into 503s, whoever fills it.
pub struct MemoryRefreshTokens {
    tokens: Mutex<Tokens>,
    capacity: usize,
    clock: Box<dyn Clock>,
}

/// An index key: expiry first, then the hash to tell equal expiries apart.
type ByExpiry = (NumericDate, [u8; 32]);

#[derive(Default)]
struct Tokens {
    map: HashMap<RefreshTokenHash, RefreshTokenRecord>,
    /// Tokens not revoked, by expiry.
    live: BTreeSet<ByExpiry>,
    /// Revoked tokens, by expiry.
    revoked: BTreeSet<ByExpiry>,
}

fn by_expiry(r: &RefreshTokenRecord) -> ByExpiry {
    (r.expires_at, r.hash.0)
}

impl Tokens {
    fn index_of(&mut self, r: &RefreshTokenRecord) -> &mut BTreeSet<ByExpiry> {
        if r.revoked_at.is_some() {
            &mut self.revoked
        } else {
            &mut self.live
        }
    }

    fn insert(&mut self, record: RefreshTokenRecord) {
        let key = by_expiry(&record);
        self.index_of(&record).insert(key);
        self.map.insert(record.hash, record);
    }

    fn remove(&mut self, hash: &RefreshTokenHash) {
        if let Some(r) = self.map.remove(hash) {
            let key = by_expiry(&r);
            self.index_of(&r).remove(&key);
        }
    }

    /// Sets `revoked_at` of a live token; `false` when it is absent or
    /// already revoked.
    fn revoke(&mut self, hash: &RefreshTokenHash, now: NumericDate) -> bool {
        let Some(r) = self.map.get_mut(hash) else {
            return false;
        };
        if r.revoked_at.is_some() {
            return false;
        }
        r.revoked_at = Some(now);
        let key = by_expiry(r);
        self.live.remove(&key);
        self.revoked.insert(key);
        true
    }

    /// The token to evict: an expired one, else the soonest-expiring revoked
    /// one, else the soonest-expiring live one.
    fn victim(&self, now: NumericDate) -> Option<RefreshTokenHash> {
        let live = self.live.first();
        let key = match live {
            Some(k) if k.0 <= now => Some(k),
            _ => self.revoked.first().or(live),
        };
        key.map(|&(_, h)| RefreshTokenHash(h))
    }
}

impl fmt::Debug for MemoryRefreshTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryRefreshTokens")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl Default for MemoryRefreshTokens {
    fn default() -> Self {
        Self::new(100_000)
    }
}

impl MemoryRefreshTokens {
    /// A store of at most `capacity` tokens on the system clock.
    pub fn new(capacity: usize) -> Self {
        Self::with_clock(capacity, SystemClock)
    }

    /// A store whose eviction reads `clock` to tell expired tokens.
    pub fn with_clock(capacity: usize, clock: impl Clock) -> Self {
        MemoryRefreshTokens {
            tokens: Mutex::new(Tokens::default()),
            capacity: capacity.max(1),
            clock: Box::new(clock),
        }
    }

    /// Number of stored tokens (live, spent and revoked).
    pub fn len(&self) -> usize {
        lock(&self.tokens).map.len()
    }

    /// `true` when no token is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The store's capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Stores `record`, evicting tokens while the store is full.
    fn put(&self, tokens: &mut Tokens, record: RefreshTokenRecord) -> Result<(), StoreError> {
        if tokens.map.contains_key(&record.hash) {
            return Err(StoreError::Inconsistent(
                "refresh token hash collision".into(),
            ));
        }
        if tokens.map.len() >= self.capacity {
            let now = self.clock.now();
            while tokens.map.len() >= self.capacity {
                let Some(victim) = tokens.victim(now) else {
                    break;
                };
                tokens.remove(&victim);
            }
        }
        tokens.insert(record);
        Ok(())
    }
}

impl RefreshTokens for MemoryRefreshTokens {
    fn insert(&self, record: RefreshTokenRecord) -> StoreFuture<'_, ()> {
        let mut tokens = lock(&self.tokens);
        let result = self.put(&mut tokens, record);
        drop(tokens);
        ready(result)
    }

    fn find(&self, hash: RefreshTokenHash) -> StoreFuture<'_, Option<RefreshTokenRecord>> {
        ready(Ok(lock(&self.tokens).map.get(&hash).cloned()))
    }

    fn rotate(
        &self,
        used: RefreshTokenHash,
        next: RefreshTokenRecord,
        now: NumericDate,
    ) -> StoreFuture<'_, Rotation> {
        let mut tokens = lock(&self.tokens);
        let outcome = match tokens.map.get(&used) {
            None => Ok(Rotation::NotFound),
            Some(r) if r.revoked_at.is_some() => Ok(Rotation::Reused),
            Some(r) if r.expires_at <= now => Ok(Rotation::Expired),
            Some(r) if r.family != next.family => Err(StoreError::Inconsistent(
                "rotation into another family".into(),
            )),
            Some(_) if tokens.map.contains_key(&next.hash) => Err(StoreError::Inconsistent(
                "refresh token hash collision".into(),
            )),
            Some(_) => {
                // Revoke first, so that an eviction by the successor's
                // insert sees the used token as spent.
                tokens.revoke(&used, now);
                self.put(&mut tokens, next).map(|()| Rotation::Rotated)
            }
        };
        drop(tokens);
        ready(outcome)
    }

    fn revoke_family(&self, family: RefreshFamily, now: NumericDate) -> StoreFuture<'_, u64> {
        let mut tokens = lock(&self.tokens);
        // A scan, but only on a replay (rare, and throttled per address).
        let members: Vec<RefreshTokenHash> = tokens
            .map
            .values()
            .filter(|r| r.family == family && r.revoked_at.is_none())
            .map(|r| r.hash)
            .collect();
        let mut n = 0;
        for h in &members {
            n += u64::from(tokens.revoke(h, now));
        }
        drop(tokens);
        ready(Ok(n))
    }
}

#[cfg(test)]
mod tests {
    use super::super::now;
    use super::*;
    use glue_auth_core::{Principal, Scopes, WarehousePrincipal};

    fn rec(family: RefreshFamily, exp: i64) -> RefreshTokenRecord {
        RefreshTokenRecord {
            hash: RefreshTokenHash::of(&crate::crypto::refresh_token()),
            family,
            principal: Principal::Warehouse(WarehousePrincipal::new(1)),
            scopes: Scopes::from_iter(["warehouse"]),
            client_id: "frontend".into(),
            expires_at: NumericDate::from_secs(exp),
            revoked_at: None,
        }
    }

    #[test]
    fn rotation_and_reuse() {
        let store = MemoryRefreshTokens::new(10);
        let fam = RefreshFamily::random();
        let a = rec(fam, 200);
        now(store.insert(a.clone())).unwrap();
        let b = rec(fam, 200);
        let t = NumericDate::from_secs(150);
        assert_eq!(
            now(store.rotate(a.hash, b.clone(), t)).unwrap(),
            Rotation::Rotated
        );
        assert_eq!(
            now(store.rotate(a.hash, rec(fam, 200), t)).unwrap(),
            Rotation::Reused
        );
        assert_eq!(now(store.revoke_family(fam, t)).unwrap(), 1);
        assert_eq!(
            now(store.rotate(b.hash, rec(fam, 200), t)).unwrap(),
            Rotation::Reused
        );
        assert_eq!(
            now(store.rotate(b.hash, rec(fam, 200), NumericDate::from_secs(250))).unwrap(),
            Rotation::Reused
        );
        let c = rec(fam, 200);
        now(store.insert(c.clone())).unwrap();
        assert_eq!(
            now(store.rotate(c.hash, rec(fam, 300), NumericDate::from_secs(200))).unwrap(),
            Rotation::Expired
        );
        let other = rec(RefreshFamily::random(), 400);
        assert_eq!(
            now(store.rotate(other.hash, other.clone(), t)).unwrap(),
            Rotation::NotFound
        );
        assert_eq!(store.len(), 3);
    }

    #[test]
    fn full_store_evicts_expired_then_revoked_then_soonest() {
        let clock = glue_auth_core::ManualClock::new(NumericDate::from_secs(100));
        let store = MemoryRefreshTokens::with_clock(3, clock.clone());
        let has = |r: &RefreshTokenRecord| now(store.find(r.hash)).unwrap().is_some();
        let (a, b, c) = (
            rec(RefreshFamily::random(), 300),
            rec(RefreshFamily::random(), 200),
            rec(RefreshFamily::random(), 400),
        );
        for r in [&a, &b, &c] {
            now(store.insert(r.clone())).unwrap();
        }
        // Full, nothing expired or revoked: the soonest-expiring goes.
        let d = rec(RefreshFamily::random(), 500);
        now(store.insert(d.clone())).unwrap();
        assert!(!has(&b) && has(&a) && has(&c) && has(&d));
        // A revoked token goes before live ones that expire sooner.
        now(store.revoke_family(c.family, NumericDate::from_secs(100))).unwrap();
        let e = rec(RefreshFamily::random(), 600);
        now(store.insert(e.clone())).unwrap();
        assert!(!has(&c) && has(&a) && has(&d) && has(&e));
        // An expired token goes before a revoked one: `a` expired at 300;
        // the rotation revokes `d` and its successor evicts `a`.
        clock.set(NumericDate::from_secs(350));
        let g = rec(d.family, 700);
        assert_eq!(
            now(store.rotate(d.hash, g.clone(), NumericDate::from_secs(350))).unwrap(),
            Rotation::Rotated
        );
        assert!(!has(&a) && has(&d) && has(&e) && has(&g));
        assert_eq!(
            now(store.rotate(d.hash, rec(d.family, 700), NumericDate::from_secs(350))).unwrap(),
            Rotation::Reused
        );
        // Far more inserts than the capacity: all succeed, the size holds.
        for i in 0..1000 {
            now(store.insert(rec(RefreshFamily::random(), 1000 + i))).unwrap();
        }
        assert_eq!(store.len(), 3);
    }
}
