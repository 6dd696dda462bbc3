//! # hyper-picking: the whole Glue front on plain hyper 1
//!
//! A tiny picking-list service (SPEC §7) served by hyper 1 through
//! `hyper-util`, behind the three glue-auth layers stacked with a tower
//! [`ServiceBuilder`] in the documented order:
//!
//! ```text
//! request ─► BearerAuthLayer ─► ScopeLayer::spryker() ─► TokenEndpointLayer ─► PickingLists (this crate)
//!            validates every     Spryker's route table:   answers POST /token     in-memory picking lists,
//!            token once; Claims  who may call which       and /warehouse-tokens,  JSON:API answers
//!            into the extensions route                    forwards the rest
//! ```
//!
//! | route | who may call it | answered by |
//! |---|---|---|
//! | `POST /token` | anyone (a bad token is still 401 `001`) | the token endpoint: Spryker's password grant |
//! | `POST /warehouse-tokens` | a user (`back-office-user`, `warehouse-user`, legacy `["user"]`) | the token endpoint: 201, a token of the user's active warehouse |
//! | `GET /picking-lists`, `GET /picking-lists/{id}`, `POST /picking-lists/{id}/start-picking` | a user (`back-office-user`, `warehouse-user`) or a warehouse token | the handler |
//! | `PATCH /picking-lists/{id}/picking-list-items` | a user only | the handler |
//! | anything else | passes the layers | the handler: 404 `007` "Not found" |
//!
//! The token endpoint signs with the RSA **private** key; its public half is
//! the key set the bearer layer validates against, so the tokens this service
//! issues are the tokens it accepts (and so are Spryker's, signed by the same
//! key pair). Its users and warehouse assignments are
//! [`MemoryDirectory::demo`]: `sonia@spryker.com` / `change123` (`id_user` 4),
//! assigned to warehouse 1. Users see the picking lists of their assigned
//! warehouses; a warehouse token sees its own warehouse's lists.
//!
//! ## Run it
//!
//! ```text
//! cargo run -p hyper-picking -- --port 8080 --private-key path/to/private.pem
//! ```
//!
//! Both flags are optional: `PORT` and `GLUE_PRIVATE_KEY` work too, the port
//! defaults to 8080 and the key to the workspace's test key
//! (`shared/fixtures/foreign-signer/test-private.pem`). The service listens on
//! `127.0.0.1`. Log in, exchange the user token for a warehouse token, and use
//! both (`jq` picks the tokens out of the answers):
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
//!      http://127.0.0.1:8080/picking-lists                       # warehouse 1's lists
//! curl -i -X POST -H "Authorization: Bearer $WAREHOUSE_TOKEN" \
//!      http://127.0.0.1:8080/warehouse-tokens                    # 403: a warehouse token cannot mint another
//! curl -i http://127.0.0.1:8080/picking-lists                    # 403 "Authorization failed."
//! ```
//!
//! ## Use it from code
//!
//! [`app`] builds the whole front without a socket, so tests can drive it
//! with `tower::ServiceExt::oneshot`; [`app_with`] takes your own
//! [`Validator`] (clock, cache: its [`cache_stats`](Validator::cache_stats)
//! count the signature checks) and [`TokenServer`]; [`serve`] and
//! [`serve_with`] run them on a listener:
//!
//! ```
//! use glue_auth_token::SigningKey;
//! use http::{Request, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let pem = std::fs::read(hyper_picking::DEFAULT_PRIVATE_KEY).unwrap();
//! let app = hyper_picking::app(SigningKey::from_pem(&pem).unwrap());
//! let body = |s: &'static str| Full::new(bytes::Bytes::from_static(s.as_bytes()));
//!
//! // Allowed: the demo user logs in, then exchanges the token for a warehouse token.
//! let login = Request::post("/token")
//!     .header("content-type", "application/x-www-form-urlencoded")
//!     .body(body("grant_type=password&username=sonia%40spryker.com&password=change123"))
//!     .unwrap();
//! let res = app.clone().oneshot(login).await.unwrap();
//! assert_eq!(res.status(), StatusCode::OK);
//! let json: serde_json::Value =
//!     serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
//! let token = json["access_token"].as_str().unwrap();
//! let exchange = Request::post("/warehouse-tokens")
//!     .header("authorization", format!("Bearer {token}"))
//!     .body(body(""))
//!     .unwrap();
//! let res = app.clone().oneshot(exchange).await.unwrap();
//! assert_eq!(res.status(), StatusCode::CREATED);
//!
//! // Refused: no token on a picking-list route; the scope layer answers, the handler never runs.
//! let req = Request::get("/picking-lists")
//!     .header("accept", "application/vnd.api+json")
//!     .body(body(""))
//!     .unwrap();
//! let res = app.oneshot(req).await.unwrap();
//! assert_eq!(res.status(), StatusCode::FORBIDDEN);
//! assert_eq!(
//!     res.into_body().collect().await.unwrap().to_bytes(),
//!     r#"{"errors":[{"status":403,"code":null,"message":"Authorization failed."}]}"#
//! );
//! # }
//! ```

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use glue_auth_bearer::{BearerAuth, BearerAuthLayer, Validator};
use glue_auth_core::{Envelope, GlueError, JSON_API, Principal};
use glue_auth_scope::{Scope, ScopeLayer};
use glue_auth_token::{MemoryDirectory, SigningKey, TokenEndpoint, TokenServer};
use http::{Method, Request, Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tower::{Service, ServiceBuilder};

/// The workspace's test private key, the default for the demo. Its public
/// half validates the tokens.
pub const DEFAULT_PRIVATE_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/foreign-signer/test-private.pem"
);

