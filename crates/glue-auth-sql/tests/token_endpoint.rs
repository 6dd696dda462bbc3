//! glue-auth-token's endpoints on an SqlStore, end to end: login against the
//! seeded demo user, warehouse token, refresh rotation and replay, a blocked
//! user, and a store that is down (503). On SQLite always; on PostgreSQL too
//! when `GLUE_TEST_DATABASE_URL` is set, on MariaDB when `GLUE_TEST_MYSQL_URL`
//! is.

mod my;
mod pg;

use bytes::Bytes;
use glue_auth_sql::{SqlStore, TokenFilter};
use glue_auth_token::{SigningKey, TokenServer};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::{Service, ServiceExt, service_fn};

const SONIA: &str = "sonia@spryker.com";

type Body = glue_auth_core::ResponseBody<
    glue_auth_core::ResponseBody<glue_auth_core::ResponseBody<Full<Bytes>>>,
>;
type App =
    tower::util::BoxCloneService<Request<Full<Bytes>>, Response<Body>, std::convert::Infallible>;

/// The documented stack: bearer → scope → token endpoint → routes.
fn app(store: &SqlStore) -> App {
    let key = SigningKey::generate().unwrap();
    let validator = glue_auth_bearer::Validator::new(key.key_set());
    let server = TokenServer::builder(key, store.clone(), store.clone())
        .refresh_tokens(store.clone())
        .access_token_log(store.clone())
        .refresh_grant(true)
        .build()
        .unwrap();
    let inner = service_fn(|_req: Request<Full<Bytes>>| async {
        Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("inner"))))
    });
    tower::util::BoxCloneService::new(
        tower::ServiceBuilder::new()
            .layer(glue_auth_bearer::BearerAuthLayer::new(validator))
            .layer(glue_auth_scope::ScopeLayer::spryker())
            .layer(server.layer())
            .service(inner),
    )
}

async fn call(
    app: &mut App,
    req: Request<Full<Bytes>>,
) -> (StatusCode, http::HeaderMap, serde_json::Value) {
    let res = app.ready().await.unwrap().call(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

fn form(body: String) -> Request<Full<Bytes>> {
    Request::post("/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn login(user: &str, password: &str) -> Request<Full<Bytes>> {
    form(format!(
        "grant_type=password&username={}&password={password}",
        user.replace('@', "%40")
    ))
}

async fn scenario(store: SqlStore) {
    let mut app = app(&store);

    // Password grant against the seeded user (PHP-style $2y$ hash).
    let (status, headers, json) = call(&mut app, login(SONIA, "change123")).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(headers["cache-control"], "no-store");
    let access = json["access_token"].as_str().unwrap().to_owned();
    let refresh = json["refresh_token"].as_str().unwrap().to_owned();
    let logged = store.recent_access_tokens(10).await.unwrap();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].principal.as_user().unwrap().id_user(), 4);
    assert_eq!(
        store
            .list_refresh_tokens(&TokenFilter::user(SONIA))
            .await
            .unwrap()
            .len(),
        1
    );

    let (status, _, _) = call(&mut app, login(SONIA, "wrong")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Warehouse token for the active assignment (warehouse 1).
    let req = Request::post("/warehouse-tokens")
        .header("authorization", format!("Bearer {access}"))
        .body(Full::default())
        .unwrap();
    let (status, _, json) = call(&mut app, req).await;
    assert_eq!(status, StatusCode::CREATED, "{json}");
    assert!(json[0]["accessToken"].is_string());
    store.unassign_warehouses(SONIA).await.unwrap();
    let req = Request::post("/warehouse-tokens")
        .header("authorization", format!("Bearer {access}"))
        .body(Full::default())
        .unwrap();
    let (status, _, json) = call(&mut app, req).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{json}");
    assert_eq!(json[0]["code"], "5101");

    // Refresh: rotates; the spent token again revokes the family.
    let (status, _, json) = call(
        &mut app,
        form(format!("grant_type=refresh_token&refresh_token={refresh}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let second = json["refresh_token"].as_str().unwrap().to_owned();
    let (status, _, json) = call(
        &mut app,
        form(format!("grant_type=refresh_token&refresh_token={refresh}")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    let (status, _, _) = call(
        &mut app,
        form(format!("grant_type=refresh_token&refresh_token={second}")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let live = store
        .list_refresh_tokens(&TokenFilter::user(SONIA))
        .await
        .unwrap();
    assert!(live.is_empty(), "{live:?}");

    // A blocked user no longer logs in.
    store.block_user(SONIA).await.unwrap();
    let (status, _, json) = call(&mut app, login(SONIA, "change123")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json[0]["code"], "invalid_grant");
    store.unblock_user(SONIA).await.unwrap();

    // The store down: 503 with Retry-After, never a 500 or a hang.
    store.close().await;
    let t = std::time::Instant::now();
    let (status, headers, _) = call(&mut app, login(SONIA, "change123")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.contains_key("retry-after"));
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoints_on_sqlite() {
    scenario(SqlStore::connect("sqlite::memory:").await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoints_on_postgres() {
    let Some(server) = pg::server_url("token_endpoints_on_postgres") else {
        return;
    };
    let url = pg::create_database(&server, "endpoints").await;
    scenario(
        SqlStore::builder(url)
            .seed_demo(true)
            .connect()
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoints_on_mariadb() {
    let Some(server) = my::server_url("token_endpoints_on_mariadb") else {
        return;
    };
    let url = my::create_database(&server, "endpoints").await;
    scenario(
        SqlStore::builder(url)
            .seed_demo(true)
            .connect()
            .await
            .unwrap(),
    )
    .await;
}
