//! The store conformance suite, admin operations, and an existing Spryker
//! database, on PostgreSQL. Skipped (with a notice) unless
//! `GLUE_TEST_DATABASE_URL` is set; `scripts/with-postgres.sh` sets it.

mod conformance;
mod pg;
mod sql_fixture;

use std::sync::Arc;

use glue_auth_core::{NumericDate, Principal, Scopes, UserPrincipal, WarehousePrincipal};
use glue_auth_sql::{DatabaseKind, Layout, NewUser, SqlError, SqlStore, TokenFilter};
use glue_auth_token::store::{
    AccessTokenLog, AccessTokenRecord, RefreshFamily, RefreshTokenHash, RefreshTokens, Rotation,
    UserDirectory, UserStatus, WarehouseAssignments,
};
use sqlx::Connection;

async fn store(url: &str) -> SqlStore {
    SqlStore::builder(url)
        .password_cost(4)
        .max_connections(8)
        .connect()
        .await
        .unwrap()
}

async fn make() -> Option<SqlStore> {
    let url = pg::binary_database("pg")?;
    Some(store(&url).await)
}

conformance_tests!(make);

const SONIA: &str = "sonia@spryker.com";
const SONIA_UUID: &str = "0d743cc3-a772-5145-971e-d4018ee7a489";

