//! End to end: JWKS, SIGHUP key reload, metrics, CORS, security headers,
//! configuration errors, HTTP/1.1 keep-alive and h2c.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use glue_auth_bearer::{KeySet, PublicKey};

const SECURITY_HEADERS: [(&str, &str); 6] = [
    ("x-frame-options", "SAMEORIGIN"),
    ("content-security-policy", "frame-ancestors 'self'"),
    ("x-content-type-options", "nosniff"),
    ("x-xss-protection", "1; mode=block"),
    ("referrer-policy", "same-origin"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains; preload",
    ),
];

fn jwks_keys(gw: &Gateway) -> Vec<serde_json::Value> {
    let res = gw.get("/.well-known/jwks.json").send();
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/json"));
    res.json()["keys"].as_array().unwrap().clone()
}

fn key_set_of(jwk: &serde_json::Value) -> KeySet {
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
    KeySet::single(PublicKey::from_components(&n, &e).unwrap())
}

fn thumbprint(jwk: &serde_json::Value) -> String {
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        jwk["e"].as_str().unwrap(),
        jwk["n"].as_str().unwrap()
    );
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(d.as_ref())
}

#[test]
fn jwks_publishes_the_signing_key() {
    let gw = Gateway::start(&[]);
    let keys = jwks_keys(&gw);
    assert_eq!(keys.len(), 1);
    let jwk = &keys[0];
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["alg"], "RS256");
    assert_eq!(jwk["e"], "AQAB");
    assert_eq!(jwk["kid"], thumbprint(jwk));
    // A token from /token verifies against the published key.
    let token = gw.login();
    let (claims, _) = key_set_of(jwk).verify(&token).unwrap();
    assert_eq!(claims.principal().as_user().unwrap().uuid(), DEMO_UUID);
    // The dev key pair was written to the data directory and is reused.
    let data = gw.dir.path().join("data");
    assert!(data.join("dev-private.pem").exists());
    assert!(gw.stderr().contains("DEVELOPMENT"), "{}", gw.stderr());
}

fn write_key_pair(dir: &std::path::Path) {
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let pkcs8 = pair.as_der().unwrap();
    let spki = aws_lc_rs::signature::KeyPair::public_key(&pair)
        .as_der()
        .unwrap();
    let private = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.as_ref().to_vec()));
    let public = pem::encode(&pem::Pem::new("PUBLIC KEY", spki.as_ref().to_vec()));
    // Write then rename: a reload never sees half a file.
    std::fs::write(dir.join("private.pem.tmp"), private).unwrap();
    std::fs::write(dir.join("public.pem.tmp"), public).unwrap();
    #[cfg(unix)]
    {
        // World-readable, as a careless deployment would leave it.
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::Permissions::from_mode(0o644);
        std::fs::set_permissions(dir.join("private.pem.tmp"), mode).unwrap();
    }
    std::fs::rename(dir.join("private.pem.tmp"), dir.join("private.pem")).unwrap();
    std::fs::rename(dir.join("public.pem.tmp"), dir.join("public.pem")).unwrap();
}