/// The whole front: bearer layer, the Spryker scope table, the token
/// endpoint, then the picking-list handler.
pub type App = BearerAuth<Scope<TokenEndpoint<PickingLists>>>;

/// The token endpoint of the demo: signs with `key`, users and warehouse
/// assignments from [`MemoryDirectory::demo`], Spryker's default settings.
///
/// Failed logins are also counted per client address when the request
/// carries the peer `SocketAddr` in its extensions, as [`serve`] arranges.
pub fn token_server(key: SigningKey) -> TokenServer {
    let users = MemoryDirectory::demo();
    TokenServer::builder(key, users.clone(), users)
        .build()
        .expect("the demo token server's settings are valid")
}

/// The whole front for `key`: tokens are signed with it and validated against
/// its public half, with Glue's default validation settings.
pub fn app(key: SigningKey) -> App {
    let validator = Validator::new(key.key_set());
    app_with(validator, token_server(key))
}

/// The whole front around your own [`Validator`] (clock, leeway, audiences,
/// cache) and [`TokenServer`] (stores, lifetimes, throttling). The validator
/// must accept the server's tokens (its key set holds the public half of the
/// server's signing key).
pub fn app_with(validator: Validator, tokens: TokenServer) -> App {
    ServiceBuilder::new()
        .layer(BearerAuthLayer::new(validator))
        .layer(ScopeLayer::spryker())
        .layer(tokens.layer())
        .service(PickingLists::demo())
}

/// Serves [`app`] on `listener` (HTTP/1.1 and HTTP/2), one task per
/// connection, until accepting fails.
pub async fn serve(listener: TcpListener, key: SigningKey) -> std::io::Result<()> {
    let validator = Validator::new(key.key_set());
    serve_with(listener, validator, token_server(key)).await
}

