//! Key sources against a JWKS server on loopback: rotation through a
//! refetch, the refetch-storm guard (single flight + cooldown), a source
//! that is down, hostile key sets, `max-age`, OIDC discovery, watched files.
//! Needs the `remote-keys` feature.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use glue_auth_bearer::sources::KeySource;
use glue_auth_bearer::{BearerAuthLayer, TokenError, Validator};
use glue_auth_core::{
    Claims, InvalidReason, NumericDate, Principal, Scopes, UserPrincipal, WarehousePrincipal,
};
use glue_auth_jwt::{SigningKey, jwks_json};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tower::{Layer as _, ServiceExt as _, service_fn};

/// What the loopback server answers.
#[derive(Clone)]
struct Answer {
    status: u16,
    body: String,
    cache_control: Option<String>,
    delay: Duration,
}

struct ServerState {
    jwks: Answer,
    discovery: Option<String>,
    /// When each JWKS request arrived.
    hits: Vec<Instant>,
}

/// A JWKS (and discovery) server on 127.0.0.1.
struct JwksServer {
    addr: SocketAddr,
    state: Arc<Mutex<ServerState>>,
    task: tokio::task::JoinHandle<()>,
    /// Set by `stop`: open (kept-alive) connections fail their requests too.
    down: Arc<std::sync::atomic::AtomicBool>,
}

