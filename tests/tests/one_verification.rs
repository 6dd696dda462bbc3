//! One signature verification per request across the whole stack (bearer →
//! scope → token endpoint → routes), in each example: counted with the
//! validator's cache counters ([`Validator::cache_stats`]), where a miss is a
//! signature check and a hit an answer from the validated-token cache.
//!
//! The scenario, for the validator the example was built with:
//!
//! 1. `POST /token` without `Authorization`: 200, nothing verified;
//! 2. `POST /warehouse-tokens` with the new user token: 201, exactly one more
//!    miss and no hit (so neither the endpoint nor anything else verified it
//!    a second time, not even from the cache);
//! 3. the same request again: 201, exactly one more hit, no miss;
//! 4. the picking lists with the new warehouse token: allowed, one miss;
//! 5. a bad token at `/warehouse-tokens`: refused, one miss.
//!
//! [`a_second_validation_is_caught`] runs the same scenario against a stack
//! that validates twice and shows the count catches it.

use bytes::Bytes;
use glue_auth_bearer::{BearerAuthLayer, CacheStats, Validator};
use glue_auth_core::JSON_API;
use glue_auth_integration_tests::{
    Answer, Caller, H2Client, SONIA_LOGIN, check_warehouse_token_body, post, test_signing_key,
};
use glue_auth_scope::ScopeLayer;
use http::Request;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http_body_util::Full;
use tower::{ServiceBuilder, ServiceExt};

/// How the picking lists are asked for, and how an answer reads.
#[derive(Debug, Clone, Copy)]
enum Transport {
    /// JSON:API over HTTP (axum, hyper).
    Http,
    /// gRPC on the tonic example's port (the token routes are HTTP there too).
    Grpc,
}

impl Transport {
    /// The picking lists, with `token`.
    fn list(self, token: &str) -> Request<Full<Bytes>> {
        let auth = format!("Bearer {token}");
        match self {
            Transport::Http => Request::get("/picking-lists")
                .header(AUTHORIZATION, auth)
                .header(ACCEPT, JSON_API)
                .body(Full::default())
                .unwrap(),
            // `ListPickingLists` with an empty message: one uncompressed
            // frame of length 0.
            Transport::Grpc => Request::post("/fulfillment.v1.PickingLists/ListPickingLists")
                .header(AUTHORIZATION, auth)
                .header(CONTENT_TYPE, "application/grpc")
                .header("te", "trailers")
                .body(Full::new(Bytes::from_static(&[0, 0, 0, 0, 0])))
                .unwrap(),
        }
    }

    /// The routes answered: HTTP 200, and for gRPC `grpc-status` 0.
    fn allowed(self, a: &Answer) -> bool {
        let grpc_status = a
            .trailers
            .as_ref()
            .and_then(|t| t.get("grpc-status"))
            .and_then(|v| v.to_str().ok())
            .or(a.header("grpc-status"));
        match self {
            Transport::Http => a.status == 200,
            Transport::Grpc => a.status == 200 && grpc_status == Some("0"),
        }
    }

    /// Refused by the bearer layer: 401, or gRPC 16 UNAUTHENTICATED.
    fn unauthenticated(self, a: &Answer) -> bool {
        match self {
            Transport::Http => a.status == 401,
            Transport::Grpc => a.status == 200 && a.header("grpc-status") == Some("16"),
        }
    }
}

/// The validator's counters since the last look.
struct Counter<'a> {
    validator: &'a Validator,
    last: CacheStats,
}

impl Counter<'_> {
    /// `(misses, hits)` since the last call.
    fn delta(&mut self) -> (u64, u64) {
        let now = self.validator.cache_stats();
        let d = (now.misses - self.last.misses, now.hits - self.last.hits);
        self.last = now;
        d
    }

    /// Checks the counters after `step`.
    fn expect(&mut self, step: &str, misses: u64, hits: u64) -> Result<(), String> {
        let (m, h) = self.delta();
        if (m, h) == (misses, hits) {
            Ok(())
        } else {
            Err(format!(
                "{step}: {m} more misses and {h} more hits, expected {misses} and {hits}"
            ))
        }
    }
}

