//! # axum-picking: the whole Glue front in an axum 0.8 app
//!
//! A picking-list service (SPEC §7) as an axum [`Router`], behind the three
//! glue-auth layers in the documented order and composed with the usual
//! tower-http middleware:
//!
//! ```text
//! TraceLayer ─► CorsLayer ─► TimeoutLayer ─► RequestBodyLimitLayer
//!   ─► BearerAuthLayer ─► ScopeLayer::spryker() ─► TokenEndpointLayer ─► Router (handlers take Principal / Claims)
//! ```
//!
//! - [`BearerAuthLayer`] validates `Authorization: Bearer <JWT>`, once per
//!   request, and puts the [`Principal`] and [`Claims`] into the request
//!   extensions; handlers take them as extractors (feature `axum` of
//!   `glue-auth-core`).
//! - [`ScopeLayer::spryker`] enforces Spryker's route table before any handler
//!   runs: `POST /token` is public, `POST /warehouse-tokens` needs a user with
//!   a user scope, picking lists are for users and warehouses, the item PATCH
//!   for users only (SPEC §5.2).
//! - [`TokenEndpointLayer`](glue_auth_token::TokenEndpointLayer) answers
//!   `POST /token` (Spryker's password grant) and `POST /warehouse-tokens`
//!   (201, a token of the user's active warehouse, read from the [`Claims`]
//!   the bearer layer found; it never verifies a token itself) and forwards
//!   everything else to the router. It signs with the RSA **private** key
//!   whose public half the bearer layer validates against. Users and
//!   assignments: [`MemoryDirectory::demo`] (`sonia@spryker.com` /
//!   `change123`, assigned to warehouse 1).
//! - `CorsLayer` answers browser preflights (they never carry a token; the
//!   scope layer lets `OPTIONS` pass anyway), `TimeoutLayer` bounds each
//!   request, `RequestBodyLimitLayer` caps bodies at 64 KiB, `TraceLayer`
//!   emits `tracing` spans (install a subscriber to see them).
//!
//! Every layer keeps axum's `Infallible` error and a body that axum can turn
//! into a response, so the stack goes into [`Router::layer`] unchanged (the
//! router's fallback is layered too: `/token` and `/warehouse-tokens` need no
//! route of their own).
//!
//! ## Run it
//!
//! ```text
//! cargo run -p axum-picking -- --port 8080 --private-key path/to/private.pem
//! ```
//!
//! Both flags are optional (`PORT`, `GLUE_PRIVATE_KEY`; defaults 8080 and the
//! workspace's test key, `shared/fixtures/foreign-signer/test-private.pem`).
//! The service listens on `127.0.0.1`. Log in, exchange the user token for a
//! warehouse token, and work a picking list (`jq` picks the tokens out of
//! the answers):
//!
//! ```text
//! # Spryker's password grant: 200 {"token_type":"Bearer","expires_in":28800,"access_token":…,"refresh_token":…}
//! TOKEN=$(curl -s -d 'grant_type=password&username=sonia%40spryker.com&password=change123' \
//!      http://127.0.0.1:8080/token | jq -r .access_token)
//!
//! # The exchange: 201 [{"tokenType":"Bearer","expiresIn":604800,"accessToken":…,"refreshToken":…}]
//! WAREHOUSE_TOKEN=$(curl -s -X POST -H "Authorization: Bearer $TOKEN" \
//!      http://127.0.0.1:8080/warehouse-tokens | jq -r '.[0].accessToken')
//!
//! curl -H "Authorization: Bearer $WAREHOUSE_TOKEN" -H 'Accept: application/vnd.api+json' \
//!      http://127.0.0.1:8080/picking-lists
//! # Changing picked quantities needs the user token (403 with the warehouse token):
//! curl -X PATCH -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/vnd.api+json' \
//!      -d '{"data":[{"type":"picking-list-items","id":"a1b2c3d4-0001-4000-8000-000000000001","attributes":{"picked":2}}]}' \
//!      http://127.0.0.1:8080/picking-lists/7f2a0c1e-3b4d-5e6f-8a9b-0c1d2e3f4a5b/picking-list-items
//! ```
//!
//! ## Use it from code
//!
//! [`app`] builds the router for a key; [`app_with`] takes your own
//! [`Validator`] (clock, cache: its [`cache_stats`](Validator::cache_stats)
//! count the signature checks) and [`TokenServer`].
//!
//! ```
//! use axum::body::Body;
//! use glue_auth_token::SigningKey;
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let pem = std::fs::read(axum_picking::DEFAULT_PRIVATE_KEY).unwrap();
//! let app = axum_picking::app(SigningKey::from_pem(&pem).unwrap());
//!
//! // Allowed: the demo user logs in, then exchanges the token for a warehouse token.
//! let login = Request::post("/token")
//!     .header("content-type", "application/x-www-form-urlencoded")
//!     .body(Body::from("grant_type=password&username=sonia%40spryker.com&password=change123"))
//!     .unwrap();
//! let res = app.clone().oneshot(login).await.unwrap();
//! assert_eq!(res.status(), StatusCode::OK);
//! let body = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
//! let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
//! let token = json["access_token"].as_str().unwrap();
//! let exchange = Request::post("/warehouse-tokens")
//!     .header("authorization", format!("Bearer {token}"))
//!     .body(Body::empty())
//!     .unwrap();
//! assert_eq!(app.clone().oneshot(exchange).await.unwrap().status(), StatusCode::CREATED);
//!
//! // Refused: no token; the scope layer answers before the handler runs.
//! let req = Request::get("/picking-lists").body(Body::empty()).unwrap();
//! let res = app.oneshot(req).await.unwrap();
//! assert_eq!(res.status(), StatusCode::FORBIDDEN);
//! # }
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use bytes::Bytes;
use glue_auth_bearer::{BearerAuthLayer, Validator};
use glue_auth_core::{Claims, Envelope, GlueError, JSON_API, Principal};
use glue_auth_scope::ScopeLayer;
use glue_auth_token::{ClientAddress, MemoryDirectory, SigningKey, TokenServer};
use http::header::{ACCEPT, ACCEPT_LANGUAGE, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, Method, StatusCode};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// The workspace's test private key, the default for the demo. Its public
/// half validates the tokens.
pub const DEFAULT_PRIVATE_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/foreign-signer/test-private.pem"
);

