//! End-to-end costs of the token endpoints next to their floor.
//!
//! - `/token` with bcrypt cost 10 (the demo user's real hash) vs one raw
//!   `bcrypt::verify` at cost 10: the endpoint's overhead is the difference.
//! - `/warehouse-tokens` vs one raw RS256 signature (aws-lc): the whole
//!   documented stack (bearer layer with its cache, the Spryker route table,
//!   the endpoint): assignment look-up, minting, refresh-token storage.
//!
//! Run: `cargo bench -p glue-auth-token --bench endpoints`

#![allow(missing_docs)]

use std::time::Duration;

use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use glue_auth_token::{MemoryDirectory, MemoryRefreshTokens, SigningKey, TokenServer};
use http::Request;
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;

const DEMO_HASH_COST_10: &str = "$2y$10$vCMI/2kzu2Us.4900jXXfO6t25SJoKA45Wc1WPFYHV5w/rwyRt1Eq";

fn private_pem() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/foreign-signer/test-private.pem"
    ))
    .expect("test key")
}

fn server() -> TokenServer {
    let dir = MemoryDirectory::demo();
    TokenServer::builder(
        SigningKey::from_pem(&private_pem()).unwrap(),
        dir.clone(),
        dir,
    )
    .refresh_tokens(MemoryRefreshTokens::new(10_000_000))
    .build()
    .unwrap()
}

async fn post(server: &TokenServer, req: Request<Full<Bytes>>) -> Bytes {
    let res = server.clone().oneshot(req).await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    res.into_body().collect().await.unwrap().to_bytes()
}

fn login() -> Request<Full<Bytes>> {
    Request::post("/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from_static(
            b"grant_type=password&username=sonia%40spryker.com&password=change123",
        )))
        .unwrap()
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

fn token(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = server();
    let mut g = c.benchmark_group("token");
    g.bench_function("raw_bcrypt_verify_cost10", |b| {
        b.iter(|| assert!(bcrypt::verify("change123", DEMO_HASH_COST_10).unwrap()))
    });
    g.bench_function("post_token_cost10", |b| {
        b.iter(|| rt.block_on(post(&server, login())))
    });
    g.finish();
}

fn warehouse(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = server();
    let body = rt.block_on(post(&server, login()));
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let user_token = json["access_token"].as_str().unwrap().to_owned();
    let pair = {
        let pem = pem_der(&private_pem());
        RsaKeyPair::from_pkcs8(&pem).unwrap()
    };
    let (header_payload, _) = user_token.rsplit_once('.').unwrap();
    let header_payload = header_payload.to_owned();
    let mut g = c.benchmark_group("warehouse_tokens");
    g.bench_function("raw_rs256_sign", |b| {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let mut sig = vec![0u8; pair.public_modulus_len()];
        b.iter(|| {
            pair.sign(&RSA_PKCS1_SHA256, &rng, header_payload.as_bytes(), &mut sig)
                .unwrap()
        })
    });
    // Bearer → scope → token endpoint, as documented; the endpoint itself
    // never validates.
    let stack = tower::ServiceBuilder::new()
        .layer(glue_auth_bearer::BearerAuthLayer::new(
            glue_auth_bearer::Validator::new(server.signer().current().key_set()),
        ))
        .layer(glue_auth_scope::ScopeLayer::spryker())
        .layer(server.layer())
        .service(tower::service_fn(|_req: Request<Full<Bytes>>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(Full::<Bytes>::default()))
        }));
    g.bench_function("post_warehouse_tokens", |b| {
        b.iter(|| {
            let req = Request::post("/warehouse-tokens")
                .header("authorization", format!("Bearer {user_token}"))
                .body(Full::default())
                .unwrap();
            rt.block_on(async {
                let res = stack.clone().oneshot(req).await.unwrap();
                assert!(res.status().is_success(), "{}", res.status());
                res.into_body().collect().await.unwrap().to_bytes()
            })
        })
    });
    g.finish();
}

/// The DER inside a PEM file (base64 between the armour lines).
fn pem_der(pem: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let text = std::str::from_utf8(pem).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

criterion_group! {
    name = benches;
    config = config();
    targets = token, warehouse
}
criterion_main!(benches);
