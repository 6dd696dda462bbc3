//! [`MemoryDirectory`]: users, warehouses and assignments in memory.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use glue_auth_core::NumericDate;

use super::ready;
use crate::store::{
    PasswordHash, StoreFuture, UserDirectory, UserRecord, UserStanding, UserStatus, Warehouse,
    WarehouseAssignments, random_uuid, uuid_for,
};

/// The bcrypt hash (cost 10, PHP's `$2y$`) of the demo password `change123`.
const DEMO_HASH: &str = "$2y$10$vCMI/2kzu2Us.4900jXXfO6t25SJoKA45Wc1WPFYHV5w/rwyRt1Eq";

/// One `spy_warehouse_user_assignment` row.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) id: i64,
    pub(super) uuid: String,
    pub(super) user_uuid: String,
    pub(super) id_warehouse: i64,
    pub(super) is_active: bool,
}

#[derive(Debug, Default)]
pub(super) struct Directory {
    pub(super) users: HashMap<String, UserRecord>,
    /// By user uuid: when the password last changed.
    pub(super) password_changed: HashMap<String, NumericDate>,
    pub(super) warehouses: HashMap<i64, Warehouse>,
    /// Oldest first.
    pub(super) assignments: Vec<Row>,
    pub(super) last_id: i64,
}

impl Directory {
    /// Adds a row with a new id and a random uuid.
    pub(super) fn push(&mut self, user_uuid: &str, id_warehouse: i64, is_active: bool) -> &Row {
        self.last_id += 1;
        self.assignments.push(Row {
            id: self.last_id,
            uuid: random_uuid(),
            user_uuid: user_uuid.to_owned(),
            id_warehouse,
            is_active,
        });
        &self.assignments[self.assignments.len() - 1]
    }

    /// Deactivates every active assignment of the user but `keep`.
    pub(super) fn deactivate_others(&mut self, user_uuid: &str, keep: Option<i64>) {
        for r in &mut self.assignments {
            if r.user_uuid == user_uuid && Some(r.id) != keep {
                r.is_active = false;
            }
        }
    }
}

/// Users, warehouses and warehouse assignments in memory: implements
/// [`UserDirectory`], [`WarehouseAssignments`] and
/// [`AssignmentStore`](crate::store::AssignmentStore). Cheap to clone; clones
/// share the data, so a test can block a user while a server holds a clone.
///
/// Load it from JSON (see [`MemoryDirectory::from_json_str`]) or start from
/// [`MemoryDirectory::demo`].
#[derive(Clone, Default)]
pub struct MemoryDirectory {
    inner: Arc<RwLock<Directory>>,
}

impl fmt::Debug for MemoryDirectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.read();
        f.debug_struct("MemoryDirectory")
            .field("users", &d.users.len())
            .field("warehouses", &d.warehouses.len())
            .field("assignments", &d.assignments.len())
            .finish()
    }
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Spryker's demo data: `sonia@spryker.com` / `change123` (`id_user` 4,
    /// uuid `0d743cc3-a772-5145-971e-d4018ee7a489`, active, bcrypt cost 10),
    /// actively assigned to warehouse 1 (`Warehouse1`, uuid
    /// `834b3731-02d4-5d6f-9a61-d63ae5e70517`); warehouse 2 (`Warehouse2`)
    /// exists without an assignment. Warehouse uuids are Spryker's for their
    /// ids ([`uuid_for`]). A second user, `unassigned@spryker.com` /
    /// `change123` (`id_user` 13, uuid
    /// `00000000-0000-0000-0000-000000000013`), has no warehouse assignment:
    /// the user whose `POST /warehouse-tokens` is `403` `5101`.
    pub fn demo() -> Self {
        let dir = Self::new();
        for (id, name) in [(1, "Warehouse1"), (2, "Warehouse2")] {
            dir.insert_warehouse(Warehouse {
                id_warehouse: id,
                uuid: uuid_for("spy_stock", id),
                name: name.into(),
                is_active: true,
            });
        }
        dir.insert_user(UserRecord {
            id_user: 4,
            uuid: "0d743cc3-a772-5145-971e-d4018ee7a489".into(),
            username: "sonia@spryker.com".into(),
            password_hash: PasswordHash::new(DEMO_HASH),
            status: UserStatus::Active,
            is_warehouse_user: false,
            user_reference: None,
        });
        dir.assign("0d743cc3-a772-5145-971e-d4018ee7a489", 1, true);
        dir.insert_user(UserRecord {
            id_user: 13,
            uuid: "00000000-0000-0000-0000-000000000013".into(),
            username: "unassigned@spryker.com".into(),
            password_hash: PasswordHash::new(DEMO_HASH),
            status: UserStatus::Active,
            is_warehouse_user: false,
            user_reference: None,
        });
        dir
    }

    pub(super) fn read(&self) -> std::sync::RwLockReadGuard<'_, Directory> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn write(&self) -> std::sync::RwLockWriteGuard<'_, Directory> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds or replaces a user (keyed by username).
    pub fn insert_user(&self, user: UserRecord) {
        self.write().users.insert(user.username.clone(), user);
    }

    /// Changes a user's status; `false` when there is no such user.
    pub fn set_status(&self, username: &str, status: UserStatus) -> bool {
        match self.write().users.get_mut(username) {
            Some(u) => {
                u.status = status;
                true
            }
            None => false,
        }
    }

    /// Replaces a user's password hash; tokens issued before `changed_at`
    /// no longer exchange or refresh ([`UserStanding::revoked_before`]).
    /// `false` when there is no such user.
    pub fn set_password_hash(
        &self,
        username: &str,
        hash: PasswordHash,
        changed_at: NumericDate,
    ) -> bool {
        let mut d = self.write();
        let Some(u) = d.users.get_mut(username) else {
            return false;
        };
        u.password_hash = hash;
        let uuid = u.uuid.clone();
        d.password_changed.insert(uuid, changed_at);
        true
    }

    /// The user with this username.
    pub fn user(&self, username: &str) -> Option<UserRecord> {
        self.read().users.get(username).cloned()
    }

    /// Adds or replaces a warehouse (keyed by id).
    pub fn insert_warehouse(&self, warehouse: Warehouse) {
        self.write()
            .warehouses
            .insert(warehouse.id_warehouse, warehouse);
    }

    /// The warehouse with this id.
    pub fn warehouse(&self, id_warehouse: i64) -> Option<Warehouse> {
        self.read().warehouses.get(&id_warehouse).cloned()
    }

    /// Whether a warehouse has this id, or this (non-empty) uuid.
    pub(super) fn warehouse_taken(&self, id_warehouse: i64, uuid: &str) -> bool {
        let d = self.read();
        d.warehouses.contains_key(&id_warehouse)
            || (!uuid.is_empty() && d.warehouses.values().any(|w| w.uuid == uuid))
    }

    /// Whether the user has an active assignment to another warehouse.
    pub(super) fn active_elsewhere(&self, user_uuid: &str, id_warehouse: i64) -> bool {
        self.read()
            .assignments
            .iter()
            .any(|r| r.user_uuid == user_uuid && r.id_warehouse != id_warehouse && r.is_active)
    }

    /// Sets an assignment (creating it with a random uuid when the user has
    /// none to this warehouse). Activating one deactivates the user's other
    /// assignments (at most one is active per user). A raw data operation:
    /// neither the user nor the warehouse is checked (see
    /// [`AssignmentStore`](crate::store::AssignmentStore) for the rules).
    pub fn assign(&self, user_uuid: &str, id_warehouse: i64, is_active: bool) {
        let mut d = self.write();
        let existing = d
            .assignments
            .iter()
            .position(|r| r.user_uuid == user_uuid && r.id_warehouse == id_warehouse);
        let id = match existing {
            Some(i) => {
                d.assignments[i].is_active = is_active;
                d.assignments[i].id
            }
            None => d.push(user_uuid, id_warehouse, is_active).id,
        };
        if is_active {
            d.deactivate_others(user_uuid, Some(id));
        }
    }
}

