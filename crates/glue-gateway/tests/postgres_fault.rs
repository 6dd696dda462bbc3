//! PostgreSQL stopped under a running gateway: logins answer 503 with
//! `Retry-After` (never 500, never a hang), issued tokens keep validating,
//! nothing panics; once the server is back, logins succeed again without
//! restarting the gateway.
//!
//! Its own test binary with a single test, because it stops the server that
//! other tests use (cargo runs test binaries one after another). Needs the
//! server of `scripts/with-postgres.sh` (`PGDATA`, `GLUE_PG_BIN`,
//! `GLUE_PG_USER` for `pg_ctl`); skipped with a notice otherwise.

mod common;

use std::time::{Duration, Instant};

use common::*;

fn assert_unavailable(res: &Res, what: &str) {
    assert_eq!(res.status, 503, "{what}: {}", res.text());
    let retry: u64 = res
        .header("retry-after")
        .unwrap_or_else(|| panic!("{what}: no Retry-After: {res:?}"))
        .parse()
        .unwrap();
    assert!(retry >= 1, "{what}: {res:?}");
}

#[test]
fn database_stopped_then_started_again_under_a_running_gateway() {
    let Some(server) = pg::server_url("database_stopped_then_started_again") else {
        return;
    };
    if !pg::server_control("database_stopped_then_started_again") {
        return;
    }
    let url = pg::create_database(&server, "fault");
    let mut gw = Gateway::start(&[
        "--database-url",
        &url,
        "--database-seed-demo",
        "--database-max-connections",
        "4",
        "--database-acquire-timeout",
        "1",
        "--database-operation-timeout",
        "2",
    ]);
    let user = gw.login();
    let wh = gw.warehouse_token(&user);
    assert_eq!(gw.get("/picking-lists").bearer(&wh).send().status, 200);

    let _restart = pg::Restart;
    let stopped = Instant::now();
    assert_eq!(
        pg::pg_ctl(&["-m", "fast", "-w", "-t", "30", "stop"]),
        Some(true),
        "pg_ctl stop failed"
    );
    eprintln!("server stopped in {:?}", stopped.elapsed());

    let mut slowest = Duration::ZERO;
    for round in 0..3 {
        let t = Instant::now();
        let res = gw.login_as(DEMO_USER, DEMO_PASSWORD);
        assert_unavailable(&res, &format!("login, round {round}"));
        let res = gw.post("/warehouse-tokens").bearer(&user).send();
        assert_unavailable(&res, &format!("warehouse token, round {round}"));
        // The demo service asks the store for the user's warehouse.
        let res = gw.get("/picking-lists").bearer(&user).send();
        assert_unavailable(&res, &format!("user picking lists, round {round}"));
        slowest = slowest.max(t.elapsed());
        // Three requests, each bounded by the 1 s acquire / 2 s operation
        // timeouts.
        assert!(
            t.elapsed() < Duration::from_secs(9),
            "round {round}: {:?}",
            t.elapsed()
        );
    }
    eprintln!("three requests while the database is down took at most {slowest:?}");
    // Validation needs no database: a warehouse token whose warehouse was
    // looked up before still passes.
    assert_eq!(gw.get("/picking-lists").bearer(&wh).send().status, 200);
    let health = gw.get("/healthz").send();
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["database"], "unavailable");
    assert_eq!(health.json()["status"], "degraded");

    assert!(pg::start_server(), "pg_ctl start failed");
    let started = Instant::now();
    let recovered = loop {
        let res = gw.login_as(DEMO_USER, DEMO_PASSWORD);
        match res.status {
            200 => break started.elapsed(),
            503 if started.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(100));
            }
            other => panic!("after the restart: {other} {}", res.text()),
        }
    };
    eprintln!("logins succeed again {recovered:?} after the server is back");
    let user = gw.login();
    gw.warehouse_token(&user);
    // /healthz reuses a ping for 1 s: it may still say "unavailable" briefly.
    let health_since = Instant::now();
    loop {
        let health = gw.get("/healthz").send().json();
        if health["database"] == "ok" {
            break;
        }
        assert!(
            health_since.elapsed() < Duration::from_secs(3),
            "still {health}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Still the same process, no panic, never a 500.
    assert!(gw.child.as_mut().unwrap().try_wait().unwrap().is_none());
    let log = gw.stderr();
    assert!(!log.contains("panicked"), "{log}");
    assert!(!log.contains("status=500"), "{log}");
}
