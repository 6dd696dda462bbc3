//! `POST /token`: every row of SPEC §2.

mod common;

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use glue_auth_core::Claims;
use glue_auth_token::store::{PasswordHash, UserStatus};
use glue_auth_token::{ResponseStyle, SigningKey, ThrottleSettings, TokenServer};
use http::{Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::Full;
use tower::{ServiceBuilder, service_fn};

/// Asserts a 200 success: exact key order and types, tokens in place.
#[track_caller]
fn assert_success(a: &Answer, status: u16, array: bool) -> (String, String) {
    assert_eq!(a.status.as_u16(), status, "{}", a.text());
    assert_eq!(a.header("content-type"), Some("application/json"));
    assert_eq!(a.header("cache-control"), Some("no-store"));
    assert_eq!(a.header("pragma"), Some("no-cache"));
    let v = a.json();
    let obj = if array {
        assert_eq!(v.as_array().unwrap().len(), 1);
        &v[0]
    } else {
        &v
    };
    let access = obj["access_token"].as_str().unwrap().to_owned();
    let refresh = obj["refresh_token"].as_str().unwrap().to_owned();
    let expected = format!(
        r#"{{"token_type":"Bearer","expires_in":28800,"access_token":"{access}","refresh_token":"{refresh}"}}"#
    );
    let expected = if array {
        format!("[{expected}]")
    } else {
        expected
    };
    assert_eq!(a.text(), expected);
    assert!(refresh.len() >= 64);
    (access, refresh)
}

fn claims_of(access: &str) -> Claims {
    let (_, payload) = decode(access);
    Claims::parse_unverified_payload(&payload).unwrap()
}

#[tokio::test]
async fn form_login_answers_200_object() {
    let s = setup();
    let a = login(&s.server, SONIA, PASSWORD).await;
    let (access, _) = assert_success(&a, 200, false);
    let c = claims_of(&access);
    assert_eq!(
        c.scopes().iter().collect::<Vec<_>>(),
        ["user", "back-office-user"]
    );
    // It verifies against the server's own key.
    assert!(
        s.server
            .signer()
            .current()
            .key_set()
            .verify(&access)
            .is_ok()
    );
}

#[tokio::test]
async fn core_response_setting_answers_201_array() {
    let s = setup_with(|b| {
        b.compatibility(Compatibility {
            response_style: ResponseStyle::Array,
            ..Compatibility::default()
        })
    });
    let a = login(&s.server, SONIA, PASSWORD).await;
    assert_success(&a, 201, true);
}

#[tokio::test]
async fn json_body_wins_whatever_the_content_type() {
    let s = setup();
    let body = r#"{"grant_type":"password","username":"sonia@spryker.com","password":"change123"}"#;
    for ct in [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
    ] {
        let req = Request::post("/token")
            .header("content-type", ct)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        assert_success(&call(s.server.clone(), req).await, 200, false);
    }
    // No Content-Type at all.
    let req = Request::post("/token")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    assert_success(&call(s.server.clone(), req).await, 200, false);
}

#[tokio::test]
async fn snake_camel_and_pascal_keys() {
    let s = setup();
    for body in [
        r#"{"grantType":"password","username":"sonia@spryker.com","password":"change123","clientId":"frontend"}"#,
        r#"{"GrantType":"password","Username":"sonia@spryker.com","Password":"change123","ClientId":"frontend","Scope":"x"}"#,
        r#"{"grant_type":"password","username":"sonia@spryker.com","password":"change123","client_id":"frontend","scope":"x","unknown":{"a":[1]}}"#,
    ] {
        assert_success(
            &call(s.server.clone(), json("/token", body)).await,
            200,
            false,
        );
    }
    for body in [
        "grantType=password&username=sonia%40spryker.com&password=change123&clientId=frontend",
        "GrantType=password&Username=sonia%40spryker.com&Password=change123&ClientId=frontend&Scope=",
        "grant_type=password&username=sonia@spryker.com&password=change123&client_id=frontend&other=1",
    ] {
        assert_success(
            &call(s.server.clone(), form("/token", body)).await,
            200,
            false,
        );
    }
}

#[tokio::test]
async fn client_id_default_known_and_unknown() {
    let s = setup_with(|b| b.clients(["frontend", "fulfillment-app"]));
    let body = format!("{}&client_id=fulfillment-app", login_body(SONIA, PASSWORD));
    let a = call(s.server.clone(), form("/token", &body)).await;
    let (access, _) = assert_success(&a, 200, false);
    assert_eq!(
        claims_of(&access).audience().collect::<Vec<_>>(),
        ["fulfillment-app"]
    );
    let a = login(&s.server, SONIA, PASSWORD).await;
    let (access, _) = assert_success(&a, 200, false);
    assert_eq!(
        claims_of(&access).audience().collect::<Vec<_>>(),
        ["frontend"]
    );

    let body = format!("{}&client_id=backoffice", login_body(SONIA, PASSWORD));
    let a = call(s.server.clone(), form("/token", &body)).await;
    a.is(400, INVALID_CLIENT);
    assert_eq!(a.header("cache-control"), Some("no-store"));
    assert_eq!(a.header("pragma"), Some("no-cache"));
}

#[tokio::test]
async fn invalid_grant_for_wrong_password_unknown_and_inactive_users() {
    let s = setup();
    for (user, pw) in [
        (SONIA, "change124"),
        (SONIA, ""),
        ("nobody@spryker.com", PASSWORD),
        ("blocked@spryker.com", PASSWORD),
        ("deleted@spryker.com", PASSWORD),
        ("SONIA@spryker.com", PASSWORD),
    ] {
        let a = login(&s.server, user, pw).await;
        a.is(400, INVALID_GRANT);
        assert_eq!(a.header("cache-control"), Some("no-store"));
    }
    // Blocking works at once; unblocking too.
    s.dir.set_status(SONIA, UserStatus::Blocked);
    login(&s.server, SONIA, PASSWORD)
        .await
        .is(400, INVALID_GRANT);
    s.dir.set_status(SONIA, UserStatus::Active);
    assert_success(&login(&s.server, SONIA, PASSWORD).await, 200, false);
}

#[tokio::test]
async fn long_passwords_use_their_first_72_bytes_like_php() {
    let s = setup();
    let long = "x".repeat(72);
    let mut u = user(20, "long@spryker.com", UserStatus::Active, false);
    u.password_hash = hash4(&long);
    s.dir.insert_user(u);
    // Exactly 72 bytes: fine.
    assert_success(
        &login(&s.server, "long@spryker.com", &long).await,
        200,
        false,
    );
    // PHP's password_verify reads the first 72 bytes: so do we.
    for longer in [format!("{long}y"), format!("{long}{}", "z".repeat(100))] {
        assert_success(
            &login(&s.server, "long@spryker.com", &longer).await,
            200,
            false,
        );
    }
    // A shorter prefix does not match.
    login(&s.server, "long@spryker.com", &long[..71])
        .await
        .is(400, INVALID_GRANT);
    // Bytes, not characters: 71 + 'é' (2 bytes) is cut inside the 'é', and
    // matches a hash of those 72 raw bytes (as PHP would have made it).
    let accented = format!("{}é", "x".repeat(71));
    let mut u = user(21, "accent@spryker.com", UserStatus::Active, false);
    u.password_hash = glue_auth_token::store::PasswordHash::new(
        bcrypt::hash(&accented.as_bytes()[..72], 4)
            .unwrap()
            .replacen("$2b$", "$2y$", 1),
    );
    s.dir.insert_user(u);
    assert_success(
        &login(&s.server, "accent@spryker.com", &accented).await,
        200,
        false,
    );
}

#[tokio::test]
async fn passwords_with_nul_are_refused() {
    let s = setup();
    // A stored hash of a password with a NUL, made by a tool hashing every
    // byte (as the Rust bcrypt crate does): verifying the same password
    // would match, so only the refusal keeps it out.
    let with_nul = "change123\0evil";
    let mut u = user(22, "nul@spryker.com", UserStatus::Active, false);
    u.password_hash = hash4(with_nul);
    s.dir.insert_user(u);
    assert!(
        bcrypt::verify(
            with_nul,
            s.dir
                .user("nul@spryker.com")
                .unwrap()
                .password_hash
                .expose()
        )
        .unwrap()
    );
    login(&s.server, "nul@spryker.com", with_nul)
        .await
        .is(400, INVALID_GRANT);
    // PHP stops at the NUL and would let this in as sonia; we refuse.
    login(&s.server, SONIA, "change123\0evil")
        .await
        .is(400, INVALID_GRANT);
    // The NUL rule, not the suffix, refuses: the same user without NUL is fine.
    assert_success(&login(&s.server, SONIA, PASSWORD).await, 200, false);
}

#[tokio::test]
async fn invalid_request_rows() {
    let s = setup();
    for body in [
        "grant_type=password&password=change123",
        "grant_type=password&username=sonia%40spryker.com",
        "grant_type=password",
        "grant_type=password&username=sonia%40spryker.com&password=change123&password=change123",
        "grant_type=password&username=sonia%40spryker.com&username=x&password=change123",
        "grant_type=password&grantType=password&username=sonia%40spryker.com&password=change123",
        "grant_type=password&username=sonia%40spryker.com&password=%FF",
    ] {
        call(s.server.clone(), form("/token", body))
            .await
            .is(400, INVALID_REQUEST);
    }
    for body in [
        r#"{"grant_type":"password","username":"sonia@spryker.com","password":123}"#,
        r#"{"grant_type":"password","username":"sonia@spryker.com","password":"a","Password":"a"}"#,
        r#"{"grant_type":"password","username":["sonia@spryker.com"],"password":"change123"}"#,
        r#"{"grant_type":"password","username":null,"password":"change123"}"#,
    ] {
        call(s.server.clone(), json("/token", body))
            .await
            .is(400, INVALID_REQUEST);
    }
    // Raw bytes that are not UTF-8: no replacement characters, a refusal.
    let req = Request::post("/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from_static(
            b"grant_type=password&username=sonia\xff&password=change123",
        )))
        .unwrap();
    call(s.server.clone(), req).await.is(400, INVALID_REQUEST);
}

