//! The glue-auth layers composed with tower-http's `TraceLayer`, `CorsLayer`,
//! `TimeoutLayer` and `RequestBodyLimitLayer`: in the axum example's router,
//! and in a plain tower `ServiceBuilder` served by hyper. That these compile
//! at all shows the body types line up; the requests show each layer still
//! does its job next to ours.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use glue_auth_bearer::BearerAuthLayer;
use glue_auth_core::JSON_API;
use glue_auth_integration_tests::{Caller, LIST_ID, test_keys, test_signing_key};
use glue_auth_scope::ScopeLayer;
use http::header::{
    ACCEPT, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION,
    CONTENT_LENGTH, CONTENT_TYPE, ORIGIN,
};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

const ORIGIN_APP: &str = "https://fulfillment.example";

async fn body_string<B>(res: Response<B>) -> String
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

// ----- the axum example: Trace, Cors, Timeout, BodyLimit, Bearer, Scope -----

#[tokio::test]
async fn axum_cors_preflight_needs_no_token() {
    let req = Request::builder()
        .method(Method::OPTIONS)
        .uri("/picking-lists")
        .header(ORIGIN, ORIGIN_APP)
        .header(ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = axum_picking::app(test_signing_key())
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
}

#[tokio::test]
async fn axum_cors_headers_on_allowed_and_refused_answers() {
    let app = axum_picking::app(test_signing_key());
    let get = |auth: Option<String>| {
        let mut b = Request::get("/picking-lists")
            .header(ORIGIN, ORIGIN_APP)
            .header(ACCEPT, JSON_API);
        if let Some(a) = auth {
            b = b.header(AUTHORIZATION, a);
        }
        b.body(axum::body::Body::empty()).unwrap()
    };
    let res = app
        .clone()
        .oneshot(get(Caller::Warehouse.authorization()))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");

    // A refusal by the scope layer is still a CORS answer the browser can read.
    let res = app.oneshot(get(None)).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(res.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert_eq!(
        body_string(res).await,
        r#"{"errors":[{"status":403,"code":null,"message":"Authorization failed."}]}"#
    );
}

#[tokio::test]
async fn axum_body_limit_applies_before_the_handler() {
    let big = vec![b' '; axum_picking::MAX_BODY + 1];
    let req = Request::patch(format!("/picking-lists/{LIST_ID}/picking-list-items"))
        .header(AUTHORIZATION, Caller::BackOffice.authorization().unwrap())
        .header(CONTENT_TYPE, JSON_API)
        .header(CONTENT_LENGTH, big.len())
        .body(axum::body::Body::from(big))
        .unwrap();
    let res = axum_picking::app(test_signing_key())
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

// ----- a plain tower ServiceBuilder around the hyper example's handler -----

/// The same six layers around any inner service.
macro_rules! stack {
    ($inner:expr) => {
        ServiceBuilder::new()
            .layer(TraceLayer::new_for_http())
            .layer(CorsLayer::new().allow_origin(tower_http::cors::Any))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(1),
            ))
            .layer(RequestBodyLimitLayer::new(1024))
            .layer(BearerAuthLayer::from_keys(test_keys()).unwrap())
            .layer(ScopeLayer::spryker())
            .service($inner)
    };
}

#[tokio::test]
async fn tower_stack_served_by_hyper() {
    // The hyper server gets `Request<Incoming>`; every layer changes a body
    // type on the way in or out, and hyper still accepts the result.
    let svc = stack!(hyper_picking::PickingLists::demo());
    let (client_io, server_io) = tokio::io::duplex(256 * 1024);
    let server = tokio::spawn(async move {
        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(server_io), TowerToHyperService::new(svc))
            .await
            .unwrap();
    });
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(client_io))
        .await
        .unwrap();
    tokio::spawn(conn);

    let get = |auth: Option<String>| {
        let mut b = Request::get(format!("/picking-lists/{LIST_ID}"))
            .header(ORIGIN, ORIGIN_APP)
            .header(ACCEPT, JSON_API);
        if let Some(a) = auth {
            b = b.header(AUTHORIZATION, a);
        }
        b.body(Full::<Bytes>::default()).unwrap()
    };

    // Allowed: the handler answers, CORS headers added on the way out.
    let res = sender
        .send_request(get(Caller::BackOffice.authorization()))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let doc: serde_json::Value = serde_json::from_str(&body_string(res).await).unwrap();
    assert_eq!(doc["data"]["id"], LIST_ID);

    // Refused by the bearer layer.
    let res = sender
        .send_request(get(Caller::BadToken.authorization()))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert_eq!(
        body_string(res).await,
        r#"{"errors":[{"status":401,"code":"001","message":"Invalid access token."}]}"#
    );

    // Over the body limit: tower-http answers 413 before any auth runs.
    let res = sender
        .send_request(
            Request::patch(format!("/picking-lists/{LIST_ID}/picking-list-items"))
                .header(CONTENT_TYPE, JSON_API)
                .body(Full::new(Bytes::from(vec![b'x'; 2048])))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    drop(sender);
    server.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn tower_stack_times_out_slow_handlers() {
    // A handler slower than the timeout: TimeoutLayer answers 408 (paused
    // clock, so the test does not wait).
    let slow = tower::service_fn(|_req: Request<_>| async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok::<_, Infallible>(Response::new(Full::<Bytes>::default()))
    });
    let svc = stack!(slow);
    let req = Request::get("/picking-lists")
        .header(AUTHORIZATION, Caller::Warehouse.authorization().unwrap())
        .body(Full::<Bytes>::default())
        .unwrap();
    let res = svc.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);

    // Refusals never reach the slow handler, so they are not delayed.
    let req = Request::get("/picking-lists")
        .body(Full::<Bytes>::default())
        .unwrap();
    let started = tokio::time::Instant::now();
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(started.elapsed(), Duration::ZERO);
}
