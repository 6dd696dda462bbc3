//! Each example's `serve` function on a real loopback socket
//! (`127.0.0.1:0`), answering one allowed and one refused request. (The
//! example binaries themselves are started by their own crates' tests, where
//! Cargo provides `CARGO_BIN_EXE_*`.)

use std::net::SocketAddr;

use bytes::Bytes;
use glue_auth_core::JSON_API;
use glue_auth_integration_tests::{Caller, test_signing_key};
use http::header::{ACCEPT, AUTHORIZATION};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};
use tonic_picking::proto::{ListPickingListsRequest, ListPickingListsResponse};
use tonic_prost::ProstCodec;

async fn listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    (l, addr)
}

/// GET /picking-lists over HTTP/1.1: (status, body).
async fn get_picking_lists(addr: SocketAddr, auth: Option<String>) -> (StatusCode, String) {
    let io = TokioIo::new(TcpStream::connect(addr).await.unwrap());
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(conn);
    let mut b = Request::get("/picking-lists")
        .header("host", addr.to_string())
        .header(ACCEPT, JSON_API);
    if let Some(a) = auth {
        b = b.header(AUTHORIZATION, a);
    }
    let res = sender
        .send_request(b.body(Full::<Bytes>::default()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

const AUTH_FAILED: &str =
    r#"{"errors":[{"status":403,"code":null,"message":"Authorization failed."}]}"#;

#[tokio::test]
async fn hyper_example_on_loopback() {
    let (l, addr) = listener().await;
    let server = tokio::spawn(hyper_picking::serve(l, test_signing_key()));

    let (status, body) = get_picking_lists(addr, Caller::BackOffice.authorization()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.starts_with(r#"{"data":[{"#), "{body}");

    assert_eq!(
        get_picking_lists(addr, None).await,
        (StatusCode::FORBIDDEN, AUTH_FAILED.to_owned())
    );
    server.abort();
}

#[tokio::test]
async fn axum_example_on_loopback() {
    let (l, addr) = listener().await;
    let server = tokio::spawn(axum_picking::serve(l, test_signing_key()));

    let (status, body) = get_picking_lists(addr, Caller::Warehouse.authorization()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.starts_with(r#"{"data":[{"#), "{body}");

    assert_eq!(
        get_picking_lists(addr, None).await,
        (StatusCode::FORBIDDEN, AUTH_FAILED.to_owned())
    );
    server.abort();
}

#[tokio::test]
async fn tonic_example_on_loopback() {
    let (l, addr) = listener().await;
    let server = tokio::spawn(tonic_picking::serve(l, test_signing_key()));

    // An HTTP/2 connection (gRPC) wrapped as a tower service for tonic's client.
    let io = TokioIo::new(TcpStream::connect(addr).await.unwrap());
    let (sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .unwrap();
    tokio::spawn(conn);
    let channel = tower::service_fn(move |req: http::Request<tonic::body::Body>| {
        let mut sender = sender.clone();
        async move { sender.send_request(req).await }
    });
    let mut client =
        tonic::client::Grpc::with_origin(channel, format!("http://{addr}").parse().unwrap());

    let list = async |client: &mut tonic::client::Grpc<_>, auth: Option<String>| {
        let mut req = tonic::Request::new(ListPickingListsRequest {});
        if let Some(a) = auth {
            req.metadata_mut()
                .insert("authorization", a.parse().unwrap());
        }
        client.ready().await.unwrap();
        client
            .unary::<_, ListPickingListsResponse, _>(
                req,
                "/fulfillment.v1.PickingLists/ListPickingLists"
                    .parse()
                    .unwrap(),
                ProstCodec::default(),
            )
            .await
    };

    let res = list(&mut client, Caller::WarehouseUser.authorization())
        .await
        .unwrap();
    assert_eq!(res.into_inner().picking_lists.len(), 2);

    let err = list(&mut client, Caller::BadToken.authorization())
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    assert_eq!(err.message(), "Invalid access token.");
    server.abort();
}