#[tokio::test]
async fn unsupported_grant_type_rows() {
    let s = setup();
    for (body, value) in [
        ("username=a&password=b", ""),
        ("grant_type=&username=a&password=b", ""),
        ("grant_type=client_credentials", "client_credentials"),
        (
            "grant_type=refresh_token&refresh_token=abc",
            "refresh_token",
        ),
        ("grant_type=PASSWORD&username=a&password=b", "PASSWORD"),
        ("grant_type=%22x%22", "\\\"x\\\""),
    ] {
        let expected = format!(
            r#"[{{"status":400,"code":"unsupported_grant_type","message":"Grant type \"{value}\" not found"}}]"#
        );
        call(s.server.clone(), form("/token", body))
            .await
            .is(400, &expected);
    }
    call(s.server.clone(), json("/token", "{}")).await.is(
        400,
        r#"[{"status":400,"code":"unsupported_grant_type","message":"Grant type \"\" not found"}]"#,
    );
}

#[tokio::test]
async fn json_api_content_type_is_404_007() {
    let s = setup();
    let mut req = form("/token", &login_body(SONIA, PASSWORD));
    req.headers_mut()
        .insert("content-type", "application/vnd.api+json".parse().unwrap());
    call(s.server.clone(), req).await.is(404, NOT_FOUND);
}

