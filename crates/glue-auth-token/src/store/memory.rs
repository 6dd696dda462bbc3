//! In-memory stores: for tests, demos and small single-instance deployments.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use glue_auth_core::{Clock, NumericDate, SystemClock};
use serde::Deserialize;

use super::{
    AccessTokenLog, AccessTokenRecord, PasswordHash, RefreshFamily, RefreshTokenHash,
    RefreshTokenRecord, RefreshTokens, Rotation, StoreError, StoreFuture, UserDirectory,
    UserRecord, UserStatus, WarehouseAssignments,
};

fn ready<'a, T: Send + 'a>(v: Result<T, StoreError>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(v))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

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

/// Refresh tokens in memory, bounded: an insert into a full store (`capacity`
/// tokens) never fails, it evicts one token first, in this order:
///
/// 1. an expired token (it can no longer be redeemed);
/// 2. a revoked (spent) token, the soonest-expiring first: it serves only to
///    detect reuse, so under pressure reuse detection of old chains is the
///    first thing lost (a replayed token that was evicted is refused as
///    unknown, without revoking its family);
/// 3. the live token that expires soonest (its holder logs in again).
///
/// Each eviction is `O(log n)` (indexes by expiry); nothing rescans the map.
/// A full store therefore never turns logins into 503s, whoever fills it.
pub struct MemoryRefreshTokens {
    tokens: Mutex<Tokens>,
    capacity: usize,
    clock: Box<dyn Clock>,
}

/// An index key: expiry first, then the hash to tell equal expiries apart.
type ByExpiry = (NumericDate, [u8; 32]);

#[derive(Default)]
struct Tokens {
    map: HashMap<RefreshTokenHash, RefreshTokenRecord>,
    /// Tokens not revoked, by expiry.
    live: BTreeSet<ByExpiry>,
    /// Revoked tokens, by expiry.
    revoked: BTreeSet<ByExpiry>,
}

fn by_expiry(r: &RefreshTokenRecord) -> ByExpiry {
    (r.expires_at, r.hash.0)
}

impl Tokens {
    fn index_of(&mut self, r: &RefreshTokenRecord) -> &mut BTreeSet<ByExpiry> {
        if r.revoked_at.is_some() {
            &mut self.revoked
        } else {
            &mut self.live
        }
    }

    fn insert(&mut self, record: RefreshTokenRecord) {
        let key = by_expiry(&record);
        self.index_of(&record).insert(key);
        self.map.insert(record.hash, record);
    }

    fn remove(&mut self, hash: &RefreshTokenHash) {
        if let Some(r) = self.map.remove(hash) {
            let key = by_expiry(&r);
            self.index_of(&r).remove(&key);
        }
    }

    /// Sets `revoked_at` of a live token; `false` when it is absent or
    /// already revoked.
    fn revoke(&mut self, hash: &RefreshTokenHash, now: NumericDate) -> bool {
        let Some(r) = self.map.get_mut(hash) else {
            return false;
        };
        if r.revoked_at.is_some() {
            return false;
        }
        r.revoked_at = Some(now);
        let key = by_expiry(r);
        self.live.remove(&key);
        self.revoked.insert(key);
        true
    }

    /// The token to evict: an expired one, else the soonest-expiring revoked
    /// one, else the soonest-expiring live one.
    fn victim(&self, now: NumericDate) -> Option<RefreshTokenHash> {
        let live = self.live.first();
        let key = match live {
            Some(k) if k.0 <= now => Some(k),
            _ => self.revoked.first().or(live),
        };
        key.map(|&(_, h)| RefreshTokenHash(h))
    }
}

impl fmt::Debug for MemoryRefreshTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryRefreshTokens")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl Default for MemoryRefreshTokens {
    fn default() -> Self {
        Self::new(100_000)
    }
}

impl MemoryRefreshTokens {
    /// A store of at most `capacity` tokens on the system clock.
    pub fn new(capacity: usize) -> Self {
        Self::with_clock(capacity, SystemClock)
    }

