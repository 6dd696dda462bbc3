//! The bearer layer drops unchanged into axum 0.8, a hyper 1 server (via
//! hyper-util, over an in-memory pipe) and tonic 0.14 (gRPC responder).

mod common;

use common::*;
use glue_auth_bearer::{BearerAuthLayer, Validator};
use glue_auth_core::{Claims, GrpcRejection, ManualClock, NumericDate, Principal};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use tower::ServiceExt;

fn validator() -> Validator {
    Validator::builder(test_keys())
        .clock(ManualClock::new(NumericDate::from_micros(NOW)))
        .build()
        .unwrap()
}

#[tokio::test]
async fn axum_router_layer() {
    use axum::{Extension, Router, routing::get};

    async fn whoami(claims: Option<Extension<Claims>>) -> String {
        match claims {
            Some(Extension(c)) => format!("user {}", c.principal().as_user().unwrap().id_user()),
            None => "anonymous".into(),
        }
    }
    let app = Router::new()
        .route("/picking-lists", get(whoami))
        .layer(BearerAuthLayer::new(validator()));

    let ok = Request::get("/picking-lists")
        .header("authorization", format!("Bearer {}", user_token()))
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.clone().oneshot(ok).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        &res.into_body().collect().await.unwrap().to_bytes()[..],
        b"user 4"
    );

    let bad = Request::get("/picking-lists")
        .header("authorization", "Bearer nope.nope.nope")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.oneshot(bad).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        &res.into_body().collect().await.unwrap().to_bytes()[..],
        br#"[{"status":401,"code":"001","message":"Invalid access token."}]"#
    );
}

#[tokio::test]
async fn hyper_server_via_hyper_util() {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::service::TowerToHyperService;

    let svc = tower::ServiceBuilder::new()
        .layer(BearerAuthLayer::new(validator()))
        .service_fn(|req: Request<hyper::body::Incoming>| async move {
            let who = match req.extensions().get::<Principal>() {
                Some(p) => format!("{p:?}"),
                None => "anonymous".into(),
            };
            Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(bytes::Bytes::from(
                who,
            ))))
        });

    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
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

    let res = sender
        .send_request(
            Request::get("/picking-lists")
                .header("authorization", format!("Bearer {}", user_token()))
                .body(Empty::<bytes::Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert!(std::str::from_utf8(&body).unwrap().contains("id_user: 4"));

    let res = sender
        .send_request(
            Request::get("/picking-lists")
                .header("authorization", "Bearer")
                .body(Empty::<bytes::Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        &body[..],
        br#"[{"status":401,"code":"002","message":"Missing access token."}]"#
    );
    drop(sender);
    server.await.unwrap();
}

/// A gRPC request for `grpc.health.v1.Health/Check` with an empty message.
fn grpc_check(auth: Option<&str>) -> Request<tonic::body::Body> {
    // Length-prefixed message: uncompressed flag 0, length 0.
    let frame = bytes::Bytes::from_static(&[0, 0, 0, 0, 0]);
    let mut b = Request::post("/grpc.health.v1.Health/Check")
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    b.body(tonic::body::Body::new(Full::new(frame))).unwrap()
}

#[tokio::test]
async fn tonic_service_with_grpc_responder() {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let svc = tower::ServiceBuilder::new()
        .layer(BearerAuthLayer::new(validator()).responder(GrpcRejection))
        .service(health);

    // Allowed: the real tonic service answers, grpc-status 0 in the trailers.
    let res = svc
        .clone()
        .oneshot(grpc_check(Some(&format!("Bearer {}", user_token()))))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("grpc-status").is_none());
    let collected = res.into_body().collect().await.unwrap();
    assert_eq!(collected.trailers().unwrap()["grpc-status"], "0");

    // Rejected: trailers-only UNAUTHENTICATED, the service never runs.
    let res = svc
        .clone()
        .oneshot(grpc_check(Some("Bearer forged.token.here")))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["grpc-status"], "16");
    assert_eq!(res.headers()["content-type"], "application/grpc");
    let body = res.into_body().collect().await.unwrap();
    assert!(body.to_bytes().is_empty());

    // No credentials: passed on (a scope layer would decide).
    let res = svc.oneshot(grpc_check(None)).await.unwrap();
    assert!(res.headers().get("grpc-status").is_none());
}
