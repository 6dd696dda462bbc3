//! Every row of SPEC §5.1 and the adversarial cases: each gets its documented
//! answer (status, code, message, envelope, challenge), none panics.

mod common;

use std::time::Duration;

use common::*;
use glue_auth_bearer::{BearerAuthLayer, ConfigError, KeySet, TokenError, Validator};
use glue_auth_core::{
    Claims, GrpcRejection, InvalidReason, ManualClock, NumericDate, Principal, Rejection,
    Rfc6750Rejection,
};
use http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey};
use tower::{Service, ServiceExt, service_fn};

const PLAIN_001: &str = r#"[{"status":401,"code":"001","message":"Invalid access token."}]"#;
const PLAIN_400_001: &str = r#"[{"status":400,"code":"001","message":"Invalid access token."}]"#;
const PLAIN_002: &str = r#"[{"status":401,"code":"002","message":"Missing access token."}]"#;

fn clock() -> ManualClock {
    ManualClock::new(NumericDate::from_micros(NOW))
}

fn validator(clock: &ManualClock) -> Validator {
    Validator::builder(test_keys())
        .clock(clock.clone())
        .build()
        .unwrap()
}

struct Answer {
    status: StatusCode,
    content_type: Option<String>,
    www: Option<String>,
    body: String,
    reached_inner: bool,
    principal: Option<Principal>,
    rejection: Option<Rejection>,
}

async fn send(v: &Validator, req: Request<String>) -> Answer {
    let svc =
        BearerAuthLayer::new(v.clone()).layer_fn(service_fn(|req: Request<String>| async move {
            let mut res = Response::new("inner".to_owned());
            if let Some(p) = req.extensions().get::<Principal>() {
                res.extensions_mut().insert(p.clone());
            }
            Ok::<_, std::convert::Infallible>(res)
        }));
    let res = svc.oneshot(req).await.unwrap();
    let status = res.status();
    let content_type = res
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let www = res
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let principal = res.extensions().get::<Principal>().cloned();
    let rejection = res.extensions().get::<Rejection>().cloned();
    let body =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    Answer {
        status,
        content_type,
        www,
        reached_inner: body == "inner",
        body,
        principal,
        rejection,
    }
}

trait LayerFn {
    fn layer_fn<S>(&self, s: S) -> glue_auth_bearer::BearerAuth<S>;
}
impl LayerFn for BearerAuthLayer {
    fn layer_fn<S>(&self, s: S) -> glue_auth_bearer::BearerAuth<S> {
        tower::Layer::layer(self, s)
    }
}

fn get(auth: Option<&str>) -> Request<String> {
    let mut b = Request::get("/picking-lists");
    if let Some(a) = auth {
        b = b.header(AUTHORIZATION, a);
    }
    b.body(String::new()).unwrap()
}

async fn answer(token: &str) -> Answer {
    send(&validator(&clock()), get(Some(&format!("Bearer {token}")))).await
}

fn assert_invalid(a: &Answer, what: &str) {
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{what}");
    assert_eq!(a.body, PLAIN_001, "{what}");
    assert_eq!(
        a.content_type.as_deref(),
        Some("application/json"),
        "{what}"
    );
    assert_eq!(
        a.www.as_deref(),
        Some(r#"Bearer error="invalid_token""#),
        "{what}"
    );
    assert!(!a.reached_inner, "{what}");
}

fn reason(a: &Answer) -> InvalidReason {
    match &a.rejection {
        Some(Rejection::InvalidToken { reason }) => *reason,
        other => panic!("not an invalid-token rejection: {other:?}"),
    }
}

// --- SPEC §5.1 rows -------------------------------------------------------

#[tokio::test]
async fn spryker_format_token_is_accepted_and_principal_reaches_the_route() {
    let a = answer(&user_token()).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.reached_inner);
    let p = a.principal.unwrap();
    let u = p.as_user().unwrap();
    assert_eq!(
        (u.id_user(), u.uuid(), u.user_reference()),
        (4, SONIA_UUID, None)
    );
}

#[tokio::test]
async fn claims_in_extensions_carry_scopes_jti_aud_exp() {
    let v = validator(&clock());
    let claims = v.validate(&user_token()).unwrap();
    assert_eq!(
        claims.scopes().iter().collect::<Vec<_>>(),
        ["user", "back-office-user"]
    );
    assert_eq!(claims.jti(), JTI);
    assert_eq!(claims.audience().collect::<Vec<_>>(), ["frontend"]);
    assert_eq!(claims.expires_at().as_micros(), 1_764_028_800_123_456);
}

