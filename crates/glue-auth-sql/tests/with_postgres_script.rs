//! `scripts/with-postgres.sh`, the wrapper the PostgreSQL tests run under:
//! the command's exit status passes through, the server reads its
//! configuration under a restrictive umask (and the command keeps the
//! caller's), and INT or TERM stop the command, the server and the
//! temporary directory at once, not when the command happens to end.
//!
//! Each test starts a server of its own. Skipped (with a notice) unless
//! PostgreSQL's binaries are installed: the script would install them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/with-postgres.sh")
}

/// Whether the script finds `initdb` and `pg_ctl` without installing.
fn postgres_installed(test: &str) -> bool {
    let debian = std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|dirs| {
        dirs.flatten()
            .any(|d| d.path().join("bin/initdb").exists() && d.path().join("bin/pg_ctl").exists())
    });
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).exists()))
    };
    if debian || (on_path("initdb") && on_path("pg_ctl")) {
        return true;
    }
    eprintln!("SKIPPED {test}: PostgreSQL's initdb/pg_ctl are not installed");
    false
}

/// `bash with-postgres.sh SCRIPT` under `umask 077`, with its own server
/// (not the one these tests may run under).
fn wrapper(shell_script: &str, args: &[&str], stderr: Stdio) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"umask 077; exec bash "$@""#)
        .arg("sh")
        .arg(script())
        .args(["sh", "-c", shell_script, "sh"])
        .args(args)
        .env_remove("GLUE_TEST_DATABASE_URL")
        .stdin(Stdio::null())
        .stderr(stderr);
    cmd
}

#[test]
fn exit_status_umask_and_server() {
    if !postgres_installed("exit_status_umask_and_server") {
        return;
    }
    let out = wrapper(
        r#"umask
           echo "$PGDATA"
           "$GLUE_PG_BIN/psql" -Atc 'SHOW port'
           echo "$PGPORT"
           exit 7"#,
        &[],
        Stdio::piped(),
    )
    .stdout(Stdio::piped())
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let [umask, pgdata, shown_port, port] = lines[..] else {
        panic!("unexpected output: {stdout}\n{stderr}");
    };
    // The command runs with the caller's umask ...
    assert_eq!(umask, "0077");
    // ... and the server read the configuration the script wrote.
    assert_eq!(shown_port, port, "{stderr}");
    // Cleaned up.
    let tmp = Path::new(pgdata).parent().unwrap();
    assert!(!tmp.exists(), "{} is left behind", tmp.display());
}

/// If an assertion fails half-way: ends the command, gives the script 15 s
/// to clean up (stop its server), then kills it.
struct Reap(Child, Option<u32>);

impl Drop for Reap {
    fn drop(&mut self) {
        if let Some(pid) = self.1 {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(15) {
            if !matches!(self.0.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn alive(pid: u32) -> bool {
    // A zombie (not reaped by an init that does not reap) counts as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|r| !r.trim().starts_with('Z'))
    })
}

fn signal_stops_everything_at_once(signal: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let started = dir.path().join("started");
    let log = std::fs::File::create(dir.path().join("stderr")).unwrap();
    let child = wrapper(
        r#"echo "$PGDATA $$" >"$1.tmp" && mv "$1.tmp" "$1"; exec sleep 120"#,
        &[started.to_str().unwrap()],
        Stdio::from(log),
    )
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    let mut guard = Reap(child, None);
    let stderr = || std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();

    let t = Instant::now();
    while !started.exists() {
        if let Some(status) = guard.0.try_wait().unwrap() {
            panic!(
                "the script ended before the command started: {status}\n{}",
                stderr()
            );
        }
        assert!(t.elapsed() < Duration::from_secs(90), "{}", stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    let line = std::fs::read_to_string(&started).unwrap();
    let (pgdata, pid) = line.trim().rsplit_once(' ').unwrap();
    let pid: u32 = pid.parse().unwrap();
    guard.1 = Some(pid);
    let tmp = Path::new(pgdata).parent().unwrap().to_owned();
    assert!(tmp.exists());

    let t = Instant::now();
    let script_pid = guard.0.id().to_string();
    assert!(
        Command::new("kill")
            .args([&format!("-{signal}"), &script_pid])
            .status()
            .unwrap()
            .success()
    );
    let status = loop {
        if let Some(status) = guard.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "SIG{signal}: the script is still running after 20 s (the command has 120 s \
             to go)\n{}",
            stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(code), "{}", stderr());
    assert!(!alive(pid), "the command survived SIG{signal}");
    assert!(!tmp.exists(), "{} is left behind", tmp.display());
}

#[test]
fn term_stops_the_command_and_the_server_at_once() {
    if postgres_installed("term_stops_the_command_and_the_server_at_once") {
        signal_stops_everything_at_once("TERM", 143);
    }
}

#[test]
fn int_stops_the_command_and_the_server_at_once() {
    if postgres_installed("int_stops_the_command_and_the_server_at_once") {
        signal_stops_everything_at_once("INT", 130);
    }
}