/// Serves [`app_with`] on `listener`. Each request carries the peer's
/// `SocketAddr` in its extensions, so failed logins are throttled per client
/// address too (SPEC §2).
pub async fn serve_with(
    listener: TcpListener,
    validator: Validator,
    tokens: TokenServer,
) -> std::io::Result<()> {
    let app = app_with(validator, tokens);
    loop {
        let (stream, peer) = listener.accept().await?;
        let service = ServiceBuilder::new()
            .map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(peer);
                req
            })
            .service(app.clone());
        let service = TowerToHyperService::new(service);
        tokio::spawn(async move {
            // A client that goes away mid-request is not our error to report.
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Error type of request bodies the handler can read.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Largest accepted request body (PATCH of picking-list items).
const MAX_BODY: usize = 64 * 1024;

/// The picking-list handler: an in-memory store behind a tower [`Service`].
///
/// Cheap to clone; clones share the store. It trusts the layers in front of
/// it: the [`Principal`] in the request extensions only narrows which
/// warehouses' lists are visible.
#[derive(Debug, Clone)]
pub struct PickingLists {
    store: Arc<Mutex<Store>>,
}

#[derive(Debug)]
struct Store {
    lists: BTreeMap<&'static str, PickingList>,
    /// `user uuid → warehouse` (`spy_warehouse_user_assignment`, active rows).
    assignments: Vec<(&'static str, i64)>,
}

#[derive(Debug)]
struct PickingList {
    warehouse: i64,
    status: &'static str,
    items: Vec<Item>,
}

#[derive(Debug)]
struct Item {
    id: &'static str,
    sku: &'static str,
    quantity: u64,
    picked: u64,
}

impl PickingLists {
    /// Two warehouses, three picking lists; the demo user works in warehouse 1.
    pub fn demo() -> Self {
        let item = |id, sku, quantity| Item {
            id,
            sku,
            quantity,
            picked: 0,
        };
        let list = |warehouse, items| PickingList {
            warehouse,
            status: "ready-for-picking",
            items,
        };
        let lists = BTreeMap::from([
            (
                "7f2a0c1e-3b4d-5e6f-8a9b-0c1d2e3f4a5b",
                list(
                    1,
                    vec![
                        item("a1b2c3d4-0001-4000-8000-000000000001", "141_29380410", 2),
                        item("a1b2c3d4-0002-4000-8000-000000000002", "066_23294028", 1),
                    ],
                ),
            ),
            (
                "8e3b1d2f-4c5e-6f70-9bac-1d2e3f4a5b6c",
                list(
                    1,
                    vec![item(
                        "a1b2c3d4-0003-4000-8000-000000000003",
                        "020_21081478",
                        5,
                    )],
                ),
            ),
            (
                "9f4c2e30-5d6f-7081-acbd-2e3f4a5b6c7d",
                list(
                    2,
                    vec![item(
                        "a1b2c3d4-0004-4000-8000-000000000004",
                        "193_32124735",
                        3,
                    )],
                ),
            ),
        ]);
        let store = Store {
            lists,
            assignments: vec![("0d743cc3-a772-5145-971e-d4018ee7a489", 1)],
        };
        PickingLists {
            store: Arc::new(Mutex::new(store)),
        }
    }
}

impl<B> Service<Request<B>> for PickingLists
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let store = self.store.clone();
        Box::pin(async move { Ok(handle(&store, req).await) })
    }
}

async fn handle<B>(store: &Mutex<Store>, req: Request<B>) -> Response<Full<Bytes>>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let (parts, body) = req.into_parts();
    let principal = parts.extensions.get::<Principal>();
    // Empty segments are skipped, as the scope layer does: `/picking-lists/`
    // is `/picking-lists`.
    let path: Vec<&str> = parts
        .uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let lock = || store.lock().unwrap_or_else(PoisonError::into_inner);
    match (&parts.method, path.as_slice()) {
        (&Method::GET, ["picking-lists"]) => {
            let store = lock();
            let data: Vec<Value> = store
                .visible(principal)
                .map(|(id, list)| resource(id, list))
                .collect();
            json_api(StatusCode::OK, json!({ "data": data }))
        }
        (&Method::GET, ["picking-lists", id]) => match lock().find(principal, id) {
            Some((id, list)) => json_api(StatusCode::OK, json!({ "data": resource(id, list) })),
            None => error(GlueError::NOT_FOUND),
        },
        (&Method::POST, ["picking-lists", id, "start-picking"]) => {
            let mut store = lock();
            match store.find_mut(principal, id) {
                Some((_, list)) if list.status != "ready-for-picking" => {
                    error(GlueError::new_static(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        None,
                        "Picking list is already started.",
                    ))
                }
                Some((id, list)) => {
                    list.status = "picking-started";
                    json_api(StatusCode::OK, json!({ "data": resource(id, list) }))
                }
                None => error(GlueError::NOT_FOUND),
            }
        }
        (&Method::PATCH, ["picking-lists", id, "picking-list-items"]) => {
            // Read the body before taking the lock.
            let updates = match Limited::new(body, MAX_BODY).collect().await {
                Ok(bytes) => parse_item_updates(&bytes.to_bytes()),
                Err(_) => None,
            };
            let Some(updates) = updates else {
                return error(GlueError::new_static(
                    StatusCode::BAD_REQUEST,
                    None,
                    "Request body is not a list of picking-list items.",
                ));
            };
            let mut store = lock();
            let Some((id, list)) = store.find_mut(principal, id) else {
                return error(GlueError::NOT_FOUND);
            };
            match apply_updates(list, &updates) {
                Ok(()) => json_api(StatusCode::OK, json!({ "data": resource(id, list) })),
                Err(e) => error(e),
            }
        }
        _ => {
            let envelope = Envelope::for_request(&parts.method, &parts.headers);
            GlueError::NOT_FOUND.to_response(envelope).map(Full::new)
        }
    }
}

