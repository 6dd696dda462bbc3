//! [`AssignmentStore`] for [`MemoryDirectory`]: every change under the
//! directory's write lock, so it is atomic.

use super::directory::{Directory, MemoryDirectory, Row};
use super::ready;
use crate::store::{
    Assignment, AssignmentFilter, AssignmentRefusal, AssignmentResult, AssignmentStore,
    NewAssignment, StoreFuture, UserRecord, Warehouse, WarehouseRef,
};

impl Directory {
    fn assignment(&self, r: &Row) -> Option<Assignment> {
        let w = self.warehouses.get(&r.id_warehouse)?;
        Some(Assignment {
            id: r.id,
            uuid: r.uuid.clone(),
            user_uuid: r.user_uuid.clone(),
            warehouse: w.clone(),
            is_active: r.is_active,
        })
    }

    fn warehouse_user(&self, uuid: &str) -> bool {
        self.users
            .values()
            .any(|u| u.uuid == uuid && u.is_warehouse_user)
    }

    fn index_of(&self, uuid: &str) -> Option<usize> {
        self.assignments.iter().position(|r| r.uuid == uuid)
    }
}

impl AssignmentStore for MemoryDirectory {
    fn user_by_uuid<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Option<UserRecord>> {
        let found = self.read().users.values().find(|u| u.uuid == uuid).cloned();
        ready(Ok(found))
    }

    fn find_warehouse<'a>(&'a self, by: WarehouseRef<'a>) -> StoreFuture<'a, Option<Warehouse>> {
        let d = self.read();
        let found = match by {
            WarehouseRef::Id(id) => d.warehouses.get(&id).cloned(),
            WarehouseRef::Uuid(uuid) => d.warehouses.values().find(|w| w.uuid == uuid).cloned(),
        };
        ready(Ok(found))
    }

    fn list_assignments<'a>(
        &'a self,
        filter: &'a AssignmentFilter,
    ) -> StoreFuture<'a, Vec<Assignment>> {
        let d = self.read();
        let list = d
            .assignments
            .iter()
            .filter_map(|r| d.assignment(r))
            .filter(|a| filter.matches(a))
            .take(filter.limit as usize)
            .collect();
        ready(Ok(list))
    }

    fn create_assignment(&self, new: NewAssignment) -> StoreFuture<'_, AssignmentResult> {
        let mut d = self.write();
        let mut refused = Vec::new();
        if !d.warehouse_user(&new.user_uuid) {
            refused.push(AssignmentRefusal::UserNotFound);
        }
        let warehouse = d
            .warehouses
            .values()
            .find(|w| w.uuid == new.warehouse_uuid)
            .map(|w| w.id_warehouse);
        match warehouse {
            None => refused.push(AssignmentRefusal::WarehouseNotFound),
            Some(id) => {
                let taken = d
                    .assignments
                    .iter()
                    .any(|r| r.user_uuid == new.user_uuid && r.id_warehouse == id);
                if taken {
                    refused.push(AssignmentRefusal::AlreadyExists);
                }
            }
        }
        let Some(id_warehouse) = warehouse.filter(|_| refused.is_empty()) else {
            return ready(Ok(Err(refused)));
        };
        if new.is_active {
            d.deactivate_others(&new.user_uuid, None);
        }
        let row = d.push(&new.user_uuid, id_warehouse, new.is_active).clone();
        ready(Ok(d
            .assignment(&row)
            .ok_or_else(|| vec![AssignmentRefusal::WarehouseNotFound])))
    }

    fn set_assignment_active<'a>(
        &'a self,
        uuid: &'a str,
        is_active: bool,
    ) -> StoreFuture<'a, AssignmentResult> {
        let mut d = self.write();
        let Some(i) = d.index_of(uuid) else {
            return ready(Ok(Err(vec![AssignmentRefusal::NotFound])));
        };
        let row = d.assignments[i].clone();
        let mut refused = Vec::new();
        if !d.warehouse_user(&row.user_uuid) {
            refused.push(AssignmentRefusal::UserNotFound);
        }
        if !d.warehouses.contains_key(&row.id_warehouse) {
            refused.push(AssignmentRefusal::WarehouseNotFound);
        }
        if !refused.is_empty() {
            return ready(Ok(Err(refused)));
        }
        if is_active {
            d.deactivate_others(&row.user_uuid, Some(row.id));
        }
        d.assignments[i].is_active = is_active;
        let row = d.assignments[i].clone();
        ready(Ok(d
            .assignment(&row)
            .ok_or_else(|| vec![AssignmentRefusal::WarehouseNotFound])))
    }

    fn delete_assignment<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, AssignmentResult> {
        let mut d = self.write();
        let Some(i) = d.index_of(uuid) else {
            return ready(Ok(Err(vec![AssignmentRefusal::NotFound])));
        };
        let row = d.assignments.remove(i);
        ready(Ok(d
            .assignment(&row)
            .ok_or_else(|| vec![AssignmentRefusal::NotFound])))
    }
}