#[tokio::test]
async fn no_authorization_header_passes_without_principal() {
    let a = send(&validator(&clock()), get(None)).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.reached_inner && a.principal.is_none());
}

#[tokio::test]
async fn fewer_than_two_parts_is_missing_access_token() {
    for value in ["fake_token", "Bearer", "", "   ", "bearer\t"] {
        let a = send(&validator(&clock()), get(Some(value))).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{value:?}");
        assert_eq!(a.body, PLAIN_002, "{value:?}");
        assert!(!a.reached_inner);
    }
}

#[tokio::test]
async fn missing_access_token_status_is_a_setting() {
    let v = Validator::builder(test_keys())
        .missing_token_status(glue_auth_core::UnauthenticatedStatus::Forbidden)
        .build()
        .unwrap();
    let a = send(&v, get(Some("fake_token"))).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(
        a.body,
        r#"[{"status":403,"code":"002","message":"Missing access token."}]"#
    );
    assert_eq!(a.www, None);
}

#[tokio::test]
async fn json_api_envelope_follows_the_request() {
    let v = validator(&clock());
    let req = Request::get("/picking-lists")
        .header(AUTHORIZATION, "Bearer x.y.z")
        .header("accept", "application/vnd.api+json")
        .body(String::new())
        .unwrap();
    let a = send(&v, req).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.content_type.as_deref(), Some("application/vnd.api+json"));
    assert_eq!(
        a.body,
        r#"{"errors":[{"status":401,"code":"001","message":"Invalid access token."}]}"#
    );

    let req = Request::patch("/picking-lists/1/picking-list-items")
        .header(AUTHORIZATION, "Bearer")
        .header(CONTENT_TYPE, "application/vnd.api+json")
        .body(String::new())
        .unwrap();
    let a = send(&v, req).await;
    assert_eq!(
        a.body,
        r#"{"errors":[{"status":401,"code":"002","message":"Missing access token."}]}"#
    );

    // Accept only counts for GET.
    let req = Request::post("/picking-lists/1/start-picking")
        .header(AUTHORIZATION, "Bearer x.y.z")
        .header("accept", "application/vnd.api+json")
        .body(String::new())
        .unwrap();
    assert_eq!(send(&v, req).await.body, PLAIN_001);
}

#[tokio::test]
async fn valid_signature_without_user_or_warehouse_is_400() {
    let token = sign(&payload(
        "1764000000",
        "1764000000",
        "4102444800",
        r#"{"customer_reference":"DE--1","id_customer":1}"#,
        r#"["customer"]"#,
    ));
    let a = answer(&token).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.body, PLAIN_400_001);
    assert_eq!(a.www, None);
    assert_eq!(a.rejection, Some(Rejection::UnsupportedSubject));
}

// --- algorithms, keys, signatures ------------------------------------------

fn spryker_payload() -> String {
    payload(
        "1764000000",
        "1764000000",
        "4102444800",
        USER_SUB,
        r#"["user"]"#,
    )
}

/// RFC 7515 §4.1.11: a recipient must refuse a `crit` parameter it does not
/// implement; we implement none (jsonwebtoken 12 refuses every one but
/// `b64`, which we never accept either).
#[tokio::test]
async fn crit_header_parameters_are_refused() {
    for header in [
        r#"{"typ":"JWT","alg":"RS256","crit":["exp"],"exp":1}"#,
        r#"{"typ":"JWT","alg":"RS256","crit":["urn:example:unknown"],"urn:example:unknown":true}"#,
        r#"{"typ":"JWT","alg":"RS256","crit":[]}"#,
        r#"{"typ":"JWT","alg":"RS256","crit":["b64"],"b64":false}"#,
    ] {
        let token = sign_with(
            header,
            &spryker_payload(),
            &test_signing_key(),
            Algorithm::RS256,
        );
        let a = answer(&token).await;
        assert_invalid(&a, header);
        assert_eq!(reason(&a), InvalidReason::Malformed, "{header}");
    }
    // The same token without `crit` passes: the signature is not the reason.
    let plain = sign_with(
        r#"{"typ":"JWT","alg":"RS256"}"#,
        &spryker_payload(),
        &test_signing_key(),
        Algorithm::RS256,
    );
    assert_eq!(answer(&plain).await.status, StatusCode::OK);
}

