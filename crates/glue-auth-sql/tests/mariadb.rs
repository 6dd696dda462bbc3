//! The store conformance suite, admin operations, and an existing Spryker
//! database, on MariaDB/MySQL. Skipped (with a notice) unless
//! `GLUE_TEST_MYSQL_URL` is set; `scripts/with-mariadb.sh` sets it.

mod conformance;
mod my;
mod sql_fixture;

use std::sync::Arc;

use glue_auth_core::{NumericDate, Principal, Scopes, UserPrincipal, WarehousePrincipal};
use glue_auth_sql::{DatabaseKind, Layout, NewUser, SqlError, SqlStore, TokenFilter};
use glue_auth_token::store::{
    AccessTokenLog, AccessTokenRecord, RefreshFamily, RefreshTokens, Rotation, UserDirectory,
    UserStatus, WarehouseAssignments,
};
use sqlx::{ConnectOptions, Connection};

async fn store(url: &str) -> SqlStore {
    SqlStore::builder(url)
        .password_cost(4)
        .max_connections(8)
        .connect()
        .await
        .unwrap()
}

async fn make() -> Option<SqlStore> {
    let url = my::binary_database("my")?;
    Some(store(&url).await)
}

conformance_tests!(make);

const SONIA: &str = "sonia@spryker.com";
const SONIA_UUID: &str = "0d743cc3-a772-5145-971e-d4018ee7a489";

/// Two gateway instances (two pools) on one database: of 32 concurrent
/// rotations of one refresh token, spread over both, exactly one wins and
/// exactly one successor is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_never_both_accept_one_refresh_token() {
    let Some(url) = my::binary_database("my") else {
        return;
    };
    let a = store(&url).await;
    let b = store(&url).await;
    for round in 0..3u8 {
        let p = Principal::Warehouse(WarehousePrincipal::new(77));
        let fam = RefreshFamily([0x70 + round; 16]);
        let first = conformance::token(
            &format!("two-instances-{round}"),
            fam,
            p.clone(),
            conformance::in_secs(600),
        );
        a.insert(first.clone()).await.unwrap();
        let now = conformance::in_secs(0);
        let barrier = Arc::new(tokio::sync::Barrier::new(32));
        let successors: Vec<_> = (0..32)
            .map(|i| {
                conformance::token(
                    &format!("two-instances-{round}-{i}"),
                    fam,
                    p.clone(),
                    conformance::in_secs(600),
                )
            })
            .collect();
        let tasks: Vec<_> = successors
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, next)| {
                let s = if i % 2 == 0 { a.clone() } else { b.clone() };
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    s.rotate(first.hash, next, now).await.unwrap()
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.unwrap());
        }
        let won = outcomes.iter().filter(|o| **o == Rotation::Rotated).count();
        let reused = outcomes.iter().filter(|o| **o == Rotation::Reused).count();
        assert_eq!((won, reused), (1, 31), "round {round}: {outcomes:?}");
        let mut stored = 0;
        for next in &successors {
            if b.find(next.hash).await.unwrap().is_some() {
                stored += 1;
            }
        }
        assert_eq!(stored, 1, "round {round}");
    }
}

