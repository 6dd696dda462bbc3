//! Cached reads of the stores on the request path: whether a warehouse
//! exists (the scope layer's picking-list rule, SPEC §5.2) and a user's
//! active warehouse (the demo service's filter).
//!
//! A request with a cached answer makes no database round trip. Each answer
//! is fresh for [`FRESH_FOR`]; after that the next request reloads it.
//! Concurrent requests for one key wait for a single load (single flight).
//! When a reload fails (the database is down), the last answer keeps being
//! used, and a key never loaded answers [`StoreError`] (503). The caches are
//! bounded ([`CAPACITY`] keys each, least recently used go first), and
//! in-process writers invalidate what they change.

use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use glue_auth_token::store::{StoreError, WarehouseAssignments};

/// How long an answer is used without asking the database again.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(5);

/// Keys kept per cache.
pub(crate) const CAPACITY: u64 = 100_000;

/// One cached key: the last answer (read without a lock) and the gate that
/// lets one request at a time reload it.
struct Slot<V> {
    last: ArcSwapOption<(V, Instant)>,
    loading: tokio::sync::Mutex<()>,
}

impl<V> Default for Slot<V> {
    fn default() -> Self {
        Slot {
            last: ArcSwapOption::empty(),
            loading: tokio::sync::Mutex::new(()),
        }
    }
}

/// A bounded cache of store answers with single-flight reloads and the last
/// answer kept for outages.
pub(crate) struct Memo<K, V> {
    slots: moka::sync::Cache<K, Arc<Slot<V>>, foldhash::fast::RandomState>,
    fresh_for: Duration,
}

impl<K, V> Memo<K, V>
where
    K: Hash + Eq + Send + Sync + Clone + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub(crate) fn new(capacity: u64, fresh_for: Duration) -> Self {
        Memo {
            slots: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .build_with_hasher(foldhash::fast::RandomState::default()),
            fresh_for,
        }
    }

    /// The last answer for `key`, fresh or not (no I/O, no lock).
    pub(crate) fn last(&self, key: &K) -> Option<V> {
        let slot = self.slots.get(key)?;
        slot.last.load().as_ref().map(|e| e.0.clone())
    }

    /// The answer for `key` if it is fresh (no I/O, no lock).
    pub(crate) fn fresh(&self, key: &K) -> Option<V> {
        let slot = self.slots.get(key)?;
        let entry = slot.last.load();
        let (value, at) = entry.as_deref()?;
        (at.elapsed() < self.fresh_for).then(|| value.clone())
    }

    /// A fresh answer: cached, or loaded once however many requests ask at
    /// the same time. A failed load falls back to the last answer.
    pub(crate) async fn get<F, Fut>(&self, key: K, load: F) -> Result<V, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, StoreError>>,
    {
        if let Some(v) = self.fresh(&key) {
            return Ok(v);
        }
        let slot = self.slots.get_with(key, || Arc::new(Slot::default()));
        let _gate = slot.loading.lock().await;
        // Loaded by the request we waited for.
        if let Some((value, at)) = slot.last.load().as_deref()
            && at.elapsed() < self.fresh_for
        {
            return Ok(value.clone());
        }
        match load().await {
            Ok(value) => {
                slot.last
                    .store(Some(Arc::new((value.clone(), Instant::now()))));
                Ok(value)
            }
            Err(e) => match slot.last.load().as_deref() {
                Some((stale, _)) => {
                    tracing::warn!(error = %e, "store unavailable; using the last answer");
                    Ok(stale.clone())
                }
                None => Err(e),
            },
        }
    }

    /// Forgets `key` (an in-process write changed it).
    pub(crate) fn invalidate(&self, key: &K) {
        self.slots.invalidate(key);
    }
}

/// The cached reads the gateway's request path needs.
pub(crate) struct Reads {
    store: Arc<dyn WarehouseAssignments>,
    warehouses: Memo<i64, bool>,
    active: Memo<Arc<str>, Option<i64>>,
}

