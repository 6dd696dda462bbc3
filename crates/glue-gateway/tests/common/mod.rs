//! Starts the real `glue-gateway` binary and talks HTTP/1.1 to it over raw
//! loopback TCP.

#![allow(dead_code, unreachable_pub)]

pub mod my;
pub mod pg;
pub mod redis;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

pub const DEMO_USER: &str = "sonia@spryker.com";
pub const DEMO_PASSWORD: &str = "change123";
pub const DEMO_UUID: &str = "0d743cc3-a772-5145-971e-d4018ee7a489";
pub const JSON_API: &str = "application/vnd.api+json";
/// Picking lists of the demo data.
pub const LIST_WH1: &str = "a3c1e5b0-3f4d-5e6a-9b7c-000000000001";
pub const LIST_WH1_B: &str = "a3c1e5b0-3f4d-5e6a-9b7c-000000000002";
pub const LIST_WH2: &str = "a3c1e5b0-3f4d-5e6a-9b7c-000000000004";
pub const ITEM_WH1_B: &str = "5d1f0c2e-7b5a-5f0e-8c9d-000000000021";

/// The binary's last start-up line on stdout.
pub const READY_LINE: &str = "glue-gateway ready";
/// How long a start may take (a database may need retries).
const STARTUP_LIMIT: Duration = Duration::from_secs(60);

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "glue-gateway-test-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A running gateway process, killed on drop.
pub struct Gateway {
    pub child: Option<Child>,
    pub addr: SocketAddr,
    pub dir: TempDir,
    /// Start-up lines on stdout between the address line and the ready
    /// marker (the `try:` hint, when shown).
    pub stdout_rest: Vec<String>,
}

/// Builds the command line of a gateway (without starting it).
pub fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_glue-gateway"));
    cmd.arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(args)
        .current_dir(dir)
        .env("GLUE_GATEWAY_LOG", "info,glue_gateway=debug")
        .env_remove("RUST_LOG")
        .env_remove("GLUE_BACKEND_CORS_ALLOW_ORIGIN")
        .env_remove("PRIVATE_KEY_PATH")
        .env_remove("PUBLIC_KEY_PATH")
        .env_remove("SPRYKER_OAUTH_KEY_PRIVATE")
        .env_remove("SPRYKER_OAUTH_KEY_PUBLIC")
        // scripts/with-postgres.sh exports DATABASE_URL: tests choose their
        // database explicitly.
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("GLUE_GATEWAY_CONFIG")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

impl Gateway {
    pub fn start(args: &[&str]) -> Gateway {
        Self::start_with(args, &[])
    }

    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> Gateway {
        Self::start_in(TempDir::new(), args, env)
    }

