//! Starts the real `tonic-picking` binary on a free loopback port and calls
//! it over HTTP/2 with tonic's client: one allowed and one refused call.

use glue_auth_integration_tests::{SpawnedServer, warehouse_token};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tonic_picking::proto::{ListPickingListsRequest, ListPickingListsResponse};

#[tokio::test]
async fn binary_serves_allowed_and_refused_calls() {
    let server = SpawnedServer::start(env!("CARGO_BIN_EXE_tonic-picking"), "grpc");
    let addr = server.addr().to_owned();

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
