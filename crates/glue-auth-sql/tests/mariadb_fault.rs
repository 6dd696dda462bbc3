//! MariaDB going away and coming back under a live store: calls answer
//! `StoreError::Unavailable` quickly (no hang, no panic), and the same pool
//! works again once the server is back. Also a database too slow to answer
//! (a table lock held elsewhere), which the server itself gives up on
//! (`max_statement_time`).
//!
//! Needs the server started by `scripts/with-mariadb.sh` (it exports
//! `GLUE_MYSQL_SERVER`, `GLUE_MYSQL_DEFAULTS`, `GLUE_MYSQL_PID_FILE` and
//! `GLUE_MYSQL_USER` to stop and start it); skipped with a notice
//! otherwise. Its own test binary, because it stops the server.

mod my;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use glue_auth_core::{NumericDate, Principal, Scopes, WarehousePrincipal};
use glue_auth_sql::SqlStore;
use glue_auth_token::store::{
    RefreshFamily, RefreshTokenHash, RefreshTokenRecord, RefreshTokens, Rotation, StoreError,
    UserDirectory,
};
use sqlx::Connection;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

/// The pid the server's pid file names, if that process is alive.
fn server_pid() -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(env("GLUE_MYSQL_PID_FILE"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // A zombie counts as gone.
    let state = stat.rsplit(')').next()?.trim().chars().next()?;
    (state != 'Z').then_some(pid)
}

/// Stops the server (TERM), waiting at most 30 s for it to exit.
fn stop_server() -> bool {
    let Some(pid) = server_pid() else {
        return false;
    };
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    let t = Instant::now();
    while server_pid() == Some(pid) {
        if t.elapsed() > Duration::from_secs(30) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    ok
}

/// Starts the server again from the script's configuration file, as the
/// user it ran as, in a process group of its own; waits (at most 30 s) for
/// it to accept connections on `url`.
async fn start_server(url: &str) -> bool {
    let server = env("GLUE_MYSQL_SERVER");
    let defaults = format!("--defaults-file={}", env("GLUE_MYSQL_DEFAULTS"));
    let user = env("GLUE_MYSQL_USER");
    let mut cmd = if user.is_empty() {
        let mut c = Command::new(&server);
        c.arg(&defaults);
        c
    } else {
        let mut c = Command::new("runuser");
        c.args(["-u", &user, "--", &server, &defaults]);
        c
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    // Not waited for: the script stops it through the pid file.
    if cmd.spawn().is_err() {
        return false;
    }
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        if let Ok(c) = sqlx::MySqlConnection::connect(url).await {
            let _ = c.close().await;
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Starts the server again if a failed assertion left it stopped.
struct Restart(String);

impl Drop for Restart {
    fn drop(&mut self) {
        if server_pid().is_none() {
            let url = self.0.clone();
            let _ = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(start_server(&url))
            })
            .join();
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
    if env("GLUE_MYSQL_PID_FILE").is_empty()
        || env("GLUE_MYSQL_SERVER").is_empty()
        || env("GLUE_MYSQL_DEFAULTS").is_empty()
    {
        eprintln!(
            "SKIPPED mariadb_fault (stop/start): GLUE_MYSQL_PID_FILE / GLUE_MYSQL_SERVER / \
             GLUE_MYSQL_DEFAULTS not set (run through scripts/with-mariadb.sh)"
        );
        return false;
    }
    true
}

/// Both checks in one test: the outage must not overlap anything else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_then_stopped_then_started_again() {
    let Some(server) = my::server_url("mariadb_fault") else {
        return;
    };
    slow_database_is_unavailable_not_a_hang(&server).await;
    if server_control() {
        server_stopped_then_started_again(&server).await;
    }
}

async fn server_stopped_then_started_again(server: &str) {
    let url = my::create_database(server, "fault").await;
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

    let _restart = Restart(url.clone());
    assert!(stop_server(), "could not stop the server");

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

    assert!(start_server(&url).await, "could not start the server again");
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
        Rotation::Rotated
    );
}

async fn slow_database_is_unavailable_not_a_hang(server: &str) {
    let url = my::create_database(server, "slow").await;
    let store = SqlStore::builder(&url)
        .seed_demo(true)
        .operation_timeout(Duration::from_secs(1))
        .connect()
        .await
        .unwrap();
    // Another session locks the table and sits on it.
    let mut locker = my::connect(&url).await;
    sqlx::query("LOCK TABLES spy_user WRITE")
        .execute(&mut locker)
        .await
        .unwrap();
    let t = Instant::now();
    let r = store.find_by_username("sonia@spryker.com").await;
    assert!(matches!(r, Err(StoreError::Unavailable(_))), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());

    // The server gives up on the statement itself (MariaDB:
    // max_statement_time), so nothing is left waiting on the lock.
    let (version,): (String,) = sqlx::query_as("SELECT VERSION()")
        .fetch_one(&mut locker)
        .await
        .unwrap();
    if version.to_ascii_lowercase().contains("mariadb") {
        let t = Instant::now();
        loop {
            let (waiting,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM information_schema.processlist \
                 WHERE info LIKE '%FROM spy_user%' AND id <> CONNECTION_ID()",
            )
            .fetch_one(&mut locker)
            .await
            .unwrap();
            if waiting == 0 {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(3),
                "a statement still waits on the lock"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    sqlx::query("UNLOCK TABLES")
        .execute(&mut locker)
        .await
        .unwrap();
    assert!(
        store
            .find_by_username("sonia@spryker.com")
            .await
            .unwrap()
            .is_some()
    );
}
