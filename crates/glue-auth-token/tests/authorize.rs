//! `POST /authorize` (SPEC §2a): every `/authorize` row of the error table,
//! the whole flow with single use, and the password grant's throttle applied
//! to `/authorize`. Its timing rule is in `timing.rs`; the `/token` side in
//! `code_grant.rs`.

mod common;

use std::time::Duration;

use common::flow::*;
use common::*;

/// Every `/authorize` row of SPEC §2a's table, one parameter changed each.
#[tokio::test]
async fn authorize_error_table() {
    let s = setup_with(flow);
    let long = "a".repeat(129);
    let short = "a".repeat(42);
    let plus = format!("{}+", "a".repeat(43));
    let rows: &[(&str, &str, Option<&str>, &str)] = &[
        // (what, key, value or removed, expected body)
        (
            "response_type token",
            "response_type",
            Some("token"),
            INVALID_REQUEST,
        ),
        (
            "response_type missing",
            "response_type",
            None,
            INVALID_REQUEST,
        ),
        ("client_id missing", "client_id", None, INVALID_REQUEST),
        ("username missing", "username", None, INVALID_REQUEST),
        ("password missing", "password", None, INVALID_REQUEST),
        ("challenge missing", "code_challenge", None, INVALID_REQUEST),
        (
            "challenge of 42",
            "code_challenge",
            Some(&short),
            INVALID_REQUEST,
        ),
        (
            "challenge of 129",
            "code_challenge",
            Some(&long),
            INVALID_REQUEST,
        ),
        (
            "challenge with +",
            "code_challenge",
            Some(&plus),
            INVALID_REQUEST,
        ),
        (
            "method plain",
            "code_challenge_method",
            Some("plain"),
            INVALID_REQUEST,
        ),
        (
            "method missing (plain)",
            "code_challenge_method",
            None,
            INVALID_REQUEST,
        ),
        (
            "method s256",
            "code_challenge_method",
            Some("s256"),
            INVALID_REQUEST,
        ),
        (
            "unknown client",
            "client_id",
            Some("nobody"),
            INVALID_CLIENT,
        ),
        (
            "client without redirect URIs",
            "client_id",
            Some("backoffice"),
            INVALID_CLIENT,
        ),
        (
            "redirect URI not registered",
            "redirect_uri",
            Some("https://evil.example/callback"),
            INVALID_CLIENT,
        ),
        (
            "redirect URI with another path",
            "redirect_uri",
            Some("https://fulfillment.example/callback/x"),
            INVALID_CLIENT,
        ),
        (
            "redirect URI missing, two registered",
            "redirect_uri",
            None,
            INVALID_CLIENT,
        ),
        ("unknown scope", "scope", Some("user admin"), INVALID_SCOPE),
        ("wrong password", "password", Some("wrong"), INVALID_GRANT),
        (
            "unknown user",
            "username",
            Some("ghost@spryker.com"),
            INVALID_GRANT,
        ),
        (
            "blocked user",
            "username",
            Some("blocked@spryker.com"),
            INVALID_GRANT,
        ),
        (
            "deleted user",
            "username",
            Some("deleted@spryker.com"),
            INVALID_GRANT,
        ),
    ];
    for (what, key, value, body) in rows {
        let a = authorize(&s, &with(authorize_params(), key, *value)).await;
        assert_eq!(a.status, 400, "{what}: {}", a.text());
        assert_eq!(a.text(), *body, "{what}");
        assert_eq!(a.header("content-type"), Some("application/json"), "{what}");
        assert_eq!(a.header("cache-control"), Some("no-store"), "{what}");
    }
    // A parameter given twice.
    let mut twice = authorize_params();
    twice.push(("code_challenge", CHALLENGE.to_owned()));
    authorize(&s, &twice).await.is(400, INVALID_REQUEST);
}

