//! Starts the real `hyper-picking` binary on a free loopback port and talks to
//! it over plain HTTP/1.1, as the crate docs' curl walk-through does: the demo
//! user logs in at `/token`, exchanges the token at `/warehouse-tokens`, lists
//! picking lists with the warehouse token; requests without a token are
//! refused.

use glue_auth_integration_tests::{
    SONIA_LOGIN, SpawnedServer, check_warehouse_token_body, fixtures, http_body, http_get,
    http_request, start_fails, warehouse_token,
};

const BIN: &str = env!("CARGO_BIN_EXE_hyper-picking");

#[test]
fn binary_serves_the_whole_front() {
    let key = fixtures().join("foreign-signer/test-private.pem");
    let server = SpawnedServer::start_with(BIN, "http", &["--private-key", key.to_str().unwrap()]);
    let addr = server.addr();

    let login = http_request(addr, "POST", "/token", None, SONIA_LOGIN);
    assert!(login.starts_with("HTTP/1.1 200 OK\r\n"), "{login}");
    let json: serde_json::Value = serde_json::from_str(http_body(&login)).unwrap();
    let user_token = json["access_token"].as_str().unwrap();

    let exchange = http_request(addr, "POST", "/warehouse-tokens", Some(user_token), "");
    assert!(
        exchange.starts_with("HTTP/1.1 201 Created\r\n"),
        "{exchange}"
    );
    let warehouse = check_warehouse_token_body(http_body(&exchange)).unwrap();

    // The issued warehouse token is accepted; so is one signed elsewhere with the same key.
    for token in [warehouse.as_str(), &warehouse_token()] {
        let allowed = http_get(addr, "/picking-lists", Some(token));
        assert!(allowed.starts_with("HTTP/1.1 200 OK\r\n"), "{allowed}");
        assert!(allowed.contains(r#""type":"picking-lists""#), "{allowed}");
    }

    // A warehouse token cannot mint another one.
    let again = http_request(addr, "POST", "/warehouse-tokens", Some(&warehouse), "");
    assert!(again.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{again}");

    let refused = http_get(addr, "/picking-lists", None);
    assert!(
        refused.starts_with("HTTP/1.1 403 Forbidden\r\n"),
        "{refused}"
    );
    assert!(
        refused.ends_with(r#"[{"status":403,"code":null,"message":"Authorization failed."}]"#),
        "{refused}"
    );
}

#[test]
fn binary_needs_a_private_key() {
    let public = fixtures().join("foreign-signer/test-public.pem");
    let (status, stderr) = start_fails(BIN, &["--private-key", public.to_str().unwrap()]);
    assert!(!status.success());
    assert!(stderr.contains("cannot load the private key"), "{stderr}");
}
