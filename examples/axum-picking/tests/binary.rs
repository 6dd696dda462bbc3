//! Starts the real `axum-picking` binary on a free loopback port and sends
//! it one allowed and one refused request over plain HTTP/1.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

/// Kills the server when the test ends, even on failure.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A warehouse token signed with the workspace's test key.
fn warehouse_token() -> String {
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/foreign-signer/test-private.pem"
    ))
    .unwrap();
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "aud": "frontend",
        "jti": "5f".repeat(40),
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "sub": r#"{"id_warehouse":1}"#,
        "scopes": ["warehouse"],
    });
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

fn get(addr: &str, path: &str, token: Option<&str>) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn binary_serves_allowed_and_refused_requests() {
    let child = Command::new(env!("CARGO_BIN_EXE_axum-picking"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();

    let allowed = get(&addr, "/picking-lists", Some(&warehouse_token()));
    assert!(allowed.starts_with("HTTP/1.1 200 OK\r\n"), "{allowed}");
    assert!(allowed.contains(r#""type":"picking-lists""#), "{allowed}");

    let refused = get(&addr, "/picking-lists", None);
    assert!(
        refused.starts_with("HTTP/1.1 403 Forbidden\r\n"),
        "{refused}"
    );
    assert!(
        refused.ends_with(r#"[{"status":403,"code":null,"message":"Authorization failed."}]"#),
        "{refused}"
    );
}
