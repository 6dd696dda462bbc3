//! The validated-token cache: moka, keyed by the token's bytes, with a hit
//! counter that two cores never contend for.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use glue_auth_core::Claims;
use moka::sync::Cache;

use crate::CacheStats;

/// A validated token and what checking it again needs.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) claims: Claims,
    /// 0: the Glue key set; `i + 1`: the validator's `issuers[i]`.
    pub(crate) source: usize,
    /// The key set's generation the token was verified under.
    pub(crate) generation: u64,
    /// Until `exp` (plus the leeway).
    pub(crate) ttl: Duration,
}

pub(crate) struct TokenCache {
    /// Keyed by the token itself, hashed with foldhash under a per-process
    /// random seed: a hit needs the whole token to be equal, so a hash
    /// collision can never return another token's claims.
    entries: Cache<TokenKey, Entry, foldhash::fast::RandomState>,
    hits: Counter,
    misses: AtomicU64,
}

impl TokenCache {
    pub(crate) fn new(capacity: u64) -> Self {
        TokenCache {
            entries: Cache::builder()
                .max_capacity(capacity)
                .expire_after(TtlUntilExp)
                .build_with_hasher(foldhash::fast::RandomState::default()),
            hits: Counter::default(),
            misses: AtomicU64::new(0),
        }
    }

    /// The entry of exactly these bytes, if any (not counted: the caller
    /// decides whether it answers).
    pub(crate) fn get(&self, token: &[u8]) -> Option<Entry> {
        self.entries.get(&Probe(token))
    }

    pub(crate) fn invalidate(&self, token: &[u8]) {
        self.entries.invalidate(&Probe(token));
    }

    pub(crate) fn insert(&self, token: &str, entry: Entry) {
        self.entries
            .insert(TokenKey(Arc::from(token.as_bytes())), entry);
    }

    pub(crate) fn count_hit(&self) {
        self.hits.add_one();
    }

    pub(crate) fn count_miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.sum(),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.entries.entry_count(),
        }
    }

    pub(crate) fn clear(&self) {
        self.entries.invalidate_all();
    }
}

/// A cached token's bytes. Hashes exactly as a [`Probe`] of the same bytes,
/// so a look-up needs neither a copy nor a UTF-8 check of the header value.
#[derive(Clone, PartialEq, Eq)]
struct TokenKey(Arc<[u8]>);

impl Hash for TokenKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(&self.0);
    }
}

/// The bytes of a token to look up.
struct Probe<'a>(&'a [u8]);

impl Hash for Probe<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(self.0);
    }
}

impl moka::Equivalent<TokenKey> for Probe<'_> {
    fn equivalent(&self, key: &TokenKey) -> bool {
        *self.0 == *key.0
    }
}

/// Entries live until their token expires.
struct TtlUntilExp;

impl moka::Expiry<TokenKey, Entry> for TtlUntilExp {
    fn expire_after_create(
        &self,
        _key: &TokenKey,
        value: &Entry,
        _created_at: std::time::Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

const SHARDS: usize = 16;

/// A counter bumped by every request on every thread. One atomic would
/// bounce its cache line between the cores on each hit; here each thread
/// adds to a shard of its own (threads take shards in turn), and reading
/// sums them.
#[derive(Default)]
struct Counter {
    shards: [Shard; SHARDS],
}

/// One shard per 128 bytes: two cache lines, so neighbours share neither a
/// line nor a prefetched pair.
#[derive(Default)]
#[repr(align(128))]
struct Shard(AtomicU64);

impl Counter {
    fn add_one(&self) {
        self.shards[shard_of_this_thread()]
            .0
            .fetch_add(1, Ordering::Relaxed);
    }

    fn sum(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.0.load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
    }
}

fn shard_of_this_thread() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|s| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_sums_the_adds_of_every_thread() {
        let c = Counter::default();
        std::thread::scope(|s| {
            for _ in 0..40 {
                s.spawn(|| (0..1000).for_each(|_| c.add_one()));
            }
        });
        assert_eq!(c.sum(), 40_000);
    }

    #[test]
    fn a_probe_finds_the_key_of_the_same_bytes_only() {
        let cache = TokenCache::new(10);
        let entry = |s: &str| Entry {
            claims: Claims::builder(
                glue_auth_core::Principal::Warehouse(glue_auth_core::WarehousePrincipal::new(1)),
                glue_auth_core::Scopes::default(),
            )
            .jti(s)
            .build(),
            source: 0,
            generation: 0,
            ttl: Duration::from_secs(60),
        };
        cache.insert("a.b.c", entry("1"));
        cache.insert("a.b.cd", entry("2"));
        assert_eq!(cache.get(b"a.b.c").unwrap().claims.jti(), "1");
        assert_eq!(cache.get(b"a.b.cd").unwrap().claims.jti(), "2");
        assert!(cache.get(b"a.b.").is_none());
        assert!(cache.get(b"A.b.c").is_none());
        cache.invalidate(b"a.b.c");
        assert!(cache.get(b"a.b.c").is_none());
        assert_eq!(cache.get(b"a.b.cd").unwrap().claims.jti(), "2");
    }
}
