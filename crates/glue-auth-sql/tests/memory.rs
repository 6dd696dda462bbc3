//! The store conformance suite against glue-auth-token's in-memory stores.

mod conformance;

use glue_auth_core::NumericDate;
use glue_auth_token::store::{
    AccessTokenLog, AccessTokenRecord, RefreshFamily, RefreshTokenHash, RefreshTokenRecord,
    RefreshTokens, Rotation, StoreFuture, UserDirectory, UserRecord, WarehouseAssignments,
};
use glue_auth_token::{MemoryAccessTokenLog, MemoryDirectory, MemoryRefreshTokens, Warehouse};

/// The three in-memory stores as one value.
#[derive(Debug)]
struct Memory {
    dir: MemoryDirectory,
    refresh: MemoryRefreshTokens,
    log: MemoryAccessTokenLog,
}

impl UserDirectory for Memory {
    fn find_by_username<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRecord>> {
        self.dir.find_by_username(username)
    }
}

impl WarehouseAssignments for Memory {
    fn active_warehouse<'a>(&'a self, user_uuid: &'a str) -> StoreFuture<'a, Option<i64>> {
        self.dir.active_warehouse(user_uuid)
    }
    fn warehouse_exists(&self, id_warehouse: i64) -> StoreFuture<'_, bool> {
        self.dir.warehouse_exists(id_warehouse)
    }
}

impl RefreshTokens for Memory {
    fn insert(&self, record: RefreshTokenRecord) -> StoreFuture<'_, ()> {
        self.refresh.insert(record)
    }
    fn find(&self, hash: RefreshTokenHash) -> StoreFuture<'_, Option<RefreshTokenRecord>> {
        self.refresh.find(hash)
    }
    fn rotate(
        &self,
        used: RefreshTokenHash,
        next: RefreshTokenRecord,
        now: NumericDate,
    ) -> StoreFuture<'_, Rotation> {
        self.refresh.rotate(used, next, now)
    }
    fn revoke_family(&self, family: RefreshFamily, now: NumericDate) -> StoreFuture<'_, u64> {
        self.refresh.revoke_family(family, now)
    }
}

impl AccessTokenLog for Memory {
    fn record(&self, record: AccessTokenRecord) -> StoreFuture<'_, ()> {
        self.log.record(record)
    }
}

impl conformance::Fixture for Memory {
    async fn add_user(&self, user: UserRecord) {
        self.dir.insert_user(user);
    }
    async fn add_warehouse(&self, id: i64, name: &str, active: bool) {
        self.dir.insert_warehouse(Warehouse {
            id_warehouse: id,
            name: name.into(),
            is_active: active,
        });
    }
    async fn assign(&self, user: &UserRecord, id: i64) {
        self.dir.assign(&user.uuid, id, true);
    }
    async fn unassign(&self, user: &UserRecord) {
        for id in [201, 202, 211] {
            self.dir.assign(&user.uuid, id, false);
        }
    }
    async fn access_rows(&self) -> Vec<AccessTokenRecord> {
        self.log.records()
    }
}

async fn make() -> Option<Memory> {
    Some(Memory {
        dir: MemoryDirectory::new(),
        refresh: MemoryRefreshTokens::new(10_000),
        log: MemoryAccessTokenLog::new(1_000),
    })
}

conformance_tests!(make);
