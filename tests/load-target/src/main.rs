//! The server `scripts/load.sh` and `scripts/bench.sh` put under load, so that
//! the cost of the glue-auth layers is measured side by side with the same
//! server without them, plus the token tools the harness needs.
//!
//! ```text
//! glue-auth-load-target bare   [PORT]
//!     hyper + a handler answering one constant JSON:API document
//! glue-auth-load-target layers [PORT] [--key PEM] [--cache-capacity N]
//!     the same, behind BearerAuthLayer → ScopeLayer::spryker() → TokenEndpointLayer;
//!     N = 0 turns the validated-token cache off (default: the validator's, 10 000).
//!     SIGUSR1 prints `cache hits=H misses=M entries=E` on stdout.
//! glue-auth-load-target proxy UPSTREAM [PORT]
//!     hyper's HTTP/1.1 server and client with nothing between them: each
//!     downstream connection gets one upstream connection to UPSTREAM
//!     (`http://HOST:PORT`), driven by a task of its own; every request is
//!     forwarded unchanged and its answer streamed back (the floor of a
//!     hyper-based proxy, beside the gateway's proxy mode and nginx's)
//! glue-auth-load-target mint [N] [--key PEM]
//!     prints N (default 1) distinct Back Office user tokens the servers accept,
//!     one a line (sonia@spryker.com: id_user 4, scopes user + back-office-user)
//! glue-auth-load-target public-key [--key PEM]
//!     prints the public key of PEM (for servers that take a public key)
//! glue-auth-load-target flood URL N [--key PEM] [--concurrency C]
//!     signs N distinct tokens and sends `GET URL` once with each, over C
//!     (default 32) keep-alive HTTP/1.1 connections; fails at the first
//!     answer that is not 2xx; prints progress on stderr, a summary on stdout
//! ```
//!
//! Keys: `--key` is an RSA private key (PEM); by default the workspace's test
//! key pair (`../shared/fixtures/foreign-signer`).
//! The first line on stdout of a server is `listening on http://ADDR`.

use std::convert::Infallible;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use glue_auth_bearer::{BearerAuthLayer, Validator};
use glue_auth_core::{Claims, NumericDate, Principal, Scopes, UserPrincipal};
use glue_auth_scope::ScopeLayer;
use glue_auth_token::{MemoryDirectory, SigningKey, TokenServer};
use http::{Request, Response, Uri};
use http_body_util::{BodyExt as _, Empty, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tower::{ServiceBuilder, service_fn};

const PRIVATE_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/foreign-signer/test-private.pem"
);

const BODY: &[u8] = br#"{"data":[{"type":"picking-lists","id":"a3c1e5b0-3f4d-5e6a-9b7c-000000000001","attributes":{"status":"ready-for-picking"}}]}"#;

const USAGE: &str = "usage: glue-auth-load-target bare|layers [PORT] [--key PEM] [--cache-capacity N]\n\
     \x20      glue-auth-load-target proxy UPSTREAM [PORT]\n\
     \x20      glue-auth-load-target mint [N] [--key PEM]\n\
     \x20      glue-auth-load-target public-key [--key PEM]\n\
     \x20      glue-auth-load-target flood URL N [--key PEM] [--concurrency C]";

/// Lifetime of minted tokens (Spryker's default for user tokens).
const TOKEN_TTL: Duration = Duration::from_secs(8 * 3600);

/// Minted tokens are issued a minute in the past: a server that rounds the
/// float `nbf` up to the next second must not refuse a token used at once.
const BACKDATE: Duration = Duration::from_secs(60);

/// The command line: positionals and the `--name value` options.
#[derive(Debug, Default)]
struct Args {
    positional: Vec<String>,
    key: Option<String>,
    cache_capacity: Option<u64>,
    concurrency: Option<usize>,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut out = Args::default();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--key" => out.key = Some(value("--key")?),
            "--cache-capacity" => {
                let v = value("--cache-capacity")?;
                out.cache_capacity =
                    Some(v.parse().map_err(|_| format!("--cache-capacity {v:?}"))?);
            }
            "--concurrency" => {
                let v = value("--concurrency")?;
                let n: usize = v.parse().map_err(|_| format!("--concurrency {v:?}"))?;
                out.concurrency = Some(n.max(1));
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ => out.positional.push(arg),
        }
    }
    Ok(out)
}

