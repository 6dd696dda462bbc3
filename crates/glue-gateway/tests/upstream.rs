//! End to end in upstream mode: principal headers forwarded, spoofed ones
//! stripped, 502 when the upstream is down, graceful shutdown.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn principal_headers_are_forwarded_and_spoofed_ones_stripped() {
    let up = Upstream::start(Duration::ZERO);
    let url = format!("http://{}/backend", up.addr);
    // `/health-check` is outside Spryker's table: public here (the default
    // in proxy mode is `deny`, tested in proxy_screening.rs).
    let gw = Gateway::start(&[
        "--upstream",
        &url,
        "--header-scopes",
        "x-scopes",
        "--unmatched-routes",
        "public",
    ]);
    let user = gw.login();
    let wh = gw.warehouse_token(&user);

    // User token: uuid, id and scopes; the spoofed warehouse header is gone.
    let res = gw
        .get("/picking-lists?include=picking-list-items")
        .bearer(&user)
        .header("x-glue-warehouse-id", "2")
        .header("x-glue-user-id", "999")
        .send();
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("x-upstream"), Some("yes"));
    // Security headers are added to proxied answers too.
    assert_eq!(res.header("x-frame-options"), Some("SAMEORIGIN"));
    let echo = res.json();
    assert_eq!(
        echo["path"],
        "/backend/picking-lists?include=picking-list-items"
    );
    let h = &echo["headers"];
    assert_eq!(h["x-glue-user-uuid"], DEMO_UUID);
    assert_eq!(h["x-glue-user-id"], "4");
    assert_eq!(h["x-scopes"], "user back-office-user");
    assert!(h.get("x-glue-warehouse-id").is_none(), "{h}");
    assert_eq!(h["host"], up.addr.to_string());
    assert_eq!(h["x-forwarded-host"], gw.addr.to_string());
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert!(h["authorization"].as_str().unwrap().starts_with("Bearer "));

    // Warehouse token: only the warehouse id (and scopes).
    let res = gw
        .post(&format!("/picking-lists/{LIST_WH1}/start-picking"))
        .bearer(&wh)
        .header("x-glue-user-uuid", "spoofed")
        .body("{}")
        .send();
    assert_eq!(res.status, 200, "{}", res.text());
    let echo = res.json();
    let h = &echo["headers"];
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["body"], "{}");
    assert_eq!(h["x-glue-warehouse-id"], "1");
    assert_eq!(h["x-scopes"], "warehouse");
    assert!(h.get("x-glue-user-uuid").is_none(), "{h}");

    // No token on a public path: forwarded, spoofed principal stripped.
    let res = gw
        .get("/health-check")
        .header("x-glue-user-id", "4")
        .header("x-glue-user-uuid", DEMO_UUID)
        .header("x-scopes", "back-office-user")
        .send();
    assert_eq!(res.status, 200, "{}", res.text());
    let h = &res.json()["headers"];
    for name in ["x-glue-user-id", "x-glue-user-uuid", "x-scopes"] {
        assert!(h.get(name).is_none(), "{name} forwarded: {h}");
    }

    // Underscore spellings (one CGI variable with the dashed name in PHP,
    // gunicorn, …) never reach the upstream, authenticated or not.
    let spoofs = [
        ("x_glue_user_id", "999"),
        ("X_Glue_Warehouse_Id", "2"),
        ("x-glue_user-uuid", "spoofed"),
        ("x_scopes", "back-office-user"),
        ("x_forwarded_host", "evil.example"),
    ];
    for token in [Some(user.as_str()), None] {
        let mut req = match token {
            Some(t) => gw.get("/picking-lists").bearer(t),
            None => gw.get("/health-check"),
        };
        for (k, v) in spoofs {
            req = req.header(k, v);
        }
        let res = req.send();
        assert_eq!(res.status, 200, "{}", res.text());
        let h = &res.json()["headers"];
        let names: Vec<&String> = h.as_object().unwrap().keys().collect();
        assert!(
            names.iter().all(|n| !n.contains('_')),
            "underscored header forwarded: {names:?}"
        );
        if token.is_some() {
            assert_eq!(h["x-glue-user-id"], "4");
        }
        assert_eq!(h["x-forwarded-host"], gw.addr.to_string());
    }

    // The auth layers still answer before the upstream.
    let res = gw.get("/picking-lists").send();
    assert_eq!(res.status, 403);
    assert_eq!(res.header("x-upstream"), None);
    // /token is answered by the gateway, never forwarded.
    let res = gw.get("/token").send();
    assert_eq!(res.status, 405);
}

