//! The Redis server of the tests: `GLUE_TEST_REDIS_URL` names it (run the
//! tests through `scripts/with-redis.sh` to get a throw-away one); without
//! it, Redis tests print a notice and pass as skipped. Stopping and starting
//! it takes the script's `GLUE_REDIS_*` variables.

use std::process::Command;
use std::time::{Duration, Instant};

/// The server's URL, or `None` (and a notice) when no server is configured
/// or the script's variables to stop and start it are missing.
pub fn server_url(test: &str) -> Option<String> {
    let url = match std::env::var("GLUE_TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            eprintln!(
                "SKIPPED {test}: GLUE_TEST_REDIS_URL is not set \
                 (run through scripts/with-redis.sh to test against Redis)"
            );
            return None;
        }
    };
    for v in [
        "GLUE_REDIS_SERVER",
        "GLUE_REDIS_CONF",
        "GLUE_REDIS_PID_FILE",
    ] {
        if std::env::var(v).is_err() {
            eprintln!("SKIPPED {test}: {v} not set (run through scripts/with-redis.sh)");
            return None;
        }
    }
    Some(url)
}

fn server_pid() -> Option<u32> {
    let file = std::env::var("GLUE_REDIS_PID_FILE").ok()?;
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

fn kill(sig: &str, pid: u32) -> bool {
    Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stderr(std::process::Stdio::null())
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

/// Starts the server again if a failed assertion left it stopped.
pub struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        if !server_pid().is_some_and(alive) {
            start_server();
        }
    }
}
