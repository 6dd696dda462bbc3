//! bcrypt verification on a bounded blocking pool.
//!
//! A verification at Spryker's cost 10 takes tens of milliseconds of CPU. It
//! runs on Tokio's blocking threads (`spawn_blocking`), never on a runtime
//! worker, behind a semaphore of `max_concurrent` permits. At most
//! `max_concurrent + max_queued` verifications are admitted at once; the next
//! one is refused at once ([`Busy`]), and the endpoint answers 503 with
//! `Retry-After` instead of letting latency grow without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::HashingSettings;
use crate::store::PasswordHash;

/// bcrypt reads at most this many bytes of a password.
const MAX_PASSWORD_BYTES: usize = 72;

/// The pool refused the work: the queue is full, or no Tokio runtime runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Busy;

#[derive(Debug)]
pub(crate) struct HashPool {
    permits: Arc<Semaphore>,
    admitted: Arc<AtomicUsize>,
    max_admitted: usize,
    /// A hash of a random password at the configured cost: unknown and
    /// inactive users are checked against it so that every path costs one
    /// verification.
    dummy: PasswordHash,
    /// The cost of `dummy` (`PasswordHash::cost` parsed once).
    dummy_cost: u32,
    /// Set once a stored hash of another cost than the dummy's was seen (the
    /// warning is logged once per server).
    cost_warned: AtomicBool,
    /// Stored hashes above this cost are refused without hashing.
    max_stored_cost: u32,
    /// Set once a hash above `max_stored_cost` was seen.
    hostile_warned: AtomicBool,
}

