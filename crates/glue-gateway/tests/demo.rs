//! End to end against the real binary in demo mode: logins, warehouse tokens,
//! picking lists with both token kinds, and every SPEC error case.

mod common;

use common::*;

#[test]
fn login_form_and_json_and_warehouse_exchange() {
    let gw = Gateway::start(&[]);
    assert_eq!(gw.stdout_rest.len(), 1, "{:?}", gw.stdout_rest);
    assert!(
        gw.stdout_rest[0].starts_with("try: curl"),
        "{:?}",
        gw.stdout_rest
    );

    // Form body, documented.
    let res = gw
        .post("/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=password&username={DEMO_USER}&password={DEMO_PASSWORD}"
        ))
        .send();
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.header("pragma"), Some("no-cache"));
    let doc = res.json();
    assert_eq!(doc["token_type"], "Bearer");
    assert_eq!(doc["expires_in"], 28800);
    let user_token = doc["access_token"].as_str().unwrap().to_owned();
    assert_eq!(user_token.split('.').count(), 3);
    assert!(doc["refresh_token"].as_str().unwrap().len() >= 43);

    // JSON body with a form content type, camelCase keys: JSON wins.
    let res = gw
        .post("/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            r#"{{"grantType":"password","username":"{DEMO_USER}","password":"{DEMO_PASSWORD}"}}"#
        ))
        .send();
    assert_eq!(res.status, 200, "{}", res.text());

    // Warehouse exchange: 201, bare array, camelCase.
    let res = gw.post("/warehouse-tokens").bearer(&user_token).send();
    assert_eq!(res.status, 201, "{}", res.text());
    let doc = res.json();
    assert_eq!(doc[0]["tokenType"], "Bearer");
    assert_eq!(doc[0]["expiresIn"], 604800);
    let wh = doc[0]["accessToken"].as_str().unwrap();

    // A warehouse token cannot mint another one.
    let res = gw.post("/warehouse-tokens").bearer(wh).send();
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(
        res.json(),
        serde_json::json!([{"status":403,"code":null,"message":"Unauthorized request."}])
    );
    // Trailing slash: same route, equally protected.
    let res = gw.post("/warehouse-tokens/").send();
    assert_eq!(res.status, 401, "{}", res.text());
}

#[test]
fn picking_lists_with_both_token_kinds() {
    let gw = Gateway::start(&[]);
    let user = gw.login();
    let wh = gw.warehouse_token(&user);

    for token in [&user, &wh] {
        // Related resources come with `include=` (Glue's formatter).
        let res = gw
            .get("/picking-lists?include=picking-list-items")
            .header("accept", JSON_API)
            .bearer(token)
            .send();
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(res.header("content-type"), Some(JSON_API));
        let doc = res.json();
        let data = doc["data"].as_array().unwrap();
        // Warehouse 1 only: three lists.
        assert_eq!(data.len(), 3, "{doc}");
        assert!(data.iter().all(|l| l["type"] == "picking-lists"));
        assert!(doc["included"].as_array().unwrap().iter().any(|i| i["type"]
            == "picking-list-items"
            && i["attributes"]["quantity"].is_u64()
            && i["attributes"]["numberOfPicked"].is_u64()
            && i["attributes"]["numberOfNotPicked"].is_u64()));

        let res = gw
            .get(&format!("/picking-lists/{LIST_WH1}"))
            .bearer(token)
            .send();
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(res.json()["data"]["id"], LIST_WH1);

        // Another warehouse's list and an unknown id: JSON:API 404.
        for id in [LIST_WH2, "no-such-list"] {
            let res = gw.get(&format!("/picking-lists/{id}")).bearer(token).send();
            assert_eq!(res.status, 404, "{}", res.text());
            assert_eq!(res.header("content-type"), Some(JSON_API));
            assert_eq!(
                res.json(),
                serde_json::json!({"errors":[{"status":404,"code":"007","message":"Not found"}]})
            );
        }
    }

    // Start picking with the warehouse token.
    let res = gw
        .post(&format!("/picking-lists/{LIST_WH1_B}/start-picking"))
        .header("content-type", JSON_API)
        .bearer(&wh)
        .send();
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        res.json()["data"]["attributes"]["status"],
        "picking-started"
    );
    let res = gw
        .post(&format!("/picking-lists/{LIST_WH1_B}/start-picking"))
        .header("content-type", JSON_API)
        .bearer(&wh)
        .send();
    assert_eq!(res.status, 422, "{}", res.text());

    // PATCH: a warehouse token is refused by the scope layer (user required).
    let body = format!(
        r#"{{"data":[{{"id":"{ITEM_WH1_B}","type":"picking-list-items","attributes":{{"numberOfPicked":2,"numberOfNotPicked":1}}}}]}}"#
    );
    let path = format!("/picking-lists/{LIST_WH1_B}/picking-list-items");
    let res = gw
        .req("PATCH", &path)
        .header("content-type", JSON_API)
        .bearer(&wh)
        .body(body.clone())
        .send();
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(
        res.json(),
        serde_json::json!({"errors":[{"status":403,"code":null,"message":"Unauthorized request."}]})
    );

    // Bad bodies: 400 (not JSON:API), 422 (bad values).
    let res = gw
        .req("PATCH", &path)
        .header("content-type", JSON_API)
        .bearer(&user)
        .body("not json")
        .send();
    assert_eq!(res.status, 400, "{}", res.text());
    assert_eq!(res.json()["errors"][0]["status"], 400);
    let res = gw
        .req("PATCH", &path)
        .header("content-type", JSON_API)
        .bearer(&user)
        .body(r#"{"data":[{"id":"x","type":"picking-list-items","attributes":{"numberOfPicked":-1,"numberOfNotPicked":0}}]}"#)
        .send();
    assert_eq!(res.status, 422, "{}", res.text());

    // The user may PATCH: quantities change, the list is finished.
    let res = gw
        .req("PATCH", &path)
        .header("content-type", JSON_API)
        .bearer(&user)
        .body(body)
        .send();
    assert_eq!(res.status, 200, "{}", res.text());
    let doc = res.json();
    // `data` is an array: the request names no resource id (Glue's
    // formatter), and holds the picking list.
    assert_eq!(doc["data"][0]["type"], "picking-lists");
    assert_eq!(doc["data"][0]["attributes"]["status"], "picking-finished");
    let item = doc["included"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == ITEM_WH1_B)
        .unwrap()
        .clone();
    assert_eq!(item["attributes"]["numberOfPicked"], 2);
    assert_eq!(item["attributes"]["numberOfNotPicked"], 1);
}

