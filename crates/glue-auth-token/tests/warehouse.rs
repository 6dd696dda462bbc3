//! `POST /warehouse-tokens`: every row of SPEC §3 (and its §5 auth failures).

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use glue_auth_bearer::{BearerAuthLayer, Validator};
use glue_auth_core::{
    Claims, Clock, NumericDate, Principal, Rejection, Scopes, UnauthenticatedStatus, UserPrincipal,
    WarehousePrincipal,
};
use glue_auth_scope::{RouteTable, SprykerBackend};
use glue_auth_token::{Compatibility, MemoryDirectory, TokenServer};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tower::{ServiceBuilder, service_fn};

const UNAUTHORIZED_401: &str = r#"[{"status":401,"code":null,"message":"Unauthorized request."}]"#;
const UNAUTHORIZED_403: &str = r#"[{"status":403,"code":null,"message":"Unauthorized request."}]"#;
const INVALID_TOKEN: &str = r#"[{"status":401,"code":"001","message":"Invalid access token."}]"#;
const FORBIDDEN_5101: &str =
    r#"[{"status":403,"code":"5101","message":"Operation is forbidden."}]"#;

#[track_caller]
fn assert_warehouse_success(a: &Answer, id_warehouse: i64, now: NumericDate) {
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    assert_eq!(a.header("content-type"), Some("application/json"));
    assert_eq!(a.header("cache-control"), Some("no-store"));
    assert_eq!(a.header("pragma"), Some("no-cache"));
    let v = a.json();
    let access = v[0]["accessToken"].as_str().unwrap();
    let refresh = v[0]["refreshToken"].as_str().unwrap();
    assert_eq!(
        a.text(),
        format!(
            r#"[{{"tokenType":"Bearer","expiresIn":604800,"accessToken":"{access}","refreshToken":"{refresh}"}}]"#
        )
    );
    let (header, payload) = decode(access);
    assert_eq!(header, r#"{"typ":"JWT","alg":"RS256"}"#);
    let c = Claims::parse_unverified_payload(&payload).unwrap();
    assert_eq!(
        c.principal(),
        &Principal::Warehouse(WarehousePrincipal::new(id_warehouse))
    );
    assert!(payload.contains(&format!(r#""sub":"{{\"id_warehouse\":{id_warehouse}}}""#)));
    assert_eq!(c.scopes().iter().collect::<Vec<_>>(), ["warehouse"]);
    assert_eq!(c.issued_at(), Some(now));
    assert_eq!(
        c.expires_at(),
        now.saturating_add(Duration::from_secs(604_800))
    );
}

#[tokio::test]
async fn user_token_is_exchanged_for_a_warehouse_token() {
    let s = setup();
    let token = sonia_token(&s.server).await;
    let a = call(s.app(), bearer("/warehouse-tokens", &token)).await;
    assert_warehouse_success(&a, 1, NumericDate::from_micros(T0));
    // The warehouse token validates with the same keys.
    let wh = a.json()[0]["accessToken"].as_str().unwrap().to_owned();
    let (claims, _) = s.server.signer().current().key_set().verify(&wh).unwrap();
    assert!(claims.principal().is_warehouse());
    // Trailing slash: same route, same protection.
    let a = call(s.app(), bearer("/warehouse-tokens/", &token)).await;
    assert_warehouse_success(&a, 1, NumericDate::from_micros(T0));
    let a = call(
        s.app(),
        Request::post("/warehouse-tokens/")
            .body(Full::default())
            .unwrap(),
    )
    .await;
    a.is(401, UNAUTHORIZED_401);
}

#[tokio::test]
async fn body_is_ignored() {
    let s = setup();
    let token = sonia_token(&s.server).await;
    let req = Request::post("/warehouse-tokens")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            r#"{"data":{"type":"warehouse-tokens","id_warehouse":2}}"#,
        )))
        .unwrap();
    assert_warehouse_success(&call(s.app(), req).await, 1, NumericDate::from_micros(T0));
}

#[tokio::test]
async fn warehouse_user_and_legacy_user_tokens_may_mint() {
    let s = setup();
    let a = login(&s.server, "picker@spryker.com", PASSWORD).await;
    let token = a.json()["access_token"].as_str().unwrap().to_owned();
    let a = call(s.app(), bearer("/warehouse-tokens", &token)).await;
    assert_warehouse_success(&a, 2, NumericDate::from_micros(T0));

    let legacy = setup_with(|b| {
        b.compatibility(Compatibility {
            legacy_scopes: true,
            ..Compatibility::default()
        })
    });
    let token = sonia_token(&legacy.server).await;
    let a = call(legacy.app(), bearer("/warehouse-tokens", &token)).await;
    assert_warehouse_success(&a, 1, NumericDate::from_micros(T0));
}

fn sonia_claims(scopes: &[&str]) -> Claims {
    Claims::builder(
        Principal::User(UserPrincipal::new(4, SONIA_UUID, None::<String>)),
        Scopes::from_iter(scopes),
    )
    .jti("x")
    .audience("frontend")
    .issued_at(NumericDate::from_micros(T0), Duration::from_secs(28800))
    .build()
}

#[tokio::test]
async fn scope_rule() {
    let s = setup();
    let sign = |scopes: &[&str]| s.server.signer().sign(&sonia_claims(scopes)).unwrap();
    for ok in [
        &["user", "back-office-user"][..],
        &["back-office-user"][..],
        &["user", "warehouse-user"][..],
        &["warehouse-user", "extra"][..],
        &["user"][..],
    ] {
        let a = call(s.app(), bearer("/warehouse-tokens", &sign(ok))).await;
        assert_eq!(a.status, 201, "{ok:?}: {}", a.text());
    }
    for refused in [
        &["user", "user"][..],
        &["user", "other"][..],
        &[][..],
        &["warehouse"][..],
    ] {
        let a = call(s.app(), bearer("/warehouse-tokens", &sign(refused))).await;
        a.is(403, UNAUTHORIZED_403);
        assert_eq!(a.header("www-authenticate"), None);
    }
}

#[tokio::test]
async fn a_warehouse_token_cannot_mint() {
    let s = setup();
    let user = sonia_token(&s.server).await;
    let a = call(s.app(), bearer("/warehouse-tokens", &user)).await;
    let wh = a.json()[0]["accessToken"].as_str().unwrap().to_owned();
    call(s.app(), bearer("/warehouse-tokens", &wh))
        .await
        .is(403, UNAUTHORIZED_403);
}

#[tokio::test]
async fn no_active_assignment_is_403_5101() {
    let s = setup();
    let a = login(&s.server, "lonely@spryker.com", PASSWORD).await;
    let token = a.json()["access_token"].as_str().unwrap().to_owned();
    call(s.app(), bearer("/warehouse-tokens", &token))
        .await
        .is(403, FORBIDDEN_5101);
    // An inactive assignment does not count either.
    let token = sonia_token(&s.server).await;
    s.dir.assign(SONIA_UUID, 1, false);
    call(s.app(), bearer("/warehouse-tokens", &token))
        .await
        .is(403, FORBIDDEN_5101);
    // Switching the active assignment switches the warehouse.
    s.dir.assign(SONIA_UUID, 2, true);
    let a = call(s.app(), bearer("/warehouse-tokens", &token)).await;
    assert_warehouse_success(&a, 2, NumericDate::from_micros(T0));
}

#[tokio::test]
async fn no_token_is_unauthorized_request_401_or_403() {
    let s = setup();
    let req = || {
        Request::post("/warehouse-tokens")
            .body(Full::default())
            .unwrap()
    };
    let a = call(s.app(), req()).await;
    a.is(401, UNAUTHORIZED_401);
    assert_eq!(a.header("www-authenticate"), Some("Bearer"));
    // Older releases: the scope layer's table says 403 (the endpoint's own
    // setting answers only where no scope layer runs).
    let table = SprykerBackend::new()
        .unauthenticated_status(UnauthenticatedStatus::Forbidden)
        .build()
        .unwrap();
    let a = call(app_with(&s.server, &s.clock, table), req()).await;
    a.is(403, UNAUTHORIZED_403);
    let old = setup_with(|b| {
        b.compatibility(Compatibility {
            unauthenticated_status: UnauthenticatedStatus::Forbidden,
            ..Compatibility::default()
        })
    });
    let public = RouteTable::builder().build().unwrap();
    let a = call(app_with(&old.server, &old.clock, public), req()).await;
    a.is(403, UNAUTHORIZED_403);
}

#[tokio::test]
async fn bad_tokens_are_401_001_with_www_authenticate() {
    let s = setup();
    let token = sonia_token(&s.server).await;
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    for bad in [
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.e30.".to_owned(),
        "not-a-jwt".to_owned(),
        tampered,
    ] {
        let a = call(s.app(), bearer("/warehouse-tokens", &bad)).await;
        a.is(401, INVALID_TOKEN);
        assert_eq!(
            a.header("www-authenticate"),
            Some(r#"Bearer error="invalid_token""#)
        );
        assert!(a.extensions.get::<glue_auth_core::Rejection>().is_some());
    }
    // Expired: the server's clock decides, with zero leeway.
    s.clock.advance(Duration::from_secs(28_800));
    call(s.app(), bearer("/warehouse-tokens", &token))
        .await
        .is(401, INVALID_TOKEN);
    // "Bearer" alone: 002 Missing access token.
    let req = Request::post("/warehouse-tokens")
        .header("authorization", "Bearer")
        .body(Full::default())
        .unwrap();
    call(s.app(), req).await.is(
        401,
        r#"[{"status":401,"code":"002","message":"Missing access token."}]"#,
    );
}

#[tokio::test]
async fn claims_in_extensions_are_used() {
    let s = setup();
    // What the bearer layer leaves behind when it ran first.
    let mut req = Request::post("/warehouse-tokens")
        .body(Full::default())
        .unwrap();
    req.extensions_mut()
        .insert(sonia_claims(&["user", "back-office-user"]));
    let a = call(s.app(), req).await;
    assert_warehouse_success(&a, 1, NumericDate::from_micros(T0));
}

#[tokio::test]
async fn without_a_bearer_layer_in_front_the_endpoint_is_loud() {
    let s = setup();
    let validator = Validator::builder(s.server.signer().current().key_set())
        .clock(s.clock.clone())
        .build()
        .unwrap();
    let inner = service_fn(|_req: Request<Full<Bytes>>| async {
        Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from_static(b"inner"))))
    });
    let token = sonia_token(&s.server).await;

    // The documented order works without a scope layer too: the endpoint
    // needs a user principal, and reads it from the bearer layer's claims.
    let bearer_first = ServiceBuilder::new()
        .layer(BearerAuthLayer::new(validator.clone()))
        .layer(s.server.layer())
        .service(inner);
    let a = call(bearer_first.clone(), bearer("/warehouse-tokens", &token)).await;
    assert_warehouse_success(&a, 1, NumericDate::from_micros(T0));
    let a = call(bearer_first.clone(), bearer("/warehouse-tokens", "garbage")).await;
    a.is(401, INVALID_TOKEN);
    let a = call(
        bearer_first,
        Request::post("/warehouse-tokens")
            .body(Full::default())
            .unwrap(),
    )
    .await;
    a.is(401, UNAUTHORIZED_401);

    // The token layer outside the bearer layer never validates a token by
    // itself: it answers 500 naming the missing layer, every time.
    let token_first = ServiceBuilder::new()
        .layer(s.server.layer())
        .layer(BearerAuthLayer::new(validator))
        .service(inner);
    for req in [
        bearer("/warehouse-tokens", &token),
        bearer("/warehouse-tokens", "garbage"),
    ] {
        let a = call(token_first.clone(), req).await;
        a.is(
            500,
            r#"[{"status":500,"code":null,"message":"Server misconfiguration: an authentication layer is missing."}]"#,
        );
        assert_eq!(
            a.extensions.get::<Rejection>(),
            Some(&Rejection::MissingLayer {
                layer: "BearerAuthLayer"
            })
        );
    }
    // Other routes are not affected.
    let a = call(token_first, login_request(SONIA, PASSWORD)).await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn method_content_type_and_size() {
    let s = setup();
    let token = sonia_token(&s.server).await;
    let mut get = bearer("/warehouse-tokens", &token);
    *get.method_mut() = http::Method::GET;
    let a = call(s.app(), get).await;
    assert_eq!(a.status, 405);
    assert_eq!(a.header("allow"), Some("POST"));
    let mut req = bearer("/warehouse-tokens", &token);
    req.headers_mut()
        .insert("content-type", "application/vnd.api+json".parse().unwrap());
    call(s.app(), req).await.is(404, NOT_FOUND);
    let req = Request::post("/warehouse-tokens")
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::from(vec![b'x'; 16 * 1024 + 1])))
        .unwrap();
    assert_eq!(call(s.app(), req).await.status, 413);
}