    /// A store whose eviction reads `clock` to tell expired tokens.
    pub fn with_clock(capacity: usize, clock: impl Clock) -> Self {
        MemoryRefreshTokens {
            tokens: Mutex::new(Tokens::default()),
            capacity: capacity.max(1),
            clock: Box::new(clock),
        }
    }

    /// Number of stored tokens (live, spent and revoked).
    pub fn len(&self) -> usize {
        lock(&self.tokens).map.len()
    }

    /// `true` when no token is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The store's capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Stores `record`, evicting tokens while the store is full.
    fn put(&self, tokens: &mut Tokens, record: RefreshTokenRecord) -> Result<(), StoreError> {
        if tokens.map.contains_key(&record.hash) {
            return Err(StoreError::Inconsistent(
                "refresh token hash collision".into(),
            ));
        }
        if tokens.map.len() >= self.capacity {
            let now = self.clock.now();
            while tokens.map.len() >= self.capacity {
                let Some(victim) = tokens.victim(now) else {
                    break;
                };
                tokens.remove(&victim);
            }
        }
        tokens.insert(record);
        Ok(())
    }
}

impl RefreshTokens for MemoryRefreshTokens {
    fn insert(&self, record: RefreshTokenRecord) -> StoreFuture<'_, ()> {
        let mut tokens = lock(&self.tokens);
        let result = self.put(&mut tokens, record);
        drop(tokens);
        ready(result)
    }

    fn find(&self, hash: RefreshTokenHash) -> StoreFuture<'_, Option<RefreshTokenRecord>> {
        ready(Ok(lock(&self.tokens).map.get(&hash).cloned()))
    }

    fn rotate(
        &self,
        used: RefreshTokenHash,
        next: RefreshTokenRecord,
        now: NumericDate,
    ) -> StoreFuture<'_, Rotation> {
        let mut tokens = lock(&self.tokens);
        let outcome = match tokens.map.get(&used) {
            None => Ok(Rotation::NotFound),
            Some(r) if r.revoked_at.is_some() => Ok(Rotation::Reused),
            Some(r) if r.expires_at <= now => Ok(Rotation::Expired),
            Some(r) if r.family != next.family => Err(StoreError::Inconsistent(
                "rotation into another family".into(),
            )),
            Some(_) if tokens.map.contains_key(&next.hash) => Err(StoreError::Inconsistent(
                "refresh token hash collision".into(),
            )),
            Some(_) => {
                // Revoke first, so that an eviction by the successor's
                // insert sees the used token as spent.
                tokens.revoke(&used, now);
                self.put(&mut tokens, next).map(|()| Rotation::Rotated)
            }
        };
        drop(tokens);
        ready(outcome)
    }

    fn revoke_family(&self, family: RefreshFamily, now: NumericDate) -> StoreFuture<'_, u64> {
        let mut tokens = lock(&self.tokens);
        // A scan, but only on a replay (rare, and throttled per address).
        let members: Vec<RefreshTokenHash> = tokens
            .map
            .values()
            .filter(|r| r.family == family && r.revoked_at.is_none())
            .map(|r| r.hash)
            .collect();
        let mut n = 0;
        for h in &members {
            n += u64::from(tokens.revoke(h, now));
        }
        drop(tokens);
        ready(Ok(n))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use glue_auth_core::{Principal, Scopes, WarehousePrincipal};

    #[test]
    fn demo_hash_is_change123_at_cost_10() {
        let h = PasswordHash::new(DEMO_HASH);
        assert_eq!(h.cost(), Some(10));
        assert!(bcrypt::verify("change123", DEMO_HASH).unwrap());
    }

    fn rec(family: RefreshFamily, exp: i64) -> RefreshTokenRecord {
        RefreshTokenRecord {
            hash: RefreshTokenHash::of(&crate::crypto::refresh_token()),
            family,
            principal: Principal::Warehouse(WarehousePrincipal::new(1)),
            scopes: Scopes::from_iter(["warehouse"]),
            client_id: "frontend".into(),
            expires_at: NumericDate::from_secs(exp),
            revoked_at: None,
        }
    }

    fn now<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("memory stores are always ready"),
        }
    }

    #[test]
    fn rotation_and_reuse() {
        let store = MemoryRefreshTokens::new(10);
        let fam = RefreshFamily::random();
        let a = rec(fam, 200);
        now(store.insert(a.clone())).unwrap();
        let b = rec(fam, 200);
        let t = NumericDate::from_secs(150);
        assert_eq!(
            now(store.rotate(a.hash, b.clone(), t)).unwrap(),
            Rotation::Rotated
        );
        assert_eq!(
            now(store.rotate(a.hash, rec(fam, 200), t)).unwrap(),
            Rotation::Reused
        );
        assert_eq!(now(store.revoke_family(fam, t)).unwrap(), 1);
        assert_eq!(
            now(store.rotate(b.hash, rec(fam, 200), t)).unwrap(),
            Rotation::Reused
        );
        assert_eq!(
            now(store.rotate(b.hash, rec(fam, 200), NumericDate::from_secs(250))).unwrap(),
            Rotation::Reused
        );
        let c = rec(fam, 200);
        now(store.insert(c.clone())).unwrap();
        assert_eq!(
            now(store.rotate(c.hash, rec(fam, 300), NumericDate::from_secs(200))).unwrap(),
            Rotation::Expired
        );
        let other = rec(RefreshFamily::random(), 400);
        assert_eq!(
            now(store.rotate(other.hash, other.clone(), t)).unwrap(),
            Rotation::NotFound
        );
        assert_eq!(store.len(), 3);
    }

    #[test]
    fn full_store_evicts_expired_then_revoked_then_soonest() {
        let clock = glue_auth_core::ManualClock::new(NumericDate::from_secs(100));
        let store = MemoryRefreshTokens::with_clock(3, clock.clone());
        let has = |r: &RefreshTokenRecord| now(store.find(r.hash)).unwrap().is_some();
        let (a, b, c) = (
            rec(RefreshFamily::random(), 300),
            rec(RefreshFamily::random(), 200),
            rec(RefreshFamily::random(), 400),
        );
        for r in [&a, &b, &c] {
            now(store.insert(r.clone())).unwrap();
        }
        // Full, nothing expired or revoked: the soonest-expiring goes.
        let d = rec(RefreshFamily::random(), 500);
        now(store.insert(d.clone())).unwrap();
        assert!(!has(&b) && has(&a) && has(&c) && has(&d));
        // A revoked token goes before live ones that expire sooner.
        now(store.revoke_family(c.family, NumericDate::from_secs(100))).unwrap();
        let e = rec(RefreshFamily::random(), 600);
        now(store.insert(e.clone())).unwrap();
        assert!(!has(&c) && has(&a) && has(&d) && has(&e));
        // An expired token goes before a revoked one: `a` expired at 300;
        // the rotation revokes `d` and its successor evicts `a`.
        clock.set(NumericDate::from_secs(350));
        let g = rec(d.family, 700);
        assert_eq!(
            now(store.rotate(d.hash, g.clone(), NumericDate::from_secs(350))).unwrap(),
            Rotation::Rotated
        );
        assert!(!has(&a) && has(&d) && has(&e) && has(&g));
        assert_eq!(
            now(store.rotate(d.hash, rec(d.family, 700), NumericDate::from_secs(350))).unwrap(),
            Rotation::Reused
        );
        // Far more inserts than the capacity: all succeed, the size holds.
        for i in 0..1000 {
            now(store.insert(rec(RefreshFamily::random(), 1000 + i))).unwrap();
        }
        assert_eq!(store.len(), 3);
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
