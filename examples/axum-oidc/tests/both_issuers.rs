//! The example against a simulated gateway JWKS and OIDC provider (a JWKS
//! and a discovery document served on loopback): Glue tokens and the
//! provider's tokens both get through; a token for another audience, a
//! token of an unknown issuer and no token do not.

use std::time::Duration;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use glue_auth_core::{Claims, NumericDate, Principal, Scopes, UserPrincipal};
use glue_auth_jwt::{SigningKey, jwks_json};
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

struct Provider {
    addr: std::net::SocketAddr,
    glue: SigningKey,
    idp: jsonwebtoken::EncodingKey,
}

impl Provider {
    fn issuer(&self) -> String {
        format!("http://{}/realms/shop", self.addr)
    }
}

/// One loopback server playing both parts: the gateway's JWKS and the
/// provider's discovery document and JWKS (one P-256 key, `alg` ES256).
async fn provider() -> Provider {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let glue = SigningKey::generate().unwrap().with_kid("glue-1");
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let point = pair.public_key().as_ref().to_vec();
    let idp_jwks = format!(
        r#"{{"keys":[{{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"idp-1","x":"{}","y":"{}"}},{{"kty":"RSA","use":"enc","alg":"RSA-OAEP","kid":"enc-1","n":"AQAB","e":"AQAB"}}]}}"#,
        URL_SAFE_NO_PAD.encode(&point[1..33]),
        URL_SAFE_NO_PAD.encode(&point[33..])
    );
    let issuer = format!("http://{addr}/realms/shop");
    let discovery =
        format!(r#"{{"issuer":"{issuer}","jwks_uri":"{issuer}/protocol/openid-connect/certs"}}"#);
    let glue_jwks = jwks_json(&[glue.public_key()]);
    let app = Router::new()
        .route(
            "/.well-known/jwks.json",
            get(move || async move { glue_jwks }),
        )
        .route(
            "/realms/shop/.well-known/openid-configuration",
            get(move || async move { discovery }),
        )
        .route(
            "/realms/shop/protocol/openid-connect/certs",
            get(move || async move { idp_jwks }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let idp = jsonwebtoken::EncodingKey::from_ec_der(pair.to_pkcs8v1().unwrap().as_ref());
    Provider { addr, glue, idp }
}

fn idp_token(p: &Provider, iss: &str, aud: &str) -> String {
    let now = NumericDate::now().as_micros() / 1_000_000;
    let claims = serde_json::json!({
        "iss": iss, "aud": aud, "sub": "8f14e45f-ceea-467f-a0e6-1d7c7d1e0b6a",
        "exp": now + 300, "iat": now, "scope": "openid user back-office-user",
        "glue_id_user": 4,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some("idp-1".into());
    jsonwebtoken::encode(&header, &claims, &p.idp).unwrap()
}

fn glue_token(p: &Provider) -> String {
    let claims = Claims::builder(
        Principal::User(UserPrincipal::new(
            4,
            "0d743cc3-a772-5145-971e-d4018ee7a489",
            None::<&str>,
        )),
        Scopes::from_iter(["user", "back-office-user"]),
    )
    .issued_at(NumericDate::now(), Duration::from_secs(300))
    .build();
    p.glue.sign(&claims).unwrap()
}

async fn me(app: &Router, token: Option<&str>) -> (StatusCode, serde_json::Value) {
    let mut req = Request::get("/me");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let res = app
        .clone()
        .oneshot(req.body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glue_and_oidc_tokens_through_one_layer() {
    let p = provider().await;
    let (app, sources) = axum_oidc::app(&axum_oidc::Settings {
        glue_jwks_url: format!("http://{}/.well-known/jwks.json", p.addr),
        oidc_issuer: p.issuer(),
        audience: "glue-backend".into(),
    })
    .unwrap();
    let wait = Duration::from_secs(10);
    assert!(
        sources.glue.ready(wait).await,
        "{:?}",
        sources.glue.last_error()
    );
    assert!(
        sources.oidc.ready(wait).await,
        "{:?}",
        sources.oidc.last_error()
    );

    let (status, body) = me(&app, Some(&glue_token(&p))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["issuer"], "glue");
    assert_eq!(body["principal"]["id_user"], 4);

    let (status, body) = me(&app, Some(&idp_token(&p, &p.issuer(), "glue-backend"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["issuer"], p.issuer());
    assert_eq!(body["principal"]["id_user"], 4);
    assert_eq!(
        body["principal"]["uuid"],
        "8f14e45f-ceea-467f-a0e6-1d7c7d1e0b6a"
    );
    assert_eq!(
        body["scopes"],
        serde_json::json!(["openid", "user", "back-office-user"])
    );

    // Another client's token of the same provider, an unknown issuer, none.
    let (status, _) = me(&app, Some(&idp_token(&p, &p.issuer(), "account"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = me(
        &app,
        Some(&idp_token(&p, "http://evil.example", "glue-backend")),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = me(&app, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