impl Reads {
    pub(crate) fn new(store: Arc<dyn WarehouseAssignments>) -> Self {
        Reads {
            store,
            warehouses: Memo::new(CAPACITY, FRESH_FOR),
            active: Memo::new(CAPACITY, FRESH_FOR),
        }
    }

    /// Whether the warehouse exists, as last seen (the scope layer's
    /// synchronous question; [`Reads::warehouse_exists`] ran before it).
    pub(crate) fn warehouse_known(&self, id: i64) -> bool {
        self.warehouses.last(&id).unwrap_or(false)
    }

    /// Whether the answer for `id` is fresh.
    pub(crate) fn warehouse_fresh(&self, id: i64) -> bool {
        self.warehouses.fresh(&id).is_some()
    }

    /// Whether the warehouse exists (`spy_stock`).
    pub(crate) async fn warehouse_exists(&self, id: i64) -> Result<bool, StoreError> {
        self.warehouses
            .get(id, || self.store.warehouse_exists(id))
            .await
    }

    /// The user's active warehouse (`spy_warehouse_user_assignment`).
    pub(crate) async fn active_warehouse(
        &self,
        user_uuid: &str,
    ) -> Result<Option<i64>, StoreError> {
        let key: Arc<str> = Arc::from(user_uuid);
        self.active
            .get(key, || self.store.active_warehouse(user_uuid))
            .await
    }

    /// Forgets what is cached about a user's assignments.
    pub(crate) fn invalidate_user(&self, user_uuid: &str) {
        self.active.invalidate(&Arc::from(user_uuid));
    }

    /// Forgets what is cached about a warehouse.
    #[allow(dead_code)]
    pub(crate) fn invalidate_warehouse(&self, id: i64) {
        self.warehouses.invalidate(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    fn down() -> StoreError {
        StoreError::unavailable(std::io::Error::other("down"))
    }

    #[test]
    fn concurrent_misses_make_one_load() {
        rt().block_on(async {
            let memo = Arc::new(Memo::<i64, bool>::new(10, Duration::from_secs(60)));
            let loads = Arc::new(AtomicU32::new(0));
            let mut tasks = Vec::new();
            for _ in 0..32 {
                let (memo, loads) = (Arc::clone(&memo), Arc::clone(&loads));
                tasks.push(tokio::spawn(async move {
                    memo.get(7, || async {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(true)
                    })
                    .await
                }));
            }
            for t in tasks {
                assert!(t.await.unwrap().unwrap());
            }
            assert_eq!(loads.load(Ordering::SeqCst), 1);
            // Cached: no load at all.
            assert_eq!(memo.fresh(&7), Some(true));
            let v = memo.get(7, || async { panic!("loaded again") }).await;
            assert!(v.unwrap());
        });
    }

    #[test]
    fn stale_answers_serve_outages_and_fresh_ones_expire() {
        rt().block_on(async {
            let memo = Memo::<i64, bool>::new(10, Duration::from_millis(30));
            assert!(memo.get(1, || async { Err(down()) }).await.is_err());
            assert_eq!(memo.last(&1), None);
            assert!(memo.get(1, || async { Ok(true) }).await.unwrap());
            tokio::time::sleep(Duration::from_millis(40)).await;
            assert_eq!(memo.fresh(&1), None);
            // Down: the last answer stands.
            assert!(memo.get(1, || async { Err(down()) }).await.unwrap());
            // Back: the new answer replaces it.
            assert!(!memo.get(1, || async { Ok(false) }).await.unwrap());
            assert_eq!(memo.last(&1), Some(false));
            memo.invalidate(&1);
            assert_eq!(memo.last(&1), None);
        });
    }

    #[test]
    fn capacity_is_bounded() {
        rt().block_on(async {
            let memo = Memo::<i64, bool>::new(100, Duration::from_secs(60));
            for i in 0..10_000 {
                memo.get(i, || async { Ok(true) }).await.unwrap();
            }
            memo.slots.run_pending_tasks();
            assert!(
                memo.slots.entry_count() <= 100,
                "{}",
                memo.slots.entry_count()
            );
        });
    }
}
