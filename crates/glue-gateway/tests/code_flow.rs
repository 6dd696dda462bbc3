//! End to end against the real binary: the Fulfillment App's login
//! (SPEC §2a), `POST /authorize` then `grant_type=authorization_code`, with
//! redirect URIs from the configuration, codes in the default SQLite store
//! (as hashes), CORS from a second origin, and the configuration errors.

mod common;

use common::*;
use sqlx::Connection;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// The demo page's origin in the browser tests: a second loopback origin.
const ORIGIN: &str = "http://127.0.0.1:5555";
const REDIRECT: &str = "http%3A%2F%2F127.0.0.1%3A5555%2Fdemo%2F";

/// Rows of the gateway's SQLite file, as text.
fn sqlite_rows(dir: &std::path::Path, sql: &str) -> Vec<String> {
    let path = dir.join("data").join("glue.db");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display()))
                .await
                .unwrap();
            let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap();
            conn.close().await.unwrap();
            rows.into_iter().map(|(s,)| s).collect()
        })
}

fn authorize(gw: &Gateway, password: &str) -> Res {
    gw.post("/authorize")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", ORIGIN)
        .body(format!(
            "response_type=code&client_id=frontend&redirect_uri={REDIRECT}&scope=user\
             &code_challenge={CHALLENGE}&code_challenge_method=S256&state=st4te\
             &username={DEMO_USER}&password={password}"
        ))
        .send()
}

fn exchange(gw: &Gateway, code: &str) -> Res {
    gw.post("/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", ORIGIN)
        .body(format!(
            "grant_type=authorization_code&client_id=frontend&code={code}\
             &redirect_uri={REDIRECT}&code_verifier={VERIFIER}"
        ))
        .send()
}

#[test]
fn code_flow_through_the_gateway() {
    let gw = Gateway::start(&[
        "--redirect-uris",
        "frontend=http://127.0.0.1/demo/",
        "--cors-allow-origin",
        ORIGIN,
    ]);
    // The browser's preflight of the token routes needs no token.
    let res = gw
        .req("OPTIONS", "/authorize")
        .header("origin", ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send();
    assert_eq!(res.status, 204, "{}", res.text());
    assert_eq!(res.header("access-control-allow-origin"), Some(ORIGIN));

    let res = authorize(&gw, "wrong");
    assert_eq!(res.status, 400);
    assert_eq!(
        res.json(),
        serde_json::json!([{"status":400,"code":"invalid_grant","message":"The user credentials were incorrect."}])
    );
    let res = authorize(&gw, DEMO_PASSWORD);
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.json()[0]["state"], "st4te");
    let code = res.json()[0]["code"].as_str().unwrap().to_owned();

    // Stored in the SQLite file, as a hash only.
    let ids = sqlite_rows(
        gw.dir.path(),
        "SELECT identifier FROM glue_oauth_authorization_code",
    );
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].len(), 64);
    assert_ne!(ids[0], code);
    assert!(!gw.stderr().contains(&code));

    let res = exchange(&gw, &code);
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("access-control-allow-origin"), Some(ORIGIN));
    let token = res.json()["access_token"].as_str().unwrap().to_owned();
    let res = gw
        .get("/picking-lists")
        .header("accept", "application/vnd.api+json")
        .bearer(&token)
        .send();
    assert_eq!(res.status, 200, "{}", res.text());

    // Single use: a replay is refused, and the row is gone.
    let res = exchange(&gw, &code);
    assert_eq!(res.status, 400);
    assert_eq!(res.json()[0]["code"], "invalid_request");
    assert!(
        sqlite_rows(
            gw.dir.path(),
            "SELECT identifier FROM glue_oauth_authorization_code"
        )
        .is_empty()
    );
    assert!(!gw.stderr().contains(&code));
}

#[test]
fn demo_redirect_uris_and_bad_settings() {
    // Demo mode registers the demo page's loopback URIs (any port) unless
    // redirect URIs are configured; others are invalid_client.
    let gw = Gateway::start(&["--database-url", "memory:"]);
    assert_eq!(authorize(&gw, DEMO_PASSWORD).status, 200);
    let page = gw.get("/demo/").send();
    assert_eq!(page.status, 200);
    assert!(page.text().contains("app.js"));
    drop(gw);
    let gw = Gateway::start(&[
        "--database-url",
        "memory:",
        "--redirect-uris",
        "https://app.example/cb",
    ]);
    let res = authorize(&gw, DEMO_PASSWORD);
    assert_eq!(res.status, 400);
    assert_eq!(res.json()[0]["code"], "invalid_client");
    drop(gw);

    // Plain PKCE only when allowed.
    let plain = "a-plain-verifier-that-is-at-least-43-characters-long";
    for (allow, want) in [("false", 400), ("true", 200)] {
        let gw = Gateway::start(&[
            "--database-url",
            "memory:",
            "--redirect-uris",
            "http://localhost/cb",
            "--plain-pkce",
            allow,
        ]);
        let res = gw
            .post("/authorize")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "response_type=code&client_id=frontend&redirect_uri=http%3A%2F%2Flocalhost%3A9%2Fcb\
                 &code_challenge={plain}&code_challenge_method=plain\
                 &username={DEMO_USER}&password={DEMO_PASSWORD}"
            ))
            .send();
        assert_eq!(res.status, want, "{}", res.text());
    }

    let (status, stderr) = run_to_exit(&["--redirect-uris", "nobody=http://127.0.0.1/cb"], &[]);
    assert!(!status.success());
    assert!(stderr.contains("redirect_uris"), "{stderr}");
    let (status, stderr) = run_to_exit(&["--redirect-uris", "frontend=relative/cb"], &[]);
    assert!(!status.success());
    assert!(stderr.contains("relative/cb"), "{stderr}");
}