    pub fn start_in(dir: TempDir, args: &[&str], env: &[(&str, &str)]) -> Gateway {
        let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
        let mut child = command(dir.path(), args, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start glue-gateway");
        let stdout = child.stdout.take().unwrap();
        // Keep draining stdout so the process never blocks on a full pipe.
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        // Everything up to the ready marker: the address line, then the
        // optional hint. The database may take a while (connect retries).
        let deadline = Instant::now() + STARTUP_LIMIT;
        let mut seen = Vec::new();
        let ready = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line == READY_LINE => break true,
                Ok(line) => seen.push(line),
                Err(_) => break false,
            }
        };
        let first = seen.first().cloned().unwrap_or_default();
        let addr = first.strip_prefix("glue-gateway listening on http://");
        let (Some(addr), true) = (addr, ready) else {
            let _ = child.kill();
            let _ = child.wait();
            let err = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
            panic!("gateway did not start: stdout {seen:?}\nstderr:\n{err}");
        };
        let addr: SocketAddr = addr.trim().parse().unwrap();
        let stdout_rest = seen.split_off(1);
        Gateway {
            child: Some(child),
            addr,
            dir,
            stdout_rest,
        }
    }

    /// Stops the process (SIGTERM, then waits) and hands back its directory,
    /// for a restart on the same data.
    pub fn stop(mut self) -> TempDir {
        self.signal("TERM");
        let status = self.wait_exit(Duration::from_secs(20));
        assert!(status.success(), "{status:?}\n{}", self.stderr());
        self.child = None;
        std::mem::replace(&mut self.dir, TempDir(PathBuf::new()))
    }

    /// Logs a user in with a form body; returns the whole answer.
    pub fn login_as(&self, username: &str, password: &str) -> Res {
        self.post("/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=password&username={username}&password={password}"
            ))
            .send()
    }

    /// Redeems a refresh token.
    pub fn refresh(&self, refresh_token: &str) -> Res {
        self.post("/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=refresh_token&refresh_token={refresh_token}"
            ))
            .send()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// Waits for the process to exit (at most `limit`).
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let child = self.child.as_mut().unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < limit, "gateway did not exit in {limit:?}");
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The gateway's log so far, with every line it logged before this
    /// call: its log writer lets a line that follows a write by less than
    /// its pause (10 ms) wait out the pause, so this reads after waiting
    /// several pauses.
    pub fn stderr(&self) -> String {
        thread::sleep(Duration::from_millis(50));
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    pub fn req(&self, method: &str, path: &str) -> Req {
        Req {
            addr: self.addr,
            method: method.into(),
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn get(&self, path: &str) -> Req {
        self.req("GET", path)
    }

    pub fn post(&self, path: &str) -> Req {
        self.req("POST", path)
    }

    /// Logs the demo user in with a form body; returns the access token.
    pub fn login(&self) -> String {
        let res = self
            .post("/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=password&username={DEMO_USER}&password={DEMO_PASSWORD}"
            ))
            .send();
        assert_eq!(res.status, 200, "{}", res.text());
        res.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// Exchanges a user token for a warehouse token.
    pub fn warehouse_token(&self, user_token: &str) -> String {
        let res = self.post("/warehouse-tokens").bearer(user_token).send();
        assert_eq!(res.status, 201, "{}", res.text());
        res.json()[0]["accessToken"].as_str().unwrap().to_owned()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A request under construction.
pub struct Req {
    pub addr: SocketAddr,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn send(self) -> Res {
        send_raw(self.addr, &self.encode())
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n",
            self.method, self.path, self.addr
        );
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !self.body.is_empty() || matches!(self.method.as_str(), "POST" | "PATCH" | "PUT") {
            head.push_str(&format!("content-length: {}\r\n", self.body.len()));
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

/// A parsed response.
#[derive(Debug)]
pub struct Res {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Res {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Sends raw bytes and reads the response until the server closes.
pub fn send_raw(addr: SocketAddr, bytes: &[u8]) -> Res {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(bytes).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_response(&raw)
}

pub fn parse_response(raw: &[u8]) -> Res {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Res {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(pos) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_str = std::str::from_utf8(&b[..pos]).unwrap();
        let size = usize::from_str_radix(size_str.split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[pos + 2..pos + 2 + size]);
        b = &b[pos + 2 + size + 2..];
    }
}

/// A tiny HTTP/1.1 upstream: answers every request with a JSON echo of its
/// method, path and headers; `/slow` waits `slow` first.
pub struct Upstream {
    pub addr: SocketAddr,
    /// One message per `/slow` request, sent when it arrives (before the wait).
    slow_arrived: std::sync::mpsc::Receiver<()>,
}

impl Upstream {
    pub fn start(slow: Duration) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let tx = tx.clone();
                thread::spawn(move || serve_upstream(stream, slow, &tx));
            }
        });
        Upstream {
            addr,
            slow_arrived: rx,
        }
    }

    /// Waits until a `/slow` request has reached this upstream.
    pub fn wait_for_slow_request(&self, limit: Duration) {
        self.slow_arrived
            .recv_timeout(limit)
            .unwrap_or_else(|e| panic!("no /slow request within {limit:?}: {e}"));
    }
}

/// One HTTP/1.1 request as the test upstreams read it: the request line's
/// method and target, the header lines in order (names lower-cased, values
/// trimmed) and the body (by `Content-Length`). `None` at the end of the
/// stream or on a read error.
pub struct UpstreamRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub fn read_request(reader: &mut impl BufRead) -> Option<UpstreamRequest> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return None;
    }
    let mut headers = Vec::new();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            if k == "content-length" {
                content_length = v.trim().parse().unwrap_or(0);
            }
            headers.push((k, v.trim().to_owned()));
        }
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body).ok()?;
    let mut parts = request_line.split_whitespace();
    Some(UpstreamRequest {
        method: parts.next().unwrap_or_default().to_owned(),
        path: parts.next().unwrap_or_default().to_owned(),
        headers,
        body,
    })
}

fn serve_upstream(stream: TcpStream, slow: Duration, arrived: &std::sync::mpsc::Sender<()>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(&stream);
    let mut writer = &stream;
    while let Some(req) = read_request(&mut reader) {
        if req.path.starts_with("/slow") {
            let _ = arrived.send(());
            thread::sleep(slow);
        }
        // Later lines of a repeated header name win, as a JSON object keeps one.
        let headers: serde_json::Map<String, serde_json::Value> = req
            .headers
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        let doc = serde_json::json!({
            "method": req.method,
            "path": req.path,
            "headers": headers,
            "body": String::from_utf8_lossy(&req.body),
        })
        .to_string();
        let res = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-upstream: yes\r\ncontent-length: {}\r\n\r\n{doc}",
            doc.len()
        );
        if writer.write_all(res.as_bytes()).is_err() {
            return;
        }
    }
}

/// A loopback port with nothing listening on it.
pub fn closed_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    addr
}

/// Runs the binary to completion (for configuration errors).
pub fn run_to_exit(args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String) {
    let dir = TempDir::new();
    let out = command(dir.path(), args, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What an admin command did.
#[derive(Debug)]
pub struct AdminRun {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl AdminRun {
    /// Asserts success; returns stdout.
    pub fn ok(&self) -> &str {
        assert!(self.status.success(), "{self:?}");
        &self.stdout
    }
}

/// Runs `glue-gateway --data-dir DIR/data ARGS` (an admin subcommand) to
/// completion, feeding `stdin`.
pub fn admin(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> AdminRun {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_glue-gateway"));
    cmd.arg("--data-dir")
        .arg(dir.join("data"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("GLUE_GATEWAY_LOG")
        .env_remove("DATABASE_URL")
        .env_remove("GLUE_GATEWAY_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run glue-gateway");
    {
        let mut input = child.stdin.take().unwrap();
        let _ = input.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().unwrap();
    AdminRun {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