impl UserDirectory for MemoryDirectory {
    fn find_by_username<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRecord>> {
        ready(Ok(self.user(username)))
    }

    fn standing<'a>(&'a self, user_uuid: &'a str) -> StoreFuture<'a, Option<UserStanding>> {
        let d = self.read();
        let standing = d
            .users
            .values()
            .find(|u| u.uuid == user_uuid)
            .map(|u| UserStanding {
                status: u.status,
                revoked_before: d.password_changed.get(user_uuid).copied(),
            });
        ready(Ok(standing))
    }
}

impl WarehouseAssignments for MemoryDirectory {
    fn active_warehouse<'a>(&'a self, user_uuid: &'a str) -> StoreFuture<'a, Option<i64>> {
        let d = self.read();
        let found = d
            .assignments
            .iter()
            .find(|r| {
                r.is_active
                    && r.user_uuid == user_uuid
                    && d.warehouses
                        .get(&r.id_warehouse)
                        .is_some_and(|w| w.is_active)
            })
            .map(|r| r.id_warehouse);
        ready(Ok(found))
    }

    fn warehouse_exists(&self, id_warehouse: i64) -> StoreFuture<'_, bool> {
        let exists = self
            .read()
            .warehouses
            .get(&id_warehouse)
            .is_some_and(|w| w.is_active);
        ready(Ok(exists))
    }
}

#[cfg(test)]
mod tests {
    use super::super::now;
    use super::*;

    #[test]
    fn demo_hash_is_change123_at_cost_10() {
        let h = PasswordHash::new(DEMO_HASH);
        assert_eq!(h.cost(), Some(10));
        assert!(bcrypt::verify("change123", DEMO_HASH).unwrap());
    }

    #[test]
    fn demo_assignments() {
        let d = MemoryDirectory::demo();
        assert_eq!(
            now(d.active_warehouse("0d743cc3-a772-5145-971e-d4018ee7a489")).unwrap(),
            Some(1)
        );
        assert!(now(d.warehouse_exists(2)).unwrap());
        assert!(!now(d.warehouse_exists(3)).unwrap());
        d.assign("0d743cc3-a772-5145-971e-d4018ee7a489", 1, false);
        assert_eq!(
            now(d.active_warehouse("0d743cc3-a772-5145-971e-d4018ee7a489")).unwrap(),
            None
        );
        d.assign("0d743cc3-a772-5145-971e-d4018ee7a489", 2, true);
        d.assign("0d743cc3-a772-5145-971e-d4018ee7a489", 1, true);
        assert_eq!(
            now(d.active_warehouse("0d743cc3-a772-5145-971e-d4018ee7a489")).unwrap(),
            Some(1)
        );
        assert_eq!(d.read().assignments.len(), 2);
    }
}