/// Every `/token` row of SPEC §2a's table, each on a fresh code.
#[tokio::test]
async fn code_flow_succeeds_and_the_code_is_single_use() {
    let s = setup_with(flow);
    let a = authorize(&s, &authorize_params()).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert_eq!(a.header("content-type"), Some("application/json"));
    assert_eq!(a.header("cache-control"), Some("no-store"));
    let answer = a.json();
    let code = answer[0]["code"].as_str().unwrap().to_owned();
    assert_eq!(answer, serde_json::json!([{"code": code, "state": "xyz"}]));
    assert_eq!(code.len(), 80);
    assert!(code.bytes().all(|b| b.is_ascii_hexdigit()));

    let t = exchange(&s, &exchange_params(&code)).await;
    assert_eq!(t.status, 200, "{}", t.text());
    let body = t.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 28800);
    let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        ["access_token", "expires_in", "refresh_token", "token_type"]
    );
    let (_, payload) = decode(body["access_token"].as_str().unwrap());
    assert!(payload.contains(r#""aud":"frontend""#), "{payload}");
    assert!(payload.contains(r#"\"id_user\":4"#), "{payload}");
    assert!(
        payload.contains(r#""scopes":["user","back-office-user"]"#),
        "{payload}"
    );
    // The token opens the protected routes of the stack.
    let token = body["access_token"].as_str().unwrap();
    let w = call(s.app(), bearer("/warehouse-tokens", token)).await;
    assert_eq!(w.status, 201, "{}", w.text());

    // Used twice: refused.
    exchange(&s, &exchange_params(&code))
        .await
        .is(400, INVALID_REQUEST);

    // No state: null. JSON body, camelCase keys.
    let params = with(authorize_params(), "state", None);
    let a = authorize(&s, &params).await;
    assert_eq!(a.json()[0]["state"], serde_json::Value::Null);
    let body = format!(
        r#"{{"responseType":"code","clientId":"frontend","redirectUri":"{REDIRECT}","codeChallenge":"{CHALLENGE}","codeChallengeMethod":"S256","username":"{SONIA}","password":"{PASSWORD}"}}"#
    );
    let a = call(s.app(), json("/authorize", &body)).await;
    assert_eq!(a.status, 200, "{}", a.text());
    // The default client when /token names none.
    let c = a.json()[0]["code"].as_str().unwrap().to_owned();
    let t = exchange(&s, &with(exchange_params(&c), "client_id", None)).await;
    assert_eq!(t.status, 200, "{}", t.text());
}

/// `/authorize` shares the password grant's throttle: five failures of a
/// username, through either route, and the sixth attempt is 429, right
/// password or not.
#[tokio::test]
async fn authorize_is_throttled_with_the_password_grant() {
    let s = setup_with(flow);
    let wrong = with(authorize_params(), "password", Some("wrong"));
    for _ in 0..3 {
        authorize(&s, &wrong).await.is(400, INVALID_GRANT);
    }
    for _ in 0..2 {
        login(&s.server, SONIA, "wrong")
            .await
            .is(400, INVALID_GRANT);
    }
    for attempt in [
        authorize(&s, &authorize_params()).await,
        login(&s.server, SONIA, PASSWORD).await,
    ] {
        attempt.is(
            429,
            r#"[{"status":429,"code":null,"message":"Too many unsuccessful login attempts."}]"#,
        );
        assert_eq!(attempt.header("retry-after"), Some("300"));
    }
    // The window passes; a success clears the count.
    s.clock.advance(Duration::from_secs(300));
    assert_eq!(authorize(&s, &authorize_params()).await.status, 200);
    for _ in 0..4 {
        authorize(&s, &wrong).await.is(400, INVALID_GRANT);
    }
    assert_eq!(authorize(&s, &authorize_params()).await.status, 200);
}

#[tokio::test]
async fn authorize_route_answers() {
    let s = setup_with(flow);
    let get = http::Request::get("/authorize")
        .body(Default::default())
        .unwrap();
    let a = call(s.app(), get).await;
    assert_eq!((a.status.as_u16(), a.header("allow")), (405, Some("POST")));
    let mut req = form("/authorize", &encode(&authorize_params()));
    req.headers_mut()
        .insert("content-type", "application/vnd.api+json".parse().unwrap());
    call(s.app(), req).await.is(404, NOT_FOUND);
    let big = format!(
        "{}&pad={}",
        encode(&authorize_params()),
        "x".repeat(17 * 1024)
    );
    assert_eq!(call(s.app(), form("/authorize", &big)).await.status, 413);
    // Trailing slash: the same route.
    let a = call(s.app(), form("/authorize/", &encode(&authorize_params()))).await;
    assert_eq!(a.status, 200);
    // Without any configured redirect URI: invalid_client, never 500.
    let s = setup();
    authorize(&s, &authorize_params())
        .await
        .is(400, INVALID_CLIENT);
}

#[test]
fn redirect_uri_configuration_is_checked() {
    let dir = directory();
    let clock = clock();
    let err = |b: glue_auth_token::TokenServerBuilder| b.build().unwrap_err().to_string();
    assert!(err(builder(&dir, &clock).redirect_uris("nobody", [REDIRECT])).contains("nobody"));
    assert!(
        err(builder(&dir, &clock).redirect_uris("frontend", ["/relative"])).contains("/relative")
    );
    assert!(
        err(builder(&dir, &clock).redirect_uris("frontend", ["https://a.example/#x"]))
            .contains("#x")
    );
    assert!(err(builder(&dir, &clock).authorize_path("/token")).contains("equal"));
    assert!(err(builder(&dir, &clock).code_lifetime(Duration::ZERO)).contains("code lifetime"));
}
