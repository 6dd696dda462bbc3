//! [`MemoryAccessTokenLog`]: the newest issued-token rows in memory.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::{lock, ready};
use crate::store::{AccessTokenLog, AccessTokenRecord, StoreFuture};

/// The newest issued-token rows in memory (a ring of `capacity` rows), for
/// tests and audits of small deployments.
#[derive(Debug)]
pub struct MemoryAccessTokenLog {
    rows: Mutex<VecDeque<AccessTokenRecord>>,
    capacity: usize,
}

impl MemoryAccessTokenLog {
    /// A log keeping the newest `capacity` rows.
    pub fn new(capacity: usize) -> Self {
        MemoryAccessTokenLog {
            rows: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
        }
    }

    /// The kept rows, oldest first.
    pub fn records(&self) -> Vec<AccessTokenRecord> {
        lock(&self.rows).iter().cloned().collect()
    }
}

impl AccessTokenLog for MemoryAccessTokenLog {
    fn record(&self, record: AccessTokenRecord) -> StoreFuture<'_, ()> {
        let mut rows = lock(&self.rows);
        if rows.len() == self.capacity {
            rows.pop_front();
        }
        rows.push_back(record);
        ready(Ok(()))
    }
}