/// Reads one response from a keep-alive connection (content-length bodies).
fn read_one(s: &mut TcpStream) -> Res {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = parse_response(&raw[..end + 4]);
            let len: usize = head
                .header("content-length")
                .map(|v| v.parse().unwrap())
                .unwrap_or(0);
            if raw.len() >= end + 4 + len {
                return parse_response(&raw[..end + 4 + len]);
            }
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed");
        raw.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn sighup_reloads_keys_from_spryker_named_files_without_dropping_connections() {
    let dir = TempDir::new();
    write_key_pair(dir.path());
    let private = format!("file://{}", dir.path().join("private.pem").display());
    let public = dir.path().join("public.pem").display().to_string();
    let key_dir = dir.path().to_path_buf();
    let gw = Gateway::start_in(
        dir,
        &[],
        &[("PRIVATE_KEY_PATH", &private), ("PUBLIC_KEY_PATH", &public)],
    );
    assert!(!gw.stderr().contains("DEVELOPMENT"));
    #[cfg(unix)]
    assert!(
        gw.stderr()
            .contains("the private key file is readable by group or others"),
        "{}",
        gw.stderr()
    );
    let old_kid = jwks_keys(&gw)[0]["kid"].as_str().unwrap().to_owned();
    let old_token = gw.login();

    // A keep-alive connection open across the reload.
    let mut conn = TcpStream::connect(gw.addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let ask = format!(
        "GET /picking-lists HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {old_token}\r\n\r\n"
    );
    conn.write_all(ask.as_bytes()).unwrap();
    assert_eq!(read_one(&mut conn).status, 200);

    write_key_pair(&key_dir);
    gw.signal("HUP");
    let start = Instant::now();
    let new_kid = loop {
        let kid = jwks_keys(&gw)[0]["kid"].as_str().unwrap().to_owned();
        if kid != old_kid {
            break kid;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "keys not reloaded:\n{}",
            gw.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_ne!(new_kid, old_kid);

    // Same connection, still open: the old token is now refused.
    conn.write_all(ask.as_bytes()).unwrap();
    let res = read_one(&mut conn);
    assert_eq!(res.status, 401, "{}", res.text());

    // New tokens are signed with the new key.
    let token = gw.login();
    let res = gw.get("/picking-lists").bearer(&token).send();
    assert_eq!(res.status, 200);
    let jwk = &jwks_keys(&gw)[0];
    assert!(key_set_of(jwk).verify(&token).is_ok());
    assert!(gw.stderr().contains("keys reloaded"), "{}", gw.stderr());
}

/// SIGHUP swaps the signing key inside the running token endpoint: failed
/// logins counted before the reload still count after it (4 + 1 = 5, then
/// 429), where rebuilding the endpoint used to start from zero.
#[test]
fn sighup_keeps_the_failed_login_count() {
    let gw = Gateway::start(&[]);
    for _ in 0..4 {
        assert_eq!(gw.login_as(DEMO_USER, "wrong").status, 400);
    }
    gw.signal("HUP");
    let start = Instant::now();
    while !gw.stderr().contains("keys reloaded") {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no reload:\n{}",
            gw.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(gw.login_as(DEMO_USER, "wrong").status, 400);
    let res = gw.login_as(DEMO_USER, DEMO_PASSWORD);
    assert_eq!(res.status, 429, "{}", res.text());
    assert!(res.header("retry-after").is_some());
}

/// SIGTERM while a password verification runs: the process ends within its
/// documented bound (`shutdown_timeout`, plus one second for blocking work),
/// not when bcrypt is done. The stored hash is a real cost-4 hash raised to
/// cost 20 (about a minute of bcrypt); the cost limit is lifted for it.
#[test]
fn sigterm_during_a_long_password_hash_ends_within_the_bound() {
    let dir = TempDir::new();
    let slow = bcrypt::hash("whatever", 4)
        .unwrap()
        .replacen("$04$", "$20$", 1);
    let users = serde_json::json!({
        "users": [{"id_user": 7, "uuid": "00000000-0000-0000-0000-000000000007",
                   "username": "slow@spryker.com", "password": slow}],
    });
    std::fs::write(dir.path().join("users.json"), users.to_string()).unwrap();
    let users_file = dir.path().join("users.json").display().to_string();
    let mut gw = Gateway::start_in(
        dir,
        &[
            "--users-file",
            &users_file,
            "--max-stored-password-cost",
            "31",
            "--shutdown-timeout",
            "2",
        ],
        &[],
    );
    let addr = gw.addr;
    let login = std::thread::spawn(move || {
        let body = "grant_type=password&username=slow%40spryker.com&password=x";
        let req = format!(
            "POST /token HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(90))).unwrap();
        s.write_all(req.as_bytes()).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
    });
    // Let the verification start on the blocking pool.
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    gw.signal("TERM");
    let status = gw.wait_exit(Duration::from_secs(15));
    let took = sent.elapsed();
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(5),
        "exit took {took:?} (bound: 2 s + 1 s)"
    );
    login.join().unwrap();
}

#[test]
fn metrics_count_routes_rejections_cache_and_token_latency() {
    let gw = Gateway::start(&[]);
    let token = gw.login();
    for _ in 0..3 {
        assert_eq!(gw.get("/picking-lists").bearer(&token).send().status, 200);
    }
    assert_eq!(
        gw.get("/picking-lists")
            .header("authorization", "Bearer a.b.c")
            .send()
            .status,
        401
    );
    assert_eq!(gw.get("/picking-lists").send().status, 403);
    let res = gw.get("/metrics").send();
    assert_eq!(res.status, 200);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text();
    for needle in [
        r#"glue_gateway_requests_total{route="/picking-lists",outcome="ok",status="200"} 3"#,
        r#"glue_gateway_requests_total{route="/token",outcome="ok",status="200"} 1"#,
        r#"glue_gateway_rejections_total{kind="invalid_token",reason="malformed"} 1"#,
        r#"glue_gateway_rejections_total{kind="authorization_failed",reason="authorization_failed"} 1"#,
        "glue_gateway_token_cache_hits_total 2",
        "glue_gateway_token_cache_hit_ratio",
        r#"glue_gateway_token_endpoint_duration_seconds_count{endpoint="/token",status="200"} 1"#,
        "glue_gateway_request_duration_seconds_bucket",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
    // Tokens never reach the logs.
    let log = gw.stderr();
    assert!(!log.contains(&token[..40]), "token in the log");
    assert!(!log.contains(DEMO_PASSWORD), "password in the log");
    assert!(log.contains("glue_gateway::access"), "{log}");
}

#[test]
fn security_headers_on_every_answer_and_healthz() {
    let gw = Gateway::start(&[]);
    let answers = [
        gw.get("/healthz").send(),
        gw.get("/picking-lists").send(),
        gw.get("/nowhere").send(),
        gw.post("/token").body("grant_type=password").send(),
        gw.get("/.well-known/jwks.json").send(),
    ];
    assert_eq!(answers[0].status, 200);
    assert_eq!(answers[0].json()["status"], "ok");
    for res in &answers {
        for (k, v) in SECURITY_HEADERS {
            assert_eq!(res.header(k), Some(v), "{k} on {res:?}");
        }
        // No CORS configured: no CORS headers.
        assert_eq!(res.header("access-control-allow-origin"), None);
    }
}

#[test]
fn cors_preflight_and_simple_requests() {
    let gw = Gateway::start_with(
        &[],
        &[(
            "GLUE_BACKEND_CORS_ALLOW_ORIGIN",
            "https://fulfillment.example, http://localhost:3000",
        )],
    );
    let res = gw
        .req("OPTIONS", "/picking-lists/x/picking-list-items")
        .header("origin", "https://fulfillment.example")
        .header("access-control-request-method", "PATCH")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send();
    assert_eq!(res.status, 204, "{res:?}");
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("https://fulfillment.example")
    );
    let methods = res.header("access-control-allow-methods").unwrap();
    for m in ["GET", "POST", "PATCH"] {
        assert!(methods.contains(m), "{methods}");
    }
    let headers = res
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for h in ["authorization", "content-type", "accept", "accept-language"] {
        assert!(headers.contains(h), "{headers}");
    }
    assert_eq!(res.header("access-control-allow-credentials"), None);
    assert_eq!(res.header("x-frame-options"), Some("SAMEORIGIN"));

    // Another origin gets no allow-origin.
    let res = gw
        .req("OPTIONS", "/token")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send();
    assert_eq!(res.header("access-control-allow-origin"), None);

    // A simple request from an allowed origin.
    let res = gw
        .post("/token")
        .header("origin", "http://localhost:3000")
        .body(format!(
            "grant_type=password&username={DEMO_USER}&password={DEMO_PASSWORD}"
        ))
        .send();
    assert_eq!(res.status, 200);
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
}

/// Arguments, environment, text the error must contain.
type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);

#[test]
fn bad_configuration_fails_with_exit_code_2_naming_the_setting() {
    let dir = TempDir::new();
    let bad_toml = dir.path().join("bad.toml");
    std::fs::write(&bad_toml, "user_token_tll = 5\n").unwrap();
    let bad_toml = bad_toml.to_string_lossy().into_owned();
    let cases: Vec<Case<'_>> = vec![
        (
            vec!["--unauthenticated-status", "402"],
            vec![],
            "unauthenticated_status",
        ),
        (
            vec![],
            vec![("PRIVATE_KEY_PATH", "/nonexistent/key.pem")],
            "private_key_path",
        ),
        (
            vec![],
            vec![(
                "SPRYKER_OAUTH_KEY_PUBLIC",
                "-----BEGIN PUBLIC KEY-----__LINE__AAAA__LINE__-----END PUBLIC KEY-----",
            )],
            "public_key_path",
        ),
        (vec!["--config", &bad_toml], vec![], "user_token_tll"),
        (vec!["--upstream", "ftp://glue.example"], vec![], "upstream"),
        (
            vec![],
            vec![("GLUE_BACKEND_CORS_ALLOW_ORIGIN", "fulfillment.example")],
            "cors_allow_origin",
        ),
        (vec!["--user-token-ttl", "soon"], vec![], "--user-token-ttl"),
        (vec!["--max-token-size", "10"], vec![], "max_token_size"),
    ];
    for (args, env, needle) in cases {
        let (status, stderr) = run_to_exit(&args, &env);
        assert_eq!(status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{args:?}: {needle} not in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.contains("RUST_BACKTRACE"), "{stderr}");
    }
}

#[test]
fn h2c_prior_knowledge() {
    let gw = Gateway::start(&[]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut send = h2c_sender(gw.addr).await;
        let req = http::Request::get(format!("http://{}/healthz", gw.addr))
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        let res = send.send_request(req).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.version(), http::Version::HTTP_2);
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    });
}

#[test]
fn oversized_request_heads_are_refused() {
    let gw = Gateway::start(&["--max-header-size", "8192"]);
    let res = gw
        .get("/healthz")
        .header("x-filler", &"a".repeat(12 * 1024))
        .send();
    assert_eq!(res.status, 431, "{res:?}");
    // The connection limit of the process is untouched: the next request works.
    assert_eq!(gw.get("/healthz").send().status, 200);
}

/// Waits for the server to close `s` (EOF or reset); `None` if it is still
/// open after `limit`.
fn closed_within(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            // A SETTINGS frame or a 408: keep reading until the close.
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None;
            }
            Err(_) => return Some(start.elapsed()),
        }
        if start.elapsed() > limit {
            return None;
        }
    }
}