#[tokio::test]
async fn other_methods_are_405_with_allow_post() {
    let s = setup();
    for m in ["GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] {
        let req = Request::builder()
            .method(m)
            .uri("/token")
            .body(Full::default())
            .unwrap();
        let a = call(s.server.clone(), req).await;
        a.is(
            405,
            r#"[{"status":405,"code":null,"message":"Method not allowed."}]"#,
        );
        assert_eq!(a.header("allow"), Some("POST"));
    }
}

const TOO_LARGE: &str = r#"[{"status":413,"code":null,"message":"Request body is too large."}]"#;

#[tokio::test]
async fn bodies_over_16_kib_are_413() {
    let s = setup();
    // Exactly 16 KiB is accepted (and parsed).
    let mut body = login_body(SONIA, PASSWORD);
    body.push_str("&pad=");
    body.push_str(&"a".repeat(16 * 1024 - body.len()));
    assert_eq!(body.len(), 16 * 1024);
    assert_success(
        &call(s.server.clone(), form("/token", &body)).await,
        200,
        false,
    );
    body.push('a');
    call(s.server.clone(), form("/token", &body))
        .await
        .is(413, TOO_LARGE);
}

/// An endless body without Content-Length that counts what was pulled.
struct Endless(Arc<AtomicUsize>);

