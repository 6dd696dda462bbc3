//! The Redis server of the tests: `GLUE_TEST_REDIS_URL` names it (run the
//! tests through `scripts/with-redis.sh` to get a throw-away one); without
//! it, Redis tests print a notice and pass as skipped. The fault tests also
//! need the script's `GLUE_REDIS_*` variables to stop and start the server.

#![allow(dead_code, unreachable_pub)]

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use glue_auth_core::NumericDate;
use glue_auth_redis::RedisThrottle;
use glue_auth_token::{AttemptKeys, ThrottleSettings, UserKey};

/// The server's URL, or `None` (and a notice) when no server is configured.
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var("GLUE_TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!(
                "SKIPPED {test}: GLUE_TEST_REDIS_URL is not set \
                 (run through scripts/with-redis.sh to test against Redis)"
            );
            None
        }
    }
}

/// A key prefix no other test uses.
pub fn prefix(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "glue-test:{tag}:{}:{nanos}:{}:",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A throttle on `url` with these limits and key prefix.
pub fn throttle(url: &str, prefix: &str, settings: ThrottleSettings) -> RedisThrottle {
    RedisThrottle::builder(url)
        .key_prefix(prefix)
        .settings(settings)
        .build()
        .unwrap()
}

/// A connected throttle (panics when Redis does not answer).
pub async fn connected(url: &str, prefix: &str, settings: ThrottleSettings) -> RedisThrottle {
    let t = throttle(url, prefix, settings);
    t.connect().await.expect("Redis answers");
    t
}

pub fn at(secs: i64) -> NumericDate {
    NumericDate::from_secs(1_700_000_000 + secs)
}

pub fn user(name: &str) -> AttemptKeys {
    AttemptKeys {
        user: Some(UserKey::of(name)),
        address: None,
    }
}

pub fn both(name: &str, addr: &str) -> AttemptKeys {
    AttemptKeys {
        user: Some(UserKey::of(name)),
        address: Some(addr.parse().unwrap()),
    }
}

/// A plain connection, to look at the keys.
pub async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Polls `f` every 20 ms until it is true, for at most `limit`.
pub async fn eventually<F, Fut>(limit: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if f().await {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether the tests may stop and start the server (`scripts/with-redis.sh`
/// exports what it takes).
pub fn server_control(test: &str) -> bool {
    for v in [
        "GLUE_REDIS_SERVER",
        "GLUE_REDIS_CONF",
        "GLUE_REDIS_PID_FILE",
    ] {
        if std::env::var(v).is_err() {
            eprintln!("SKIPPED {test}: {v} not set (run through scripts/with-redis.sh)");
            return false;
        }
    }
    true
}

fn server_pid() -> Option<u32> {
    let file = std::env::var("GLUE_REDIS_PID_FILE").ok()?;
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

fn kill(sig: &str, pid: u32) -> bool {
    Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .is_ok_and(|s| s.success())
}

fn alive(pid: u32) -> bool {
    kill("0", pid)
}

/// Stops the server (TERM; it keeps nothing) and waits until it is gone.
pub fn stop_server() {
    let pid = server_pid().expect("the Redis pid file");
    assert!(kill("TERM", pid), "kill -TERM {pid}");
    let start = Instant::now();
    while alive(pid) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "Redis did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts the server again from its configuration (it daemonizes) and waits
/// until its pid file names a live process.
pub fn start_server() {
    let server = std::env::var("GLUE_REDIS_SERVER").unwrap();
    let conf = std::env::var("GLUE_REDIS_CONF").unwrap();
    let user = std::env::var("GLUE_REDIS_USER").unwrap_or_default();
    let mut cmd = if user.is_empty() {
        Command::new(&server)
    } else {
        let mut c = Command::new("runuser");
        c.args(["-u", &user, "--", &server]);
        c
    };
    let ok = cmd
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "{server} {conf} failed");
    let start = Instant::now();
    while !server_pid().is_some_and(alive) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "Redis did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stops (`STOP`) or resumes (`CONT`) the server process: a Redis that
/// accepts connections but does not answer.
pub fn pause_server(paused: bool) {
    let pid = server_pid().expect("the Redis pid file");
    assert!(kill(if paused { "STOP" } else { "CONT" }, pid));
}

/// Starts the server again (or resumes it) if a failed assertion left it
/// stopped.
pub struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        match server_pid() {
            Some(pid) if alive(pid) => {
                kill("CONT", pid);
            }
            _ => start_server(),
        }
    }
}