fn signing_key(path: Option<&str>) -> Result<SigningKey, String> {
    let path = path.unwrap_or(PRIVATE_KEY);
    let pem = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    SigningKey::from_pem(&pem).map_err(|e| format!("{path}: {e}"))
}

/// Distinct tokens of one run: a per-run prefix and the index make the `jti`
/// (80 hex digits, as Spryker's).
struct Minter {
    key: SigningKey,
    run: u64,
    issued_at: NumericDate,
}

impl Minter {
    fn new(key: SigningKey) -> Self {
        let run = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        let now = NumericDate::now();
        let issued_at = now.saturating_sub(BACKDATE);
        Minter {
            key,
            run,
            issued_at,
        }
    }

    fn token(&self, index: u64) -> Result<String, String> {
        let claims = Claims::builder(
            Principal::User(UserPrincipal::new(
                4,
                "0d743cc3-a772-5145-971e-d4018ee7a489",
                None::<String>,
            )),
            Scopes::from_iter(["user", "back-office-user"]),
        )
        .jti(format!("{:016x}{:064x}", self.run, index))
        .audience("frontend")
        .issued_at(self.issued_at, TOKEN_TTL + BACKDATE)
        .build();
        self.key.sign(&claims).map_err(|e| e.to_string())
    }
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// N tokens, signed on every CPU, printed in index order.
fn mint(minter: &Minter, n: u64) -> Result<(), String> {
    let workers = (threads() as u64).clamp(1, n.max(1));
    let chunk = n.div_ceil(workers);
    let parts: Vec<Result<Vec<String>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let range = (w * chunk)..((w + 1) * chunk).min(n);
                s.spawn(move || range.map(|i| minter.token(i)).collect())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a signer panicked".into())))
            .collect()
    });
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for part in parts {
        for token in part? {
            writeln!(out, "{token}").map_err(|e| e.to_string())?;
        }
    }
    out.flush().map_err(|e| e.to_string())
}

async fn handler(_req: Request<impl Send>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut res = Response::new(Full::new(Bytes::from_static(BODY)));
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/vnd.api+json"),
    );
    Ok(res)
}

/// Binds 127.0.0.1:`port` and prints the first stdout line the harness
/// waits for: `listening on http://ADDR`.
async fn listen(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    Ok(listener)
}

async fn serve<S, B>(port: u16, service: S) -> std::io::Result<()>
where
    S: tower::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = listen(port).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let service = service.clone();
        tokio::spawn(async move {
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .await;
        });
    }
}

/// Prints the validator's cache counters on stdout at every SIGUSR1 (for
/// the harness: how many requests were cache misses).
fn report_cache_stats_on_sigusr1(validator: Validator) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut usr1 = signal(SignalKind::user_defined1())?;
    tokio::spawn(async move {
        while usr1.recv().await.is_some() {
            let s = validator.cache_stats();
            println!(
                "cache hits={} misses={} entries={}",
                s.hits, s.misses, s.entries
            );
        }
    });
    Ok(())
}

async fn layers(port: u16, args: &Args) -> Result<(), String> {
    let key = signing_key(args.key.as_deref())?;
    let keys = key.key_set();
    let validator = match args.cache_capacity {
        None => Validator::new(keys),
        Some(0) => Validator::builder(keys)
            .no_cache()
            .build()
            .map_err(|e| e.to_string())?,
        Some(n) => Validator::builder(keys)
            .cache_capacity(n)
            .build()
            .map_err(|e| e.to_string())?,
    };
    report_cache_stats_on_sigusr1(validator.clone()).map_err(|e| e.to_string())?;
    let users = MemoryDirectory::demo();
    let tokens = TokenServer::builder(key, users.clone(), users)
        .build()
        .map_err(|e| e.to_string())?;
    let service = ServiceBuilder::new()
        .layer(BearerAuthLayer::new(validator))
        .layer(ScopeLayer::spryker())
        .layer(tokens.layer())
        .service(service_fn(handler));
    serve(port, service).await.map_err(|e| e.to_string())
}

