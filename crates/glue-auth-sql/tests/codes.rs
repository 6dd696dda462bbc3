//! Authorization codes on SQL (SPEC §2a): stored as hashes with their
//! bindings, single use (also under concurrent takes), expiry, the redirect
//! URIs of `spy_oauth_client`, and the code flow end to end through the
//! token endpoint. On SQLite always; on PostgreSQL when
//! `GLUE_TEST_DATABASE_URL` is set, on MariaDB when `GLUE_TEST_MYSQL_URL` is.

mod my;
mod pg;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use glue_auth_core::{NumericDate, Principal, Scopes, UserPrincipal};
use glue_auth_sql::SqlStore;
use glue_auth_token::store::{
    AuthorizationCodeHash, AuthorizationCodeRecord, AuthorizationCodes, CodeChallengeMethod,
};
use glue_auth_token::{SigningKey, TokenServer};
use http::Request;
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REDIRECT: &str = "http://127.0.0.1/fulfillment/";

fn record(code: &str, expires_at: NumericDate) -> AuthorizationCodeRecord {
    AuthorizationCodeRecord {
        hash: AuthorizationCodeHash::of(code),
        client_id: "frontend".into(),
        redirect_uri: REDIRECT.into(),
        principal: Principal::User(UserPrincipal::new(
            4,
            "0d743cc3-a772-5145-971e-d4018ee7a489",
            None::<String>,
        )),
        scopes: Scopes::from_iter(["user", "back-office-user"]),
        challenge: CHALLENGE.into(),
        challenge_method: CodeChallengeMethod::S256,
        expires_at,
    }
}

async fn store_checks(store: SqlStore) {
    assert!(store.holds_authorization_codes());
    let now = NumericDate::now();
    let exp = now.saturating_add(Duration::from_secs(60));
    // Round trip with every binding; single use.
    store.insert(record("code-a", exp)).await.unwrap();
    let got = store
        .take(AuthorizationCodeHash::of("code-a"), now)
        .await
        .unwrap();
    assert_eq!(got, Some(record("code-a", exp)));
    let again = store
        .take(AuthorizationCodeHash::of("code-a"), now)
        .await
        .unwrap();
    assert_eq!(again, None);
    // Expired: refused, and gone.
    store.insert(record("code-b", exp)).await.unwrap();
    assert_eq!(
        store
            .take(AuthorizationCodeHash::of("code-b"), exp)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .take(AuthorizationCodeHash::of("code-b"), now)
            .await
            .unwrap(),
        None
    );
    // Concurrent takes of one code: exactly one wins.
    store.insert(record("code-c", exp)).await.unwrap();
    let store = Arc::new(store);
    let takers: Vec<_> = (0..8)
        .map(|_| {
            let s = Arc::clone(&store);
            tokio::spawn(async move { s.take(AuthorizationCodeHash::of("code-c"), now).await })
        })
        .collect();
    let mut winners = 0;
    for t in takers {
        winners += usize::from(t.await.unwrap().unwrap().is_some());
    }
    assert_eq!(winners, 1);
}

async fn flow_through_the_endpoint(store: SqlStore) {
    let key = SigningKey::generate().unwrap();
    let uris = store.redirect_uris().await.unwrap();
    let mut b = TokenServer::builder(key, store.clone(), store.clone())
        .authorization_codes(store.clone())
        .hashing(glue_auth_token::HashingSettings::default());
    for (client, list) in &uris {
        b = b.redirect_uris(client, list);
    }
    let server = b.build().unwrap();
    let post = |path: &str, body: String| {
        Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    let call = |req| async {
        let res = server.clone().oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        )
    };
    let redirect = "http%3A%2F%2F127.0.0.1%3A4321%2Ffulfillment%2F";
    let (status, json) = call(post(
        "/authorize",
        format!(
            "response_type=code&client_id=frontend&redirect_uri={redirect}&scope=user\
             &code_challenge={CHALLENGE}&code_challenge_method=S256&state=s1\
             &username=sonia%40spryker.com&password=change123"
        ),
    ))
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json[0]["state"], "s1");
    let code = json[0]["code"].as_str().unwrap().to_owned();
    let exchange = format!(
        "grant_type=authorization_code&client_id=frontend&code={code}\
         &redirect_uri={redirect}&code_verifier={VERIFIER}"
    );
    let (status, json) = call(post("/token", exchange.clone())).await;
    assert_eq!(status, 200, "{json}");
    assert!(json["access_token"].is_string());
    let (status, json) = call(post("/token", exchange)).await;
    assert_eq!(
        (status, json[0]["code"].as_str()),
        (400, Some("invalid_request"))
    );
}

/// Registers [`REDIRECT`] for `frontend` through a connection of the test.
async fn register_redirect_sqlite(url: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query("UPDATE spy_oauth_client SET redirect_uri = $1 WHERE identifier = 'frontend'")
        .bind(format!("{REDIRECT}, https://fulfillment.example/cb"))
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_codes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("codes.db").display());
    let store = SqlStore::connect(url.as_str()).await.unwrap();
    store_checks(store.clone()).await;
    assert!(store.redirect_uris().await.unwrap().is_empty());
    register_redirect_sqlite(&url).await;
    assert_eq!(
        store.redirect_uris().await.unwrap(),
        [(
            "frontend".to_owned(),
            vec![
                REDIRECT.to_owned(),
                "https://fulfillment.example/cb".to_owned()
            ]
        )]
    );
    flow_through_the_endpoint(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_codes_on_postgres() {
    let Some(server) = pg::server_url("authorization_codes_on_postgres") else {
        return;
    };
    let url = pg::create_database(&server, "codes").await;
    let store = SqlStore::builder(url.as_str())
        .seed_demo(true)
        .connect()
        .await
        .unwrap();
    store_checks(store.clone()).await;
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE spy_oauth_client SET redirect_uri = $1 WHERE identifier = 'frontend'")
        .bind(REDIRECT)
        .execute(&mut conn)
        .await
        .unwrap();
    flow_through_the_endpoint(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_codes_on_mariadb() {
    let Some(server) = my::server_url("authorization_codes_on_mariadb") else {
        return;
    };
    let url = my::create_database(&server, "codes").await;
    let store = SqlStore::builder(url.as_str())
        .seed_demo(true)
        .connect()
        .await
        .unwrap();
    store_checks(store.clone()).await;
    let mut conn = my::connect(&url).await;
    sqlx::query("UPDATE spy_oauth_client SET redirect_uri = ? WHERE identifier = 'frontend'")
        .bind(REDIRECT)
        .execute(&mut conn)
        .await
        .unwrap();
    flow_through_the_endpoint(store).await;
}