/// Largest accepted request body.
pub const MAX_BODY: usize = 64 * 1024;

/// Time a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The token endpoint of the demo: signs with `key`, users and warehouse
/// assignments from [`MemoryDirectory::demo`], Spryker's default settings.
///
/// Failed logins are also counted per client address, read from axum's
/// `ConnectInfo<SocketAddr>` (present when served as [`serve`] does, with
/// `into_make_service_with_connect_info`).
pub fn token_server(key: SigningKey) -> TokenServer {
    let users = MemoryDirectory::demo();
    TokenServer::builder(key, users.clone(), users)
        .client_address(ClientAddress::custom(|parts| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip())
        }))
        .build()
        .expect("the demo token server's settings are valid")
}

/// The whole app for `key`: tokens are signed with it and validated against
/// its public half, with Glue's default validation settings.
pub fn app(key: SigningKey) -> Router {
    let validator = Validator::new(key.key_set());
    app_with(validator, token_server(key))
}

/// The whole app around your own [`Validator`] (clock, leeway, audiences,
/// cache) and [`TokenServer`] (stores, lifetimes, throttling). The validator
/// must accept the server's tokens (its key set holds the public half of the
/// server's signing key).
pub fn app_with(validator: Validator, tokens: TokenServer) -> Router {
    let middleware = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::OPTIONS])
                .allow_headers([AUTHORIZATION, CONTENT_TYPE, ACCEPT, ACCEPT_LANGUAGE]),
        )
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(BearerAuthLayer::new(validator))
        .layer(ScopeLayer::spryker())
        .layer(tokens.layer());

    Router::new()
        .route("/picking-lists", get(list_picking_lists))
        .route("/picking-lists/{id}", get(get_picking_list))
        .route("/picking-lists/{id}/start-picking", post(start_picking))
        .route(
            "/picking-lists/{id}/picking-list-items",
            patch(update_picking_list_items),
        )
        .fallback(not_found)
        .with_state(Store::demo())
        .layer(middleware)
}

/// Serves [`app`] on `listener` until the process ends.
pub async fn serve(listener: TcpListener, key: SigningKey) -> std::io::Result<()> {
    let validator = Validator::new(key.key_set());
    serve_with(listener, validator, token_server(key)).await
}

