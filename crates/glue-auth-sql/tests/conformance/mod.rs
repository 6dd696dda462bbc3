//! The store conformance suite: the same checks against every implementation
//! of the store traits (in memory, SQLite, PostgreSQL, MariaDB/MySQL).
//!
//! Instantiate it with `conformance_tests!(async_fn_making_a_store)`; each
//! check gets a fresh store and uses its own ids and names, so the checks may
//! share one database.

#![allow(dead_code, async_fn_in_trait, unreachable_pub)]

pub mod assign;

pub use assign::{assignment_rules, concurrent_activations_leave_one_active};

use std::sync::Arc;
use std::time::Duration;

use glue_auth_core::{NumericDate, Principal, Scopes, UserPrincipal, WarehousePrincipal};
use glue_auth_token::store::{
    AccessTokenLog, AccessTokenRecord, AssignmentStore, PasswordHash, RefreshFamily,
    RefreshTokenHash, RefreshTokenRecord, RefreshTokens, Rotation, StoreError, UserDirectory,
    UserRecord, UserStatus, WarehouseAssignments,
};

/// What the suite needs beyond the traits: a way to put data in and read the
/// access-token log back.
pub trait Fixture:
    UserDirectory
    + WarehouseAssignments
    + AssignmentStore
    + RefreshTokens
    + AccessTokenLog
    + Send
    + Sync
    + 'static
{
    /// Stores a user exactly as given.
    async fn add_user(&self, user: UserRecord);
    /// Stores a warehouse.
    async fn add_warehouse(&self, id: i64, name: &str, active: bool);
    /// Makes `id` the user's one active assignment.
    async fn assign(&self, user: &UserRecord, id: i64);
    /// Deactivates the user's assignments.
    async fn unassign(&self, user: &UserRecord);
    /// The access-token log, in any order.
    async fn access_rows(&self) -> Vec<AccessTokenRecord>;
}

/// A PHP-made hash (`password_hash('change123', PASSWORD_BCRYPT)`), `$2y$`.
pub const SPRYKER_HASH: &str = "$2y$10$vCMI/2kzu2Us.4900jXXfO6t25SJoKA45Wc1WPFYHV5w/rwyRt1Eq";

pub fn user(id: i64, username: &str, status: UserStatus) -> UserRecord {
    UserRecord {
        id_user: id,
        uuid: format!("00000000-0000-4000-8000-{id:012}"),
        username: username.to_owned(),
        password_hash: PasswordHash::new(SPRYKER_HASH),
        status,
        is_warehouse_user: false,
        user_reference: None,
    }
}

/// A date with microseconds, `secs` from now.
pub fn in_secs(secs: i64) -> NumericDate {
    let now = NumericDate::now().as_micros();
    // Keep a non-zero microsecond part so that precision losses show.
    NumericDate::from_micros((now / 1_000_000 + secs) * 1_000_000 + 123_457)
}

pub fn token(
    secret: &str,
    family: RefreshFamily,
    principal: Principal,
    exp: NumericDate,
) -> RefreshTokenRecord {
    let scopes = match &principal {
        Principal::User(_) => Scopes::from_iter(["user", "back-office-user"]),
        Principal::Warehouse(_) => Scopes::from_iter(["warehouse"]),
    };
    RefreshTokenRecord {
        hash: RefreshTokenHash::of(secret),
        family,
        principal,
        scopes,
        client_id: "frontend".into(),
        expires_at: exp,
        revoked_at: None,
    }
}

fn family(n: u8) -> RefreshFamily {
    let mut f = [n; 16];
    // Distinct per run, so that checks sharing a database never collide.
    let r = NumericDate::now().as_micros().to_le_bytes();
    f[..8].copy_from_slice(&r);
    RefreshFamily(f)
}

fn secret(tag: &str) -> String {
    format!("{tag}-{}", NumericDate::now().as_micros())
}

fn user_principal(u: &UserRecord) -> Principal {
    Principal::User(UserPrincipal::new(
        u.id_user,
        u.uuid.clone(),
        None::<String>,
    ))
}

// ---- users ---------------------------------------------------------------