impl http_body::Body for Endless {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.fetch_add(1024, Ordering::SeqCst);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'a'; 1024])))))
    }
}

#[tokio::test]
async fn streamed_bodies_are_cut_at_the_limit() {
    use tower::ServiceExt;
    let s = setup();
    for path in ["/token", "/warehouse-tokens"] {
        let pulled = Arc::new(AtomicUsize::new(0));
        let mut req = Request::post(path)
            .body(Endless(Arc::clone(&pulled)))
            .unwrap();
        if path == "/warehouse-tokens" {
            // What the bearer layer in front leaves for a valid user token.
            let token = sonia_token(&s.server).await;
            let claims = validator_for(&s.server, &s.clock).validate(&token).unwrap();
            req.extensions_mut().insert(claims);
        }
        let res = s.server.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let n = pulled.load(Ordering::SeqCst);
        assert!(n <= 16 * 1024 + 1024, "pulled {n} bytes");
    }
    // A declared oversized body is refused before reading.
    let req = Request::post("/token")
        .header("content-length", "1000000")
        .body(Endless(Arc::new(AtomicUsize::new(0))))
        .unwrap();
    let res = s.server.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

fn from(addr: &str, body: &str) -> Request<Full<Bytes>> {
    let mut req = form("/token", body);
    req.extensions_mut()
        .insert(addr.parse::<SocketAddr>().unwrap());
    req
}

const TOO_MANY: &str =
    r#"[{"status":429,"code":null,"message":"Too many unsuccessful login attempts."}]"#;

#[tokio::test]
async fn five_failures_per_username_then_429_and_window_slides() {
    let s = setup();
    for i in 0..5 {
        s.clock.advance(Duration::from_secs(10));
        let addr = format!("192.0.2.{i}:1000");
        call(s.server.clone(), from(&addr, &login_body(SONIA, "wrong")))
            .await
            .is(400, INVALID_GRANT);
    }
    // Sixth attempt, right password, other address: throttled.
    let a = call(
        s.server.clone(),
        from("198.51.100.1:1", &login_body(SONIA, PASSWORD)),
    )
    .await;
    a.is(429, TOO_MANY);
    // First failure at +10 s, now +50 s: free again at +310 s.
    assert_eq!(a.header("retry-after"), Some("260"));
    // Case variants share the counter.
    login(&s.server, "SONIA@SPRYKER.COM", PASSWORD)
        .await
        .is(429, TOO_MANY);
    // Other usernames are not affected.
    assert_success(
        &login(&s.server, "picker@spryker.com", PASSWORD).await,
        200,
        false,
    );
    s.clock.advance(Duration::from_secs(260));
    assert_success(&login(&s.server, SONIA, PASSWORD).await, 200, false);
}

/// A key reload swaps the signing key in place: the throttle counters, the
/// hashing pool and the stores stay, so 4 failures before the reload and 1
/// after are 5, and the next attempt is refused.
#[tokio::test]
async fn a_key_reload_keeps_the_failed_login_count() {
    let s = setup();
    for _ in 0..4 {
        login(&s.server, SONIA, "wrong")
            .await
            .is(400, INVALID_GRANT);
    }
    let next = SigningKey::generate().unwrap().with_kid("next");
    s.server.signer().replace(next.clone());
    login(&s.server, SONIA, "wrong")
        .await
        .is(400, INVALID_GRANT);
    login(&s.server, SONIA, PASSWORD).await.is(429, TOO_MANY);
    // The new key signs from now on, for every clone of the server.
    let a = login(&s.server, "picker@spryker.com", PASSWORD).await;
    let (access, _) = assert_success(&a, 200, false);
    assert_eq!(
        decode(&access).0,
        r#"{"typ":"JWT","alg":"RS256","kid":"next"}"#
    );
    assert!(next.key_set().verify(&access).is_ok());
}

/// Glue validates every request's token before routing (SPEC §5.1): a login
/// that carries a bad `Authorization` header is refused by the bearer layer,
/// before the password is looked at.
#[tokio::test]
async fn a_login_with_a_bad_bearer_token_is_401_001() {
    let s = setup();
    let mut req = login_request(SONIA, PASSWORD);
    req.headers_mut()
        .insert("authorization", "Bearer x.y.z".parse().unwrap());
    call(s.app(), req).await.is(
        401,
        r#"[{"status":401,"code":"001","message":"Invalid access token."}]"#,
    );
    // Without the header the same login succeeds through the same stack.
    assert_success(
        &call(s.app(), login_request(SONIA, PASSWORD)).await,
        200,
        false,
    );
}

#[tokio::test]
async fn success_resets_the_username_counter() {
    let s = setup();
    for _ in 0..4 {
        login(&s.server, SONIA, "wrong")
            .await
            .is(400, INVALID_GRANT);
    }
    assert_success(&login(&s.server, SONIA, PASSWORD).await, 200, false);
    for _ in 0..4 {
        login(&s.server, SONIA, "wrong")
            .await
            .is(400, INVALID_GRANT);
    }
    assert_success(&login(&s.server, SONIA, PASSWORD).await, 200, false);
}

#[tokio::test]
async fn twenty_failures_per_address_then_429() {
    let s = setup();
    for i in 0..20 {
        let body = login_body(&format!("user{i}@example.com"), "x");
        call(s.server.clone(), from("203.0.113.5:4000", &body))
            .await
            .is(400, INVALID_GRANT);
    }
    let a = call(
        s.server.clone(),
        from("203.0.113.5:4001", &login_body(SONIA, PASSWORD)),
    )
    .await;
    a.is(429, TOO_MANY);
    assert_eq!(a.header("retry-after"), Some("300"));
    // Another address still logs in.
    assert_success(
        &call(
            s.server.clone(),
            from("203.0.113.6:4000", &login_body(SONIA, PASSWORD)),
        )
        .await,
        200,
        false,
    );
}

#[tokio::test]
async fn only_invalid_grant_counts_and_limits_are_settings() {
    let s = setup_with(|b| {
        b.throttle(ThrottleSettings {
            per_username: 2,
            per_address: 0,
            window: Duration::from_secs(60),
            ..ThrottleSettings::default()
        })
    });
    for _ in 0..10 {
        // invalid_request and unsupported_grant_type do not count.
        call(
            s.server.clone(),
            form("/token", "grant_type=password&username=sonia%40spryker.com"),
        )
        .await
        .is(400, INVALID_REQUEST);
        call(
            s.server.clone(),
            form("/token", "username=sonia%40spryker.com&password=x"),
        )
        .await;
    }
    login(&s.server, SONIA, "a").await.is(400, INVALID_GRANT);
    login(&s.server, SONIA, "b").await.is(400, INVALID_GRANT);
    let a = login(&s.server, SONIA, PASSWORD).await;
    a.is(429, TOO_MANY);
    assert_eq!(a.header("retry-after"), Some("60"));
}

#[tokio::test]
async fn trusted_forwarded_header_is_the_client_address() {
    let s = setup_with(|b| {
        b.client_address(glue_auth_token::ClientAddress::trusted_header(
            http::HeaderName::from_static("x-forwarded-for"),
        ))
        .throttle(ThrottleSettings {
            per_username: 0,
            per_address: 1,
            ..ThrottleSettings::default()
        })
    });
    let req = |xff: &str, pw: &str| {
        let mut r = from("10.0.0.1:1", &login_body(SONIA, pw));
        r.headers_mut()
            .insert("x-forwarded-for", xff.parse().unwrap());
        r
    };
    call(s.server.clone(), req("1.1.1.1, 192.0.2.1", "x"))
        .await
        .is(400, INVALID_GRANT);
    call(s.server.clone(), req("9.9.9.9, 192.0.2.1", PASSWORD))
        .await
        .is(429, TOO_MANY);
    assert_success(
        &call(s.server.clone(), req("192.0.2.1, 192.0.2.2", PASSWORD)).await,
        200,
        false,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_failures_cannot_overshoot_the_username_limit() {
    let dir = directory();
    let (gated, gate) = Gated::new(dir.clone());
    let clock = clock();
    let server = TokenServer::builder(key(), gated.clone(), dir)
        .clock(clock)
        .hashing(cost4())
        .build()
        .unwrap();
    // 20 wrong-password logins for one username, all admitted or refused
    // before any of them is decided (the look-ups wait at the gate).
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let server = server.clone();
            tokio::spawn(async move { login(&server, SONIA, "wrong").await })
        })
        .collect();
    gated.wait_arrived(5).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    gate.send(true).unwrap();
    let (mut invalid, mut throttled) = (0, 0);
    for t in tasks {
        let a = t.await.unwrap();
        match a.status.as_u16() {
            400 => {
                a.is(400, INVALID_GRANT);
                invalid += 1;
            }
            429 => {
                a.is(429, TOO_MANY);
                throttled += 1;
            }
            other => panic!("{other}: {}", a.text()),
        }
    }
    assert_eq!((invalid, throttled), (5, 15));
    // The limit is reached: even the right password waits for the window.
    login(&server, SONIA, PASSWORD).await.is(429, TOO_MANY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_failures_cannot_overshoot_the_address_limit() {
    let dir = directory();
    let (gated, gate) = Gated::new(dir.clone());
    let server = TokenServer::builder(key(), gated.clone(), dir)
        .hashing(cost4())
        .build()
        .unwrap();
    // 30 wrong logins of 30 usernames from one address (limit 20).
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let server = server.clone();
            let body = login_body(&format!("user{i}@example.com"), "x");
            tokio::spawn(async move { call(server, from("203.0.113.5:4000", &body)).await })
        })
        .collect();
    gated.wait_arrived(20).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    gate.send(true).unwrap();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap().status.as_u16());
    }
    let count = |s| statuses.iter().filter(|&&x| x == s).count();
    assert_eq!((count(400), count(429)), (20, 10));
}