/// Serves [`app_with`] on `listener` until the process ends, with each
/// connection's peer address as `ConnectInfo<SocketAddr>` (the token
/// endpoint's per-address throttling reads it, see [`token_server`]).
pub async fn serve_with(
    listener: TcpListener,
    validator: Validator,
    tokens: TokenServer,
) -> std::io::Result<()> {
    let app = app_with(validator, tokens);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

// ----- handlers ------------------------------------------------------------

async fn list_picking_lists(State(store): State<Store>, who: Principal) -> Response {
    let store = store.lock();
    let data: Vec<Resource<'_>> = store
        .lists
        .iter()
        .filter(|(_, l)| store.sees(&who, l.warehouse))
        .map(|(id, l)| Resource::new(id, l))
        .collect();
    JsonApi(StatusCode::OK, Document { data }).into_response()
}

async fn get_picking_list(
    State(store): State<Store>,
    who: Principal,
    Path(id): Path<String>,
) -> Response {
    let store = store.lock();
    match store.find(&who, &id) {
        Some((id, list)) => JsonApi(
            StatusCode::OK,
            Document {
                data: Resource::new(id, list),
            },
        )
        .into_response(),
        None => GlueAnswer(GlueError::NOT_FOUND).into_response(),
    }
}

async fn start_picking(
    State(store): State<Store>,
    who: Principal,
    Path(id): Path<String>,
) -> Response {
    let mut store = store.lock();
    let Some(list) = store.find_mut(&who, &id) else {
        return GlueAnswer(GlueError::NOT_FOUND).into_response();
    };
    if list.status != "ready-for-picking" {
        return GlueAnswer(GlueError::new_static(
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            "Picking list is already started.",
        ))
        .into_response();
    }
    list.status = "picking-started";
    let (id, list) = store.find(&who, &id).expect("found above");
    JsonApi(
        StatusCode::OK,
        Document {
            data: Resource::new(id, list),
        },
    )
    .into_response()
}

/// `{"data":[{"type":"picking-list-items","id":"…","attributes":{"picked":2}}]}`
#[derive(Deserialize)]
struct ItemsPatch {
    data: Vec<ItemPatch>,
}

#[derive(Deserialize)]
struct ItemPatch {
    id: String,
    attributes: ItemPatchAttributes,
}

#[derive(Deserialize)]
struct ItemPatchAttributes {
    picked: u64,
}

/// Takes [`Claims`] rather than [`Principal`] to show the other extractor:
/// the whole validated token (principal, scopes, `jti`, `exp`).
async fn update_picking_list_items(
    State(store): State<Store>,
    claims: Claims,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    // The bytes, not `Json<_>`: malformed bodies get a Glue error object too.
    let Ok(patch) = serde_json::from_slice::<ItemsPatch>(&body) else {
        return GlueAnswer(GlueError::new_static(
            StatusCode::BAD_REQUEST,
            None,
            "Request body is not a list of picking-list items.",
        ))
        .into_response();
    };
    let who = claims.principal();
    let mut store = store.lock();
    let Some(list) = store.find_mut(who, &id) else {
        return GlueAnswer(GlueError::NOT_FOUND).into_response();
    };
    // Check everything first: a PATCH applies whole or not at all.
    for update in &patch.data {
        let Some(item) = list.items.iter().find(|i| i.id == update.id) else {
            return GlueAnswer(GlueError::NOT_FOUND).into_response();
        };
        if update.attributes.picked > item.quantity {
            return GlueAnswer(GlueError::new_static(
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                "Picked quantity exceeds the quantity to pick.",
            ))
            .into_response();
        }
    }
    for update in &patch.data {
        if let Some(item) = list.items.iter_mut().find(|i| i.id == update.id) {
            item.picked = update.attributes.picked;
        }
    }
    if list.items.iter().all(|i| i.picked == i.quantity) {
        list.status = "picking-finished";
    }
    let (id, list) = store.find(who, &id).expect("found above");
    JsonApi(
        StatusCode::OK,
        Document {
            data: Resource::new(id, list),
        },
    )
    .into_response()
}

/// Unknown routes: 404 `007` "Not found", in the request's envelope (SPEC §1).
async fn not_found(method: Method, headers: HeaderMap) -> Response {
    let envelope = Envelope::for_request(&method, &headers);
    GlueError::NOT_FOUND.to_response(envelope).map(Body::from)
}

// ----- responses -----------------------------------------------------------

/// A JSON:API document with its status.
struct JsonApi<T>(StatusCode, T);

impl<T: Serialize> IntoResponse for JsonApi<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.1) {
            Ok(body) => (self.0, [(CONTENT_TYPE, JSON_API)], body).into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

/// A Glue error on a JSON:API route.
struct GlueAnswer(GlueError);

impl IntoResponse for GlueAnswer {
    fn into_response(self) -> Response {
        self.0.to_response(Envelope::JsonApi).map(Body::from)
    }
}

#[derive(Serialize)]
struct Document<T> {
    data: T,
}

#[derive(Serialize)]
struct Resource<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    attributes: Attributes<'a>,
    links: Links,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Attributes<'a> {
    status: &'static str,
    warehouse: Warehouse,
    picking_list_items: Vec<ItemView<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Warehouse {
    id_warehouse: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemView<'a> {
    id: &'a str,
    sku: &'a str,
    quantity: u64,
    number_to_pick: u64,
    picked: u64,
}

#[derive(Serialize)]
struct Links {
    #[serde(rename = "self")]
    this: String,
}

impl<'a> Resource<'a> {
    fn new(id: &'a str, list: &'a PickingList) -> Self {
        Resource {
            kind: "picking-lists",
            id,
            attributes: Attributes {
                status: list.status,
                warehouse: Warehouse {
                    id_warehouse: list.warehouse,
                },
                picking_list_items: list
                    .items
                    .iter()
                    .map(|i| ItemView {
                        id: &i.id,
                        sku: &i.sku,
                        quantity: i.quantity,
                        number_to_pick: i.quantity - i.picked,
                        picked: i.picked,
                    })
                    .collect(),
            },
            links: Links {
                this: format!("/picking-lists/{id}"),
            },
        }
    }
}

// ----- the in-memory store -------------------------------------------------

/// Shared state: the picking lists and who works where.
#[derive(Clone)]
struct Store(Arc<Mutex<Data>>);

struct Data {
    lists: BTreeMap<String, PickingList>,
    /// `user uuid → warehouse` (`spy_warehouse_user_assignment`, active rows).
    assignments: Vec<(String, i64)>,
}

struct PickingList {
    warehouse: i64,
    status: &'static str,
    items: Vec<Item>,
}

struct Item {
    id: String,
    sku: String,
    quantity: u64,
    picked: u64,
}

impl Store {
    /// Two warehouses, three picking lists; the demo user `sonia@spryker.com`
    /// works in warehouse 1.
    fn demo() -> Self {
        let list = |warehouse, items: &[(&str, &str, u64)]| PickingList {
            warehouse,
            status: "ready-for-picking",
            items: items
                .iter()
                .map(|&(id, sku, quantity)| Item {
                    id: id.into(),
                    sku: sku.into(),
                    quantity,
                    picked: 0,
                })
                .collect(),
        };
        let lists = BTreeMap::from([
            (
                "7f2a0c1e-3b4d-5e6f-8a9b-0c1d2e3f4a5b".to_owned(),
                list(
                    1,
                    &[
                        ("a1b2c3d4-0001-4000-8000-000000000001", "141_29380410", 2),
                        ("a1b2c3d4-0002-4000-8000-000000000002", "066_23294028", 1),
                    ],
                ),
            ),
            (
                "8e3b1d2f-4c5e-6f70-9bac-1d2e3f4a5b6c".to_owned(),
                list(
                    1,
                    &[("a1b2c3d4-0003-4000-8000-000000000003", "020_21081478", 5)],
                ),
            ),
            (
                "9f4c2e30-5d6f-7081-acbd-2e3f4a5b6c7d".to_owned(),
                list(
                    2,
                    &[("a1b2c3d4-0004-4000-8000-000000000004", "193_32124735", 3)],
                ),
            ),
        ]);
        Store(Arc::new(Mutex::new(Data {
            lists,
            assignments: vec![("0d743cc3-a772-5145-971e-d4018ee7a489".into(), 1)],
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Data> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Data {
    /// Users see their assigned warehouses, warehouse tokens their own.
    fn sees(&self, who: &Principal, warehouse: i64) -> bool {
        match who {
            Principal::Warehouse(w) => w.id_warehouse() == warehouse,
            Principal::User(u) => self
                .assignments
                .iter()
                .any(|(uuid, w)| uuid == u.uuid() && *w == warehouse),
        }
    }

    fn find(&self, who: &Principal, id: &str) -> Option<(&str, &PickingList)> {
        let (id, list) = self.lists.get_key_value(id)?;
        self.sees(who, list.warehouse).then_some((id, list))
    }

    fn find_mut(&mut self, who: &Principal, id: &str) -> Option<&mut PickingList> {
        let warehouse = self.lists.get(id)?.warehouse;
        if !self.sees(who, warehouse) {
            return None;
        }
        self.lists.get_mut(id)
    }
}