/// Spryker's column types (as Propel declares them on MySQL), timestamps
/// stored as DATETIME(6) to the microsecond, whatever the session's or the
/// server's time zone.
#[tokio::test]
async fn own_schema_has_spryker_types() {
    let Some(url) = my::binary_database("my") else {
        return;
    };
    let s = store(&url).await;
    assert_eq!(s.kind(), DatabaseKind::Mysql);
    let mut conn = my::connect(&url).await;
    let cols: Vec<(String, String, String, Option<i64>, String)> = sqlx::query_as(
        "SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR), CAST(data_type AS CHAR), \
         CAST(datetime_precision AS SIGNED), CAST(extra AS CHAR) FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name LIKE 'spy\\_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let col = |t: &str, c: &str| {
        cols.iter()
            .find(|x| x.0 == t && x.1 == c)
            .cloned()
            .unwrap_or_else(|| panic!("{t}.{c} missing"))
    };
    assert_eq!(col("spy_user", "id_user").2, "int");
    assert!(
        col("spy_user", "id_user").4.contains("auto_increment"),
        "{:?}",
        col("spy_user", "id_user")
    );
    assert_eq!(col("spy_user", "status").2, "tinyint");
    assert_eq!(col("spy_user", "is_warehouse_user").2, "tinyint");
    assert_eq!(col("spy_user", "password").2, "varchar");
    assert_eq!(col("spy_stock", "id_stock").2, "int");
    assert_eq!(
        col("spy_warehouse_user_assignment", "is_active").2,
        "tinyint"
    );
    assert_eq!(
        col("spy_oauth_refresh_token", "id_oauth_refresh_token").2,
        "bigint"
    );
    let exp = col("spy_oauth_refresh_token", "expires_at");
    assert_eq!((exp.2.as_str(), exp.3), ("datetime", Some(6)));
    assert_eq!(
        col("spy_oauth_refresh_token", "user_identifier").2,
        "varchar"
    );
    let exp = col("spy_oauth_access_token", "expirity_date");
    assert_eq!((exp.2.as_str(), exp.3), ("datetime", Some(6)));
    assert_eq!(col("spy_oauth_client", "identifier").2, "varchar");

    let exp = NumericDate::from_micros(1_700_000_000_123_456);
    let t = conformance::token(
        "types",
        RefreshFamily([0x42; 16]),
        Principal::Warehouse(WarehousePrincipal::new(1)),
        exp,
    );
    s.insert(t.clone()).await.unwrap();
    // Read back through a session in another time zone: DATETIME values are
    // stored as written, in UTC.
    let opts: sqlx::mysql::MySqlConnectOptions = url.parse().unwrap();
    let mut shifted = opts
        .timezone(Some("+05:30".to_owned()))
        .connect()
        .await
        .unwrap();
    let (text, scopes, subject): (String, String, String) = sqlx::query_as(
        "SELECT DATE_FORMAT(expires_at, '%Y-%m-%d %H:%i:%s.%f'), scopes, user_identifier \
         FROM spy_oauth_refresh_token WHERE identifier = ?",
    )
    .bind(t.hash.to_hex())
    .fetch_one(&mut shifted)
    .await
    .unwrap();
    assert_eq!(text, "2023-11-14 22:13:20.123456");
    assert_eq!(scopes, r#"["warehouse"]"#);
    assert_eq!(subject, r#"{"id_warehouse":1}"#);
    assert_eq!(s.find(t.hash).await.unwrap().unwrap().expires_at, exp);
    shifted.close().await.unwrap();

    // A date far from the epoch and one before it, to the microsecond.
    for us in [4_102_444_799_999_999_i64, -1_000_001] {
        let t = conformance::token(
            &format!("types-{us}"),
            RefreshFamily([0x43; 16]),
            Principal::Warehouse(WarehousePrincipal::new(1)),
            NumericDate::from_micros(us),
        );
        s.insert(t.clone()).await.unwrap();
        assert_eq!(
            s.find(t.hash).await.unwrap().unwrap().expires_at,
            NumericDate::from_micros(us)
        );
    }
}

/// `mariadb://` is accepted as a synonym of `mysql://`.
#[tokio::test]
async fn mariadb_scheme_is_accepted() {
    let Some(url) = my::binary_database("my") else {
        return;
    };
    let alias = url.replacen("mysql://", "mariadb://", 1);
    assert!(alias.starts_with("mariadb://"));
    let s = SqlStore::connect(alias).await.unwrap();
    assert_eq!(s.kind(), DatabaseKind::Mysql);
    s.ping().await.unwrap();
    // Shown without its password.
    let shown = format!(
        "{:?}",
        SqlStore::builder(url.replacen("mysql://", "mariadb://", 1))
    );
    let password = url.split_once("://").unwrap().1.split('@').next().unwrap();
    let password = password.split_once(':').map(|x| x.1).unwrap_or("");
    assert!(password.is_empty() || !shown.contains(password), "{shown}");
}

#[tokio::test]
async fn admin_and_demo_seed() {
    let Some(server) = my::server_url("admin_and_demo_seed") else {
        return;
    };
    let url = my::create_database(&server, "seed").await;
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
    // Exactly the username: MySQL's collation would match these.
    for other in [
        "SONIA@spryker.com",
        "sonia@spryker.com ",
        "Sonia@Spryker.com",
    ] {
        assert!(
            s.find_by_username(other).await.unwrap().is_none(),
            "{other:?}"
        );
    }

    // Ids continue after the seeded ones (AUTO_INCREMENT moved on).
    let ann = s
        .add_user(NewUser::new("ann@example.com", "pw"))
        .await
        .unwrap();
    assert_eq!(ann.id_user, 5);
    let w = s
        .add_warehouse(glue_auth_sql::NewWarehouse::new("Warehouse3"))
        .await
        .unwrap();
    assert_eq!(w, 3);
    s.assign_warehouse("ann@example.com", w).await.unwrap();
    s.assign_warehouse("ann@example.com", 1).await.unwrap();
    assert_eq!(s.active_warehouse(&ann.uuid).await.unwrap(), Some(1));
    assert_eq!(s.unassign_warehouses("ann@example.com").await.unwrap(), 1);
    assert_eq!(s.active_warehouse(&ann.uuid).await.unwrap(), None);
    s.block_user("ann@example.com").await.unwrap();
    assert_eq!(
        s.user("ann@example.com").await.unwrap().unwrap().status,
        UserStatus::Blocked
    );
    s.set_password("ann@example.com", "new").await.unwrap();
    assert!(matches!(
        s.add_user(NewUser::new(SONIA, "x")).await,
        Err(SqlError::Conflict(_))
    ));
    assert!(matches!(
        s.block_user("nobody@example.com").await,
        Err(SqlError::NotFound(_))
    ));

    // The one-active-assignment rule holds in the table itself.
    let mut conn = my::connect(&url).await;
    let dup = sqlx::query(
        "INSERT INTO spy_warehouse_user_assignment (uuid, fk_warehouse, user_uuid, is_active) \
         VALUES ('dup', 2, ?, 1)",
    )
    .bind(SONIA_UUID)
    .execute(&mut conn)
    .await;
    assert!(dup.is_err(), "{dup:?}");

    let p = Principal::User(UserPrincipal::new(4, SONIA_UUID, None::<String>));
    s.insert(conformance::token(
        "sonia-1",
        RefreshFamily([1; 16]),
        p.clone(),
        conformance::in_secs(60),
    ))
    .await
    .unwrap();
    let listed = s
        .list_refresh_tokens(&TokenFilter::user(SONIA))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].created_at.is_some());
    assert_eq!(
        s.list_refresh_tokens(&TokenFilter::all().limit(10))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(s.revoke_user_refresh_tokens(SONIA).await.unwrap(), 1);
    assert!(
        s.list_refresh_tokens(&TokenFilter::user(SONIA))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.list_refresh_tokens(&TokenFilter::user(SONIA).include_revoked(true))
            .await
            .unwrap()
            .len(),
        1
    );

    // A second connect neither migrates nor seeds again.
    let again = SqlStore::builder(&url)
        .seed_demo(true)
        .connect()
        .await
        .unwrap();
    assert!(!again.seed_demo_if_empty().await.unwrap());
    assert!(!again.ensure_oauth_client("frontend").await.unwrap());
    assert!(again.ensure_oauth_client("fulfillment-app").await.unwrap());
}

/// Points the store at an existing Spryker database on MariaDB (Propel's
/// MySQL DDL, utf8, DATETIME, AUTO_INCREMENT): nothing is created,
/// Spryker's users and assignments are read, tokens written Spryker's way.
#[tokio::test]
async fn existing_spryker_database() {
    let Some(server) = my::server_url("existing_spryker_database") else {
        return;
    };
    let url = my::create_database_with(&server, "spryker", "CHARACTER SET utf8").await;
    let mut conn = my::connect(&url).await;
    sqlx::raw_sql(include_str!("fixtures/spryker_schema_mysql.sql"))
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
    // Spryker's utf8_general_ci would match these; the store does not.
    for other in ["SONIA@SPRYKER.COM", "sonia@spryker.com  "] {
        assert!(
            s.find_by_username(other).await.unwrap().is_none(),
            "{other:?}"
        );
    }
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
    let token = |secret: &str, n: u8| {
        conformance::token(
            secret,
            RefreshFamily([n; 16]),
            p.clone(),
            conformance::in_secs(600),
        )
    };
    let t1 = token("spryker-1", 1);
    let other_login = token("spryker-3", 3);
    s.insert(t1.clone()).await.unwrap();
    s.insert(other_login.clone()).await.unwrap();
    let found = s.find(t1.hash).await.unwrap().unwrap();
    assert_eq!(
        (found.principal.clone(), found.scopes.clone()),
        (p.clone(), t1.scopes.clone())
    );
    // DATETIME keeps whole seconds: the stored expiry is truncated, never
    // later than asked.
    assert_eq!(
        found.expires_at.as_micros(),
        t1.expires_at.as_micros() / 1_000_000 * 1_000_000
    );
    let now = conformance::in_secs(0);
    let next = glue_auth_token::store::RefreshTokenRecord {
        family: found.family,
        ..token("spryker-2", 2)
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
        "SELECT COUNT(*) FROM spy_oauth_refresh_token WHERE LENGTH(identifier) = 80 AND revoked_at IS NULL",
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
    fresh.insert(token("spryker-4", 4)).await.unwrap();
    let other = SqlStore::builder(&url)
        .layout(Layout::Spryker)
        .connect()
        .await
        .unwrap();
    assert_eq!(other.revoke_family(fam, now).await.unwrap(), 1);

    // Expiry on whole seconds: a token whose second has begun is expired.
    let short = conformance::token(
        "spryker-short",
        RefreshFamily([6; 16]),
        p.clone(),
        NumericDate::from_micros(now.as_micros() + 1),
    );
    s.insert(short.clone()).await.unwrap();
    assert_eq!(
        s.rotate(short.hash, token("spryker-7", 7), now)
            .await
            .unwrap(),
        Rotation::Expired
    );

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
        "SELECT user_identifier, scopes, CAST(expirity_date AS CHAR) FROM spy_oauth_access_token WHERE identifier = ?",
    )
    .bind("f".repeat(80))
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(subject, p.to_subject());
    assert_eq!(scopes, r#"["user","back-office-user"]"#);
    assert_eq!(exp, "2023-11-14 22:13:20");

    // Spryker's foreign key: an unknown client is refused, not a panic.
    let mut stray = token("spryker-5", 5);
    stray.client_id = "unknown-client".into();
    assert!(s.insert(stray).await.is_err());

    // Admin operations work on Spryker's tables too (AUTO_INCREMENT ids).
    let ann = s
        .add_user(NewUser::new("ann@spryker.com", "pw"))
        .await
        .unwrap();
    assert_eq!(ann.id_user, 6);
    s.assign_warehouse("ann@spryker.com", 2).await.unwrap();
    assert_eq!(s.active_warehouse(&ann.uuid).await.unwrap(), Some(2));
    s.unblock_user("harald@spryker.com").await.unwrap();
    let (status,): (i64,) =
        sqlx::query_as("SELECT CAST(status AS SIGNED) FROM spy_user WHERE id_user = 5")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(status, 0);
    // Ours are all revoked by now but the expired one; the admin revocation
    // also catches the refresh token Spryker itself issued to sonia.
    assert_eq!(s.revoke_user_refresh_tokens(SONIA).await.unwrap(), 2);

    // A status column storing names (a native ENUM, or Propel's real-enum
    // VARCHAR) is detected.
    sqlx::raw_sql(
        "ALTER TABLE spy_user MODIFY status VARCHAR(10) NOT NULL; \
         UPDATE spy_user SET status = CASE status WHEN '0' THEN 'active' WHEN '1' THEN 'blocked' ELSE 'deleted' END; \
         ALTER TABLE spy_user MODIFY status ENUM('active', 'blocked', 'deleted') NOT NULL",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let named = SqlStore::builder(&url)
        .spryker_database()
        .connect()
        .await
        .unwrap();
    assert_eq!(
        named.user(SONIA).await.unwrap().unwrap().status,
        UserStatus::Active
    );
    named.block_user(SONIA).await.unwrap();
    assert_eq!(
        named.user(SONIA).await.unwrap().unwrap().status,
        UserStatus::Blocked
    );
    let (status,): (String,) =
        sqlx::query_as("SELECT CAST(status AS CHAR) FROM spy_user WHERE id_user = 4")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(status, "blocked");

    // Ids that the database does not draw itself are refused at connect.
    sqlx::query("ALTER TABLE spy_oauth_access_token MODIFY id_oauth_access_token INTEGER NOT NULL")
        .execute(&mut conn)
        .await
        .unwrap();
    match SqlStore::builder(&url).spryker_database().connect().await {
        Err(SqlError::Schema(e)) => {
            assert!(e.to_string().contains("spy_oauth_access_token"), "{e}")
        }
        other => panic!("{other:?}"),
    }

    // Something that is not a Spryker database is refused at connect.
    let empty = my::create_database(&server, "empty").await;
    match SqlStore::builder(&empty).spryker_database().connect().await {
        Err(SqlError::Schema(e)) => assert!(e.to_string().contains("spy_user"), "{e}"),
        other => panic!("{other:?}"),
    }
}

/// The assignment rules and 16 concurrent activations on an existing
/// Spryker database, which has no one-active index of ours: the row lock
/// alone keeps one assignment active.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn assignments_on_an_existing_spryker_database() {
    let Some(server) = my::server_url("assignments_on_an_existing_spryker_database") else {
        return;
    };
    let url = my::create_database_with(&server, "spryker_assign", "CHARACTER SET utf8").await;
    let mut conn = my::connect(&url).await;
    sqlx::raw_sql(include_str!("fixtures/spryker_schema_mysql.sql"))
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
