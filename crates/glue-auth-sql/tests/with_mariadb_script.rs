//! `scripts/with-mariadb.sh`, the wrapper the MariaDB tests run under: the
//! command's exit status passes through, the server reads the configuration
//! the script wrote (127.0.0.1, the port in the URL, the socket in the
//! temporary directory, not UTC), the command keeps the caller's umask, and
//! INT or TERM stop the command, the server and the temporary directory at
//! once, not when the command happens to end.
//!
//! Each test starts a server of its own. Skipped (with a notice) unless
//! MariaDB's server is installed: the script would install it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/with-mariadb.sh")
}

/// Whether the script finds a server and a client without installing.
fn mariadb_installed(test: &str) -> bool {
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).exists()))
    };
    let server = ["/usr/sbin/mariadbd", "/usr/sbin/mysqld"]
        .iter()
        .any(|p| Path::new(p).exists())
        || on_path("mariadbd")
        || on_path("mysqld");
    if server && (on_path("mariadb") || on_path("mysql")) {
        return true;
    }
    eprintln!("SKIPPED {test}: MariaDB's server or client is not installed");
    false
}

/// `bash with-mariadb.sh sh -c SCRIPT ARGS` under `umask 077`, with its own
/// server (not the one these tests may run under).
fn wrapper(shell_script: &str, args: &[&str], stderr: Stdio) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"umask 077; exec bash "$@""#)
        .arg("sh")
        .arg(script())
        .args(["sh", "-c", shell_script, "sh"])
        .args(args)
        .env_remove("GLUE_TEST_MYSQL_URL")
        .stdin(Stdio::null())
        .stderr(stderr);
    cmd
}

#[test]
fn exit_status_umask_and_server() {
    if !mariadb_installed("exit_status_umask_and_server") {
        return;
    }
    let out = wrapper(
        r#"umask
           echo "$GLUE_MYSQL_DATADIR"
           echo "$GLUE_TEST_MYSQL_URL"
           client=$(command -v mariadb || command -v mysql)
           "$client" --no-defaults -S "$GLUE_MYSQL_SOCKET" -u root -N \
               -e 'SELECT @@port, @@bind_address, @@global.time_zone, @@tmpdir'
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
    let [umask, datadir, url, shown] = lines[..] else {
        panic!("unexpected output: {stdout}\n{stderr}");
    };
    // The command runs with the caller's umask ...
    assert_eq!(umask, "0077");
    // ... and the server read the configuration the script wrote: the URL's
    // port, loopback only, a time zone other than UTC, and temporary files
    // in its own directory (servers sharing /tmp delete each other's
    // temporary tables when they start, which broke concurrent starts).
    let port = url
        .rsplit_once(':')
        .and_then(|(_, rest)| rest.split('/').next())
        .unwrap();
    assert!(url.starts_with("mysql://glue:"), "{stderr}");
    let own_tmp = Path::new(datadir).parent().unwrap().join("tmp");
    assert_eq!(
        shown.split('\t').collect::<Vec<_>>(),
        [port, "127.0.0.1", "+05:30", own_tmp.to_str().unwrap()],
        "{stderr}"
    );
    // The password is not printed.
    let password = url["mysql://glue:".len()..].split('@').next().unwrap();
    assert!(password.len() >= 16);
    assert!(!stderr.contains(password), "{stderr}");
    // Cleaned up.
    let tmp = Path::new(datadir).parent().unwrap();
    assert!(!tmp.exists(), "{} is left behind", tmp.display());
}

/// If an assertion fails half-way: ends the command, gives the script 30 s
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
        while t.elapsed() < Duration::from_secs(30) {
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
        r#"echo "$GLUE_MYSQL_DATADIR $(cat "$GLUE_MYSQL_PID_FILE") $$" >"$1.tmp" && mv "$1.tmp" "$1"; exec sleep 120"#,
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
        assert!(t.elapsed() < Duration::from_secs(120), "{}", stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    let line = std::fs::read_to_string(&started).unwrap();
    let [datadir, server, pid] = line.split_whitespace().collect::<Vec<_>>()[..] else {
        panic!("unexpected: {line}");
    };
    let pid: u32 = pid.parse().unwrap();
    let server: u32 = server.parse().unwrap();
    guard.1 = Some(pid);
    let tmp = Path::new(datadir).parent().unwrap().to_owned();
    assert!(tmp.exists());
    assert!(alive(server));

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
            t.elapsed() < Duration::from_secs(30),
            "SIG{signal}: the script is still running after 30 s (the command has 120 s \
             to go)\n{}",
            stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(code), "{}", stderr());
    assert!(!alive(pid), "the command survived SIG{signal}");
    assert!(!alive(server), "the server survived SIG{signal}");
    assert!(!tmp.exists(), "{} is left behind", tmp.display());
}

#[test]
fn term_stops_the_command_and_the_server_at_once() {
    if mariadb_installed("term_stops_the_command_and_the_server_at_once") {
        signal_stops_everything_at_once("TERM", 143);
    }
}

#[test]
fn int_stops_the_command_and_the_server_at_once() {
    if mariadb_installed("int_stops_the_command_and_the_server_at_once") {
        signal_stops_everything_at_once("INT", 130);
    }
}
