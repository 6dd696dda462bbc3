//! Loading a [`MemoryDirectory`] from JSON (the gateway's `users_file`).

use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::directory::MemoryDirectory;
use crate::store::{PasswordHash, UserRecord, UserStatus, Warehouse, uuid_for};

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
    #[serde(default)]
    uuid: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAssignment {
    user_uuid: String,
    id_warehouse: i64,
    #[serde(default = "yes")]
    is_active: bool,
}

impl MemoryDirectory {
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
    /// `status` defaults to `active`, `is_active` to true, a warehouse's
    /// `uuid` to Spryker's for its id ([`uuid_for`]`("spy_stock", id)`).
    /// Passwords must be bcrypt hashes (`$2y$`, `$2b$` or `$2a$`); usernames
    /// and warehouse uuids unique; at most one active assignment per user;
    /// assignments must name a listed warehouse.
    pub fn from_json_str(json: &str) -> Result<Self, LoadError> {
        let data: FileData = serde_json::from_str(json).map_err(LoadError::Json)?;
        let dir = Self::new();
        for w in data.warehouses {
            let uuid = w
                .uuid
                .unwrap_or_else(|| uuid_for("spy_stock", w.id_warehouse));
            if dir.warehouse_taken(w.id_warehouse, &uuid) {
                return Err(LoadError::Invalid(format!(
                    "warehouse {} listed twice",
                    w.id_warehouse
                )));
            }
            dir.insert_warehouse(Warehouse {
                id_warehouse: w.id_warehouse,
                uuid,
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
            if dir.user(&u.username).is_some() {
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
            if !dir.warehouse_taken(a.id_warehouse, "") {
                return Err(LoadError::Invalid(format!(
                    "assignment to unknown warehouse {}",
                    a.id_warehouse
                )));
            }
            if a.is_active && dir.active_elsewhere(&a.user_uuid, a.id_warehouse) {
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
}

#[cfg(test)]
mod tests {
    use super::super::now;
    use super::*;
    use crate::store::WarehouseAssignments;

    #[test]
    fn json_loading_checks_invariants() {
        let ok = MemoryDirectory::from_json_str(
            r#"{"users":[{"id_user":1,"uuid":"u","username":"a","password":"$2b$04$abcdefghijklmnopqrstuu5I.Ig7yRi5W5G6QyR8SYo4Y2g0m0Ghy"}],
                "warehouses":[{"id_warehouse":1,"name":"W"},{"id_warehouse":5,"name":"X","uuid":"x-5"}],
                "assignments":[{"user_uuid":"u","id_warehouse":1}]}"#,
        )
        .unwrap();
        assert_eq!(now(ok.active_warehouse("u")).unwrap(), Some(1));
        assert_eq!(
            ok.warehouse(1).unwrap().uuid,
            "834b3731-02d4-5d6f-9a61-d63ae5e70517"
        );
        assert_eq!(ok.warehouse(5).unwrap().uuid, "x-5");
        for bad in [
            r#"{"users":[{"id_user":1,"uuid":"u","username":"a","password":"plain"}]}"#,
            r#"{"assignments":[{"user_uuid":"u","id_warehouse":9}]}"#,
            r#"{"users":[],"extra":1}"#,
            r#"{"warehouses":[{"id_warehouse":1,"name":"W"},{"id_warehouse":2,"name":"X"}],
                "assignments":[{"user_uuid":"u","id_warehouse":1},{"user_uuid":"u","id_warehouse":2}]}"#,
            r#"{"warehouses":[{"id_warehouse":1,"name":"W","uuid":"s"},{"id_warehouse":2,"name":"X","uuid":"s"}]}"#,
        ] {
            assert!(MemoryDirectory::from_json_str(bad).is_err(), "{bad}");
        }
    }
}