#[test]
fn connections_without_a_request_head_are_closed_after_header_read_timeout() {
    // One connection permit: an idle connection that kept it would block
    // every later client.
    let gw = Gateway::start(&["--header-read-timeout", "1", "--max-connections", "1"]);
    let cases: [(&str, &[u8]); 3] = [
        ("nothing", b""),
        ("a partial h2 preface", b"PRI * HTTP/2.0\r\n"),
        (
            "the h2 preface and SETTINGS, no request",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00",
        ),
    ];
    for (what, bytes) in cases {
        let mut idle = TcpStream::connect(gw.addr).unwrap();
        idle.write_all(bytes).unwrap();
        let closed = closed_within(&mut idle, Duration::from_secs(6));
        let Some(after) = closed else {
            panic!("a connection sending {what} is still open after 6 s");
        };
        assert!(after >= Duration::from_millis(800), "{what}: {after:?}");
        // The permit is back: the next client is served.
        let mut s = TcpStream::connect(gw.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(gw.get("/healthz").encode().as_slice()).unwrap();
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        assert_eq!(parse_response(&raw).status, 200, "after {what}");
    }
}

#[test]
fn an_h2c_connection_that_sent_a_request_outlives_header_read_timeout() {
    let gw = Gateway::start(&["--header-read-timeout", "1"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut send = h2c_sender(gw.addr).await;
        for _ in 0..2 {
            let req = http::Request::get(format!("http://{}/healthz", gw.addr))
                .body(http_body_util::Empty::<bytes::Bytes>::new())
                .unwrap();
            let res = send.send_request(req).await.unwrap();
            assert_eq!(res.status(), 200);
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
    });
}

/// An HTTP/2 prior-knowledge (h2c) connection to the gateway, its driver spawned.
async fn h2c_sender(
    addr: std::net::SocketAddr,
) -> hyper::client::conn::http2::SendRequest<http_body_util::Empty<bytes::Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    send
}
