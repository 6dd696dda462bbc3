//! The server `scripts/load.sh` puts under load, so that the cost of the
//! glue-auth layers is measured side by side with the same server without them.
//!
//! ```text
//! glue-auth-load-target bare   [PORT]   hyper + a handler answering one constant JSON:API document
//! glue-auth-load-target layers [PORT]   the same, behind BearerAuthLayer → ScopeLayer::spryker() → TokenEndpointLayer
//! glue-auth-load-target mint            prints a Back Office user token the `layers` server accepts
//! ```
//!
//! Keys: the workspace's test key pair (`../shared/fixtures/foreign-signer`).
//! The first line on stdout of a server is `listening on http://ADDR`.

use std::convert::Infallible;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use glue_auth_bearer::{BearerAuthLayer, Validator};
use glue_auth_core::{Claims, NumericDate, Principal, Scopes, UserPrincipal};
use glue_auth_scope::ScopeLayer;
use glue_auth_token::{MemoryDirectory, SigningKey, TokenServer};
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tower::{ServiceBuilder, service_fn};

const PRIVATE_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/foreign-signer/test-private.pem"
);

const BODY: &[u8] = br#"{"data":[{"type":"picking-lists","id":"a3c1e5b0-3f4d-5e6a-9b7c-000000000001","attributes":{"status":"ready-for-picking"}}]}"#;

fn signing_key() -> Result<SigningKey, String> {
    let pem = std::fs::read(PRIVATE_KEY).map_err(|e| format!("{PRIVATE_KEY}: {e}"))?;
    SigningKey::from_pem(&pem).map_err(|e| e.to_string())
}

async fn handler(_req: Request<impl Send>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut res = Response::new(Full::new(Bytes::from_static(BODY)));
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/vnd.api+json"),
    );
    Ok(res)
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
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
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

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let run = || -> Result<(), String> {
        let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
        match mode.as_str() {
            "mint" => {
                let key = signing_key()?;
                let claims = Claims::builder(
                    Principal::User(UserPrincipal::new(
                        4,
                        "0d743cc3-a772-5145-971e-d4018ee7a489",
                        None::<String>,
                    )),
                    Scopes::from_iter(["user", "back-office-user"]),
                )
                .jti("6c6f6164".repeat(10))
                .audience("frontend")
                .issued_at(NumericDate::now(), Duration::from_secs(3600))
                .build();
                println!("{}", key.sign(&claims).map_err(|e| e.to_string())?);
                Ok(())
            }
            "bare" => rt
                .block_on(serve(port, service_fn(handler)))
                .map_err(|e| e.to_string()),
            "layers" => {
                let key = signing_key()?;
                let keys = key.key_set();
                let users = MemoryDirectory::demo();
                let tokens = TokenServer::builder(key, users.clone(), users)
                    .build()
                    .map_err(|e| e.to_string())?;
                let service = ServiceBuilder::new()
                    .layer(BearerAuthLayer::new(Validator::new(keys)))
                    .layer(ScopeLayer::spryker())
                    .layer(tokens.layer())
                    .service(service_fn(handler));
                rt.block_on(serve(port, service)).map_err(|e| e.to_string())
            }
            other => Err(format!(
                "unknown mode {other:?}; usage: glue-auth-load-target bare|layers [PORT] | mint"
            )),
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