/// `proxy UPSTREAM [PORT]`: see the crate's documentation.
async fn proxy(port: u16, upstream: &str) -> Result<(), String> {
    let uri: Uri = upstream.parse().map_err(|e| format!("{upstream}: {e}"))?;
    let authority = match (uri.scheme_str(), uri.authority()) {
        (Some("http"), Some(a)) => a.to_string(),
        _ => return Err(format!("{upstream}: expected http://HOST:PORT")),
    };
    let listener = listen(port).await.map_err(|e| e.to_string())?;
    loop {
        let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let authority = authority.clone();
        tokio::spawn(async move {
            let Ok(up) = tokio::net::TcpStream::connect(&*authority).await else {
                return;
            };
            let _ = (up.set_nodelay(true), stream.set_nodelay(true));
            let Ok((sender, conn)) = hyper::client::conn::http1::handshake(TokioIo::new(up)).await
            else {
                return;
            };
            tokio::spawn(conn);
            let sender = Arc::new(tokio::sync::Mutex::new(sender));
            let forward = hyper::service::service_fn(move |req: Request<Incoming>| {
                let sender = Arc::clone(&sender);
                async move {
                    let mut sender = sender.lock().await;
                    sender.ready().await?;
                    let answer = sender.send_request(req);
                    drop(sender);
                    answer.await
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), forward)
                .await;
        });
    }
}

/// Counters of a flood run.
#[derive(Default)]
struct FloodCounts {
    sent: AtomicU64,
    ok: AtomicU64,
    failed: AtomicBool,
}

/// Signs `n` distinct tokens on every CPU (bounded hand-off) and sends
/// `GET url` once with each over `concurrency` keep-alive connections.
async fn flood(url: &str, n: u64, args: &Args) -> Result<(), String> {
    let uri: Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let authority = uri
        .authority()
        .ok_or_else(|| format!("{url}: no host:port"))?
        .clone();
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let minter = Arc::new(Minter::new(signing_key(args.key.as_deref())?));
    let concurrency = args.concurrency.unwrap_or(32);
    let counts = Arc::new(FloodCounts::default());
    let next = Arc::new(AtomicU64::new(0));

    // Signers: plain threads, each taking the next index; a bounded channel
    // keeps at most a few thousand tokens in memory.
    let (tx, rx) = tokio::sync::mpsc::channel::<String>(4096);
    let mut signers = Vec::new();
    for _ in 0..threads() {
        let (tx, minter, next, counts) = (tx.clone(), minter.clone(), next.clone(), counts.clone());
        signers.push(std::thread::spawn(move || -> Result<(), String> {
            loop {
                if counts.failed.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok(());
                }
                let token = minter.token(i)?;
                if tx.blocking_send(token).is_err() {
                    return Ok(());
                }
            }
        }));
    }
    drop(tx);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));

    let started = Instant::now();
    let progress = {
        let counts = counts.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            loop {
                tick.tick().await;
                eprintln!(
                    "flood: {} sent, {} ok, {:.0} s",
                    counts.sent.load(Ordering::Relaxed),
                    counts.ok.load(Ordering::Relaxed),
                    started.elapsed().as_secs_f64()
                );
            }
        })
    };

    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (rx, counts, authority, path) =
            (rx.clone(), counts.clone(), authority.clone(), path.clone());
        clients.spawn(async move {
            let stream = tokio::net::TcpStream::connect(authority.as_str())
                .await
                .map_err(|e| format!("connect {authority}: {e}"))?;
            let _ = stream.set_nodelay(true);
            let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| format!("handshake {authority}: {e}"))?;
            tokio::spawn(conn);
            loop {
                let Some(token) = rx.lock().await.recv().await else {
                    return Ok::<(), String>(());
                };
                if counts.failed.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let req = Request::get(path.as_str())
                    .header(http::header::HOST, authority.as_str())
                    .header(http::header::ACCEPT, "application/vnd.api+json")
                    .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
                    .body(Empty::<Bytes>::new())
                    .map_err(|e| e.to_string())?;
                send.ready().await.map_err(|e| format!("connection: {e}"))?;
                let res = send
                    .send_request(req)
                    .await
                    .map_err(|e| format!("request: {e}"))?;
                let status = res.status();
                let body = res
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| format!("body: {e}"))?
                    .to_bytes();
                counts.sent.fetch_add(1, Ordering::Relaxed);
                if !status.is_success() {
                    counts.failed.store(true, Ordering::Relaxed);
                    return Err(format!(
                        "answer {status}: {}",
                        String::from_utf8_lossy(&body[..body.len().min(500)])
                    ));
                }
                counts.ok.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    let mut first_error = None;
    while let Some(joined) = clients.join_next().await {
        let result = joined.unwrap_or_else(|e| Err(format!("client task: {e}")));
        if let Err(e) = result {
            counts.failed.store(true, Ordering::Relaxed);
            first_error.get_or_insert(e);
            // Unblock the signers: nobody reads any more.
            rx.lock().await.close();
        }
    }
    progress.abort();
    for signer in signers {
        if let Err(e) = signer
            .join()
            .unwrap_or_else(|_| Err("a signer panicked".into()))
        {
            first_error.get_or_insert(e);
        }
    }
    let sent = counts.sent.load(Ordering::Relaxed);
    let ok = counts.ok.load(Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64();
    if let Some(e) = first_error {
        return Err(format!("flood: {e} (after {sent} requests, {ok} 2xx)"));
    }
    if ok != n {
        return Err(format!("flood: {ok} of {n} requests answered 2xx"));
    }
    println!(
        "flood: {n} distinct tokens, {ok} answered 2xx, 0 other, in {secs:.1} s ({:.0}/s)",
        n as f64 / secs
    );
    Ok(())
}

fn main() -> ExitCode {
    let run = || -> Result<(), String> {
        let args = parse_args(std::env::args().skip(1))?;
        let mode = args.positional.first().cloned().unwrap_or_default();
        let arg = |i: usize| args.positional.get(i).map(String::as_str);
        let port: u16 = match arg(1) {
            Some(p) if mode == "bare" || mode == "layers" => {
                p.parse().map_err(|_| format!("port {p:?}"))?
            }
            _ => 0,
        };
        let rt = || tokio::runtime::Runtime::new().map_err(|e| e.to_string());
        match mode.as_str() {
            "mint" => {
                let n = match arg(1) {
                    Some(n) => n.parse().map_err(|_| format!("count {n:?}"))?,
                    None => 1,
                };
                mint(&Minter::new(signing_key(args.key.as_deref())?), n)
            }
            "public-key" => {
                let key = signing_key(args.key.as_deref())?;
                print!("{}", key.public_key_pem().map_err(|e| e.to_string())?);
                Ok(())
            }
            "flood" => {
                let (Some(url), Some(n)) = (arg(1), arg(2)) else {
                    return Err(USAGE.into());
                };
                let n: u64 = n.parse().map_err(|_| format!("count {n:?}"))?;
                rt()?.block_on(flood(url, n, &args))
            }
            "bare" => rt()?
                .block_on(serve(port, service_fn(handler)))
                .map_err(|e| e.to_string()),
            "layers" => rt()?.block_on(layers(port, &args)),
            "proxy" => {
                let Some(upstream) = arg(1) else {
                    return Err(USAGE.into());
                };
                let port = match arg(2) {
                    Some(p) => p.parse().map_err(|_| format!("port {p:?}"))?,
                    None => 0,
                };
                rt()?.block_on(proxy(port, upstream))
            }
            other => Err(format!("unknown mode {other:?}\n{USAGE}")),
        }
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