#[tokio::test]
async fn alg_none_is_refused() {
    for header in [
        r#"{"typ":"JWT","alg":"none"}"#,
        r#"{"alg":"None"}"#,
        r#"{"alg":"NONE"}"#,
    ] {
        let token = format!(
            "{}.{}.",
            b64(header.as_bytes()),
            b64(spryker_payload().as_bytes())
        );
        let a = answer(&token).await;
        assert_invalid(&a, header);
    }
}

#[tokio::test]
async fn hs256_keyed_with_the_public_key_is_refused() {
    let key = EncodingKey::from_secret(&test_public_pem()).unwrap();
    let token = sign_with(
        r#"{"typ":"JWT","alg":"HS256"}"#,
        &spryker_payload(),
        &key,
        Algorithm::HS256,
    );
    let a = answer(&token).await;
    assert_invalid(&a, "hs256");
    assert_eq!(reason(&a), InvalidReason::Algorithm);
}

#[tokio::test]
async fn rs384_and_ps256_are_refused() {
    for (alg, name) in [(Algorithm::RS384, "RS384"), (Algorithm::PS256, "PS256")] {
        let header = format!(r#"{{"typ":"JWT","alg":"{name}"}}"#);
        let token = sign_with(&header, &spryker_payload(), &test_signing_key(), alg);
        let a = answer(&token).await;
        assert_invalid(&a, name);
        assert_eq!(reason(&a), InvalidReason::Algorithm);
    }
}

#[tokio::test]
async fn rs256_header_with_rs384_signature_is_refused() {
    let msg = format!(
        "{}.{}",
        b64(br#"{"typ":"JWT","alg":"RS256"}"#),
        b64(spryker_payload().as_bytes())
    );
    let sig =
        jsonwebtoken::crypto::sign(msg.as_bytes(), &test_signing_key(), Algorithm::RS384).unwrap();
    let a = answer(&format!("{msg}.{sig}")).await;
    assert_invalid(&a, "rs384 signature");
    assert_eq!(reason(&a), InvalidReason::Signature);
}

#[tokio::test]
async fn a_token_from_another_key_is_refused() {
    let (other_pem, _) = generate_key(aws_lc_rs::rsa::KeySize::Rsa2048);
    let key = EncodingKey::from_rsa_pem(&other_pem).unwrap();
    let token = sign_with(
        r#"{"typ":"JWT","alg":"RS256"}"#,
        &spryker_payload(),
        &key,
        Algorithm::RS256,
    );
    let a = answer(&token).await;
    assert_invalid(&a, "other key");
    assert_eq!(reason(&a), InvalidReason::Signature);
}

#[tokio::test]
async fn a_changed_payload_is_refused() {
    let token = user_token();
    let parts: Vec<&str> = token.split('.').collect();
    let forged = payload(
        "1764000000.123456",
        "1764000000.123456",
        "1764028800.123456",
        r#"{"user_reference":null,"id_user":1,"uuid":"0d743cc3-a772-5145-971e-d4018ee7a489"}"#,
        r#"["user","back-office-user"]"#,
    );
    let a = answer(&format!(
        "{}.{}.{}",
        parts[0],
        b64(forged.as_bytes()),
        parts[2]
    ))
    .await;
    assert_invalid(&a, "changed payload");
    assert_eq!(reason(&a), InvalidReason::Signature);
}

#[tokio::test]
async fn truncated_and_mangled_tokens_are_refused() {
    let token = user_token();
    let cases = [
        token[..token.len() - 10].to_owned(),
        token[..token.rfind('.').unwrap()].to_owned(),
        format!("{token}."),
        format!("{token}A"),
        token.replacen('.', "..", 1),
        token.replace('.', ""),
        "a.b.c".to_owned(),
        "...".to_owned(),
        "e30.e30.e30".to_owned(),
        format!("{}.!!!.{}", &token[..token.find('.').unwrap()], "x"),
    ];
    for t in &cases {
        assert_invalid(&answer(t).await, t);
    }
}

#[tokio::test]
async fn oversized_tokens_are_refused_before_decoding() {
    let pad = "A".repeat(9000);
    let a = answer(&format!("{}{pad}", user_token())).await;
    assert_invalid(&a, "oversized");
    assert_eq!(reason(&a), InvalidReason::Oversized);
    // Exactly at the default limit (8 KiB) the token is decoded, and refused
    // for what it is (here: its signature no longer matches); one byte more
    // is refused unread.
    let v = validator(&clock());
    let token = user_token();
    let at_limit = format!("{token}{}", "A".repeat(8192 - token.len()));
    assert_eq!(at_limit.len(), 8192);
    assert_ne!(
        v.validate(&at_limit).unwrap_err(),
        TokenError::Invalid(InvalidReason::Oversized)
    );
    let over = format!("{at_limit}A");
    assert_eq!(
        v.validate(&over).unwrap_err(),
        TokenError::Invalid(InvalidReason::Oversized)
    );
    // A smaller configured limit applies to valid tokens too.
    let v = Validator::builder(test_keys())
        .max_token_len(64)
        .build()
        .unwrap();
    assert_eq!(
        v.validate(&user_token()).unwrap_err(),
        TokenError::Invalid(InvalidReason::Oversized)
    );
}

// --- dates: 1 µs and 1 s either side, float and integer --------------------

fn dated(iat: i64, nbf: i64, exp: i64) -> String {
    sign(&payload(
        &secs(iat),
        &secs(nbf),
        &secs(exp),
        USER_SUB,
        r#"["user"]"#,
    ))
}

#[tokio::test]
async fn expiry_nbf_and_iat_are_exact_to_the_microsecond() {
    const US: i64 = 1;
    const S: i64 = 1_000_000;
    let valid_until = NOW + 3600 * S;
    let cases: &[(&str, i64, i64, i64, Option<InvalidReason>)] = &[
        ("exp 1 µs ahead", NOW, NOW, NOW + US, None),
        ("exp now", NOW, NOW, NOW, Some(InvalidReason::Expired)),
        (
            "exp 1 µs ago",
            NOW - S,
            NOW - S,
            NOW - US,
            Some(InvalidReason::Expired),
        ),
        (
            "exp 1 s ago",
            NOW - 2 * S,
            NOW - 2 * S,
            NOW - S,
            Some(InvalidReason::Expired),
        ),
        ("nbf now", NOW, NOW, valid_until, None),
        (
            "nbf 1 µs ahead",
            NOW,
            NOW + US,
            valid_until,
            Some(InvalidReason::NotYetValid),
        ),
        (
            "nbf 1 s ahead",
            NOW,
            NOW + S,
            valid_until,
            Some(InvalidReason::NotYetValid),
        ),
        (
            "iat 1 µs ahead",
            NOW + US,
            NOW,
            valid_until,
            Some(InvalidReason::IssuedInFuture),
        ),
        (
            "iat 1 s ahead",
            NOW + S,
            NOW,
            valid_until,
            Some(InvalidReason::IssuedInFuture),
        ),
    ];
    for &(name, iat, nbf, exp, want) in cases {
        let a = answer(&dated(iat, nbf, exp)).await;
        match want {
            None => assert_eq!(a.status, StatusCode::OK, "{name}"),
            Some(r) => {
                assert_invalid(&a, name);
                assert_eq!(reason(&a), r, "{name}");
            }
        }
    }
}

#[tokio::test]
async fn float_expiry_is_not_rounded_to_seconds() {
    // exp 1699376634.44 is expired at 1699376634.5 (SPEC §5.1 via issue text).
    let token = sign(&payload(
        "1699376000",
        "1699376000",
        "1699376634.44",
        USER_SUB,
        r#"["user"]"#,
    ));
    let c = ManualClock::new(NumericDate::from_micros(1_699_376_634_500_000));
    let v = Validator::builder(test_keys())
        .clock(c.clone())
        .build()
        .unwrap();
    assert_eq!(
        v.validate(&token).unwrap_err(),
        TokenError::Invalid(InvalidReason::Expired)
    );
    c.set(NumericDate::from_micros(1_699_376_634_439_999));
    assert!(v.validate(&token).is_ok());
}

#[tokio::test]
async fn leeway_is_a_setting() {
    let token = dated(NOW - 10_000_000, NOW - 10_000_000, NOW - 1_000_000);
    let v = Validator::builder(test_keys())
        .clock(clock())
        .leeway(Duration::from_secs(2))
        .build()
        .unwrap();
    assert!(v.validate(&token).is_ok());
}

#[tokio::test]
async fn missing_exp_is_refused() {
    let p = format!(
        r#"{{"aud":"frontend","jti":"{JTI}","iat":1764000000,"sub":{},"scopes":["user"]}}"#,
        serde_json::to_string(USER_SUB).unwrap()
    );
    let a = answer(&sign(&p)).await;
    assert_invalid(&a, "no exp");
    assert_eq!(reason(&a), InvalidReason::Claims);
}

// --- payload format ---------------------------------------------------------

#[tokio::test]
async fn sub_that_is_not_a_json_object_is_refused() {
    for sub in [
        "4",
        "sonia@spryker.com",
        "{",
        r#"["id_user",4]"#,
        r#"{"id_user":"4","uuid":"x"}"#,
    ] {
        let a = answer(&sign(&payload(
            "1764000000",
            "1764000000",
            "4102444800",
            sub,
            "[]",
        )))
        .await;
        assert_invalid(&a, sub);
        assert_eq!(reason(&a), InvalidReason::Claims, "{sub}");
    }
    // sub as a JSON object (not a string) is not Spryker's format either.
    let p = format!(r#"{{"exp":4102444800,"sub":{USER_SUB},"scopes":[]}}"#);
    assert_invalid(&answer(&sign(&p)).await, "object sub");
}

#[tokio::test]
async fn audience_allowlist_is_a_setting() {
    let v = Validator::builder(test_keys())
        .clock(clock())
        .audiences(["backoffice"])
        .build()
        .unwrap();
    assert_eq!(
        v.validate(&user_token()).unwrap_err(),
        TokenError::Invalid(InvalidReason::Audience)
    );
    let v = Validator::builder(test_keys())
        .clock(clock())
        .audiences(["x", "frontend"])
        .build()
        .unwrap();
    assert!(v.validate(&user_token()).is_ok());
}

// --- the Authorization header itself ---------------------------------------

#[tokio::test]
async fn duplicate_authorization_headers_are_refused() {
    let token = user_token();
    let mut req = get(Some(&format!("Bearer {token}")));
    req.headers_mut().append(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    let a = send(&validator(&clock()), req).await;
    assert_invalid(&a, "duplicate");
    assert_eq!(reason(&a), InvalidReason::MultipleHeaders);
}

#[tokio::test]
async fn non_ascii_header_bytes_are_refused() {
    let mut req = get(None);
    req.headers_mut().insert(
        AUTHORIZATION,
        HeaderValue::from_bytes(b"Bearer \xff\xfe.\xc3\xa9.x").unwrap(),
    );
    let a = send(&validator(&clock()), req).await;
    assert_invalid(&a, "non-ascii");
    assert_eq!(reason(&a), InvalidReason::NotAscii);
    // Non-ASCII in the scheme with a single part is still "missing".
    let mut req = get(None);
    req.headers_mut()
        .insert(AUTHORIZATION, HeaderValue::from_bytes(b"\xff\xfe").unwrap());
    assert_eq!(send(&validator(&clock()), req).await.body, PLAIN_002);
}

#[tokio::test]
async fn bearer_scheme_is_case_insensitive() {
    for scheme in ["bearer", "BEARER", "BeArEr"] {
        let a = send(
            &validator(&clock()),
            get(Some(&format!("{scheme} {}", user_token()))),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{scheme}");
    }
    let a = send(
        &validator(&clock()),
        get(Some(&format!("Bearer \t {}", user_token()))),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "extra whitespace");
}

#[tokio::test]
async fn other_schemes_and_extra_parts_are_invalid() {
    for value in [
        format!("Basic {}", user_token()),
        format!("Bearer {} extra", user_token()),
        "Basic dXNlcjpwYXNz".to_owned(),
    ] {
        let a = send(&validator(&clock()), get(Some(&value))).await;
        assert_invalid(&a, &value);
        assert_eq!(reason(&a), InvalidReason::Scheme);
    }
}

#[tokio::test]
async fn token_in_query_string_is_never_read() {
    let req = Request::get(format!("/picking-lists?access_token={}", user_token()))
        .body(String::new())
        .unwrap();
    let a = send(&validator(&clock()), req).await;
    assert!(a.reached_inner && a.principal.is_none());
}

// --- responders ---------------------------------------------------------------

#[tokio::test]
async fn grpc_and_rfc_responders() {
    let grpc = tower::Layer::layer(
        &BearerAuthLayer::new(validator(&clock())).responder(GrpcRejection),
        service_fn(|_: Request<String>| async {
            Ok::<_, std::convert::Infallible>(Response::new(String::new()))
        }),
    );
    let res = grpc.oneshot(get(Some("Bearer x.y.z"))).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["grpc-status"], "16");
    assert_eq!(res.headers()[CONTENT_TYPE], "application/grpc");

    let rfc = tower::Layer::layer(
        &BearerAuthLayer::new(validator(&clock())).responder(Rfc6750Rejection::new()),
        service_fn(|_: Request<String>| async {
            Ok::<_, std::convert::Infallible>(Response::new(String::new()))
        }),
    );
    let res = rfc
        .clone()
        .oneshot(get(Some("Bearer x.y.z")))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers()[WWW_AUTHENTICATE],
        r#"Bearer error="invalid_token""#
    );
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        &body[..],
        br#"{"error":"invalid_token","error_description":"The access token is invalid."}"#
    );
    let res = rfc.oneshot(get(Some("Bearer"))).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn closure_responder() {
    let layer = BearerAuthLayer::new(validator(&clock())).responder(
        |r: &Rejection, _: &glue_auth_core::RequestHead<'_>| {
            Response::builder()
                .status(418)
                .body(bytes::Bytes::from(format!("{r:?}")))
                .unwrap()
        },
    );
    let svc = tower::Layer::layer(
        &layer,
        service_fn(|_: Request<String>| async {
            Ok::<_, std::convert::Infallible>(Response::new(String::new()))
        }),
    );
    let res = svc.oneshot(get(Some("Bearer x"))).await.unwrap();
    assert_eq!(res.status(), 418);
}

// --- cache --------------------------------------------------------------------

#[tokio::test]
async fn cache_hits_are_counted() {
    let v = validator(&clock());
    let token = user_token();
    for _ in 0..5 {
        v.validate(&token).unwrap();
    }
    let stats = v.cache_stats();
    assert_eq!((stats.hits, stats.misses), (4, 1));
}

#[tokio::test]
async fn a_cached_token_never_outlives_its_expiry() {
    let c = clock();
    let v = validator(&c);
    let token = dated(NOW, NOW, NOW + 2_000_000);
    v.validate(&token).unwrap();
    v.validate(&token).unwrap();
    assert_eq!(v.cache_stats().hits, 1);
    c.advance(Duration::from_micros(1_999_999));
    v.validate(&token).unwrap();
    c.advance(Duration::from_micros(1));
    assert_eq!(
        v.validate(&token).unwrap_err(),
        TokenError::Invalid(InvalidReason::Expired)
    );
    // Still expired on the next call (evicted, then re-checked in full).
    assert_eq!(
        v.validate(&token).unwrap_err(),
        TokenError::Invalid(InvalidReason::Expired)
    );
}

#[tokio::test]
async fn a_key_change_drops_cached_tokens() {
    let keys = test_keys();
    let v = Validator::builder(keys.clone())
        .clock(clock())
        .build()
        .unwrap();
    let token = user_token();
    v.validate(&token).unwrap();
    v.validate(&token).unwrap();
    let (_, other) = generate_key(aws_lc_rs::rsa::KeySize::Rsa2048);
    keys.replace([other]).unwrap();
    assert_eq!(
        v.validate(&token).unwrap_err(),
        TokenError::Invalid(InvalidReason::Signature)
    );
}

#[tokio::test]
async fn key_rotation_accepts_old_and_new_keys_and_selects_by_kid() {
    let (new_pem, new_public) = generate_key(aws_lc_rs::rsa::KeySize::Rsa2048);
    let old = glue_auth_bearer::PublicKey::from_pem(&test_public_pem())
        .unwrap()
        .with_kid("old")
        // Old tokens carry no kid: the old key is marked for them (a set
        // of several keys never tries each key in turn).
        .kidless_default();
    let keys = KeySet::new([new_public.with_kid("new"), old]).unwrap();
    let v = Validator::builder(keys)
        .clock(clock())
        .no_cache()
        .build()
        .unwrap();
    // Old token without kid: the key marked for kid-less tokens.
    assert!(v.validate(&user_token()).is_ok());
    // New token with kid.
    let new_key = EncodingKey::from_rsa_pem(&new_pem).unwrap();
    let t = sign_with(
        r#"{"typ":"JWT","alg":"RS256","kid":"new"}"#,
        &spryker_payload(),
        &new_key,
        Algorithm::RS256,
    );
    assert!(v.validate(&t).is_ok());
    // New key's signature under the old kid: the named key decides.
    let t = sign_with(
        r#"{"typ":"JWT","alg":"RS256","kid":"old"}"#,
        &spryker_payload(),
        &new_key,
        Algorithm::RS256,
    );
    assert_eq!(
        v.validate(&t).unwrap_err(),
        TokenError::Invalid(InvalidReason::Signature)
    );
}

#[tokio::test]
async fn concurrent_validation_of_one_token_agrees() {
    let v = validator(&clock());
    let token = user_token();
    let forged = format!("{}x", &token[..token.len() - 1]);
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (v, t) = (
            v.clone(),
            if i % 2 == 0 {
                token.clone()
            } else {
                forged.clone()
            },
        );
        tasks.push(tokio::spawn(async move { (i, v.validate(&t).is_ok()) }));
    }
    for t in tasks {
        let (i, ok) = t.await.unwrap();
        assert_eq!(ok, i % 2 == 0);
    }
}

// --- configuration ------------------------------------------------------------

#[test]
fn bad_settings_fail_at_build_time() {
    let b = || Validator::builder(test_keys());
    // The 002 status is 401 or 403 by type; only a number can be wrong.
    assert!(glue_auth_core::UnauthenticatedStatus::try_from(StatusCode::OK).is_err());
    assert_eq!(
        b().max_token_len(0).build().unwrap_err(),
        ConfigError::MaxTokenLen(0)
    );
    assert_eq!(
        b().cache_capacity(0).build().unwrap_err(),
        ConfigError::CacheCapacity
    );
    assert_eq!(
        b().audiences(Vec::<String>::new()).build().unwrap_err(),
        ConfigError::EmptyAudienceList
    );
    assert!(matches!(
        b().leeway(Duration::from_secs(7200)).build(),
        Err(ConfigError::Leeway(_))
    ));
}

#[test]
fn short_rsa_keys_are_refused() {
    let (_, _) = ((), ());
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    drop(pair);
    // 1024-bit modulus from raw components.
    let n = [0xC5u8; 128];
    assert_eq!(
        glue_auth_bearer::PublicKey::from_components(&n, &[1, 0, 1]).unwrap_err(),
        glue_auth_bearer::KeyError::TooShort { bits: 1024 }
    );
    assert!(
        KeySet::from_pem(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").is_err()
    );
}

#[test]
fn debug_output_never_contains_the_token() {
    let v = validator(&clock());
    let token = user_token();
    let claims: Claims = v.validate(&token).unwrap();
    let sig = token.rsplit('.').next().unwrap();
    for dbg in [
        format!("{v:?}"),
        format!("{claims:?}"),
        format!("{:?}", BearerAuthLayer::new(v.clone())),
    ] {
        assert!(!dbg.contains(sig) && !dbg.contains(JTI), "{dbg}");
    }
}

#[tokio::test]
async fn methods_other_than_get_are_validated_too() {
    let v = validator(&clock());
    for m in [Method::POST, Method::PATCH, Method::DELETE, Method::OPTIONS] {
        let req = Request::builder()
            .method(m.clone())
            .uri("/x")
            .header(AUTHORIZATION, "Bearer x.y.z")
            .body(String::new())
            .unwrap();
        assert_eq!(send(&v, req).await.status, StatusCode::UNAUTHORIZED, "{m}");
    }
}

#[tokio::test]
async fn service_is_reusable_after_a_rejection() {
    let mut svc = tower::Layer::layer(
        &BearerAuthLayer::new(validator(&clock())),
        service_fn(|_: Request<String>| async {
            Ok::<_, std::convert::Infallible>(Response::new(String::new()))
        }),
    );
    for auth in ["Bearer x", "fake", &format!("Bearer {}", user_token())] {
        let res = svc
            .ready()
            .await
            .unwrap()
            .call(get(Some(auth)))
            .await
            .unwrap();
        assert!(res.status().is_client_error() || res.status().is_success());
    }
}