pub async fn users_by_username<S: Fixture>(s: S) {
    let active = user(101, "active@conformance.test", UserStatus::Active);
    let blocked = user(102, "blocked@conformance.test", UserStatus::Blocked);
    let deleted = user(103, "deleted@conformance.test", UserStatus::Deleted);
    let mut wh = user(104, "picker@conformance.test", UserStatus::Active);
    wh.is_warehouse_user = true;
    for u in [&active, &blocked, &deleted, &wh] {
        s.add_user(u.clone()).await;
    }
    for u in [&active, &blocked, &deleted, &wh] {
        let found = s.find_by_username(&u.username).await.unwrap();
        assert_eq!(found.as_ref(), Some(u), "{}", u.username);
    }
    assert_eq!(
        s.find_by_username("unknown@conformance.test")
            .await
            .unwrap(),
        None
    );
    // Exact match only.
    assert_eq!(
        s.find_by_username("ACTIVE@conformance.test").await.unwrap(),
        None
    );
    assert_eq!(
        s.find_by_username("active@conformance").await.unwrap(),
        None
    );
}

pub async fn spryker_hash_returned_intact<S: Fixture>(s: S) {
    let u = user(111, "hash@conformance.test", UserStatus::Active);
    s.add_user(u.clone()).await;
    let found = s.find_by_username(&u.username).await.unwrap().unwrap();
    assert_eq!(found.password_hash.expose(), SPRYKER_HASH);
    assert_eq!(found.password_hash.cost(), Some(10));
    assert!(bcrypt::verify("change123", found.password_hash.expose()).unwrap());
}

// ---- warehouses ----------------------------------------------------------

pub async fn active_assignment<S: Fixture>(s: S) {
    let u = user(201, "assigned@conformance.test", UserStatus::Active);
    let other = user(202, "other@conformance.test", UserStatus::Active);
    s.add_user(u.clone()).await;
    s.add_user(other.clone()).await;
    s.add_warehouse(201, "W201", true).await;
    s.add_warehouse(202, "W202", true).await;

    // none
    assert_eq!(s.active_warehouse(&u.uuid).await.unwrap(), None);
    assert_eq!(s.active_warehouse("no-such-uuid").await.unwrap(), None);
    // one
    s.assign(&u, 201).await;
    assert_eq!(s.active_warehouse(&u.uuid).await.unwrap(), Some(201));
    assert_eq!(s.active_warehouse(&other.uuid).await.unwrap(), None);
    // moved: the other assignment is deactivated
    s.assign(&u, 202).await;
    assert_eq!(s.active_warehouse(&u.uuid).await.unwrap(), Some(202));
    s.assign(&u, 201).await;
    assert_eq!(s.active_warehouse(&u.uuid).await.unwrap(), Some(201));
    // deactivated
    s.unassign(&u).await;
    assert_eq!(s.active_warehouse(&u.uuid).await.unwrap(), None);
}

pub async fn inactive_warehouse_is_no_assignment<S: Fixture>(s: S) {
    let u = user(211, "closed@conformance.test", UserStatus::Active);
    s.add_user(u.clone()).await;
    s.add_warehouse(211, "W211", false).await;
    s.assign(&u, 211).await;
    assert_eq!(s.active_warehouse(&u.uuid).await.unwrap(), None);
}

pub async fn warehouse_exists<S: Fixture>(s: S) {
    s.add_warehouse(221, "W221", true).await;
    s.add_warehouse(222, "W222", false).await;
    assert!(s.warehouse_exists(221).await.unwrap());
    assert!(!s.warehouse_exists(222).await.unwrap());
    assert!(!s.warehouse_exists(229).await.unwrap());
    assert!(!s.warehouse_exists(-1).await.unwrap());
}

// ---- refresh tokens ------------------------------------------------------

pub async fn refresh_insert_and_find<S: Fixture>(s: S) {
    let u = user(301, "refresh@conformance.test", UserStatus::Active);
    let a = token(
        &secret("find-user"),
        family(1),
        user_principal(&u),
        in_secs(3600),
    );
    let b = token(
        &secret("find-wh"),
        family(2),
        Principal::Warehouse(WarehousePrincipal::new(7)),
        in_secs(7200),
    );
    let mut c = token(
        &secret("find-revoked"),
        family(3),
        user_principal(&u),
        in_secs(60),
    );
    c.revoked_at = Some(in_secs(-5));
    c.scopes = Scopes::from_iter(["user"]);
    for t in [&a, &b, &c] {
        s.insert(t.clone()).await.unwrap();
    }
    for t in [&a, &b, &c] {
        assert_eq!(s.find(t.hash).await.unwrap().as_ref(), Some(t));
    }
    assert_eq!(
        s.find(RefreshTokenHash::of("never issued")).await.unwrap(),
        None
    );
}