#[tokio::test]
async fn assignment_store_down_is_503() {
    let dir = directory();
    let clock = clock();
    let server = TokenServer::builder(key(), dir, DownStore)
        .clock(clock.clone())
        .hashing(cost4())
        .build()
        .unwrap();
    let token = sonia_token(&server).await;
    let a = call(
        app_for(&server, &clock),
        bearer("/warehouse-tokens", &token),
    )
    .await;
    a.is(
        503,
        r#"[{"status":503,"code":null,"message":"Service temporarily unavailable."}]"#,
    );
    assert_eq!(a.header("retry-after"), Some("5"));
}

/// Issue 16 ("revocation does not hold"): a user token stops exchanging once
/// its user is blocked, deleted or gets a new password, though it still
/// validates (its signature and dates are fine); the answer is Glue's
/// invalid-token 401 `001`.
#[tokio::test]
async fn blocked_deleted_and_password_changed_users_tokens_no_longer_exchange() {
    use glue_auth_token::store::UserStatus;
    for status in [UserStatus::Blocked, UserStatus::Deleted] {
        let s = setup();
        let token = sonia_token(&s.server).await;
        assert!(s.dir.set_status(SONIA, status));
        let a = call(s.app(), bearer("/warehouse-tokens", &token)).await;
        a.is(401, INVALID_TOKEN);
        assert_eq!(
            a.extensions.get::<Rejection>(),
            Some(&Rejection::InvalidToken {
                reason: glue_auth_core::InvalidReason::Revoked
            }),
            "{status:?}"
        );
        // Active again: the token speaks for the user again (the memory
        // directory records no date for a status change).
        assert!(s.dir.set_status(SONIA, UserStatus::Active));
        assert_eq!(
            call(s.app(), bearer("/warehouse-tokens", &token))
                .await
                .status,
            201
        );
    }

    // A user row that is gone.
    let s = setup();
    let token = sonia_token(&s.server).await;
    let fresh = MemoryDirectory::new();
    assert!(fresh.user(SONIA).is_none());
    // The same fixture key signs for every setup.
    let server = builder(&fresh, &s.clock).build().unwrap();
    call(
        app_for(&server, &s.clock),
        bearer("/warehouse-tokens", &token),
    )
    .await
    .is(401, INVALID_TOKEN);

    // A new password: tokens issued before it are refused, a login with the
    // new password exchanges.
    let s = setup();
    let old = sonia_token(&s.server).await;
    s.clock.advance(Duration::from_secs(10));
    assert!(
        s.dir
            .set_password_hash(SONIA, hash4("a-new-password-1"), s.clock.now())
    );
    call(s.app(), bearer("/warehouse-tokens", &old))
        .await
        .is(401, INVALID_TOKEN);
    let a = login(&s.server, SONIA, "a-new-password-1").await;
    let new = a.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        call(s.app(), bearer("/warehouse-tokens", &new))
            .await
            .status,
        201
    );
}
