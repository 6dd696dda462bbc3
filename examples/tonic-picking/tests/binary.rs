//! Starts the real `tonic-picking` binary (default key) on a free loopback
//! port and talks to it over HTTP/2, as the crate docs' walk-through does: the
//! demo user logs in at `/token` and exchanges the token at
//! `/warehouse-tokens` (plain HTTP on the gRPC port), then calls the gRPC
//! service with the warehouse token (tonic's client); a call without a token
//! is refused.

use glue_auth_integration_tests::{
    H2Client, SONIA_LOGIN, SpawnedServer, check_warehouse_token_body, fixtures, post, start_fails,
    warehouse_token,
};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tonic_picking::proto::{ListPickingListsRequest, ListPickingListsResponse};

const BIN: &str = env!("CARGO_BIN_EXE_tonic-picking");

#[tokio::test]
async fn binary_serves_the_whole_front() {
    let server = SpawnedServer::start(BIN, "grpc");
    let addr = server.addr().to_owned();

    // The token endpoint: plain HTTP/2 requests on the gRPC port.
    let mut http = H2Client::connect(&addr).await;
    let login = http.send(post("/token", None, SONIA_LOGIN)).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let json: serde_json::Value = serde_json::from_str(&login.body).unwrap();
    let user_token = format!("Bearer {}", json["access_token"].as_str().unwrap());
    let exchange = http
        .send(post("/warehouse-tokens", Some(&user_token), ""))
        .await;
    assert_eq!(exchange.status, 201, "{}", exchange.body);
    let warehouse = check_warehouse_token_body(&exchange.body).unwrap();
    // A warehouse token cannot mint another one: trailers-only PERMISSION_DENIED.
    let again = http
        .send(post(
            "/warehouse-tokens",
            Some(&format!("Bearer {warehouse}")),
            "",
        ))
        .await;
    assert_eq!(again.header("grpc-status"), Some("7"));

    // gRPC with tonic's client over another HTTP/2 connection.
    let io = TokioIo::new(tokio::net::TcpStream::connect(&addr).await.unwrap());
    let (sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .unwrap();
    tokio::spawn(conn);
    let channel = tower::service_fn(move |req: http::Request<tonic::body::Body>| {
        let mut sender = sender.clone();
        async move { sender.send_request(req).await }
    });
    // h2 needs an absolute URI: tonic's client takes scheme and authority from the origin.
    let origin = format!("http://{addr}").parse().unwrap();
    let mut client = tonic::client::Grpc::with_origin(channel, origin);

    for (token, expected) in [
        (Some(warehouse), Ok(2)),
        (Some(warehouse_token()), Ok(2)),
        (None, Err(tonic::Code::Unauthenticated)),
    ] {
        let mut req = tonic::Request::new(ListPickingListsRequest {});
        if let Some(t) = token {
            let value = format!("Bearer {t}").parse().unwrap();
            req.metadata_mut().insert("authorization", value);
        }
        client.ready().await.unwrap();
        let got = client
            .unary::<_, ListPickingListsResponse, _>(
                req,
                "/fulfillment.v1.PickingLists/ListPickingLists"
                    .parse()
                    .unwrap(),
                tonic_prost::ProstCodec::default(),
            )
            .await
            .map(|r| r.into_inner().picking_lists.len())
            .map_err(|s| s.code());
        assert_eq!(got, expected);
    }
}

#[test]
fn binary_needs_a_private_key() {
    let public = fixtures().join("foreign-signer/test-public.pem");
    let (status, stderr) = start_fails(BIN, &["--private-key", public.to_str().unwrap()]);
    assert!(!status.success());
    assert!(stderr.contains("cannot load the private key"), "{stderr}");
}
