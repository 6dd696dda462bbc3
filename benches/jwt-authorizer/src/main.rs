//! jwt-authorizer 0.15 on axum 0.7: the comparison server of `scripts/bench.sh`.
//!
//! ```text
//! glue-auth-bench-jwt-authorizer [--port N] [--public-key PEM] [--claims spryker|registered]
//! ```
//!
//! `GET /picking-lists` behind jwt-authorizer's layer answers the same
//! constant JSON:API document as `glue-auth-load-target bare`; anything else
//! is 404. Validation: RS256 only, against one public key (PEM file),
//! `aud` must be `frontend`, `exp` and `nbf` checked with no leeway (as the
//! glue-auth layers by default), and a claims check that `scopes` holds
//! `user` or `warehouse`. jwt-authorizer has no cache of validated tokens:
//! every request verifies the signature.
//!
//! Claims: Spryker writes `exp`, `nbf` and `iat` as floats
//! (`1700036266.7512529`). jwt-authorizer's own `RegisteredClaims` reads them
//! as `i64` and refuses such a token (401); `--claims spryker` (the default)
//! deserializes the payload into a struct with `f64` dates instead.
//! `--claims registered` keeps `RegisteredClaims` to show that refusal.
//!
//! The first line on stdout is `listening on http://ADDR`.

use std::process::ExitCode;

use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use jsonwebtoken::Algorithm;
use jwt_authorizer::{Authorizer, IntoLayer, JwtAuthorizer, RegisteredClaims, Validation};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Byte for byte the body of `glue-auth-load-target bare`.
const BODY: &[u8] = br#"{"data":[{"type":"picking-lists","id":"a3c1e5b0-3f4d-5e6a-9b7c-000000000001","attributes":{"status":"ready-for-picking"}}]}"#;

const DEFAULT_PUBLIC_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/foreign-signer/test-public.pem"
);

/// A Spryker access token's payload, dates as floats.
#[derive(Debug, Clone, Deserialize)]
#[allow(dead_code)] // read by serde; kept so that the payload is parsed as a whole
struct SprykerClaims {
    aud: String,
    jti: String,
    iat: f64,
    nbf: f64,
    exp: f64,
    /// A JSON-encoded string (`{"id_user":4,"uuid":"…"}` or `{"id_warehouse":1}`).
    sub: String,
    scopes: Vec<String>,
}

async fn picking_lists() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.api+json"),
        )],
        BODY,
    )
}

fn validation() -> Validation {
    Validation::new()
        .aud(&["frontend"])
        .exp(true)
        .nbf(true)
        .leeway(0)
        .algs(vec![Algorithm::RS256])
}

async fn authorizer<C>(pem: &str, check: fn(&C) -> bool) -> Result<Authorizer<C>, String>
where
    C: Clone + DeserializeOwned + Send + Sync + 'static,
{
    JwtAuthorizer::<C>::from_rsa_pem(pem)
        .validation(validation())
        .check(check)
        .build()
        .await
        .map_err(|e| format!("{pem}: {e}"))
}

fn spryker_scopes(c: &SprykerClaims) -> bool {
    c.scopes.iter().any(|s| s == "user" || s == "warehouse")
}

fn any_claims(_: &RegisteredClaims) -> bool {
    true
}

async fn run(port: u16, pem: String, registered: bool) -> Result<(), String> {
    let protected = Router::new().route("/picking-lists", get(picking_lists));
    let app = if registered {
        protected.layer(authorizer(&pem, any_claims).await?.into_layer())
    } else {
        protected.layer(authorizer(&pem, spryker_scopes).await?.into_layer())
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "listening on http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let mut port = 0u16;
    let mut pem = DEFAULT_PUBLIC_KEY.to_owned();
    let mut registered = false;
    let mut args = std::env::args().skip(1);
    let usage = "usage: glue-auth-bench-jwt-authorizer [--port N] [--public-key PEM] [--claims spryker|registered]";
    while let Some(arg) = args.next() {
        let ok = match arg.as_str() {
            "--port" => args.next().and_then(|p| p.parse().ok()).map(|p| port = p),
            "--public-key" => args.next().map(|p| pem = p),
            "--claims" => match args.next().as_deref() {
                Some("spryker") => {
                    registered = false;
                    Some(())
                }
                Some("registered") => {
                    registered = true;
                    Some(())
                }
                _ => None,
            },
            _ => None,
        };
        if ok.is_none() {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(port, pem, registered)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
