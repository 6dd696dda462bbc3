//! PostgreSQL going away and coming back under a live store: calls answer
//! `StoreError::Unavailable` quickly (no hang, no panic), and the same pool
//! works again once the server is back. Also a database too slow to answer
//! (a lock held elsewhere).
//!
//! Needs the server started by `scripts/with-postgres.sh` (it exports
//! `PGDATA`, `GLUE_PG_BIN` and `GLUE_PG_USER` for `pg_ctl`); skipped with a
//! notice otherwise. Its own test binary, because it stops the server.

mod pg;

use std::process::Command;
use std::time::{Duration, Instant};

use glue_auth_core::{NumericDate, Principal, Scopes, WarehousePrincipal};
use glue_auth_sql::SqlStore;
use glue_auth_token::store::{
    RefreshFamily, RefreshTokenHash, RefreshTokenRecord, RefreshTokens, StoreError, UserDirectory,
};
use sqlx::Connection;

/// `pg_ctl -D $PGDATA ARGS`, as the user the server runs as.
fn pg_ctl(args: &[&str]) -> bool {
    let bin = std::env::var("GLUE_PG_BIN").unwrap();
    let data = std::env::var("PGDATA").unwrap();
    let user = std::env::var("GLUE_PG_USER").unwrap_or_default();
    let pg_ctl = format!("{bin}/pg_ctl");
    let mut cmd = if user.is_empty() {
        Command::new(&pg_ctl)
    } else {
        let mut c = Command::new("runuser");
        c.args(["-u", &user, "--", &pg_ctl]);
        c
    };
    cmd.args(["-D", &data]).args(args);
    cmd.stdout(std::process::Stdio::null());
    cmd.status().map(|s| s.success()).unwrap_or(false)
}

fn start_server() -> bool {
    let log = std::env::var("GLUE_PG_LOG").unwrap_or_else(|_| "/dev/null".into());
    pg_ctl(&["-l", &log, "-w", "-t", "30", "start"])
}

/// Starts the server again if a failed assertion left it stopped.
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        if !pg_ctl(&["status"]) {
            start_server();
        }
    }
}

fn record(secret: &str) -> RefreshTokenRecord {
    RefreshTokenRecord {
        hash: RefreshTokenHash::of(secret),
        family: RefreshFamily([9; 16]),
        principal: Principal::Warehouse(WarehousePrincipal::new(1)),
        scopes: Scopes::from_iter(["warehouse"]),
        client_id: "frontend".into(),
        expires_at: NumericDate::now().saturating_add(Duration::from_secs(600)),
        revoked_at: None,
    }
}

fn server_control() -> bool {
    if std::env::var("PGDATA").is_err() || std::env::var("GLUE_PG_BIN").is_err() {
        eprintln!(
            "SKIPPED postgres_fault: PGDATA / GLUE_PG_BIN not set \
             (run through scripts/with-postgres.sh)"
        );
        return false;
    }
    true
}

/// Both checks in one test: the outage must not overlap anything else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_then_stopped_then_started_again() {
    let Some(server) = pg::server_url("postgres_fault") else {
        return;
    };
    slow_database_is_unavailable_not_a_hang(&server).await;
    if server_control() {
        server_stopped_then_started_again(&server).await;
    }
}

async fn server_stopped_then_started_again(server: &str) {
    let url = pg::create_database(server, "fault").await;
    let store = SqlStore::builder(&url)
        .seed_demo(true)
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(1))
        .operation_timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap();
    // Several pooled connections open and idle.
    let warm: Vec<_> = (0..4)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move { s.find_by_username("sonia@spryker.com").await })
        })
        .collect();
    for w in warm {
        assert!(w.await.unwrap().unwrap().is_some());
    }
    store.insert(record("before")).await.unwrap();

    let _restart = Restart;
    assert!(pg_ctl(&["-m", "fast", "-w", "stop"]), "pg_ctl stop failed");

    for round in 0..2 {
        let t = Instant::now();
        let r = store.find_by_username("sonia@spryker.com").await;
        assert!(
            matches!(r, Err(StoreError::Unavailable(_))),
            "round {round}: {r:?}"
        );
        let r = store
            .rotate(
                RefreshTokenHash::of("before"),
                record(&format!("next-{round}")),
                NumericDate::now(),
            )
            .await;
        assert!(
            matches!(r, Err(StoreError::Unavailable(_))),
            "round {round}: {r:?}"
        );
        let r = store.insert(record(&format!("during-{round}"))).await;
        assert!(
            matches!(r, Err(StoreError::Unavailable(_))),
            "round {round}: {r:?}"
        );
        // Three calls, each bounded by the 1 s acquire / 2 s operation timeout.
        assert!(
            t.elapsed() < Duration::from_secs(7),
            "round {round}: {:?}",
            t.elapsed()
        );
    }

    assert!(start_server(), "pg_ctl start failed");
    let t = Instant::now();
    let back = loop {
        match store.find_by_username("sonia@spryker.com").await {
            Ok(found) => break found,
            Err(e) if t.elapsed() < Duration::from_secs(20) => {
                eprintln!("not yet: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the pool did not recover: {e}"),
        }
    };
    assert!(back.is_some());
    // Writes work again, and the token stored before the outage is intact.
    store.insert(record("after")).await.unwrap();
    assert!(
        store
            .find(RefreshTokenHash::of("before"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .rotate(
                RefreshTokenHash::of("before"),
                record("rotated"),
                NumericDate::now()
            )
            .await
            .unwrap(),
        glue_auth_token::store::Rotation::Rotated
    );
}

async fn slow_database_is_unavailable_not_a_hang(server: &str) {
    let url = pg::create_database(server, "slow").await;
    let store = SqlStore::builder(&url)
        .seed_demo(true)
        .operation_timeout(Duration::from_secs(1))
        .connect()
        .await
        .unwrap();
    // Another session locks the table and sits on it.
    let mut locker = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query("LOCK TABLE spy_user IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap();
    let t = Instant::now();
    let r = store.find_by_username("sonia@spryker.com").await;
    assert!(matches!(r, Err(StoreError::Unavailable(_))), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    assert!(
        store
            .find_by_username("sonia@spryker.com")
            .await
            .unwrap()
            .is_some()
    );
}