#[test]
fn spec_error_cases() {
    let gw = Gateway::start(&[]);

    // Wrong password: 400 invalid_grant, plain.
    let res = gw
        .post("/token")
        .body(format!(
            "grant_type=password&username={DEMO_USER}&password=wrong"
        ))
        .send();
    assert_eq!(res.status, 400);
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(
        res.json(),
        serde_json::json!([{"status":400,"code":"invalid_grant","message":"The user credentials were incorrect."}])
    );
    // Missing grant type.
    let res = gw.post("/token").body("username=a&password=b").send();
    assert_eq!(res.status, 400);
    assert_eq!(res.json()[0]["code"], "unsupported_grant_type");

    // "Bearer" alone: 401 002.
    let res = gw
        .get("/picking-lists")
        .header("authorization", "Bearer")
        .send();
    assert_eq!(res.status, 401, "{}", res.text());
    assert_eq!(
        res.json(),
        serde_json::json!([{"status":401,"code":"002","message":"Missing access token."}])
    );

    // A forged token: 401 001 with WWW-Authenticate, JSON:API on GET + Accept.
    let res = gw
        .get("/picking-lists")
        .header("accept", JSON_API)
        .bearer("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
        .send();
    assert_eq!(res.status, 401);
    assert_eq!(
        res.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token""#)
    );
    assert_eq!(
        res.json(),
        serde_json::json!({"errors":[{"status":401,"code":"001","message":"Invalid access token."}]})
    );

    // No token on a picking-list route: the scope layer answers.
    let res = gw.get("/picking-lists").send();
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(res.json()[0]["message"], "Authorization failed.");

    // No token on PATCH (user required): 401 "Unauthorized request.".
    let res = gw
        .req(
            "PATCH",
            &format!("/picking-lists/{LIST_WH1}/picking-list-items"),
        )
        .header("content-type", JSON_API)
        .body("{}")
        .send();
    assert_eq!(res.status, 401, "{}", res.text());
    assert_eq!(
        res.json(),
        serde_json::json!({"errors":[{"status":401,"code":null,"message":"Unauthorized request."}]})
    );

    // /token with a JSON:API content type: 404 007, plain.
    let res = gw
        .post("/token")
        .header("content-type", JSON_API)
        .body("{}")
        .send();
    assert_eq!(res.status, 404);
    assert_eq!(
        res.json(),
        serde_json::json!([{"status":404,"code":"007","message":"Not found"}])
    );

    // GET /token: 405 with Allow: POST.
    let res = gw.get("/token").send();
    assert_eq!(res.status, 405);
    assert_eq!(res.header("allow"), Some("POST"));

    // Over 16 KiB: 413.
    let res = gw.post("/token").body(vec![b'a'; 17 * 1024]).send();
    assert_eq!(res.status, 413);

    // Wrong method on a demo route: 405 with Allow.
    let res = gw.req("DELETE", "/picking-lists").send();
    assert_eq!(res.status, 405);
    assert_eq!(res.header("allow"), Some("GET, HEAD"));

    // Unknown route: 404 007 in the request's envelope.
    let res = gw.get("/nothing-here").send();
    assert_eq!(res.status, 404);
    assert_eq!(res.json()[0]["code"], "007");
}

#[test]
fn older_release_settings_from_a_config_file_and_env() {
    let dir = TempDir::new();
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        "token_response = \"array\"\nuser_token_ttl = 60\nlegacy_scopes = true\nunauthenticated_status = 403\n",
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    let gw = Gateway::start_in(
        dir,
        &["--config", &config],
        &[("GLUE_GATEWAY_USER_TOKEN_TTL", "120")],
    );
    let res = gw
        .post("/token")
        .body(format!(
            "grant_type=password&username={DEMO_USER}&password={DEMO_PASSWORD}"
        ))
        .send();
    assert_eq!(res.status, 201, "{}", res.text());
    let doc = res.json();
    // The environment wins over the file.
    assert_eq!(doc[0]["expires_in"], 120);
    let token = doc[0]["access_token"].as_str().unwrap();
    // Legacy ["user"] tokens may exchange themselves for a warehouse token
    // (SPEC §3) but are not an allowed user scope on picking lists (§5.2).
    let res = gw.post("/warehouse-tokens").bearer(token).send();
    assert_eq!(res.status, 201, "{}", res.text());
    let res = gw.get("/picking-lists").bearer(token).send();
    assert_eq!(res.status, 403, "{}", res.text());
    assert_eq!(res.json()[0]["message"], "Authorization failed.");
    // Older releases: 403 for a missing token.
    let res = gw
        .get("/picking-lists")
        .header("authorization", "Bearer")
        .send();
    assert_eq!(res.status, 403);
    assert_eq!(res.json()[0]["code"], "002");
}

#[test]
fn refresh_grant_when_switched_on() {
    let gw = Gateway::start(&["--refresh-grant"]);
    let res = gw
        .post("/token")
        .body(format!(
            "grant_type=password&username={DEMO_USER}&password={DEMO_PASSWORD}"
        ))
        .send();
    assert_eq!(res.status, 200, "{}", res.text());
    let refresh = res.json()["refresh_token"].as_str().unwrap().to_owned();
    let res = gw
        .post("/token")
        .body(format!("grant_type=refresh_token&refresh_token={refresh}"))
        .send();
    assert_eq!(res.status, 200, "{}", res.text());
    let token = res.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(gw.get("/picking-lists").bearer(&token).send().status, 200);
    // A spent refresh token is refused.
    let res = gw
        .post("/token")
        .body(format!("grant_type=refresh_token&refresh_token={refresh}"))
        .send();
    assert_eq!(res.status, 400, "{}", res.text());

    // Off (default): Spryker's refusal.
    let gw = Gateway::start(&[]);
    let res = gw
        .post("/token")
        .body("grant_type=refresh_token&refresh_token=abc")
        .send();
    assert_eq!(res.status, 400);
    assert_eq!(res.json()[0]["code"], "unsupported_grant_type");
}

#[test]
fn the_request_timeout_answers_503_with_retry_after() {
    use std::io::{Read, Write};
    let gw = Gateway::start(&["--request-timeout", "1"]);
    // A body that never completes keeps the request inside the timeout.
    let mut s = std::net::TcpStream::connect(gw.addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    s.write_all(
        b"POST /token HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
          content-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\ngrant",
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let res = parse_response(&raw);
    assert_eq!(res.status, 503, "{res:?}");
    assert_eq!(res.header("retry-after"), Some("5"), "{res:?}");
    assert_eq!(
        res.json(),
        serde_json::json!([{"status":503,"code":null,"message":"Service temporarily unavailable."}])
    );
}