pub async fn refresh_hash_collision_is_refused<S: Fixture>(s: S) {
    let t = token(
        &secret("dup"),
        family(4),
        Principal::Warehouse(WarehousePrincipal::new(1)),
        in_secs(60),
    );
    s.insert(t.clone()).await.unwrap();
    assert!(matches!(
        s.insert(t.clone()).await,
        Err(StoreError::Inconsistent(_))
    ));
}

pub async fn rotate_once<S: Fixture>(s: S) {
    let fam = family(5);
    let p = Principal::Warehouse(WarehousePrincipal::new(3));
    let first = token(&secret("rot-1"), fam, p.clone(), in_secs(3600));
    let second = token(&secret("rot-2"), fam, p.clone(), in_secs(3600));
    let third = token(&secret("rot-3"), fam, p.clone(), in_secs(3600));
    s.insert(first.clone()).await.unwrap();
    let now = in_secs(0);

    assert_eq!(
        s.rotate(first.hash, second.clone(), now).await.unwrap(),
        Rotation::Rotated
    );
    let spent = s.find(first.hash).await.unwrap().unwrap();
    assert_eq!(spent.revoked_at, Some(now));
    assert_eq!(s.find(second.hash).await.unwrap(), Some(second.clone()));

    // The spent token again: a replay, nothing stored.
    assert_eq!(
        s.rotate(first.hash, third.clone(), now).await.unwrap(),
        Rotation::Reused
    );
    assert_eq!(s.find(third.hash).await.unwrap(), None);
    // The successor rotates in turn.
    assert_eq!(
        s.rotate(second.hash, third.clone(), now).await.unwrap(),
        Rotation::Rotated
    );

    let unknown = token(&secret("rot-x"), fam, p, in_secs(3600));
    assert_eq!(
        s.rotate(RefreshTokenHash::of("never issued"), unknown.clone(), now)
            .await
            .unwrap(),
        Rotation::NotFound
    );
    assert_eq!(s.find(unknown.hash).await.unwrap(), None);
}

pub async fn expired_token_does_not_rotate<S: Fixture>(s: S) {
    let fam = family(6);
    let p = Principal::Warehouse(WarehousePrincipal::new(4));
    let old = token(&secret("exp-1"), fam, p.clone(), in_secs(10));
    let next = token(&secret("exp-2"), fam, p, in_secs(3600));
    s.insert(old.clone()).await.unwrap();
    // Exactly at expiry is expired already.
    assert_eq!(
        s.rotate(old.hash, next.clone(), old.expires_at)
            .await
            .unwrap(),
        Rotation::Expired
    );
    assert_eq!(
        s.rotate(old.hash, next.clone(), in_secs(20)).await.unwrap(),
        Rotation::Expired
    );
    assert_eq!(s.find(old.hash).await.unwrap(), Some(old));
    assert_eq!(s.find(next.hash).await.unwrap(), None);
}

pub async fn rotation_into_another_family_is_refused<S: Fixture>(s: S) {
    let p = Principal::Warehouse(WarehousePrincipal::new(5));
    let used = token(&secret("fam-1"), family(7), p.clone(), in_secs(3600));
    let mut next = token(&secret("fam-2"), family(8), p, in_secs(3600));
    next.principal = Principal::Warehouse(WarehousePrincipal::new(6));
    s.insert(used.clone()).await.unwrap();
    assert!(matches!(
        s.rotate(used.hash, next.clone(), in_secs(0)).await,
        Err(StoreError::Inconsistent(_))
    ));
    assert_eq!(s.find(used.hash).await.unwrap(), Some(used));
    assert_eq!(s.find(next.hash).await.unwrap(), None);
}