impl Store {
    /// The warehouses `principal` may see.
    fn sees(&self, principal: Option<&Principal>, warehouse: i64) -> bool {
        match principal {
            Some(Principal::Warehouse(w)) => w.id_warehouse() == warehouse,
            Some(Principal::User(u)) => self
                .assignments
                .iter()
                .any(|&(uuid, w)| uuid == u.uuid() && w == warehouse),
            None => false,
        }
    }

    fn visible<'a>(
        &'a self,
        principal: Option<&'a Principal>,
    ) -> impl Iterator<Item = (&'static str, &'a PickingList)> + 'a {
        self.lists
            .iter()
            .filter(move |(_, l)| self.sees(principal, l.warehouse))
            .map(|(id, l)| (*id, l))
    }

    fn find(
        &self,
        principal: Option<&Principal>,
        id: &str,
    ) -> Option<(&'static str, &PickingList)> {
        let (id, list) = self.lists.get_key_value(id)?;
        self.sees(principal, list.warehouse).then_some((*id, list))
    }

    fn find_mut(
        &mut self,
        principal: Option<&Principal>,
        id: &str,
    ) -> Option<(&'static str, &mut PickingList)> {
        let warehouse = self.lists.get(id)?.warehouse;
        if !self.sees(principal, warehouse) {
            return None;
        }
        self.lists
            .iter_mut()
            .find(|(k, _)| **k == id)
            .map(|(k, l)| (*k, l))
    }
}

/// `{"data":[{"id":"…","type":"picking-list-items","attributes":{"picked":2}}]}`
fn parse_item_updates(body: &[u8]) -> Option<Vec<(String, u64)>> {
    let doc: Value = serde_json::from_slice(body).ok()?;
    doc.get("data")?
        .as_array()?
        .iter()
        .map(|item| {
            let id = item.get("id")?.as_str()?.to_owned();
            let picked = item.get("attributes")?.get("picked")?.as_u64()?;
            Some((id, picked))
        })
        .collect()
}

fn apply_updates(list: &mut PickingList, updates: &[(String, u64)]) -> Result<(), GlueError> {
    // Check everything first: a PATCH applies whole or not at all.
    for (id, picked) in updates {
        let Some(item) = list.items.iter().find(|i| i.id == id) else {
            return Err(GlueError::NOT_FOUND);
        };
        if *picked > item.quantity {
            return Err(GlueError::new_static(
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                "Picked quantity exceeds the quantity to pick.",
            ));
        }
    }
    for (id, picked) in updates {
        if let Some(item) = list.items.iter_mut().find(|i| i.id == id) {
            item.picked = *picked;
        }
    }
    if list.items.iter().all(|i| i.picked == i.quantity) {
        list.status = "picking-finished";
    }
    Ok(())
}

fn resource(id: &str, list: &PickingList) -> Value {
    let items: Vec<Value> = list
        .items
        .iter()
        .map(|i| {
            json!({
                "id": i.id,
                "sku": i.sku,
                "quantity": i.quantity,
                "numberToPick": i.quantity - i.picked,
                "picked": i.picked,
            })
        })
        .collect();
    json!({
        "type": "picking-lists",
        "id": id,
        "attributes": {
            "status": list.status,
            "warehouse": { "idWarehouse": list.warehouse },
            "pickingListItems": items,
        },
        "links": { "self": format!("/picking-lists/{id}") },
    })
}

fn json_api(status: StatusCode, doc: Value) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(doc.to_string())));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(JSON_API),
    );
    res
}

/// Picking-list routes are JSON:API routes: errors always in that envelope.
fn error(e: GlueError) -> Response<Full<Bytes>> {
    e.to_response(Envelope::JsonApi).map(Full::new)
}