#[test]
fn upstream_down_is_a_502_with_a_glue_body() {
    let url = format!("http://{}", closed_port());
    let gw = Gateway::start(&["--upstream", &url]);
    let token = gw.login();
    let res = gw.get("/picking-lists").bearer(&token).send();
    assert_eq!(res.status, 502, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(
        res.json(),
        serde_json::json!([{"status":502,"code":null,"message":"Bad gateway."}])
    );
    let metrics = gw.get("/metrics").send().text();
    assert!(
        metrics.contains("glue_gateway_upstream_errors_total 1"),
        "{metrics}"
    );
}

#[test]
fn sigterm_lets_the_in_flight_request_finish() {
    let up = Upstream::start(Duration::from_millis(1500));
    let url = format!("http://{}", up.addr);
    let mut gw = Gateway::start(&["--upstream", &url, "--unmatched-routes", "authenticated"]);
    let token = gw.login();
    let slow = gw.get("/slow").bearer(&token);
    let in_flight = std::thread::spawn(move || slow.send());
    // Signal only once the request is in flight (it reached the upstream).
    up.wait_for_slow_request(Duration::from_secs(10));
    let stopped_at = Instant::now();
    gw.signal("TERM");
    // New connections are refused soon after the signal.
    let start = Instant::now();
    loop {
        if std::net::TcpStream::connect(gw.addr).is_err() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "still accepting");
        std::thread::sleep(Duration::from_millis(20));
    }
    let res = in_flight.join().unwrap();
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["path"], "/slow");
    let status = gw.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status:?}\n{}", gw.stderr());
    assert!(stopped_at.elapsed() >= Duration::from_millis(900));
    let log = gw.stderr();
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(log.contains("all connections closed"), "{log}");
}

#[test]
fn a_slow_upstream_hits_the_request_timeout() {
    let up = Upstream::start(Duration::from_millis(2500));
    let url = format!("http://{}", up.addr);
    let gw = Gateway::start(&[
        "--upstream",
        &url,
        "--request-timeout",
        "1",
        "--unmatched-routes",
        "authenticated",
    ]);
    let token = gw.login();
    let res = gw.get("/slow").bearer(&token).send();
    assert_eq!(res.status, 504, "{}", res.text());
    assert_eq!(
        res.json(),
        serde_json::json!([{"status":504,"code":null,"message":"Gateway timeout."}])
    );
    assert_eq!(res.header("x-frame-options"), Some("SAMEORIGIN"));
}

#[test]
fn verify_only_mode_accepts_tokens_issued_elsewhere_and_forwards_token_requests() {
    use aws_lc_rs::encoding::AsDer;
    use glue_auth_core::{Claims, NumericDate, Principal, Scopes, UserPrincipal};

    // The key pair of "Spryker": the gateway only gets the public half.
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let private_pem = pem::encode(&pem::Pem::new(
        "PRIVATE KEY",
        pair.as_der().unwrap().as_ref().to_vec(),
    ));
    let public_pem = pem::encode(&pem::Pem::new(
        "PUBLIC KEY",
        aws_lc_rs::signature::KeyPair::public_key(&pair)
            .as_der()
            .unwrap()
            .as_ref()
            .to_vec(),
    ));
    let signer = glue_auth_token::SigningKey::from_pem(private_pem.as_bytes()).unwrap();
    let claims = Claims::builder(
        Principal::User(UserPrincipal::new(7, "u-7", None::<String>)),
        Scopes::from_iter(["user", "warehouse-user"]),
    )
    .jti("ab".repeat(40))
    .audience("frontend")
    .issued_at(NumericDate::now(), Duration::from_secs(600))
    .build();
    let token = signer.sign(&claims).unwrap();

    let up = Upstream::start(Duration::ZERO);
    let url = format!("http://{}", up.addr);
    // Spryker's inline form: PEM with __LINE__ for newlines.
    let inline = public_pem
        .trim_end()
        .replace("\r\n", "__LINE__")
        .replace('\n', "__LINE__");
    let gw = Gateway::start_with(
        &["--upstream", &url],
        &[("SPRYKER_OAUTH_KEY_PUBLIC", &inline)],
    );
    // No login hint: this gateway issues no tokens (stdout_rest holds every
    // line up to the ready marker, so this check sees the hint if printed).
    assert!(gw.stdout_rest.is_empty(), "{:?}", gw.stdout_rest);

    // /token goes to the upstream that issues tokens.
    let res = gw.post("/token").body("grant_type=password").send();
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["path"], "/token");

    // Its tokens validate here; the principal is forwarded.
    let res = gw.get("/picking-lists").bearer(&token).send();
    assert_eq!(res.status, 200, "{}", res.text());
    let h = &res.json()["headers"];
    assert_eq!(h["x-glue-user-id"], "7");
    assert_eq!(h["x-glue-scopes"], "user warehouse-user");

    // The JWKS publishes that public key.
    let jwks = gw.get("/.well-known/jwks.json").send().json();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
}

/// An upstream that answers every request with `raw` and closes.
fn raw_upstream(raw: &'static [u8]) -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = stream.write_all(raw);
            });
        }
    });
    addr
}