#[cfg(test)]
mod tests {
    use super::super::now;
    use super::*;
    use crate::store::{PasswordHash, UserStatus, WarehouseAssignments, uuid_for};

    fn dir() -> MemoryDirectory {
        let d = MemoryDirectory::demo();
        d.insert_user(UserRecord {
            id_user: 9,
            uuid: "wu".into(),
            username: "wu@example.com".into(),
            password_hash: PasswordHash::new("x"),
            status: UserStatus::Active,
            is_warehouse_user: true,
            user_reference: None,
        });
        d
    }

    #[test]
    fn rules() {
        let d = dir();
        let w1 = uuid_for("spy_stock", 1);
        let w2 = uuid_for("spy_stock", 2);
        // The demo user is a Back Office user: refused like an unknown one.
        let sonia = "0d743cc3-a772-5145-971e-d4018ee7a489";
        let r = now(d.create_assignment(NewAssignment::new(sonia, "nope"))).unwrap();
        assert_eq!(
            r.unwrap_err(),
            [
                AssignmentRefusal::UserNotFound,
                AssignmentRefusal::WarehouseNotFound
            ]
        );
        let a = now(d.create_assignment(NewAssignment::new("wu", &w1).active(true)))
            .unwrap()
            .unwrap();
        assert!(a.is_active);
        assert_eq!(a.warehouse.name, "Warehouse1");
        let dup = now(d.create_assignment(NewAssignment::new("wu", &w1))).unwrap();
        assert_eq!(dup.unwrap_err(), [AssignmentRefusal::AlreadyExists]);
        let b = now(d.create_assignment(NewAssignment::new("wu", &w2).active(true)))
            .unwrap()
            .unwrap();
        assert_eq!(now(d.active_warehouse("wu")).unwrap(), Some(2));
        let listed = now(d.list_assignments(&AssignmentFilter::all().user_uuid("wu"))).unwrap();
        assert_eq!(
            listed.iter().map(|a| a.is_active).collect::<Vec<_>>(),
            [false, true]
        );
        // Activating one deactivates the other.
        now(d.set_assignment_active(&a.uuid, true))
            .unwrap()
            .unwrap();
        assert_eq!(now(d.active_warehouse("wu")).unwrap(), Some(1));
        let active = AssignmentFilter::all().is_active(true);
        assert_eq!(now(d.list_assignments(&active)).unwrap().len(), 2);
        now(d.delete_assignment(&a.uuid)).unwrap().unwrap();
        assert_eq!(now(d.active_warehouse("wu")).unwrap(), None);
        assert_eq!(
            now(d.delete_assignment(&a.uuid)).unwrap().unwrap_err(),
            [AssignmentRefusal::NotFound]
        );
        assert_eq!(
            now(d.set_assignment_active("nope", true))
                .unwrap()
                .unwrap_err(),
            [AssignmentRefusal::NotFound]
        );
        assert!(
            now(d.set_assignment_active(&b.uuid, false))
                .unwrap()
                .is_ok()
        );
        assert_eq!(
            now(d.find_warehouse(WarehouseRef::Uuid(&w2)))
                .unwrap()
                .map(|w| w.id_warehouse),
            Some(2)
        );
        assert!(now(d.user_by_uuid("wu")).unwrap().is_some());
    }
}
