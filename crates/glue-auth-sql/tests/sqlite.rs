//! The store conformance suite, the demo seed and the admin operations on
//! SQLite (a temporary file per test).

mod conformance;
mod sql_fixture;

use std::time::Duration;

use glue_auth_core::{NumericDate, Principal, WarehousePrincipal};
use glue_auth_sql::{DatabaseKind, NewUser, SqlError, SqlStore, TokenFilter};
use glue_auth_token::store::{
    RefreshFamily, RefreshTokens, StoreError, UserDirectory, UserStatus, WarehouseAssignments,
};

/// A fresh SQLite file (kept alive by leaking its directory guard until the
/// process ends; the OS temp dir is cleaned by `TempDir` on drop otherwise).
fn temp_db() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("glue.db");
    let url = format!("sqlite:{}", path.display());
    (dir, url)
}

async fn make() -> Option<SqlStore> {
    let (dir, url) = temp_db();
    // The file must outlive the store; the test process is short-lived.
    std::mem::forget(dir);
    Some(
        SqlStore::builder(url)
            .seed_demo(false)
            .password_cost(4)
            .connect()
            .await
            .unwrap(),
    )
}

conformance_tests!(make);

const SONIA: &str = "sonia@spryker.com";
const SONIA_UUID: &str = "0d743cc3-a772-5145-971e-d4018ee7a489";

#[tokio::test]
async fn first_connect_creates_migrates_and_seeds() {
    let (_dir, url) = temp_db();
    let store = SqlStore::connect(&url).await.unwrap();
    assert_eq!(store.kind(), DatabaseKind::Sqlite);
    let sonia = store.find_by_username(SONIA).await.unwrap().unwrap();
    assert_eq!(sonia.id_user, 4);
    assert_eq!(sonia.uuid, SONIA_UUID);
    assert_eq!(sonia.status, UserStatus::Active);
    assert!(!sonia.is_warehouse_user);
    let hash = sonia.password_hash.expose();
    assert!(hash.starts_with("$2y$10$"), "{hash}");
    assert!(bcrypt::verify("change123", hash).unwrap());
    assert_eq!(store.active_warehouse(SONIA_UUID).await.unwrap(), Some(1));
    assert!(store.warehouse_exists(1).await.unwrap());
    assert!(store.warehouse_exists(2).await.unwrap());
    assert!(!store.warehouse_exists(3).await.unwrap());
    store.close().await;

    // Connecting again neither migrates nor seeds twice; data persists.
    let again = SqlStore::connect(&url).await.unwrap();
    assert!(!again.seed_demo_if_empty().await.unwrap());
    assert_eq!(
        again
            .find_by_username(SONIA)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        sonia.password_hash
    );
    assert!(!again.ensure_oauth_client("frontend").await.unwrap());
}

#[tokio::test]
async fn plain_path_and_memory_urls() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.db");
    let store = SqlStore::builder(path.to_str().unwrap())
        .seed_demo(false)
        .connect()
        .await
        .unwrap();
    assert!(store.find_by_username(SONIA).await.unwrap().is_none());
    assert!(path.exists());

    let mem = SqlStore::connect("sqlite::memory:").await.unwrap();
    assert!(mem.find_by_username(SONIA).await.unwrap().is_some());

    assert!(matches!(
        SqlStore::connect("mssql://localhost/db").await,
        Err(SqlError::Config(_))
    ));
    assert!(matches!(
        SqlStore::builder("sqlite::memory:")
            .spryker_database()
            .connect()
            .await,
        Err(SqlError::Config(_))
    ));
}

