//! [`MemoryDirectory`]: users, warehouses and assignments in memory.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, RwLock};

use serde::Deserialize;

use super::ready;
use crate::store::{
    PasswordHash, StoreFuture, UserDirectory, UserRecord, UserStatus, WarehouseAssignments,
};

/// The bcrypt hash (cost 10, PHP's `$2y$`) of the demo password `change123`.
const DEMO_HASH: &str = "$2y$10$vCMI/2kzu2Us.4900jXXfO6t25SJoKA45Wc1WPFYHV5w/rwyRt1Eq";

/// Why a users file could not be loaded.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    Io(std::io::Error),
    /// Not JSON of the expected shape.
    Json(serde_json::Error),
    /// The data breaks an invariant of Spryker's schema.
    Invalid(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(e) => write!(f, "cannot read the users file: {e}"),
            LoadError::Json(e) => write!(f, "users file is not valid: {e}"),
            LoadError::Invalid(what) => write!(f, "users file is inconsistent: {what}"),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Io(e) => Some(e),
            LoadError::Json(e) => Some(e),
            LoadError::Invalid(_) => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileData {
    #[serde(default)]
    users: Vec<FileUser>,
    #[serde(default)]
    warehouses: Vec<FileWarehouse>,
    #[serde(default)]
    assignments: Vec<FileAssignment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileUser {
    id_user: i64,
    uuid: String,
    username: String,
    password: String,
    #[serde(default = "active")]
    status: String,
    #[serde(default)]
    is_warehouse_user: bool,
    #[serde(default)]
    user_reference: Option<String>,
}

fn active() -> String {
    "active".into()
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWarehouse {
    id_warehouse: i64,
    name: String,
    #[serde(default = "yes")]
    is_active: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAssignment {
    user_uuid: String,
    id_warehouse: i64,
    #[serde(default = "yes")]
    is_active: bool,
}

/// A warehouse (`spy_stock`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warehouse {
    /// `id_stock`.
    pub id_warehouse: i64,
    /// `name`.
    pub name: String,
    /// `is_active`.
    pub is_active: bool,
}

#[derive(Debug, Default)]
struct Directory {
    users: HashMap<String, UserRecord>,
    warehouses: HashMap<i64, Warehouse>,
    /// `(user_uuid, id_warehouse) -> is_active`
    assignments: HashMap<(String, i64), bool>,
}

/// Users, warehouses and warehouse assignments in memory: implements
/// [`UserDirectory`] and [`WarehouseAssignments`]. Cheap to clone; clones
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
    /// actively assigned to warehouse 1 (`Warehouse1`); warehouse 2
    /// (`Warehouse2`) exists without an assignment.
    pub fn demo() -> Self {
        let dir = Self::new();
        dir.insert_warehouse(Warehouse {
            id_warehouse: 1,
            name: "Warehouse1".into(),
            is_active: true,
        });
        dir.insert_warehouse(Warehouse {
            id_warehouse: 2,
            name: "Warehouse2".into(),
            is_active: true,
        });
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
        dir
    }

    /// Loads users, warehouses and assignments from JSON:
    ///
    /// ```
    /// use glue_auth_token::MemoryDirectory;
    ///
    /// let dir = MemoryDirectory::from_json_str(r#"{
    ///   "users": [{"id_user": 7, "uuid": "u-7", "username": "ann@example.com",
    ///              "password": "$2y$10$vCMI/2kzu2Us.4900jXXfO6t25SJoKA45Wc1WPFYHV5w/rwyRt1Eq",
    ///              "status": "active", "is_warehouse_user": true, "user_reference": null}],
    ///   "warehouses": [{"id_warehouse": 3, "name": "North", "is_active": true}],
    ///   "assignments": [{"user_uuid": "u-7", "id_warehouse": 3, "is_active": true}]
    /// }"#).unwrap();
    /// assert_eq!(dir.user("ann@example.com").unwrap().id_user, 7);
    /// ```
    ///
    /// `status` defaults to `active`, `is_active` to true. Passwords must be
    /// bcrypt hashes (`$2y$`, `$2b$` or `$2a$`); usernames unique; at most one
    /// active assignment per user; assignments must name a listed warehouse.
    pub fn from_json_str(json: &str) -> Result<Self, LoadError> {
        let data: FileData = serde_json::from_str(json).map_err(LoadError::Json)?;
        let dir = Self::new();
        for w in data.warehouses {
            if dir.read().warehouses.contains_key(&w.id_warehouse) {
                return Err(LoadError::Invalid(format!(
                    "warehouse {} listed twice",
                    w.id_warehouse
                )));
            }
            dir.insert_warehouse(Warehouse {
                id_warehouse: w.id_warehouse,
                name: w.name,
                is_active: w.is_active,
            });
        }
        for u in data.users {
            let status = UserStatus::parse(&u.status)
                .ok_or_else(|| LoadError::Invalid(format!("user {}: unknown status", u.id_user)))?;
            let hash = PasswordHash::new(u.password);
            let bcrypt_like = ["$2y$", "$2b$", "$2a$"]
                .iter()
                .any(|p| hash.expose().starts_with(p))
                && hash.expose().len() == 60
                && hash.cost().is_some_and(|c| (4..=31).contains(&c));
            if !bcrypt_like {
                return Err(LoadError::Invalid(format!(
                    "user {}: password is not a bcrypt hash",
                    u.id_user
                )));
            }
            if dir.read().users.contains_key(&u.username) {
                return Err(LoadError::Invalid(format!(
                    "user {}: username listed twice",
                    u.id_user
                )));
            }
            dir.insert_user(UserRecord {
                id_user: u.id_user,
                uuid: u.uuid,
                username: u.username,
                password_hash: hash,
                status,
                is_warehouse_user: u.is_warehouse_user,
                user_reference: u.user_reference,
            });
        }
        for a in data.assignments {
            if !dir.read().warehouses.contains_key(&a.id_warehouse) {
                return Err(LoadError::Invalid(format!(
                    "assignment to unknown warehouse {}",
                    a.id_warehouse
                )));
            }
            let active_elsewhere = dir
                .read()
                .assignments
                .iter()
                .any(|((u, w), active)| *u == a.user_uuid && *w != a.id_warehouse && *active);
            if a.is_active && active_elsewhere {
                return Err(LoadError::Invalid(
                    "a user has two active warehouse assignments".into(),
                ));
            }
            dir.assign(&a.user_uuid, a.id_warehouse, a.is_active);
        }
        Ok(dir)
    }

    /// Loads a JSON file (see [`MemoryDirectory::from_json_str`]).
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path).map_err(LoadError::Io)?;
        Self::from_json_str(&text)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Directory> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Directory> {
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

    /// The user with this username.
    pub fn user(&self, username: &str) -> Option<UserRecord> {
        self.read().users.get(username).cloned()
    }

    /// Adds or replaces a warehouse.
    pub fn insert_warehouse(&self, warehouse: Warehouse) {
        self.write()
            .warehouses
            .insert(warehouse.id_warehouse, warehouse);
    }

    /// Sets an assignment. Activating one deactivates the user's other
    /// assignments (at most one is active per user).
    pub fn assign(&self, user_uuid: &str, id_warehouse: i64, is_active: bool) {
        let mut d = self.write();
        if is_active {
            for ((u, _), active) in d.assignments.iter_mut() {
                if u == user_uuid {
                    *active = false;
                }
            }
        }
        d.assignments
            .insert((user_uuid.to_owned(), id_warehouse), is_active);
    }
}

impl UserDirectory for MemoryDirectory {
    fn find_by_username<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRecord>> {
        ready(Ok(self.user(username)))
    }
}

impl WarehouseAssignments for MemoryDirectory {
    fn active_warehouse<'a>(&'a self, user_uuid: &'a str) -> StoreFuture<'a, Option<i64>> {
        let d = self.read();
        let found = d
            .assignments
            .iter()
            .find(|((u, w), active)| {
                **active && u == user_uuid && d.warehouses.get(w).is_some_and(|w| w.is_active)
            })
            .map(|((_, w), _)| *w);
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
    fn json_loading_checks_invariants() {
        let ok = MemoryDirectory::from_json_str(
            r#"{"users":[{"id_user":1,"uuid":"u","username":"a","password":"$2b$04$abcdefghijklmnopqrstuu5I.Ig7yRi5W5G6QyR8SYo4Y2g0m0Ghy"}],
                "warehouses":[{"id_warehouse":1,"name":"W"}],
                "assignments":[{"user_uuid":"u","id_warehouse":1}]}"#,
        )
        .unwrap();
        assert_eq!(now(ok.active_warehouse("u")).unwrap(), Some(1));
        for bad in [
            r#"{"users":[{"id_user":1,"uuid":"u","username":"a","password":"plain"}]}"#,
            r#"{"assignments":[{"user_uuid":"u","id_warehouse":9}]}"#,
            r#"{"users":[],"extra":1}"#,
            r#"{"warehouses":[{"id_warehouse":1,"name":"W"},{"id_warehouse":2,"name":"X"}],
                "assignments":[{"user_uuid":"u","id_warehouse":1},{"user_uuid":"u","id_warehouse":2}]}"#,
        ] {
            assert!(MemoryDirectory::from_json_str(bad).is_err(), "{bad}");
        }
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
    }
}