#[test]
fn an_upstream_content_length_next_to_transfer_encoding_is_dropped() {
    // RFC 9112 §6.3: chunked wins; the stale length must not reach the client.
    let up = raw_upstream(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\
          content-length: 5\r\nconnection: close\r\n\r\nb\r\nhello world\r\n0\r\n\r\n",
    );
    let url = format!("http://{up}");
    let gw = Gateway::start(&["--upstream", &url]);
    let token = gw.login();
    let res = gw.get("/picking-lists").bearer(&token).send();
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.header("content-length"), None, "{res:?}");
    assert_eq!(res.text(), "hello world");
}

#[test]
fn a_chunked_body_over_the_limit_answers_502() {
    use std::io::{Read, Write};
    // An upstream that reads everything and answers nothing: only the
    // gateway's limit can end the exchange.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let up = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    let url = format!("http://{up}");
    let gw = Gateway::start(&[
        "--upstream",
        &url,
        "--body-limit",
        "1000",
        "--unmatched-routes",
        "authenticated",
    ]);
    let token = gw.login();
    let mut s = std::net::TcpStream::connect(gw.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let chunk = "a".repeat(600);
    let req = format!(
        "POST /picking-lists HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
         authorization: Bearer {token}\r\ntransfer-encoding: chunked\r\n\r\n\
         258\r\n{chunk}\r\n258\r\n{chunk}\r\n0\r\n\r\n"
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let res = parse_response(&raw);
    assert_eq!(res.status, 502, "{res:?}");
    assert_eq!(res.json()[0]["message"], "Bad gateway.");
}

/// A loopback https upstream with a certificate from a CA made here; it
/// answers every request with a JSON echo of its method, path and headers.
struct TlsUpstream {
    addr: std::net::SocketAddr,
    ca_pem: String,
    _runtime: tokio::runtime::Runtime,
}

fn tls_upstream() -> TlsUpstream {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(
                    |req: hyper::Request<hyper::body::Incoming>| async move {
                        let headers: serde_json::Map<String, serde_json::Value> = req
                            .headers()
                            .iter()
                            .map(|(k, v)| {
                                (
                                    k.as_str().to_owned(),
                                    serde_json::Value::String(v.to_str().unwrap_or("").to_owned()),
                                )
                            })
                            .collect();
                        let doc = serde_json::json!({
                            "method": req.method().as_str(),
                            "path": req.uri().path(),
                            "headers": headers,
                        });
                        let mut res = hyper::Response::new(http_body_util::Full::new(
                            bytes::Bytes::from(doc.to_string()),
                        ));
                        res.headers_mut()
                            .insert("content-type", "application/json".parse().unwrap());
                        res.headers_mut()
                            .insert("x-upstream", "tls".parse().unwrap());
                        Ok::<_, std::convert::Infallible>(res)
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    TlsUpstream {
        addr,
        ca_pem: ca_cert.pem(),
        _runtime: runtime,
    }
}

#[test]
fn https_upstream_with_a_private_ca() {
    let up = tls_upstream();
    let dir = TempDir::new();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &up.ca_pem).unwrap();
    let url = format!("https://localhost:{}", up.addr.port());
    let ca_arg = ca.display().to_string();
    let gw = Gateway::start_in(
        dir,
        &["--upstream", &url, "--upstream-ca-file", &ca_arg],
        &[],
    );
    let token = gw.login();
    let res = gw.get("/picking-lists").bearer(&token).send();
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("x-upstream"), Some("tls"));
    assert_eq!(res.json()["headers"]["x-glue-user-id"], "4");

    // Without the CA the certificate is not trusted: 502, never plain text.
    let untrusted = Gateway::start(&["--upstream", &url]);
    let token = untrusted.login();
    let res = untrusted.get("/picking-lists").bearer(&token).send();
    assert_eq!(res.status, 502, "{}", res.text());
    // A CA file that holds no certificate is a start-up error.
    let (status, stderr) = run_to_exit(
        &["--upstream", &url, "--upstream-ca-file", "/dev/null"],
        &[],
    );
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`upstream_ca_file`"), "{stderr}");
}

#[test]
fn forwarding_headers_extend_every_incoming_line() {
    let upstream = Upstream::start(Duration::ZERO);
    let url = format!("http://{}", upstream.addr);
    let gw = Gateway::start(&["--upstream", &url]);
    let token = gw.login();
    let res = gw
        .get("/picking-lists")
        .bearer(&token)
        .header("x-forwarded-for", "192.0.2.1")
        .header("x-forwarded-for", "192.0.2.2, 192.0.2.3")
        .header("forwarded", "for=192.0.2.1;proto=https")
        .header("via", "1.1 edge")
        .send();
    assert_eq!(res.status, 200, "{}", res.text());
    let h = &res.json()["headers"];
    assert_eq!(
        h["x-forwarded-for"],
        "192.0.2.1, 192.0.2.2, 192.0.2.3, 127.0.0.1"
    );
    assert_eq!(
        h["forwarded"],
        format!(
            "for=192.0.2.1;proto=https, for=127.0.0.1;proto=http;host=\"{}\"",
            gw.addr
        )
    );
    assert_eq!(h["via"], "1.1 edge, 1.1 glue-gateway");
}
