//! `validate`: one token through the validator with a cache hit, with a cache
//! miss (cache off), and through raw `jsonwebtoken::decode` for comparison;
//! a token with an unknown `kid` (refused before the signature); plus the
//! whole layer (header parsing + extensions) on a hit.
//!
//! Run: `cargo bench -p glue-auth-bearer --bench validate`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use glue_auth_bearer::KeySet;
use glue_auth_bearer::{BearerAuthLayer, Validator};
use http::{Request, Response};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use tower::{Layer, Service, service_fn};

const PUBLIC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/foreign-signer/test-public.pem"
);
const PRIVATE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/foreign-signer/test-private.pem"
);

fn token() -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let payload = r#"{"aud":"frontend","jti":"30ec441000ac376bfe564ec65a87caf4853dc0b6c8c634ee9689f96d36f8233834351f313736ba62","iat":1764000000.461590,"nbf":1764000000.461590,"exp":4102444800.44,"sub":"{\"user_reference\":null,\"id_user\":4,\"uuid\":\"0d743cc3-a772-5145-971e-d4018ee7a489\"}","scopes":["user","back-office-user"]}"#;
    let msg = format!("{}.{}", b64(r#"{"typ":"JWT","alg":"RS256"}"#), b64(payload));
    let key = EncodingKey::from_rsa_pem(&std::fs::read(PRIVATE).unwrap()).unwrap();
    let sig = jsonwebtoken::crypto::sign(msg.as_bytes(), &key, Algorithm::RS256).unwrap();
    format!("{msg}.{sig}")
}

fn bench(c: &mut Criterion) {
    let pem = std::fs::read(PUBLIC).unwrap();
    let token = token();
    let cached = Validator::new(KeySet::from_pem(&pem).unwrap());
    cached.validate(&token).unwrap();
    let uncached = Validator::builder(KeySet::from_pem(&pem).unwrap())
        .no_cache()
        .build()
        .unwrap();

    let raw_key = DecodingKey::from_rsa_pem(&pem).unwrap();
    let mut raw_validation = Validation::new(Algorithm::RS256);
    raw_validation.validate_exp = false;
    raw_validation.required_spec_claims.clear();
    raw_validation.validate_aud = false;

    let mut g = c.benchmark_group("validate");
    g.bench_function("cache_hit", |b| {
        b.iter(|| cached.validate(black_box(&token)).unwrap())
    });
    g.bench_function("cache_miss", |b| {
        b.iter(|| uncached.validate(black_box(&token)).unwrap())
    });
    g.bench_function("raw_jsonwebtoken_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(black_box(&token), &raw_key, &raw_validation)
                .unwrap()
        })
    });

    // A token naming a kid the set does not have: refused at key selection,
    // before any signature work (what a storm of random kids costs).
    let unknown = {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[0] = b64(r#"{"typ":"JWT","alg":"RS256","kid":"nobody"}"#);
        parts.join(".")
    };
    // A set whose key has a kid (a single key without kid would ignore the
    // header and check the signature, as Glue does).
    let with_kid = Validator::builder(KeySet::single(
        glue_auth_bearer::PublicKey::from_pem(&pem)
            .unwrap()
            .with_kid("k1"),
    ))
    .no_cache()
    .build()
    .unwrap();
    g.bench_function("cache_miss_unknown_kid", |b| {
        b.iter(|| with_kid.validate(black_box(&unknown)).unwrap_err())
    });

    // The whole layer on a cache hit: header parsing, validation, extensions.
    let mut svc = BearerAuthLayer::new(cached.clone()).layer(service_fn(|_req: Request<()>| {
        std::future::ready(Ok::<_, std::convert::Infallible>(Response::new(())))
    }));
    let header = http::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    let waker = std::task::Waker::noop();
    g.bench_function("layer_call_cache_hit", |b| {
        b.iter(|| {
            let mut req = Request::new(());
            req.headers_mut()
                .insert(http::header::AUTHORIZATION, header.clone());
            let fut = svc.call(req);
            let mut fut = std::pin::pin!(fut);
            let mut cx = std::task::Context::from_waker(waker);
            match fut.as_mut().poll(&mut cx) {
                std::task::Poll::Ready(r) => r.unwrap(),
                std::task::Poll::Pending => unreachable!(),
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
