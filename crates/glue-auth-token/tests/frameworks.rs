//! The layer and the standalone service in real stacks: tower-test readiness,
//! axum (`route_service` and as a layer around a `Router`), and hyper over a
//! loopback socket.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use common::*;
use http::{Request, Response};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::{Layer, Service, ServiceBuilder, ServiceExt};

#[tokio::test]
async fn own_answers_do_not_consume_inner_readiness() {
    let s = setup();
    let (mock, mut handle) =
        tower_test::mock::pair::<Request<Full<Bytes>>, Response<Full<Bytes>>>();
    let mut svc = s.server.layer().layer(mock);

    handle.allow(0);
    let mut ready = tokio_test_poll_ready(&mut svc);
    assert!(ready.is_pending(), "poll_ready is the inner service's");
    handle.allow(1);
    ready = tokio_test_poll_ready(&mut svc);
    assert!(ready.is_ready());

    // Answered by the endpoint: the inner service is not called…
    let res = svc
        .call(Request::get("/token").body(Full::default()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    // …so the readiness reserved above still serves the next request.
    let fut = svc.call(
        Request::get("/picking-lists")
            .body(Full::default())
            .unwrap(),
    );
    let (req, send) = handle.next_request().await.unwrap();
    assert_eq!(req.uri(), "/picking-lists");
    send.send_response(Response::new(Full::new(Bytes::from_static(b"ok"))));
    assert_eq!(fut.await.unwrap().status(), 200);
}

fn tokio_test_poll_ready<S: Service<R>, R>(svc: &mut S) -> std::task::Poll<Result<(), S::Error>> {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    svc.poll_ready(&mut cx)
}

#[tokio::test]
async fn axum_route_service_and_layer() {
    let s = setup();
    // Standalone, mounted on routes; the bearer layer around the router
    // validates before the route runs.
    let app: Router = Router::new()
        .route_service("/token", s.server.clone())
        .route_service("/warehouse-tokens", s.server.clone())
        .route("/picking-lists", get(|| async { "lists" }))
        .layer(glue_auth_bearer::BearerAuthLayer::new(validator_for(
            &s.server, &s.clock,
        )));
    let body = login_body(SONIA, PASSWORD);
    let req = Request::post("/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body.clone()))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let token = {
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["access_token"].as_str().unwrap().to_owned()
    };
    let req = Request::post("/warehouse-tokens")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app.clone().oneshot(req).await.unwrap().status(), 201);

    // As a layer around a whole Router.
    let router: Router = Router::new().route("/picking-lists", get(|| async { "lists" }));
    let app = ServiceBuilder::new()
        .layer(s.server.layer())
        .service(router);
    let req = Request::post("/token/")
        .body(axum::body::Body::from(body))
        .unwrap();
    assert_eq!(app.clone().oneshot(req).await.unwrap().status(), 200);
    let req = Request::get("/picking-lists")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.oneshot(req).await.unwrap();
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(&bytes[..], b"lists");
}

/// One HTTP/1.1 exchange over a fresh connection.
async fn exchange(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

#[tokio::test]
async fn hyper_over_loopback_with_peer_address_throttling() {
    let s = setup();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = s.server.clone();
    let accept = tokio::spawn(async move {
        // Bounded: the test makes exactly 8 connections.
        for _ in 0..8 {
            let (stream, peer) = listener.accept().await.unwrap();
            let inner = tower::service_fn(|_req: Request<hyper::body::Incoming>| async {
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"inner"))))
            });
            let svc = ServiceBuilder::new()
                .map_request(move |mut req: Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(peer);
                    req
                })
                .layer(server.layer())
                .service(inner);
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc))
                    .await;
            });
        }
    });
    let post = |user: &str, pw: &str| {
        let body = login_body(user, pw);
        format!(
            "POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let (status, body) = exchange(addr, &post(SONIA, PASSWORD)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with(r#"{"token_type":"Bearer","expires_in":28800,"access_token":""#));
    // Five failures from 127.0.0.1 for one username, then 429.
    for _ in 0..5 {
        let (status, body) = exchange(addr, &post(SONIA, "wrong")).await;
        assert_eq!(status, 400);
        assert_eq!(body, INVALID_GRANT);
    }
    let (status, body) = exchange(addr, &post(SONIA, PASSWORD)).await;
    assert_eq!(status, 429, "{body}");
    let (status, _) = exchange(
        addr,
        "GET /picking-lists HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200);
    accept.await.unwrap();
}

#[tokio::test]
async fn composes_with_tower_http() {
    use std::time::Duration;
    use tower_http::cors::CorsLayer;
    use tower_http::limit::RequestBodyLimitLayer;
    use tower_http::timeout::TimeoutLayer;
    use tower_http::trace::TraceLayer;

    let s = setup();
    let inner = tower::service_fn(|_req: Request<_>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"inner"))))
    });
    let app = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(CorsLayer::permissive())
        .layer(TimeoutLayer::with_status_code(
            http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(5),
        ))
        .layer(RequestBodyLimitLayer::new(64 * 1024))
        .layer(s.server.layer())
        .service(inner);
    let a = call(app.clone(), form("/token", &login_body(SONIA, PASSWORD))).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.header("access-control-allow-origin"), Some("*"));
    let a = call(app.clone(), form("/token", &login_body(SONIA, "nope"))).await;
    assert_eq!(a.text(), INVALID_GRANT);
    let a = call(app, Request::get("/other").body(Full::default()).unwrap()).await;
    assert_eq!(a.text(), "inner");
}
