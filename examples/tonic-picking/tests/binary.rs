//! Starts the real `tonic-picking` binary on a free loopback port and calls
//! it over HTTP/2 with tonic's client: one allowed and one refused call.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use hyper_util::rt::{TokioExecutor, TokioIo};
use tonic_picking::proto::{ListPickingListsRequest, ListPickingListsResponse};

/// Kills the server when the test ends, even on failure.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A warehouse token signed with the workspace's test key.
fn warehouse_token() -> String {
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/foreign-signer/test-private.pem"
    ))
    .unwrap();
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "aud": "frontend",
        "jti": "5f".repeat(40),
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "sub": r#"{"id_warehouse":1}"#,
        "scopes": ["warehouse"],
    });
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

#[tokio::test]
async fn binary_serves_allowed_and_refused_calls() {
    let child = Command::new(env!("CARGO_BIN_EXE_tonic-picking"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on grpc://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();

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
