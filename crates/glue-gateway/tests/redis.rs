//! Two gateway processes sharing one Redis (`--redis-url`) and one database
//! (PostgreSQL when `GLUE_TEST_DATABASE_URL` is set, else MariaDB with
//! `GLUE_TEST_MYSQL_URL`; skipped with a notice without a database server or
//! without `scripts/with-redis.sh`'s Redis):
//!
//! 1. 5 failed logins for one username spread over both instances, then the
//!    next attempt through either answers 429 (in-process counters would
//!    let each instance allow 5);
//! 2. Redis stopped: logins are still answered (400, never 500), with the
//!    in-process limits of each instance, and the fallback metric rises;
//! 3. Redis started again: both reconnect, and counting is shared again.
//!
//! One test in this binary: it stops the server.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// A value of `/metrics` (0 when the series is absent).
fn metric(gw: &Gateway, name: &str) -> f64 {
    let text = gw.get("/metrics").send().text();
    text.lines()
        .find_map(|l| {
            let (n, v) = l.split_once(' ')?;
            (n == name).then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0.0)
}

fn wrong(gw: &Gateway, user: &str) -> Res {
    gw.login_as(user, "not-the-password")
}

/// A fresh database on the PostgreSQL or MariaDB test server, seeded with
/// the demo data by the first instance.
fn database(test: &str) -> Option<String> {
    if std::env::var("GLUE_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        let server = pg::server_url(test)?;
        return Some(pg::create_database(&server, "redis"));
    }
    let server = my::server_url(test)?;
    Some(my::create_database(&server, "redis"))
}

#[test]
fn two_instances_share_the_login_throttle_through_redis() {
    const TEST: &str = "two_instances_share_the_login_throttle_through_redis";
    let Some(redis) = redis::server_url(TEST) else {
        return;
    };
    let Some(db) = database(TEST) else {
        return;
    };
    let _restart = redis::Restart;
    let prefix = format!("glue-gw-test:{}:", std::process::id());
    let common = [
        "--database-url",
        db.as_str(),
        "--redis-url",
        redis.as_str(),
        "--redis-key-prefix",
        prefix.as_str(),
        // Every request comes from 127.0.0.1: the username's counter is
        // under test.
        "--throttle-per-address",
        "0",
    ];
    let mut args_a = common.to_vec();
    args_a.push("--database-seed-demo");
    let a = Gateway::start(&args_a);
    let data = a.dir.path().join("data");
    let private = data.join("dev-private.pem").display().to_string();
    let public = data.join("dev-public.pem").display().to_string();
    let mut args_b = common.to_vec();
    args_b.extend_from_slice(&["--private-key-path", &private, "--public-key-path", &public]);
    let b = Gateway::start(&args_b);
    for gw in [&a, &b] {
        assert!(
            gw.stderr().contains("login throttle: connected to Redis"),
            "{}",
            gw.stderr()
        );
        assert_eq!(metric(gw, "glue_gateway_login_throttle_redis_up"), 1.0);
        // The URL's password never shows.
        let password = redis
            .split_once("://:")
            .and_then(|(_, r)| r.split_once('@'))
            .map(|(p, _)| p.to_owned())
            .unwrap_or_default();
        if !password.is_empty() {
            assert!(!gw.stderr().contains(&password));
        }
    }

    // 1. Shared: 5 failures spread over both, then 429 through either.
    let order = [&a, &b, &a, &b, &a];
    for gw in order {
        let res = wrong(gw, DEMO_USER);
        assert_eq!(res.status, 400, "{}", res.text());
    }
    for gw in [&b, &a] {
        let res = wrong(gw, DEMO_USER);
        assert_eq!(res.status, 429, "{}", res.text());
        assert!(res.header("retry-after").is_some());
        // The right password too: the username is locked for the window.
        assert_eq!(gw.login_as(DEMO_USER, DEMO_PASSWORD).status, 429);
    }
    assert_eq!(
        metric(&a, "glue_gateway_login_throttle_fallbacks_total"),
        0.0
    );
    assert_eq!(
        metric(&b, "glue_gateway_login_throttle_fallbacks_total"),
        0.0
    );

    // 2. Redis stopped: answered in process, per instance.
    redis::stop_server();
    let user = "ann.outage@example.com";
    let mut slowest = Duration::ZERO;
    for i in 0..5 {
        let t = Instant::now();
        let res = wrong(&a, user);
        slowest = slowest.max(t.elapsed());
        assert_eq!(res.status, 400, "attempt {i}: {}", res.text());
    }
    let res = wrong(&a, user);
    assert_eq!(res.status, 429, "{}", res.text());
    // B counted nothing of A's: in-process limits, per instance.
    let res = wrong(&b, user);
    assert_eq!(res.status, 400, "{}", res.text());
    let fallbacks_a = metric(&a, "glue_gateway_login_throttle_fallbacks_total");
    let fallbacks_b = metric(&b, "glue_gateway_login_throttle_fallbacks_total");
    eprintln!("Redis down: fallbacks a={fallbacks_a} b={fallbacks_b}, slowest answer {slowest:?}");
    assert!(fallbacks_a >= 6.0, "{fallbacks_a}");
    assert!(fallbacks_b >= 1.0, "{fallbacks_b}");
    assert_eq!(metric(&a, "glue_gateway_login_throttle_redis_up"), 0.0);
    assert!(a.stderr().contains("login throttle: Redis unavailable"));
    // Bounded: the timeout (100 ms) plus a bcrypt verification, far from a
    // hanging request.
    assert!(slowest < Duration::from_secs(5), "{slowest:?}");

    // 3. Redis back: both reconnect (every second) and share again.
    redis::start_server();
    let start = Instant::now();
    while [&a, &b]
        .iter()
        .any(|gw| metric(gw, "glue_gateway_login_throttle_redis_up") != 1.0)
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no reconnect:\n{}",
            a.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let fallbacks_before = metric(&a, "glue_gateway_login_throttle_fallbacks_total")
        + metric(&b, "glue_gateway_login_throttle_fallbacks_total");
    let user = "bob.after@example.com";
    for gw in [&b, &a, &b, &a, &b] {
        assert_eq!(wrong(gw, user).status, 400);
    }
    for gw in [&a, &b] {
        assert_eq!(wrong(gw, user).status, 429);
    }
    let fallbacks_after = metric(&a, "glue_gateway_login_throttle_fallbacks_total")
        + metric(&b, "glue_gateway_login_throttle_fallbacks_total");
    eprintln!("after the restart: fallbacks {fallbacks_before} -> {fallbacks_after}");
    assert_eq!(fallbacks_after, fallbacks_before);
    assert!(a.stderr().contains("login throttle: Redis available again"));
}