/// The scenario of the module docs; `Err` names the first step that went
/// otherwise.
async fn one_verification_per_request(
    transport: Transport,
    validator: &Validator,
    mut send: impl AsyncFnMut(Request<Full<Bytes>>) -> Answer,
) -> Result<(), String> {
    let mut count = Counter {
        validator,
        last: validator.cache_stats(),
    };

    let login = send(post("/token", None, SONIA_LOGIN)).await;
    if login.status != 200 {
        return Err(format!("login: {} {}", login.status, login.body));
    }
    count.expect("login without a token", 0, 0)?;
    let json: serde_json::Value = serde_json::from_str(&login.body).unwrap();
    let user = format!("Bearer {}", json["access_token"].as_str().unwrap());

    let mut warehouse = String::new();
    for (step, misses, hits) in [
        ("a new user token at /warehouse-tokens", 1, 0),
        ("the same token again", 0, 1),
    ] {
        let a = send(post("/warehouse-tokens", Some(&user), "")).await;
        if a.status != 201 {
            return Err(format!("{step}: {} {}", a.status, a.body));
        }
        warehouse = check_warehouse_token_body(&a.body).map_err(|e| format!("{step}: {e}"))?;
        count.expect(step, misses, hits)?;
    }

    let a = send(transport.list(&warehouse)).await;
    if !transport.allowed(&a) {
        return Err(format!("picking lists: {a:?}"));
    }
    count.expect("the new warehouse token on the picking lists", 1, 0)?;

    let bad = Caller::BadToken.authorization();
    let a = send(post("/warehouse-tokens", bad.as_deref(), "")).await;
    if !transport.unauthenticated(&a) {
        return Err(format!("bad token: {a:?}"));
    }
    count.expect("a bad token at /warehouse-tokens", 1, 0)
}

fn validator() -> Validator {
    Validator::new(test_signing_key().key_set())
}

/// axum, in process (`oneshot` on the router, tower-http layers included).
#[tokio::test]
async fn axum_one_verification_per_request() {
    let validator = validator();
    let app = axum_picking::app_with(
        validator.clone(),
        axum_picking::token_server(test_signing_key()),
    );
    let send = async |req: Request<Full<Bytes>>| {
        let res = app
            .clone()
            .oneshot(req.map(axum::body::Body::new))
            .await
            .unwrap();
        Answer::of(res).await
    };
    one_verification_per_request(Transport::Http, &validator, send)
        .await
        .unwrap();
}

/// hyper, the example's server on a loopback port (HTTP/2 prior knowledge,
/// which hyper-util's auto builder speaks too).
#[tokio::test]
async fn hyper_one_verification_per_request() {
    let validator = validator();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(hyper_picking::serve_with(
        listener,
        validator.clone(),
        hyper_picking::token_server(test_signing_key()),
    ));
    let mut client = H2Client::connect(&addr).await;
    let result = one_verification_per_request(Transport::Http, &validator, async |req| {
        client.send(req).await
    })
    .await;
    server.abort();
    result.unwrap();
}

/// tonic, the example's server (tonic's `Server` with the three layers) on a
/// loopback port over HTTP/2.
#[tokio::test]
async fn tonic_one_verification_per_request() {
    let validator = validator();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(tonic_picking::serve_with(
        listener,
        validator.clone(),
        tonic_picking::token_server(test_signing_key()),
    ));
    let mut client = H2Client::connect(&addr).await;
    let result = one_verification_per_request(Transport::Grpc, &validator, async |req| {
        client.send(req).await
    })
    .await;
    server.abort();
    result.unwrap();
}

/// The negative control: the hyper example's pieces with a second
/// `BearerAuthLayer` between the scope layer and the token endpoint (a stack
/// that verifies twice, the second time from the cache). The count must
/// notice it at the first token-carrying step.
#[tokio::test]
async fn a_second_validation_is_caught() {
    let validator = validator();
    let tokens = hyper_picking::token_server(test_signing_key());
    let twice = ServiceBuilder::new()
        .layer(BearerAuthLayer::new(validator.clone()))
        .layer(ScopeLayer::spryker())
        .layer(BearerAuthLayer::new(validator.clone()))
        .layer(tokens.layer())
        .service(hyper_picking::PickingLists::demo());
    let send = async |req: Request<Full<Bytes>>| {
        Answer::of(twice.clone().oneshot(req).await.unwrap()).await
    };
    let err = one_verification_per_request(Transport::Http, &validator, send)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        "a new user token at /warehouse-tokens: 1 more misses and 1 more hits, expected 1 and 0"
    );
}