pub async fn revoke_family<S: Fixture>(s: S) {
    let u = user(401, "family@conformance.test", UserStatus::Active);
    let fam = family(9);
    let p = user_principal(&u);
    let a = token(&secret("rev-a"), fam, p.clone(), in_secs(3600));
    let b = token(&secret("rev-b"), fam, p.clone(), in_secs(3600));
    let mut c = token(&secret("rev-c"), fam, p.clone(), in_secs(3600));
    let spent_at = in_secs(-100);
    c.revoked_at = Some(spent_at);
    // Another principal, another family: untouched.
    let other = token(
        &secret("rev-other"),
        family(10),
        Principal::Warehouse(WarehousePrincipal::new(401)),
        in_secs(3600),
    );
    for t in [&a, &b, &c, &other] {
        s.insert(t.clone()).await.unwrap();
    }
    let fam = s.find(a.hash).await.unwrap().unwrap().family;
    let now = in_secs(0);
    assert_eq!(s.revoke_family(fam, now).await.unwrap(), 2);
    assert_eq!(s.find(a.hash).await.unwrap().unwrap().revoked_at, Some(now));
    assert_eq!(s.find(b.hash).await.unwrap().unwrap().revoked_at, Some(now));
    assert_eq!(
        s.find(c.hash).await.unwrap().unwrap().revoked_at,
        Some(spent_at)
    );
    assert_eq!(s.find(other.hash).await.unwrap().unwrap().revoked_at, None);
    // Nothing left to revoke; a revoked token no longer rotates.
    assert_eq!(s.revoke_family(fam, now).await.unwrap(), 0);
    let next = token(&secret("rev-next"), fam, p, in_secs(3600));
    assert_eq!(s.rotate(a.hash, next, now).await.unwrap(), Rotation::Reused);
}

/// 32 concurrent rotations of one token: exactly one wins, every other one
/// sees a replay, and exactly one successor is stored.
pub async fn concurrent_rotations_have_one_winner<S: Fixture>(s: S) {
    let s = Arc::new(s);
    let fam = family(11);
    let p = Principal::Warehouse(WarehousePrincipal::new(9));
    let first = token(&secret("race"), fam, p.clone(), in_secs(3600));
    s.insert(first.clone()).await.unwrap();
    let now = in_secs(0);
    let successors: Vec<_> = (0..32)
        .map(|i| token(&secret(&format!("race-{i}")), fam, p.clone(), in_secs(3600)))
        .collect();
    let barrier = Arc::new(tokio::sync::Barrier::new(successors.len()));
    let tasks: Vec<_> = successors
        .iter()
        .cloned()
        .map(|next| {
            let s = Arc::clone(&s);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                s.rotate(first.hash, next, now).await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap().unwrap());
    }
    let won = outcomes.iter().filter(|o| **o == Rotation::Rotated).count();
    let reused = outcomes.iter().filter(|o| **o == Rotation::Reused).count();
    assert_eq!((won, reused), (1, 31), "{outcomes:?}");
    let mut stored = 0;
    for next in &successors {
        if s.find(next.hash).await.unwrap().is_some() {
            stored += 1;
        }
    }
    assert_eq!(stored, 1);
}

// ---- access-token log ----------------------------------------------------

pub async fn access_token_log_row<S: Fixture>(s: S) {
    let u = user(501, "log@conformance.test", UserStatus::Active);
    let jti = format!("{:0>80}", NumericDate::now().as_micros());
    let rec = AccessTokenRecord {
        jti: jti.clone(),
        principal: user_principal(&u),
        scopes: Scopes::from_iter(["user", "back-office-user"]),
        client_id: "frontend".into(),
        expires_at: in_secs(28800),
    };
    s.record(rec.clone()).await.unwrap();
    let rows = s.access_rows().await;
    assert!(rows.contains(&rec), "{rows:?}");
}

/// Store calls never take long on a healthy store (the suite's sanity bound).
pub async fn calls_are_quick<S: Fixture>(s: S) {
    let t = std::time::Instant::now();
    for _ in 0..20 {
        s.find_by_username("nobody@conformance.test").await.unwrap();
    }
    assert!(t.elapsed() < Duration::from_secs(5));
}

/// One `#[tokio::test]` per check; `$make` is an `async fn() -> impl Fixture`.
#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::conformance_tests!(@each $make;
            users_by_username,
            spryker_hash_returned_intact,
            active_assignment,
            inactive_warehouse_is_no_assignment,
            warehouse_exists,
            refresh_insert_and_find,
            refresh_hash_collision_is_refused,
            rotate_once,
            expired_token_does_not_rotate,
            rotation_into_another_family_is_refused,
            revoke_family,
            concurrent_rotations_have_one_winner,
            access_token_log_row,
            calls_are_quick,
            assignment_rules,
            concurrent_activations_leave_one_active,
        );
    };
    (@each $make:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                if let Some(store) = $make().await {
                    conformance::$name(store).await;
                }
            }
        )*
    };
}
