//! Starts the real `hyper-picking` binary on a free loopback port and sends
//! it one allowed and one refused request over plain HTTP/1.1.

use glue_auth_integration_tests::{SpawnedServer, http_get, warehouse_token};

#[test]
fn binary_serves_allowed_and_refused_requests() {
    let server = SpawnedServer::start(env!("CARGO_BIN_EXE_hyper-picking"), "http");

    let allowed = http_get(server.addr(), "/picking-lists", Some(&warehouse_token()));
    assert!(allowed.starts_with("HTTP/1.1 200 OK\r\n"), "{allowed}");
    assert!(allowed.contains(r#""type":"picking-lists""#), "{allowed}");

    let refused = http_get(server.addr(), "/picking-lists", None);
    assert!(
        refused.starts_with("HTTP/1.1 403 Forbidden\r\n"),
        "{refused}"
    );
    assert!(
        refused.ends_with(r#"[{"status":403,"code":null,"message":"Authorization failed."}]"#),
        "{refused}"
    );
}