#[tokio::test]
async fn a_cancelled_login_releases_its_place() {
    let dir = directory();
    let (gated, gate) = Gated::new(dir.clone());
    let server = TokenServer::builder(key(), gated.clone(), dir)
        .hashing(cost4())
        .throttle(ThrottleSettings {
            per_username: 1,
            ..ThrottleSettings::default()
        })
        .build()
        .unwrap();
    let first = {
        let server = server.clone();
        tokio::spawn(async move { login(&server, SONIA, "wrong").await })
    };
    gated.wait_arrived(1).await;
    // The first attempt holds the only place (admitted, the look-up would
    // wait at the closed gate).
    let a = tokio::time::timeout(Duration::from_secs(5), login(&server, SONIA, PASSWORD))
        .await
        .expect("a second login was admitted while the first holds the only place");
    a.is(429, TOO_MANY);
    assert_eq!(a.header("retry-after"), Some("1"));
    // The client goes away: its place is released, nothing is counted.
    first.abort();
    assert!(first.await.is_err_and(|e| e.is_cancelled()));
    gate.send(true).unwrap();
    assert_success(&login(&server, SONIA, PASSWORD).await, 200, false);
}

const UNAVAILABLE: &str =
    r#"[{"status":503,"code":null,"message":"Service temporarily unavailable."}]"#;

