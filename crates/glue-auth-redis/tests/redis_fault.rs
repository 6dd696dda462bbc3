//! Redis stopped, paused and started again under two running throttles:
//! every attempt is still decided, within the timeout, by in-process
//! counters (never an error, never unlimited), the fallbacks are counted,
//! and shared counting resumes once Redis is back, without restarting
//! anything.
//!
//! Its own test binary with a single test, because it stops the server that
//! other tests use (cargo runs test binaries one after another). Needs the
//! server of `scripts/with-redis.sh`; skipped with a notice otherwise.

mod common;

use std::time::{Duration, Instant};

use common::*;
use glue_auth_core::NumericDate;
use glue_auth_redis::RedisThrottle;
use glue_auth_token::{LoginThrottle, ThrottleSettings};

const TIMEOUT: Duration = Duration::from_millis(100);

fn instance(url: &str, prefix: &str) -> RedisThrottle {
    RedisThrottle::builder(url)
        .key_prefix(prefix)
        .settings(ThrottleSettings::default())
        .timeout(TIMEOUT)
        .retry_interval(Duration::from_millis(200))
        .connect_timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

/// Five wrong passwords for `name`, spread over `a` and `b`, each within
/// `limit`; then whether a sixth through either is refused.
async fn five_failures(a: &RedisThrottle, b: &RedisThrottle, name: &str, now: NumericDate) {
    for i in 0..5 {
        let t = if i % 2 == 0 { a } else { b };
        let start = Instant::now();
        let r = t.reserve(user(name), now).await.expect("admitted");
        r.fail(now).await;
        let took = start.elapsed();
        assert!(took < Duration::from_secs(1), "attempt {i} took {took:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_paused_and_started_again() {
    let Some(url) = server_url("redis_stopped_paused_and_started_again") else {
        return;
    };
    if !server_control("redis_stopped_paused_and_started_again") {
        return;
    }
    let p = prefix("fault");
    let (a, b) = (instance(&url, &p), instance(&url, &p));
    a.connect().await.unwrap();
    b.connect().await.unwrap();
    let now = NumericDate::now();
    five_failures(&a, &b, "shared-before", now).await;
    assert!(a.reserve(user("shared-before"), now).await.is_err());
    assert!(b.reserve(user("shared-before"), now).await.is_err());
    assert_eq!(a.stats().fallbacks + b.stats().fallbacks, 0);

    let _restart = Restart;
    stop_server();
    // Each instance counts by itself now: 5 per instance, not more.
    for t in [&a, &b] {
        for i in 0..5 {
            let start = Instant::now();
            let r = t.reserve(user("outage"), now).await;
            let took = start.elapsed();
            assert!(took < TIMEOUT * 5, "attempt {i} took {took:?}");
            r.expect("admitted in process").fail(now).await;
        }
        let refused = t.reserve(user("outage"), now).await.unwrap_err();
        assert_eq!(refused.retry_after_secs, 300);
        assert!(!t.stats().available);
        assert!(t.stats().fallbacks >= 6, "{:?}", t.stats());
        assert_eq!(t.stats().outages, 1);
    }

    start_server();
    for t in [&a, &b] {
        assert!(
            eventually(Duration::from_secs(10), || async { t.stats().available }).await,
            "no reconnection: {:?}",
            t.stats()
        );
    }
    let before = (a.stats().fallbacks, b.stats().fallbacks);
    five_failures(&a, &b, "shared-after", now).await;
    assert!(a.reserve(user("shared-after"), now).await.is_err());
    assert!(b.reserve(user("shared-after"), now).await.is_err());
    assert_eq!((a.stats().fallbacks, b.stats().fallbacks), before);

    // A Redis that accepts connections but does not answer (SIGSTOP): every
    // attempt is decided within about the timeout.
    pause_server(true);
    let start = Instant::now();
    let r = a.reserve(user("paused"), now).await;
    let took = start.elapsed();
    assert!(r.is_ok());
    assert!(
        took >= TIMEOUT && took < TIMEOUT * 5,
        "a paused Redis took {took:?}"
    );
    // Marked unavailable: the next attempts do not wait at all.
    let start = Instant::now();
    for _ in 0..3 {
        assert!(a.reserve(user("paused-2"), now).await.is_ok());
    }
    assert!(start.elapsed() < TIMEOUT, "{:?}", start.elapsed());
    assert_eq!(a.stats().outages, 2);
    drop(r);
    pause_server(false);
    assert!(
        eventually(Duration::from_secs(10), || async { a.stats().available }).await,
        "no reconnection after the pause: {:?}",
        a.stats()
    );
}