impl JwksServer {
    async fn start(body: String) -> JwksServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(ServerState {
            jwks: Answer {
                status: 200,
                body,
                cache_control: None,
                delay: Duration::ZERO,
            },
            discovery: None,
            hits: Vec::new(),
        }));
        let requests = Arc::new(AtomicU64::new(0));
        let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (st, rq, dn) = (Arc::clone(&state), Arc::clone(&requests), Arc::clone(&down));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (st, rq, dn) = (Arc::clone(&st), Arc::clone(&rq), Arc::clone(&dn));
                tokio::spawn(async move {
                    let svc =
                        hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                            let (st, rq, dn) = (Arc::clone(&st), Arc::clone(&rq), Arc::clone(&dn));
                            async move {
                                if dn.load(Ordering::SeqCst) {
                                    return Err(std::io::Error::other("down"));
                                }
                                rq.fetch_add(1, Ordering::SeqCst);
                                let answer = {
                                    let mut s = st.lock().unwrap();
                                    if req.uri().path() == "/.well-known/openid-configuration" {
                                        s.discovery.clone().map(|body| Answer {
                                            status: 200,
                                            body,
                                            cache_control: None,
                                            delay: Duration::ZERO,
                                        })
                                    } else if req.uri().path() == "/jwks.json" {
                                        s.hits.push(Instant::now());
                                        Some(s.jwks.clone())
                                    } else {
                                        None
                                    }
                                };
                                let answer = answer.unwrap_or(Answer {
                                    status: 404,
                                    body: String::new(),
                                    cache_control: None,
                                    delay: Duration::ZERO,
                                });
                                tokio::time::sleep(answer.delay).await;
                                let mut res = Response::new(Full::new(Bytes::from(answer.body)));
                                *res.status_mut() = StatusCode::from_u16(answer.status).unwrap();
                                if let Some(cc) = answer.cache_control {
                                    res.headers_mut()
                                        .insert("cache-control", cc.parse().unwrap());
                                }
                                Ok::<_, std::io::Error>(res)
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        JwksServer {
            addr,
            state,
            task,
            down,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/jwks.json", self.addr)
    }

    fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn serve(&self, body: String) {
        self.state.lock().unwrap().jwks.body = body;
    }

    fn set(&self, f: impl FnOnce(&mut Answer)) {
        f(&mut self.state.lock().unwrap().jwks);
    }

    fn jwks_hits(&self) -> Vec<Instant> {
        self.state.lock().unwrap().hits.clone()
    }

    /// Stops: new connections are refused, open ones fail.
    fn stop(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.task.abort();
    }
}

fn key(kid: &str) -> SigningKey {
    SigningKey::generate().unwrap().with_kid(kid)
}

fn claims() -> Claims {
    Claims::builder(
        Principal::User(UserPrincipal::new(
            4,
            "0d743cc3-a772-5145-971e-d4018ee7a489",
            None::<&str>,
        )),
        Scopes::from_iter(["user", "back-office-user"]),
    )
    .jti("j".repeat(80))
    .audience("frontend")
    .issued_at(NumericDate::now(), Duration::from_secs(3600))
    .build()
}

fn token(key: &SigningKey) -> String {
    key.sign(&claims()).unwrap()
}

/// A well-formed token naming `kid`, with a signature that never verifies:
/// it is refused at key selection, before any signature work.
fn token_with_kid(kid: &str) -> String {
    let b = |s: &str| URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{}",
        b(&format!(r#"{{"typ":"JWT","alg":"RS256","kid":"{kid}"}}"#)),
        b(&claims().to_payload_json()),
        b("not a signature")
    )
}

fn doc(keys: &[&SigningKey]) -> String {
    jwks_json(&keys.iter().map(|k| k.public_key()).collect::<Vec<_>>())
}

fn validator(source: &KeySource) -> Validator {
    Validator::builder(source.key_set())
        .no_cache()
        .build()
        .unwrap()
}

/// Polls `cond` every 10 ms, at most `limit`.
async fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cond()
}

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_is_picked_up_through_a_refetch() {
    let a = key("a");
    let b = key("b");
    let server = JwksServer::start(doc(&[&a])).await;
    let source = KeySource::jwks_url(&server.url())
        .unwrap()
        .cooldown(Duration::from_millis(200))
        .spawn()
        .unwrap();
    assert!(source.ready(WAIT).await, "{:?}", source.last_error());
    let v = validator(&source);
    assert!(v.validate(&token(&a)).is_ok());

    // The issuer rotates: the new key is published, tokens carry its kid.
    server.serve(doc(&[&b, &a]));
    let loads = source.loads();
    let started = Instant::now();
    // The request that meets the unknown kid is answered at once: 401.
    assert_eq!(
        v.validate(&token(&b)).unwrap_err(),
        TokenError::Invalid(InvalidReason::UnknownKey)
    );
    assert!(started.elapsed() < Duration::from_millis(100));
    // ...and a later one succeeds once the refetch landed.
    assert!(source.wait_for_load(loads, WAIT).await);
    assert!(v.validate(&token(&b)).is_ok());
    assert!(
        v.validate(&token(&a)).is_ok(),
        "old tokens until they expire"
    );
    assert_eq!(source.fetches(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_unknown_kids_fetches_at_most_once_per_cooldown() {
    let a = key("a");
    let server = JwksServer::start(doc(&[&a])).await;
    let cooldown = Duration::from_millis(250);
    let source = KeySource::jwks_url(&server.url())
        .unwrap()
        .cooldown(cooldown)
        .spawn()
        .unwrap();
    assert!(source.ready(WAIT).await);
    // Refetches answer slowly: a request waiting for one would show.
    server.set(|a| a.delay = Duration::from_millis(100));
    let v = validator(&source);

    // 1,000 tokens with random unknown kids from 4 tasks, spread over about
    // three cooldown windows.
    let storm_start = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..4u64 {
        let v = v.clone();
        tasks.push(tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            for i in 0..250u64 {
                let kid = format!(
                    "{:016x}",
                    (t * 1000 + i).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                );
                let t0 = Instant::now();
                let r = v.validate(&token_with_kid(&kid));
                slowest = slowest.max(t0.elapsed());
                assert_eq!(
                    r.unwrap_err(),
                    TokenError::Invalid(InvalidReason::UnknownKey)
                );
                if i % 25 == 0 {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                }
            }
            slowest
        }));
    }
    let mut slowest = Duration::ZERO;
    for t in tasks {
        slowest = slowest.max(t.await.unwrap());
    }
    let storm = storm_start.elapsed();
    // Let a refetch asked for at the end run out, then count.
    tokio::time::sleep(cooldown * 2 + Duration::from_millis(200)).await;
    let hits = server.jwks_hits();
    let refetches = hits.len() - 1;
    let windows = (storm.as_millis() / cooldown.as_millis()) as usize + 2;
    assert!(refetches >= 1, "the storm asked for a refetch");
    assert!(
        refetches <= windows,
        "{refetches} refetches for a storm of {storm:?} with a {cooldown:?} cooldown"
    );
    // Measured where the requests arrive: allow for scheduling jitter on a
    // loaded machine (the source spaces the *starts* of its fetches).
    for pair in hits.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap + Duration::from_millis(30) >= cooldown,
            "two fetches {gap:?} apart, cooldown {cooldown:?}"
        );
    }
    // No request waited for a fetch (each takes 100 ms here).
    assert!(
        slowest < Duration::from_millis(80),
        "slowest call {slowest:?}"
    );
    // Known keys kept working throughout.
    assert!(v.validate(&token(&a)).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_is_down_keeps_the_old_keys_and_answers_401_not_500() {
    let a = key("a");
    let server = JwksServer::start(doc(&[&a])).await;
    let source = KeySource::jwks_url(&server.url())
        .unwrap()
        .cooldown(Duration::from_millis(50))
        .timeout(Duration::from_millis(500))
        .spawn()
        .unwrap();
    assert!(source.ready(WAIT).await);
    let v = validator(&source);
    let layer = BearerAuthLayer::new(v.clone());
    let svc = layer.layer(service_fn(|_req: Request<String>| async {
        Ok::<_, Infallible>(Response::new(String::new()))
    }));
    let call = |t: String| {
        let svc = svc.clone();
        async move {
            let req = Request::builder()
                .header("authorization", format!("Bearer {t}"))
                .body(String::new())
                .unwrap();
            svc.oneshot(req).await.unwrap().status()
        }
    };

    server.stop();
    let fetches = source.fetches();
    // An unknown kid: 401, and a refetch that fails.
    assert_eq!(call(token_with_kid("new")).await, StatusCode::UNAUTHORIZED);
    assert!(eventually(WAIT, || source.last_error().is_some()).await);
    assert!(source.fetches() > fetches);
    // The old key still works; the unknown kid is still 401, never 500.
    assert_eq!(call(token(&a)).await, StatusCode::OK);
    assert_eq!(call(token_with_kid("new")).await, StatusCode::UNAUTHORIZED);
    // A server answering 500 is the same.
    let server = JwksServer::start(String::new()).await;
    server.set(|a| a.status = 500);
    let source = KeySource::jwks_url(&server.url()).unwrap().spawn().unwrap();
    assert!(!source.ready(Duration::from_millis(300)).await);
    assert!(source.last_error().unwrap().contains("500"));
    let v = validator(&source);
    assert_eq!(
        v.validate(&token(&a)).unwrap_err(),
        TokenError::Invalid(InvalidReason::UnknownKey)
    );
}

/// Captures log lines.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The log of this test binary: one global subscriber (a scoped one misses
/// events whose call sites other test threads registered first).
fn logs() -> Logs {
    static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        logs
    })
    .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_key_sets_are_refused_with_a_logged_error_and_the_old_keys_stay() {
    let logs = logs();

    let a = key("a");
    let server = JwksServer::start(doc(&[&a])).await;
    let source = KeySource::jwks_url(&server.url())
        .unwrap()
        .cooldown(Duration::ZERO)
        .spawn()
        .unwrap();
    assert!(source.ready(WAIT).await);
    let v = validator(&source);

    let n = URL_SAFE_NO_PAD.encode(key("x").public_key().modulus());
    let rsa = |extra: &str| format!(r#"{{"kty":"RSA","n":"{n}","e":"AQAB"{extra}}}"#);
    let huge = format!(
        r#"{{"keys":[{}],"padding":"{}"}}"#,
        rsa(r#","kid":"h""#),
        "x".repeat(2 * 1024 * 1024)
    );
    let many = format!(
        r#"{{"keys":[{}]}}"#,
        (0..101)
            .map(|i| rsa(&format!(r#","kid":"k{i}""#)))
            .collect::<Vec<_>>()
            .join(",")
    );
    let cases = [
        ("huge", huge),
        ("too many keys", many),
        (
            "wrong key type",
            format!(
                r#"{{"keys":[{},{{"kty":"oct","k":"c2VjcmV0","kid":"s"}}]}}"#,
                rsa(r#","kid":"b""#)
            ),
        ),
        (
            "key type and alg disagree",
            format!(r#"{{"keys":[{}]}}"#, rsa(r#","kid":"b","alg":"ES256""#)),
        ),
        (
            "duplicate kid",
            format!(
                r#"{{"keys":[{},{}]}}"#,
                rsa(r#","kid":"b""#),
                rsa(r#","kid":"b""#)
            ),
        ),
        (
            "alg none",
            format!(
                r#"{{"keys":[{},{}]}}"#,
                rsa(r#","kid":"b""#),
                rsa(r#","kid":"c","alg":"none""#)
            ),
        ),
        ("not JSON", "<html>".to_owned()),
        ("no keys", r#"{"keys":[]}"#.to_owned()),
    ];
    for (what, body) in cases {
        let generation = source.key_set().generation();
        server.serve(body);
        let fetches = source.fetches();
        source.refresh();
        assert!(
            eventually(WAIT, || source.fetches() > fetches
                && source.last_error().is_some())
            .await,
            "{what}"
        );
        let error = source.last_error().unwrap();
        assert_eq!(source.key_set().generation(), generation, "{what}: {error}");
        assert!(v.validate(&token(&a)).is_ok(), "{what}");
        assert!(
            logs.text().contains(&error),
            "{what}: {error} not logged:\n{}",
            logs.text()
        );
        // Back to a good set, so the next case starts from a success.
        server.serve(doc(&[&a]));
        let loads = source.loads();
        source.refresh();
        assert!(source.wait_for_load(loads, WAIT).await, "{what}");
        assert!(source.last_error().is_none());
    }
    assert!(logs.text().contains("previous keys stay in use"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_age_is_respected_within_the_bounds() {
    let a = key("a");
    let server = JwksServer::start(doc(&[&a])).await;
    // A long max-age is cut to max_refresh.
    server.set(|a| a.cache_control = Some("public, max-age=86400".into()));
    let source = KeySource::jwks_url(&server.url())
        .unwrap()
        .cooldown(Duration::from_millis(10))
        .min_refresh(Duration::from_millis(100))
        .max_refresh(Duration::from_millis(300))
        .spawn()
        .unwrap();
    assert!(source.ready(WAIT).await);
    assert!(eventually(WAIT, || server.jwks_hits().len() >= 3).await);
    let hits = server.jwks_hits();
    let gap = hits[2] - hits[1];
    assert!(gap >= Duration::from_millis(290), "{gap:?}");

    // A short max-age is raised to min_refresh.
    let server = JwksServer::start(doc(&[&a])).await;
    server.set(|a| a.cache_control = Some("max-age=0".into()));
    let source = KeySource::jwks_url(&server.url())
        .unwrap()
        .cooldown(Duration::from_millis(10))
        .min_refresh(Duration::from_millis(400))
        .max_refresh(Duration::from_secs(10))
        .spawn()
        .unwrap();
    assert!(source.ready(WAIT).await);
    assert!(eventually(WAIT, || server.jwks_hits().len() >= 2).await);
    let hits = server.jwks_hits();
    assert!(hits[1] - hits[0] >= Duration::from_millis(390));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_discovery_finds_the_jwks_and_checks_the_issuer() {
    let a = key("a");
    let server = JwksServer::start(doc(&[&a])).await;
    let issuer = server.issuer();
    server.state.lock().unwrap().discovery = Some(format!(
        r#"{{"issuer":"{issuer}","jwks_uri":"{}","id_token_signing_alg_values_supported":["RS256"]}}"#,
        server.url()
    ));
    let source = KeySource::oidc_discovery(&issuer).unwrap().spawn().unwrap();
    assert!(source.ready(WAIT).await, "{:?}", source.last_error());
    assert!(validator(&source).validate(&token(&a)).is_ok());

    // A discovery document for another issuer is refused.
    let server = JwksServer::start(doc(&[&a])).await;
    server.state.lock().unwrap().discovery = Some(format!(
        r#"{{"issuer":"http://evil.example","jwks_uri":"{}"}}"#,
        server.url()
    ));
    let source = KeySource::oidc_discovery(&server.issuer())
        .unwrap()
        .spawn()
        .unwrap();
    assert!(!source.ready(Duration::from_millis(300)).await);
    assert!(source.last_error().unwrap().contains("evil.example"));
    assert!(server.jwks_hits().is_empty());
    // https is refused up front (no TLS in this crate).
    assert!(KeySource::jwks_url("https://idp.example/jwks").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_file_follows_rotations_and_keeps_its_keys_when_broken() {
    let dir = std::env::temp_dir().join(format!(
        "glue-keys-{}-{}",
        std::process::id(),
        NumericDate::now().as_micros()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keys.pem");
    let a = SigningKey::generate().unwrap();
    let b = key("b");
    std::fs::write(&path, a.public_key_pem().unwrap()).unwrap();
    let source = KeySource::file(&path)
        .poll_interval(Duration::from_millis(30))
        .cooldown(Duration::ZERO)
        .spawn()
        .unwrap();
    let v = validator(&source);
    // One PEM key, no kid: Glue's kid-less tokens.
    assert!(v.validate(&token(&a)).is_ok());
    // Rotation: a JWKS with the new key and the old one (kid = thumbprint).
    let old = a.public_key();
    let old = old.clone().with_kid(old.thumbprint());
    std::fs::write(&path, jwks_json(&[b.public_key(), old])).unwrap();
    assert!(eventually(WAIT, || v.validate(&token(&b)).is_ok()).await);
    // Two keys, none marked: a kid-less token names no key.
    assert_eq!(
        v.validate(&token(&a)).unwrap_err(),
        TokenError::Invalid(InvalidReason::UnknownKey)
    );
    // A broken write keeps the keys.
    let generation = source.key_set().generation();
    std::fs::write(&path, "-----BEGIN PUBLIC KEY-----\ntrunc").unwrap();
    assert!(eventually(WAIT, || source.last_error().is_some()).await);
    assert_eq!(source.key_set().generation(), generation);
    assert!(v.validate(&token(&b)).is_ok());
    // A broken file at start is a start-up error.
    assert!(KeySource::file(&path).spawn().is_err());
    std::fs::remove_dir_all(&dir).unwrap();
    let _ = WarehousePrincipal::new(1);
}