/// Two gateway instances (two pools) on one database: of 32 concurrent
/// rotations of one refresh token, spread over both, exactly one wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_never_both_accept_one_refresh_token() {
    let Some(url) = pg::binary_database("pg") else {
        return;
    };
    let a = store(&url).await;
    let b = store(&url).await;
    let p = Principal::Warehouse(WarehousePrincipal::new(77));
    let fam = RefreshFamily([0x77; 16]);
    let first = conformance::token("two-instances", fam, p.clone(), conformance::in_secs(600));
    a.insert(first.clone()).await.unwrap();
    let now = conformance::in_secs(0);
    let barrier = Arc::new(tokio::sync::Barrier::new(32));
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let s = if i % 2 == 0 { a.clone() } else { b.clone() };
            let next = conformance::token(
                &format!("two-instances-{i}"),
                fam,
                p.clone(),
                conformance::in_secs(600),
            );
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                s.rotate(first.hash, next, now).await.unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        if t.await.unwrap() == Rotation::Rotated {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

/// Spryker's column types, and timestamps stored as UTC `TIMESTAMP`s to the
/// microsecond.
#[tokio::test]
async fn own_schema_has_spryker_types() {
    let Some(url) = pg::binary_database("pg") else {
        return;
    };
    let s = store(&url).await;
    assert_eq!(s.kind(), DatabaseKind::Postgres);
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let cols: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name LIKE 'spy_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let ty = |t: &str, c: &str| {
        cols.iter()
            .find(|(tt, cc, _)| tt == t && cc == c)
            .map(|x| x.2.clone())
            .unwrap_or_else(|| panic!("{t}.{c} missing"))
    };
    assert_eq!(ty("spy_user", "id_user"), "integer");
    assert_eq!(ty("spy_user", "status"), "smallint");
    assert_eq!(ty("spy_user", "is_warehouse_user"), "boolean");
    assert_eq!(ty("spy_user", "password"), "character varying");
    assert_eq!(ty("spy_stock", "id_stock"), "integer");
    assert_eq!(ty("spy_warehouse_user_assignment", "is_active"), "boolean");
    assert_eq!(
        ty("spy_oauth_refresh_token", "id_oauth_refresh_token"),
        "bigint"
    );
    assert_eq!(
        ty("spy_oauth_refresh_token", "expires_at"),
        "timestamp without time zone"
    );
    assert_eq!(
        ty("spy_oauth_refresh_token", "user_identifier"),
        "character varying"
    );
    assert_eq!(
        ty("spy_oauth_access_token", "expirity_date"),
        "timestamp without time zone"
    );
    assert_eq!(ty("spy_oauth_client", "identifier"), "character varying");

    let exp = NumericDate::from_micros(1_700_000_000_123_456);
    let t = conformance::token(
        "types",
        RefreshFamily([0x42; 16]),
        Principal::Warehouse(WarehousePrincipal::new(1)),
        exp,
    );
    s.insert(t.clone()).await.unwrap();
    let (text, scopes, subject): (String, String, String) = sqlx::query_as(
        "SELECT expires_at::text, scopes, user_identifier FROM spy_oauth_refresh_token WHERE identifier = $1",
    )
    .bind(t.hash.to_hex())
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(text, "2023-11-14 22:13:20.123456");
    assert_eq!(scopes, r#"["warehouse"]"#);
    assert_eq!(subject, r#"{"id_warehouse":1}"#);
    assert_eq!(s.find(t.hash).await.unwrap().unwrap().expires_at, exp);
}

#[tokio::test]
async fn admin_and_demo_seed() {
    let Some(server) = pg::server_url("admin_and_demo_seed") else {
        return;
    };
    let url = pg::create_database(&server, "seed").await;
    let s = SqlStore::builder(&url)
        .seed_demo(true)
        .connect()
        .await
        .unwrap();
    let sonia = s.find_by_username(SONIA).await.unwrap().unwrap();
    assert_eq!((sonia.id_user, sonia.uuid.as_str()), (4, SONIA_UUID));
    assert!(sonia.password_hash.expose().starts_with("$2y$10$"));
    assert!(bcrypt::verify("change123", sonia.password_hash.expose()).unwrap());
    assert_eq!(s.active_warehouse(SONIA_UUID).await.unwrap(), Some(1));

    // Ids continue after the seeded ones (Spryker's sequences were moved on).
    let ann = s
        .add_user(NewUser::new("ann@example.com", "pw"))
        .await
        .unwrap();
    assert!(ann.id_user > 4, "{}", ann.id_user);
    let w = s
        .add_warehouse(glue_auth_sql::NewWarehouse::new("Warehouse3"))
        .await
        .unwrap();
    assert_eq!(w, 3);
    s.assign_warehouse("ann@example.com", w).await.unwrap();
    s.assign_warehouse("ann@example.com", 1).await.unwrap();
    assert_eq!(s.active_warehouse(&ann.uuid).await.unwrap(), Some(1));
    s.block_user("ann@example.com").await.unwrap();
    assert_eq!(
        s.user("ann@example.com").await.unwrap().unwrap().status,
        UserStatus::Blocked
    );
    assert!(matches!(
        s.add_user(NewUser::new(SONIA, "x")).await,
        Err(SqlError::Conflict(_))
    ));

    let p = Principal::User(UserPrincipal::new(4, SONIA_UUID, None::<String>));
    s.insert(conformance::token(
        "sonia-1",
        RefreshFamily([1; 16]),
        p.clone(),
        conformance::in_secs(60),
    ))
    .await
    .unwrap();
    assert_eq!(
        s.list_refresh_tokens(&TokenFilter::user(SONIA))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(s.revoke_user_refresh_tokens(SONIA).await.unwrap(), 1);

    // A second connect neither migrates nor seeds again.
    let again = SqlStore::builder(&url)
        .seed_demo(true)
        .connect()
        .await
        .unwrap();
    assert!(!again.seed_demo_if_empty().await.unwrap());
}

/// Points the store at an existing Spryker database: nothing is created,
/// Spryker's users and assignments are read, tokens written Spryker's way.
#[tokio::test]
async fn existing_spryker_database() {
    let Some(server) = pg::server_url("existing_spryker_database") else {
        return;
    };
    let url = pg::create_database(&server, "spryker").await;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(include_str!("fixtures/spryker_schema.sql"))
        .execute(&mut conn)
        .await
        .unwrap();

    // Own-schema mode refuses to migrate over it (the tables exist).
    assert!(matches!(
        SqlStore::builder(&url).connect().await,
        Err(SqlError::Schema(_))
    ));
    let s = SqlStore::builder(&url)
        .layout(Layout::Spryker)
        .connect()
        .await
        .unwrap();
    assert_eq!(s.layout(), Layout::Spryker);

    // Users: the PHP $2y$ hash comes back intact; the ENUM index is decoded.
    let sonia = s.find_by_username(SONIA).await.unwrap().unwrap();
    assert_eq!(sonia.id_user, 4);
    assert_eq!(sonia.status, UserStatus::Active);
    assert!(bcrypt::verify("change123", sonia.password_hash.expose()).unwrap());
    let harald = s
        .find_by_username("harald@spryker.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(harald.status, UserStatus::Blocked);
    assert!(harald.is_warehouse_user);
    assert_eq!(s.active_warehouse(SONIA_UUID).await.unwrap(), Some(1));
    assert!(s.warehouse_exists(2).await.unwrap());

    // Refresh tokens: rotation, replay, family = principal + client.
    let p = Principal::User(UserPrincipal::new(4, SONIA_UUID, None::<String>));
    let t1 = conformance::token(
        "spryker-1",
        RefreshFamily([1; 16]),
        p.clone(),
        conformance::in_secs(600),
    );
    let t2 = conformance::token(
        "spryker-2",
        RefreshFamily([2; 16]),
        p.clone(),
        conformance::in_secs(600),
    );
    let other_login = conformance::token(
        "spryker-3",
        RefreshFamily([3; 16]),
        p.clone(),
        conformance::in_secs(600),
    );
    s.insert(t1.clone()).await.unwrap();
    s.insert(other_login.clone()).await.unwrap();
    let found = s.find(t1.hash).await.unwrap().unwrap();
    assert_eq!(
        (found.principal.clone(), found.scopes.clone()),
        (p.clone(), t1.scopes.clone())
    );
    let now = conformance::in_secs(0);
    let next = glue_auth_token::store::RefreshTokenRecord {
        family: found.family,
        ..t2.clone()
    };
    assert_eq!(
        s.rotate(t1.hash, next.clone(), now).await.unwrap(),
        Rotation::Rotated
    );
    assert_eq!(
        s.rotate(t1.hash, next.clone(), now).await.unwrap(),
        Rotation::Reused
    );
    // Reuse revokes every live token of sonia@frontend (ours, not Spryker's).
    let fam = s.find(t1.hash).await.unwrap().unwrap().family;
    assert_eq!(s.revoke_family(fam, now).await.unwrap(), 2);
    assert!(
        s.find(other_login.hash)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    let (spryker_live,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM spy_oauth_refresh_token WHERE length(identifier) = 80 AND revoked_at IS NULL",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(spryker_live, 1);
    // A fresh instance (empty family cache) finds the family by scanning.
    let fresh = SqlStore::builder(&url)
        .layout(Layout::Spryker)
        .connect()
        .await
        .unwrap();
    let t4 = conformance::token(
        "spryker-4",
        RefreshFamily([4; 16]),
        p.clone(),
        conformance::in_secs(600),
    );
    fresh.insert(t4.clone()).await.unwrap();
    let other = SqlStore::builder(&url)
        .layout(Layout::Spryker)
        .connect()
        .await
        .unwrap();
    assert_eq!(other.revoke_family(fam, now).await.unwrap(), 1);

    // Access-token log rows, as Spryker writes them.
    s.record(AccessTokenRecord {
        jti: "f".repeat(80),
        principal: p.clone(),
        scopes: Scopes::from_iter(["user", "back-office-user"]),
        client_id: "frontend".into(),
        expires_at: NumericDate::from_micros(1_700_000_000_500_000),
    })
    .await
    .unwrap();
    let (subject, scopes, exp): (String, String, String) = sqlx::query_as(
        "SELECT user_identifier, scopes, expirity_date::text FROM spy_oauth_access_token WHERE identifier = $1",
    )
    .bind("f".repeat(80))
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(subject, p.to_subject());
    assert_eq!(scopes, r#"["user","back-office-user"]"#);
    assert_eq!(exp, "2023-11-14 22:13:20.5");

    // Spryker's foreign key: an unknown client is refused, not a panic.
    let mut stray = conformance::token(
        "spryker-5",
        RefreshFamily([5; 16]),
        p.clone(),
        conformance::in_secs(600),
    );
    stray.client_id = "unknown-client".into();
    assert!(s.insert(stray).await.is_err());

    // Admin operations work on Spryker's tables too (sequences via nextval).
    let ann = s
        .add_user(NewUser::new("ann@spryker.com", "pw"))
        .await
        .unwrap();
    assert_eq!(ann.id_user, 6);
    s.assign_warehouse("ann@spryker.com", 2).await.unwrap();
    assert_eq!(s.active_warehouse(&ann.uuid).await.unwrap(), Some(2));
    s.unblock_user("harald@spryker.com").await.unwrap();
    let (status,): (i16,) = sqlx::query_as("SELECT status FROM spy_user WHERE id_user = 5")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(status, 0);
    // Ours are all revoked by now; the admin revocation also catches the
    // refresh token Spryker itself issued to sonia.
    assert_eq!(s.revoke_user_refresh_tokens(SONIA).await.unwrap(), 1);

    // A status column storing names (Propel's real-enum behavior) is detected.
    sqlx::query("ALTER TABLE spy_user ALTER COLUMN status DROP DEFAULT, ALTER COLUMN status TYPE VARCHAR(10) USING (CASE status WHEN 0 THEN 'active' WHEN 1 THEN 'blocked' ELSE 'deleted' END)")
        .execute(&mut conn)
        .await
        .unwrap();
    let named = SqlStore::builder(&url)
        .spryker_database()
        .connect()
        .await
        .unwrap();
    named.block_user(SONIA).await.unwrap();
    assert_eq!(
        named.user(SONIA).await.unwrap().unwrap().status,
        UserStatus::Blocked
    );
    let (status,): (String,) = sqlx::query_as("SELECT status FROM spy_user WHERE id_user = 4")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(status, "blocked");

    // Something that is not a Spryker database is refused at connect.
    let empty = pg::create_database(&server, "empty").await;
    match SqlStore::builder(&empty).spryker_database().connect().await {
        Err(SqlError::Schema(e)) => assert!(e.to_string().contains("spy_user"), "{e}"),
        other => panic!("{other:?}"),
    }
    let _ = RefreshTokenHash::of("unused");
}

/// A rotation whose COMMIT ends after the operation deadline is still
/// `Rotated`: the deadline covers the connection and the statements, not
/// the COMMIT (else the client would get 503 for a token the database has
/// spent, and its retry would be taken for a replay). Triggers make the
/// spending UPDATE and the COMMIT (a deferred trigger) take 1.2 s each
/// under a 2 s deadline: each within PostgreSQL's `statement_timeout`, the
/// two together past the deadline.
#[tokio::test]
async fn rotation_committed_after_the_deadline_is_rotated() {
    let Some(server) = pg::server_url("rotation_committed_after_the_deadline_is_rotated") else {
        return;
    };
    let url = pg::create_database(&server, "slow_commit").await;
    let s = SqlStore::builder(&url)
        .operation_timeout(std::time::Duration::from_secs(2))
        .connect()
        .await
        .unwrap();
    let p = Principal::Warehouse(WarehousePrincipal::new(5));
    let fam = RefreshFamily([0x5c; 16]);
    let first = conformance::token("slow-commit-1", fam, p.clone(), conformance::in_secs(600));
    let second = conformance::token("slow-commit-2", fam, p.clone(), conformance::in_secs(600));
    s.insert(first.clone()).await.unwrap();

    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(
        "CREATE FUNCTION glue_slow() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN PERFORM pg_sleep(1.2); RETURN NULL; END $$; \
         CREATE TRIGGER glue_slow_spend AFTER UPDATE ON spy_oauth_refresh_token \
             FOR EACH ROW EXECUTE FUNCTION glue_slow(); \
         CREATE CONSTRAINT TRIGGER glue_slow_commit AFTER INSERT ON spy_oauth_refresh_token \
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION glue_slow();",
    )
    .execute(&mut conn)
    .await
    .unwrap();

    let started = std::time::Instant::now();
    let now = conformance::in_secs(0);
    let r = s.rotate(first.hash, second.clone(), now).await;
    assert!(
        started.elapsed() > std::time::Duration::from_secs(2),
        "the triggers did not slow the rotation down: {:?}",
        started.elapsed()
    );
    assert_eq!(r.unwrap(), Rotation::Rotated);

    sqlx::raw_sql(
        "DROP TRIGGER glue_slow_spend ON spy_oauth_refresh_token; \
         DROP TRIGGER glue_slow_commit ON spy_oauth_refresh_token;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert!(
        s.find(first.hash)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert!(s.find(second.hash).await.unwrap().is_some());
    // The successor works; the spent token is a replay.
    let third = conformance::token("slow-commit-3", fam, p, conformance::in_secs(600));
    assert_eq!(
        s.rotate(second.hash, third.clone(), now).await.unwrap(),
        Rotation::Rotated
    );
    assert_eq!(
        s.rotate(first.hash, third, now).await.unwrap(),
        Rotation::Reused
    );
}

/// The assignment rules and 16 concurrent activations on an existing
/// Spryker database, which has no one-active index of ours: the row lock
/// alone keeps one assignment active.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn assignments_on_an_existing_spryker_database() {
    let Some(server) = pg::server_url("assignments_on_an_existing_spryker_database") else {
        return;
    };
    let url = pg::create_database(&server, "spryker_assign").await;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(include_str!("fixtures/spryker_schema.sql"))
        .execute(&mut conn)
        .await
        .unwrap();
    let connect = || async {
        SqlStore::builder(&url)
            .layout(Layout::Spryker)
            .max_connections(8)
            .connect()
            .await
            .unwrap()
    };
    conformance::assignment_rules(connect().await).await;
    conformance::concurrent_activations_leave_one_active(connect().await).await;
}
