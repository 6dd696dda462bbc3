//! tower-test: readiness is the inner service's, and a rejection does not use
//! up the readiness the inner service granted.

mod common;

use common::*;
use glue_auth_bearer::BearerAuthLayer;
use glue_auth_core::{ManualClock, NumericDate};
use http::{Request, Response, StatusCode};
use tower_test::mock;

fn layer() -> BearerAuthLayer {
    let v = glue_auth_bearer::Validator::builder(test_keys())
        .clock(ManualClock::new(NumericDate::from_micros(NOW)))
        .build()
        .unwrap();
    BearerAuthLayer::new(v)
}

fn req(auth: &str) -> Request<()> {
    Request::get("/picking-lists")
        .header("authorization", auth)
        .body(())
        .unwrap()
}

#[tokio::test]
async fn backpressure_propagates() {
    let (mut svc, mut handle) = mock::spawn_layer::<Request<()>, Response<()>, _>(layer());
    handle.allow(0);
    assert!(svc.poll_ready().is_pending());
    handle.allow(1);
    assert!(svc.poll_ready().is_ready());
}

#[tokio::test]
async fn inner_errors_pass_through_unchanged() {
    let (mut svc, mut handle) = mock::spawn_layer::<Request<()>, Response<()>, _>(layer());
    handle.allow(1);
    assert!(svc.poll_ready().is_ready());
    let fut = svc.call(req(&format!("Bearer {}", user_token())));
    let (_, send) = handle.next_request().await.unwrap();
    send.send_error("boom");
    assert_eq!(fut.await.unwrap_err().to_string(), "boom");
}

#[tokio::test]
async fn a_rejection_does_not_consume_inner_readiness() {
    let (mut svc, mut handle) = mock::spawn_layer::<Request<()>, Response<()>, _>(layer());
    handle.allow(1);
    assert!(svc.poll_ready().is_ready());
    // Rejected: answered without calling the inner service.
    let res = svc.call(req("Bearer not.a.token")).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // The single slot the mock allowed is still there for a good request.
    assert!(svc.poll_ready().is_ready());
    let fut = svc.call(req(&format!("Bearer {}", user_token())));
    let (request, send) = handle.next_request().await.unwrap();
    assert!(
        request
            .extensions()
            .get::<glue_auth_core::Claims>()
            .is_some()
    );
    send.send_response(Response::new(()));
    assert_eq!(fut.await.unwrap().status(), StatusCode::OK);
    // And now the mock's budget is spent.
    assert!(svc.poll_ready().is_pending());
}

#[tokio::test]
async fn unauthenticated_requests_reach_the_inner_service_untouched() {
    let (mut svc, mut handle) = mock::spawn_layer::<Request<()>, Response<()>, _>(layer());
    handle.allow(1);
    assert!(svc.poll_ready().is_ready());
    let fut = svc.call(
        Request::get("/x?y=1")
            .header("x-custom", "1")
            .body(())
            .unwrap(),
    );
    let (request, send) = handle.next_request().await.unwrap();
    assert_eq!(request.uri(), "/x?y=1");
    assert_eq!(request.headers()["x-custom"], "1");
    assert!(
        request
            .extensions()
            .get::<glue_auth_core::Claims>()
            .is_none()
    );
    send.send_response(Response::new(()));
    fut.await.unwrap();
}