#[tokio::test]
async fn store_down_is_503_with_retry_after() {
    let dir = directory();
    let server = TokenServer::builder(key(), DownStore, dir)
        .hashing(cost4())
        .retry_after(7)
        .build()
        .unwrap();
    let a = login(&server, SONIA, PASSWORD).await;
    a.is(503, UNAVAILABLE);
    assert_eq!(a.header("retry-after"), Some("7"));
    // Arc<dyn UserDirectory> works too (run-time choice).
    let dir = directory();
    let server = TokenServer::builder(key(), arc_dir(&dir), dir)
        .hashing(cost4())
        .build()
        .unwrap();
    assert_success(&login(&server, SONIA, PASSWORD).await, 200, false);
}

/// Hostile stored data: a `spy_user.password` of bcrypt cost 31 would pin a
/// core for hours per login. Above `max_stored_cost` (default 14) it is never
/// hashed: `invalid_grant` at once, the hashing pool stays free for others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashes_above_the_cost_limit_are_refused_without_hashing() {
    let s = setup_with(|b| {
        b.hashing(HashingSettings {
            max_concurrent: 1,
            max_queued: 2,
            ..cost4()
        })
    });
    let mut hostile = user(31, "hostile@spryker.com", UserStatus::Active, false);
    // A well-formed cost-31 hash: a real cost-4 hash with its cost raised.
    let real = hash4(PASSWORD);
    hostile.password_hash = PasswordHash::new(real.expose().replacen("$04$", "$31$", 1));
    assert_eq!(hostile.password_hash.cost(), Some(31));
    s.dir.insert_user(hostile);
    let started = std::time::Instant::now();
    // More attempts than the pool and its queue hold: none of them waits.
    for _ in 0..4 {
        let a = tokio::time::timeout(
            Duration::from_secs(10),
            login(&s.server, "hostile@spryker.com", PASSWORD),
        )
        .await
        .expect("a cost-31 hash was hashed");
        a.is(400, INVALID_GRANT);
    }
    assert_success(&login(&s.server, SONIA, PASSWORD).await, 200, false);
    assert!(started.elapsed() < Duration::from_secs(10));
    // The limit is a checked setting.
    let err = TokenServer::builder(key(), directory(), directory())
        .hashing(HashingSettings {
            max_stored_cost: 32,
            ..cost4()
        })
        .build()
        .unwrap_err();
    assert_eq!(err, glue_auth_token::ConfigError::InvalidCost(32));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_hashing_queue_is_503() {
    let s = setup_with(|b| {
        b.hashing(HashingSettings {
            max_concurrent: 1,
            max_queued: 0,
            password_cost: 4,
            ..HashingSettings::default()
        })
    });
    let mut slow = user(30, "slow@spryker.com", UserStatus::Active, false);
    slow.password_hash =
        glue_auth_token::store::PasswordHash::new(bcrypt::hash(PASSWORD, 13).unwrap());
    s.dir.insert_user(slow);
    let server = s.server.clone();
    let first = tokio::spawn(async move { login(&server, "slow@spryker.com", PASSWORD).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let a = login(&s.server, SONIA, PASSWORD).await;
    a.is(503, UNAVAILABLE);
    assert_eq!(a.header("retry-after"), Some("5"));
    assert_success(&first.await.unwrap(), 200, false);
}

#[tokio::test]
async fn trailing_slash_and_configured_paths() {
    let s = setup();
    assert_success(
        &call(
            s.server.clone(),
            form("/token/", &login_body(SONIA, PASSWORD)),
        )
        .await,
        200,
        false,
    );
    let s = setup_with(|b| b.token_path("/api/oauth/token"));
    assert_success(
        &call(
            s.server.clone(),
            form("/api/oauth/token", &login_body(SONIA, PASSWORD)),
        )
        .await,
        200,
        false,
    );
    // The standalone service answers 404 007 elsewhere.
    call(
        s.server.clone(),
        form("/token", &login_body(SONIA, PASSWORD)),
    )
    .await
    .is(404, NOT_FOUND);
}

#[tokio::test]
async fn layer_forwards_everything_else_untouched() {
    let s = setup();
    let seen = Arc::new(AtomicUsize::new(0));
    let seen2 = Arc::clone(&seen);
    let app = ServiceBuilder::new()
        .layer(s.server.layer())
        .service(service_fn(move |req: Request<Full<Bytes>>| {
            let seen = Arc::clone(&seen2);
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                let body = format!("{} {}", req.method(), req.uri());
                Ok::<_, std::convert::Infallible>(
                    Response::builder()
                        .status(299)
                        .header("x-inner", "1")
                        .body(Full::new(Bytes::from(body)))
                        .unwrap(),
                )
            }
        }));
    for (method, uri) in [
        ("GET", "/picking-lists"),
        ("POST", "/tokens"),
        ("POST", "/token/x"),
        ("POST", "/api/token"),
        ("GET", "/warehouse-tokensx?y=1"),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .body(Full::default())
            .unwrap();
        let a = call(app.clone(), req).await;
        assert_eq!(a.status.as_u16(), 299);
        assert_eq!(a.header("x-inner"), Some("1"));
        assert_eq!(a.text(), format!("{method} {uri}"));
    }
    assert_eq!(seen.load(Ordering::SeqCst), 5);
    // The endpoint's own answers through the layer.
    assert_success(
        &call(app.clone(), form("/token", &login_body(SONIA, PASSWORD))).await,
        200,
        false,
    );
    let a = call(
        app.clone(),
        Request::get("/token").body(Full::default()).unwrap(),
    )
    .await;
    assert_eq!(a.status, 405);
    assert_eq!(seen.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn warehouse_user_and_legacy_scopes() {
    let s = setup();
    let a = login(&s.server, "picker@spryker.com", PASSWORD).await;
    let (access, _) = assert_success(&a, 200, false);
    assert_eq!(
        claims_of(&access).scopes().iter().collect::<Vec<_>>(),
        ["user", "warehouse-user"]
    );
    let s = setup_with(|b| {
        b.compatibility(Compatibility {
            legacy_scopes: true,
            ..Compatibility::default()
        })
    });
    for u in [SONIA, "picker@spryker.com"] {
        let (access, _) = assert_success(&login(&s.server, u, PASSWORD).await, 200, false);
        assert_eq!(
            claims_of(&access).scopes().iter().collect::<Vec<_>>(),
            ["user"]
        );
    }
}

#[tokio::test]
async fn ttl_settings() {
    let s = setup_with(|b| {
        b.lifetimes(Lifetimes {
            user: Duration::from_secs(60),
            ..Lifetimes::default()
        })
    });
    let a = login(&s.server, SONIA, PASSWORD).await;
    assert_eq!(a.json()["expires_in"], 60);
    let c = claims_of(a.json()["access_token"].as_str().unwrap());
    assert_eq!(
        c.expires_at().as_micros() - c.issued_at().unwrap().as_micros(),
        60_000_000
    );
}

#[tokio::test]
async fn access_token_log_gets_a_row_per_token() {
    let log = Arc::new(glue_auth_token::MemoryAccessTokenLog::new(10));
    let s = setup_with(|b| b.access_token_log(Arc::clone(&log)));
    let (access, _) = assert_success(&login(&s.server, SONIA, PASSWORD).await, 200, false);
    let rows = log.records();
    assert_eq!(rows.len(), 1);
    let c = claims_of(&access);
    assert_eq!(rows[0].jti, c.jti());
    assert_eq!(rows[0].client_id, "frontend");
    assert_eq!(rows[0].expires_at, c.expires_at());
}

#[test]
fn config_is_checked_at_build_time() {
    use glue_auth_token::ConfigError;
    let dir = directory();
    let clock = clock();
    let err =
        |f: fn(glue_auth_token::TokenServerBuilder) -> glue_auth_token::TokenServerBuilder| {
            f(builder(&dir, &clock)).build().unwrap_err()
        };
    assert!(matches!(
        err(|b| b.token_path("token")),
        ConfigError::InvalidPath(_)
    ));
    assert!(matches!(
        err(|b| b.token_path("/token/")),
        ConfigError::InvalidPath(_)
    ));
    assert!(matches!(
        err(|b| b.warehouse_tokens_path("/token")),
        ConfigError::SamePath
    ));
    assert!(matches!(
        err(|b| b.clients(Vec::<String>::new())),
        ConfigError::NoClient
    ));
    assert!(matches!(
        err(|b| b.lifetimes(Lifetimes {
            user: Duration::ZERO,
            ..Lifetimes::default()
        })),
        ConfigError::ZeroDuration(_)
    ));
    assert!(matches!(
        err(|b| b.body_limit(0)),
        ConfigError::ZeroLimit(_)
    ));
    assert!(matches!(
        err(|b| b.hashing(HashingSettings {
            password_cost: 3,
            ..HashingSettings::default()
        })),
        ConfigError::InvalidCost(3)
    ));
}

#[test]
fn server_is_send_sync_static_and_debug_hides_secrets() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<TokenServer>();
    assert_traits::<glue_auth_token::TokenEndpointLayer>();
    let s = setup();
    let dbg = format!("{:?} {:?}", s.server, s.dir.user(SONIA).unwrap());
    assert!(!dbg.contains("$2y$"), "{dbg}");
    assert!(!dbg.contains("PRIVATE"), "{dbg}");
}

#[test]
fn default_password_cost_is_phps_10() {
    let dir = directory();
    let server = TokenServer::builder(key(), dir.clone(), dir)
        .build()
        .unwrap();
    // Spryker's hashes are cost 10: a dummy of bcrypt's DEFAULT_COST (12)
    // would make unknown users 4x slower than wrong passwords.
    assert_eq!(server.password_cost(), 10);
    assert_eq!(setup().server.password_cost(), 4);
}