/// Decrements the admission count when the work is over (or abandoned before
/// it was spawned).
struct Admission(Arc<AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashPool {
    pub(crate) fn new(settings: HashingSettings) -> Result<Self, bcrypt::BcryptError> {
        let HashingSettings {
            max_concurrent,
            max_queued,
            password_cost: dummy_cost,
            max_stored_cost,
        } = settings;
        let random = crate::crypto::hex(&crate::crypto::bytes::<16>());
        let dummy = PasswordHash::new(bcrypt::hash(random, dummy_cost)?);
        // `bcrypt::hash` refuses costs outside 4..=31: the prefix parses.
        let dummy_cost = dummy.cost().unwrap_or(dummy_cost);
        Ok(HashPool {
            permits: Arc::new(Semaphore::new(max_concurrent)),
            admitted: Arc::new(AtomicUsize::new(0)),
            max_admitted: max_concurrent + max_queued,
            dummy,
            dummy_cost,
            cost_warned: AtomicBool::new(false),
            max_stored_cost,
            hostile_warned: AtomicBool::new(false),
        })
    }

    #[cfg(test)]
    pub(crate) fn dummy(&self) -> &PasswordHash {
        &self.dummy
    }

    /// The bcrypt cost of the dummy hash.
    pub(crate) fn dummy_cost(&self) -> u32 {
        self.dummy_cost
    }

    /// Warns (once per pool) when a stored hash has another cost than the
    /// dummy: unknown users then answer faster or slower than wrong passwords
    /// of that user, and the answer time tells which usernames exist.
    fn check_cost(&self, hash: &PasswordHash) {
        let Some(cost) = hash.cost() else { return };
        if cost != self.dummy_cost && !self.cost_warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                stored_cost = cost,
                password_cost = self.dummy_cost,
                "token endpoint: a stored password hash has another bcrypt cost than \
                 `password_cost`; unknown users are then told apart by answer time: \
                 set `password_cost` to the cost of the stored hashes"
            );
        }
    }

    /// Verifies `password` against `hash` (the dummy hash when `None`) on the
    /// blocking pool. `Ok(false)` for a mismatch or a malformed hash.
    pub(crate) async fn verify(
        &self,
        password: Zeroizing<String>,
        hash: Option<PasswordHash>,
    ) -> Result<bool, Busy> {
        if let Some(h) = &hash {
            self.check_cost(h);
        }
        // A stored hash above the cost limit is hostile (cost 31 pins a core
        // for hours): it never reaches bcrypt. The dummy is verified instead,
        // so the answer (`invalid_grant`) takes a normal verification's time.
        let (hash, hostile) = match hash {
            Some(h) if h.cost().is_some_and(|c| c > self.max_stored_cost) => {
                if !self.hostile_warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        stored_cost = h.cost(),
                        max_stored_cost = self.max_stored_cost,
                        "token endpoint: a stored password hash has a bcrypt cost above \
                         `max_stored_cost`; that user cannot log in (refused without hashing)"
                    );
                }
                (self.dummy.clone(), true)
            }
            Some(h) => (h, false),
            None => (self.dummy.clone(), false),
        };
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            tracing::error!("the token endpoint needs a Tokio runtime for password hashing");
            Busy
        })?;
        if self.admitted.fetch_add(1, Ordering::AcqRel) >= self.max_admitted {
            self.admitted.fetch_sub(1, Ordering::AcqRel);
            return Err(Busy);
        }
        let admission = Admission(Arc::clone(&self.admitted));
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| Busy)?;
        // Permit and admission move into the blocking task: even when this
        // future is dropped (client gone), the bound holds until bcrypt ends.
        let task = handle.spawn_blocking(move || {
            let _permit = permit;
            let _admission = admission;
            // bcrypt uses the first 72 bytes, as PHP's `password_verify`
            // does (bytes, not characters: a UTF-8 character may be cut).
            // `bcrypt::verify` truncates too; cutting here keeps the rule
            // whatever the crate does with longer input.
            let bytes = password.as_bytes();
            let used = &bytes[..bytes.len().min(MAX_PASSWORD_BYTES)];
            match bcrypt::verify(used, hash.expose()) {
                Ok(ok) => ok && !hostile,
                Err(e) => {
                    tracing::warn!(error = %e, "stored password hash is not a valid bcrypt hash");
                    false
                }
            }
        });
        task.await.map_err(|_| Busy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(max_concurrent: usize, max_queued: usize) -> HashingSettings {
        HashingSettings {
            max_concurrent,
            max_queued,
            password_cost: 4,
            max_stored_cost: 14,
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn verifies_2y_and_2b_and_the_dummy() {
        let pool = HashPool::new(settings(2, 2)).unwrap();
        assert_eq!(pool.dummy().cost(), Some(4));
        let h2b = bcrypt::hash("change123", 4).unwrap();
        let h2y = h2b.replacen("$2b$", "$2y$", 1);
        for h in [h2b, h2y] {
            let ok = pool
                .verify(
                    Zeroizing::new("change123".into()),
                    Some(PasswordHash::new(h.as_str())),
                )
                .await;
            assert_eq!(ok, Ok(true));
            let bad = pool
                .verify(
                    Zeroizing::new("change124".into()),
                    Some(PasswordHash::new(h.as_str())),
                )
                .await;
            assert_eq!(bad, Ok(false));
        }
        let dummy = pool.verify(Zeroizing::new("x".into()), None).await;
        assert_eq!(dummy, Ok(false));
        let broken = pool
            .verify(Zeroizing::new("x".into()), Some(PasswordHash::new("nope")))
            .await;
        assert_eq!(broken, Ok(false));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn full_queue_is_refused() {
        let pool = Arc::new(HashPool::new(settings(1, 1)).unwrap());
        // Hold the only permit so admitted work queues.
        let held = Arc::clone(&pool.permits).acquire_owned().await.unwrap();
        let p1 = Arc::clone(&pool);
        let first = tokio::spawn(async move { p1.verify(Zeroizing::new("a".into()), None).await });
        let p2 = Arc::clone(&pool);
        let second = tokio::spawn(async move { p2.verify(Zeroizing::new("b".into()), None).await });
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        let third = pool.verify(Zeroizing::new("c".into()), None).await;
        assert_eq!(third, Err(Busy));
        drop(held);
        assert_eq!(first.await.unwrap(), Ok(false));
        assert_eq!(second.await.unwrap(), Ok(false));
        assert_eq!(pool.admitted.load(Ordering::Acquire), 0);
    }
}