#[tokio::test]
async fn admin_users() {
    let store = make().await.unwrap();
    let ann = store
        .add_user(NewUser::new("ann@example.com", "s3cret!").names("Ann", "Example"))
        .await
        .unwrap();
    assert!(ann.id_user > 0);
    assert_eq!(ann.uuid.len(), 36);
    let found = store
        .find_by_username("ann@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, ann);
    assert!(found.password_hash.expose().starts_with("$2y$04$"));
    assert!(bcrypt::verify("s3cret!", found.password_hash.expose()).unwrap());

    // A second user gets the next id; a taken username is a conflict.
    let bob = store
        .add_user(NewUser::new("bob@example.com", "pw").warehouse_user(true))
        .await
        .unwrap();
    assert!(bob.id_user > ann.id_user);
    assert!(bob.is_warehouse_user);
    assert!(matches!(
        store.add_user(NewUser::new("ann@example.com", "x")).await,
        Err(SqlError::Conflict(_))
    ));
    assert!(matches!(
        store.add_user(NewUser::new("x".repeat(46), "x")).await,
        Err(SqlError::Invalid(_))
    ));
    assert!(matches!(
        store
            .add_user(NewUser::new("long@example.com", "x".repeat(73)))
            .await,
        Err(SqlError::Invalid(_))
    ));

    store.block_user("ann@example.com").await.unwrap();
    assert_eq!(
        store.user("ann@example.com").await.unwrap().unwrap().status,
        UserStatus::Blocked
    );
    store.unblock_user("ann@example.com").await.unwrap();
    assert_eq!(
        store.user("ann@example.com").await.unwrap().unwrap().status,
        UserStatus::Active
    );
    store
        .set_user_status("ann@example.com", UserStatus::Deleted)
        .await
        .unwrap();
    assert_eq!(
        store.user("ann@example.com").await.unwrap().unwrap().status,
        UserStatus::Deleted
    );
    assert!(matches!(
        store.block_user("nobody@example.com").await,
        Err(SqlError::NotFound(_))
    ));

    let before = NumericDate::now();
    store
        .set_password("bob@example.com", "new-pw")
        .await
        .unwrap();
    let bob = store.user("bob@example.com").await.unwrap().unwrap();
    assert!(bcrypt::verify("new-pw", bob.password_hash.expose()).unwrap());
    // Tokens issued before the new password no longer exchange or refresh.
    let standing = store.standing(&bob.uuid).await.unwrap().unwrap();
    let changed = standing.revoked_before.expect("a revocation date");
    assert!(changed >= before, "{changed} < {before}");
    assert!(!standing.allows(Some(before)));
    assert!(standing.allows(Some(NumericDate::now())));
}

#[tokio::test]
async fn admin_assignments() {
    let store = make().await.unwrap();
    let ann = store
        .add_user(NewUser::new("ann@example.com", "pw"))
        .await
        .unwrap();
    let w1 = store
        .add_warehouse(glue_auth_sql::NewWarehouse::new("North"))
        .await
        .unwrap();
    let w2 = store
        .add_warehouse(glue_auth_sql::NewWarehouse::new("South"))
        .await
        .unwrap();
    assert_ne!(w1, w2);
    store.assign_warehouse("ann@example.com", w1).await.unwrap();
    store.assign_warehouse("ann@example.com", w2).await.unwrap();
    assert_eq!(store.active_warehouse(&ann.uuid).await.unwrap(), Some(w2));
    assert!(matches!(
        store.assign_warehouse("ann@example.com", 999).await,
        Err(SqlError::NotFound(_))
    ));
    assert!(matches!(
        store.assign_warehouse("nobody@example.com", w1).await,
        Err(SqlError::NotFound(_))
    ));
    // The failed assignment changed nothing.
    assert_eq!(store.active_warehouse(&ann.uuid).await.unwrap(), Some(w2));
    assert_eq!(
        store.unassign_warehouses("ann@example.com").await.unwrap(),
        1
    );
    assert_eq!(store.active_warehouse(&ann.uuid).await.unwrap(), None);
}

#[tokio::test]
async fn admin_refresh_tokens() {
    let store = make().await.unwrap();
    let ann = store
        .add_user(NewUser::new("ann@example.com", "pw"))
        .await
        .unwrap();
    let p = Principal::User(glue_auth_core::UserPrincipal::new(
        ann.id_user,
        ann.uuid.clone(),
        None::<String>,
    ));
    let fam = RefreshFamily([1; 16]);
    let a = conformance::token("ann-1", fam, p.clone(), conformance::in_secs(3600));
    let b = conformance::token(
        "ann-2",
        RefreshFamily([2; 16]),
        p.clone(),
        conformance::in_secs(3600),
    );
    let w = conformance::token(
        "wh-1",
        RefreshFamily([3; 16]),
        Principal::Warehouse(WarehousePrincipal::new(1)),
        conformance::in_secs(3600),
    );
    for t in [&a, &b, &w] {
        store.insert(t.clone()).await.unwrap();
    }
    let all = store
        .list_refresh_tokens(&TokenFilter::all())
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    // Newest first, no secrets: an 8-digit hash prefix only.
    assert_eq!(all[0].hash_prefix, w.hash.to_hex()[..8]);
    assert!(
        all.iter()
            .all(|t| t.hash_prefix.len() == 8 && t.created_at.is_some())
    );
    let debug = format!("{all:?}");
    assert!(!debug.contains(&a.hash.to_hex()));

    let anns = store
        .list_refresh_tokens(&TokenFilter::user("ann@example.com"))
        .await
        .unwrap();
    assert_eq!(anns.len(), 2);
    assert!(
        anns.iter()
            .all(|t| t.principal == p && t.client_id == "frontend")
    );
    assert_eq!(anns[1].family, fam.to_hex());

    assert_eq!(
        store
            .revoke_user_refresh_tokens("ann@example.com")
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .revoke_user_refresh_tokens("ann@example.com")
            .await
            .unwrap(),
        0
    );
    assert!(
        store
            .find(a.hash)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert!(
        store
            .find(w.hash)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
    assert!(
        store
            .list_refresh_tokens(&TokenFilter::user("ann@example.com"))
            .await
            .unwrap()
            .is_empty()
    );
    let with_revoked = TokenFilter::user("ann@example.com").include_revoked(true);
    assert_eq!(
        store
            .list_refresh_tokens(&with_revoked)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .list_refresh_tokens(&TokenFilter::all().limit(1))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn closed_pool_is_unavailable_not_a_panic() {
    let store = make().await.unwrap();
    store.ping().await.unwrap();
    store.close().await;
    assert!(matches!(store.ping().await, Err(SqlError::Unavailable(_))));
    let t = std::time::Instant::now();
    assert!(matches!(
        store.find_by_username(SONIA).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store
            .revoke_family(RefreshFamily([0; 16]), NumericDate::now())
            .await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn busy_database_times_out_as_unavailable() {
    // Another connection holds the write lock: writes wait at most the
    // operation timeout, then answer Unavailable.
    let (_dir, url) = temp_db();
    let store = SqlStore::builder(&url)
        .seed_demo(false)
        .operation_timeout(Duration::from_millis(500))
        .connect()
        .await
        .unwrap();
    use sqlx::Connection;
    let mut blocker = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t = std::time::Instant::now();
    let rec = conformance::token(
        "busy",
        RefreshFamily([5; 16]),
        Principal::Warehouse(WarehousePrincipal::new(1)),
        conformance::in_secs(60),
    );
    assert!(matches!(
        store.insert(rec).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    // Free again: the same store works.
    let rec = conformance::token(
        "after-busy",
        RefreshFamily([5; 16]),
        Principal::Warehouse(WarehousePrincipal::new(1)),
        conformance::in_secs(60),
    );
    store.insert(rec).await.unwrap();
}

/// 16 concurrent `assign_warehouse` calls on one SQLite file (WAL, 16
/// connections): every one succeeds (its transaction takes the write lock
/// at `BEGIN`, and so waits for the others under the busy timeout instead
/// of failing with SQLITE_BUSY when it upgrades a read to a write), and the
/// user ends with exactly one active assignment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_assignments_all_succeed() {
    let (_dir, url) = temp_db();
    let store = SqlStore::builder(&url)
        .seed_demo(false)
        .password_cost(4)
        .max_connections(16)
        .connect()
        .await
        .unwrap();
    let ann = store
        .add_user(NewUser::new("ann@example.com", "pw"))
        .await
        .unwrap();
    let mut warehouses = Vec::new();
    for name in ["North", "South", "East", "West"] {
        let id = store
            .add_warehouse(glue_auth_sql::NewWarehouse::new(name))
            .await
            .unwrap();
        warehouses.push(id);
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(16));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            let barrier = std::sync::Arc::clone(&barrier);
            let w = warehouses[i % warehouses.len()];
            tokio::spawn(async move {
                barrier.wait().await;
                store.assign_warehouse("ann@example.com", w).await
            })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        if let Err(e) = t.await.unwrap() {
            panic!("assignment {i} failed: {e}");
        }
    }
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (active,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM spy_warehouse_user_assignment WHERE user_uuid = ? AND is_active",
    )
    .bind(&ann.uuid)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(active, 1);
    let w = store.active_warehouse(&ann.uuid).await.unwrap().unwrap();
    assert!(warehouses.contains(&w));
}
