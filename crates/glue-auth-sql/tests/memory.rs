//! The store conformance suite against glue-auth-token's in-memory stores.

mod conformance;

use glue_auth_core::NumericDate;
use glue_auth_token::store::{
    AccessTokenLog, AccessTokenRecord, Assignment, AssignmentFilter, AssignmentResult,
    AssignmentStore, NewAssignment, RefreshFamily, RefreshTokenHash, RefreshTokenRecord,
    RefreshTokens, Rotation, StoreFuture, UserDirectory, UserRecord, WarehouseAssignments,
    WarehouseRef,
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

impl AssignmentStore for Memory {
    fn user_by_uuid<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Option<UserRecord>> {
        self.dir.user_by_uuid(uuid)
    }
    fn find_warehouse<'a>(
        &'a self,
        by: WarehouseRef<'a>,
    ) -> StoreFuture<'a, Option<glue_auth_token::store::Warehouse>> {
        self.dir.find_warehouse(by)
    }
    fn list_assignments<'a>(
        &'a self,
        filter: &'a AssignmentFilter,
    ) -> StoreFuture<'a, Vec<Assignment>> {
        self.dir.list_assignments(filter)
    }
    fn create_assignment(&self, new: NewAssignment) -> StoreFuture<'_, AssignmentResult> {
        self.dir.create_assignment(new)
    }
    fn set_assignment_active<'a>(
        &'a self,
        uuid: &'a str,
        is_active: bool,
    ) -> StoreFuture<'a, AssignmentResult> {
        self.dir.set_assignment_active(uuid, is_active)
    }
    fn delete_assignment<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, AssignmentResult> {
        self.dir.delete_assignment(uuid)
    }
}

impl conformance::Fixture for Memory {
    async fn add_user(&self, user: UserRecord) {
        self.dir.insert_user(user);
    }
    async fn add_warehouse(&self, id: i64, name: &str, active: bool) {
        self.dir.insert_warehouse(Warehouse {
            id_warehouse: id,
            uuid: glue_auth_token::store::uuid_for("spy_stock", id),
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
