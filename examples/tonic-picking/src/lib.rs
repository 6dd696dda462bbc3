//! # tonic-picking: the whole Glue front for a tonic 0.14 gRPC service
//!
//! A picking-list gRPC service (`fulfillment.v1.PickingLists`, see
//! `proto/picking.proto`) behind the three glue-auth layers in the documented
//! order, answering refusals the gRPC way: trailers-only responses with
//! `grpc-status` 16 UNAUTHENTICATED or 7 PERMISSION_DENIED (SPEC §5.3).
//!
//! ```text
//! tonic Server ─► BearerAuthLayer ─► ScopeLayer ─► TokenEndpointLayer ─► PickingListsServer
//!                 (GrpcRejection)    (GrpcRejection,  (GrpcRejection)
//!                                     route_table())
//! ```
//!
//! The token endpoint is plain HTTP on the same HTTP/2 port: `POST /token`
//! (Spryker's password grant) and `POST /warehouse-tokens` (201, a token of
//! the user's active warehouse, read from the claims the bearer layer found;
//! the endpoint never verifies a token itself). Its refusals go through the
//! same gRPC responder (no active warehouse: 7). It signs with the RSA
//! **private** key whose public half the bearer layer validates against;
//! users and assignments are [`MemoryDirectory::demo`] (`sonia@spryker.com` /
//! `change123`, assigned to warehouse 1).
//!
//! | route | policy | no token | bad token | warehouse token | user token |
//! |---|---|---|---|---|---|
//! | `POST /token` (HTTP) | [public](Policy::public) | the endpoint | 16 | the endpoint | the endpoint |
//! | `POST /warehouse-tokens` (HTTP) | [user required](Policy::user_required) + [user scope](Policy::user_scope_with_warehouse_user) | 16 | 16 | 7 | HTTP 201 |
//! | `ListPickingLists`, `GetPickingList`, `StartPicking` | [warehouse or user](Policy::warehouse_or_user) | 16 | 16 | OK | OK (legacy `["user"]`: 7) |
//! | `UpdateItems` | user required + user scope | 16 | 16 | 7 | OK |
//! | anything else | [denied](glue_auth_scope::RouteTableBuilder::deny_unmatched) | 16 | 16 | 7 | 7 |
//!
//! The two token routes take their policies from Spryker's preset
//! ([`RouteTable::spryker_backend`]), so they are guarded exactly as in the
//! HTTP examples ([`route_table`]).
//!
//! Handlers read the caller from the request extensions
//! (`request.extensions().get::<Principal>()`): tonic carries the HTTP
//! extensions the layers set into [`tonic::Request`].
//!
//! ## No protoc needed
//!
//! The message structs ([`proto`]) and the server glue ([`server`]) are
//! written by hand, exactly in the shape prost-build and tonic-build generate:
//! `#[derive(prost::Message)]` structs, and a `Service<http::Request<B>>` that
//! dispatches on the path and runs each call through
//! [`tonic::server::Grpc`] with a [`tonic_prost::ProstCodec`]. In a project
//! with more protos, generate them instead (`tonic-prost-build` in `build.rs`,
//! fed by `protoc` or by the pure-Rust `protox`).
//!
//! ## Run it
//!
//! ```text
//! cargo run -p tonic-picking -- --port 50051 --private-key path/to/private.pem
//! ```
//!
//! Both flags are optional (`PORT`, `GLUE_PRIVATE_KEY`; defaults 50051 and the
//! workspace's test key, `shared/fixtures/foreign-signer/test-private.pem`).
//! The service listens on `127.0.0.1` and speaks HTTP/2 only (hence curl's
//! `--http2-prior-knowledge`). Log in, exchange the user token for a
//! warehouse token, and call the gRPC service with it:
//!
//! ```text
//! # Spryker's password grant: 200 {"token_type":"Bearer","expires_in":28800,"access_token":…,"refresh_token":…}
//! TOKEN=$(curl -s --http2-prior-knowledge \
//!      -d 'grant_type=password&username=sonia%40spryker.com&password=change123' \
//!      http://127.0.0.1:50051/token | jq -r .access_token)
//!
//! # The exchange: 201 [{"tokenType":"Bearer","expiresIn":604800,"accessToken":…,"refreshToken":…}]
//! WAREHOUSE_TOKEN=$(curl -s --http2-prior-knowledge -X POST -H "Authorization: Bearer $TOKEN" \
//!      http://127.0.0.1:50051/warehouse-tokens | jq -r '.[0].accessToken')
//!
//! grpcurl -plaintext -import-path examples/tonic-picking/proto -proto picking.proto \
//!     -H "authorization: Bearer $WAREHOUSE_TOKEN" 127.0.0.1:50051 fulfillment.v1.PickingLists/ListPickingLists
//!
//! # A warehouse token cannot mint another: trailers-only, grpc-status: 7
//! curl -si --http2-prior-knowledge -X POST -H "Authorization: Bearer $WAREHOUSE_TOKEN" \
//!      http://127.0.0.1:50051/warehouse-tokens
//! ```
//!
//! ## Use it from code
//!
//! [`app`] builds the whole front for a key without a socket; [`app_with`]
//! takes your own [`Validator`] (clock, cache: its
//! [`cache_stats`](Validator::cache_stats) count the signature checks) and
//! [`TokenServer`]; [`serve`] and [`serve_with`] run tonic's server with the
//! same layers ([`auth_layers`]).
//!
//! ```
//! use glue_auth_token::SigningKey;
//! use tonic_picking::proto::{ListPickingListsRequest, ListPickingListsResponse};
//! use tonic_prost::ProstCodec;
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let pem = std::fs::read(tonic_picking::DEFAULT_PRIVATE_KEY).unwrap();
//! let app = tonic_picking::app(SigningKey::from_pem(&pem).unwrap());
//!
//! // tonic's client drives the service in-process, no socket.
//! let mut client = tonic::client::Grpc::new(app.clone());
//! client.ready().await.unwrap();
//! let status = client
//!     .unary::<_, ListPickingListsResponse, _>(
//!         tonic::Request::new(ListPickingListsRequest {}),
//!         "/fulfillment.v1.PickingLists/ListPickingLists".parse().unwrap(),
//!         ProstCodec::default(),
//!     )
//!     .await
//!     .unwrap_err();
//! // No token on a picking-list method: UNAUTHENTICATED from the scope layer.
//! assert_eq!(status.code(), tonic::Code::Unauthenticated);
//!
//! // The token endpoint is HTTP on the same service: a login is Spryker's 200 …
//! let login = http::Request::post("/token")
//!     .header("content-type", "application/x-www-form-urlencoded")
//!     .body(tonic::body::Body::new(String::from(
//!         "grant_type=password&username=sonia%40spryker.com&password=change123",
//!     )))
//!     .unwrap();
//! assert_eq!(app.clone().oneshot(login).await.unwrap().status(), 200);
//! // … and an exchange without a token is refused trailers-only, grpc-status 16.
//! let exchange = http::Request::post("/warehouse-tokens")
//!     .body(tonic::body::Body::empty())
//!     .unwrap();
//! let res = app.oneshot(exchange).await.unwrap();
//! assert_eq!(res.headers()["grpc-status"], "16");
//! # }
//! ```

pub mod proto;
pub mod server;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use glue_auth_bearer::{BearerAuth, BearerAuthLayer, Validator};
use glue_auth_core::{GrpcRejection, Principal};
use glue_auth_scope::{Policy, RouteTable, Scope, ScopeLayer};
use glue_auth_token::{
    ClientAddress, MemoryDirectory, SigningKey, TokenEndpoint, TokenEndpointLayer, TokenServer,
};
use http::Method;
use tokio::net::TcpListener;
use tonic::transport::server::{TcpConnectInfo, TcpIncoming};
use tonic::{Request, Response, Status};
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};

use crate::proto::{
    GetPickingListRequest, ListPickingListsRequest, ListPickingListsResponse, PickingList,
    PickingListItem, StartPickingRequest, UpdateItemsRequest,
};
use crate::server::{PickingListsServer, SERVICE_NAME};

/// The workspace's test private key, the default for the demo. Its public
/// half validates the tokens.
pub const DEFAULT_PRIVATE_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/foreign-signer/test-private.pem"
);

/// The whole front: bearer layer, scope layer, token endpoint, picking-list
/// server, every refusal a gRPC status.
pub type App = BearerAuth<
    Scope<TokenEndpoint<PickingListsServer<DemoPickingLists>, GrpcRejection>, GrpcRejection>,
    GrpcRejection,
>;

/// The three layers with gRPC answers, in the documented order.
pub type AuthLayers = ServiceBuilder<
    Stack<
        TokenEndpointLayer<GrpcRejection>,
        Stack<ScopeLayer<GrpcRejection>, Stack<BearerAuthLayer<GrpcRejection>, Identity>>,
    >,
>;

/// Who may call which route (see the table in the crate docs): the two token
/// routes as in Spryker's preset, the picking-list methods, everything else
/// denied.
pub fn route_table() -> RouteTable {
    // `POST /token` public, `POST /warehouse-tokens` user required + user
    // scope (warehouse-user allowed): taken from the preset, not restated.
    let spryker = RouteTable::spryker_backend();
    let preset = |path: &str| {
        spryker
            .find(&Method::POST, path)
            .cloned()
            .expect("a route of the Spryker preset")
    };
    let warehouse_or_user = Policy::warehouse_or_user;
    RouteTable::builder()
        .route(Method::POST, "/token", preset("/token"))
        .route(
            Method::POST,
            "/warehouse-tokens",
            preset("/warehouse-tokens"),
        )
        .grpc_method(SERVICE_NAME, "ListPickingLists", warehouse_or_user())
        .grpc_method(SERVICE_NAME, "GetPickingList", warehouse_or_user())
        .grpc_method(SERVICE_NAME, "StartPicking", warehouse_or_user())
        .grpc_method(
            SERVICE_NAME,
            "UpdateItems",
            Policy::user_required().and(Policy::user_scope_with_warehouse_user()),
        )
        .deny_unmatched()
        .build()
        .expect("the example's route table is valid")
}

/// The token endpoint of the demo: signs with `key`, users and warehouse
/// assignments from [`MemoryDirectory::demo`], Spryker's default settings.
///
/// Failed logins are also counted per client address, read from the
/// [`TcpConnectInfo`] tonic's server puts into every request.
pub fn token_server(key: SigningKey) -> TokenServer {
    let users = MemoryDirectory::demo();
    TokenServer::builder(key, users.clone(), users)
        .client_address(ClientAddress::custom(|parts| {
            parts
                .extensions
                .get::<TcpConnectInfo>()
                .and_then(TcpConnectInfo::remote_addr)
                .map(|addr| addr.ip())
        }))
        .build()
        .expect("the demo token server's settings are valid")
}

/// Bearer, scope and token endpoint, all answering with gRPC status codes,
/// ready for `tonic::transport::Server::builder().layer(..)` or a
/// [`ServiceBuilder`].
pub fn auth_layers(validator: Validator, tokens: TokenServer) -> AuthLayers {
    ServiceBuilder::new()
        .layer(BearerAuthLayer::new(validator).responder(GrpcRejection))
        .layer(ScopeLayer::with_responder(route_table(), GrpcRejection))
        .layer(tokens.layer().responder(GrpcRejection))
}

/// The whole front for `key` (tokens signed with it, validated against its
/// public half, Glue's default validation settings), to drive without a
/// socket (tests, `tonic::client::Grpc`).
pub fn app(key: SigningKey) -> App {
    let validator = Validator::new(key.key_set());
    app_with(validator, token_server(key))
}

/// The whole front around your own [`Validator`] (clock, leeway, audiences,
/// cache) and [`TokenServer`]. The validator must accept the server's tokens.
pub fn app_with(validator: Validator, tokens: TokenServer) -> App {
    auth_layers(validator, tokens).service(PickingListsServer::new(DemoPickingLists::default()))
}

/// Serves [`app`]'s stack with tonic's server (HTTP/2) on `listener`.
pub async fn serve(listener: TcpListener, key: SigningKey) -> Result<(), tonic::transport::Error> {
    let validator = Validator::new(key.key_set());
    serve_with(listener, validator, token_server(key)).await
}

/// Serves [`app_with`]'s stack with tonic's server (HTTP/2) on `listener`.
pub async fn serve_with(
    listener: TcpListener,
    validator: Validator,
    tokens: TokenServer,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .layer(auth_layers(validator, tokens))
        .serve_with_incoming(
            PickingListsServer::new(DemoPickingLists::default()),
            TcpIncoming::from(listener),
        )
        .await
}

/// In-memory picking lists: two warehouses, three lists; the demo user
/// `sonia@spryker.com` works in warehouse 1.
#[derive(Debug)]
pub struct DemoPickingLists {
    data: Mutex<Data>,
}

#[derive(Debug)]
struct Data {
    /// id → list
    lists: BTreeMap<String, PickingList>,
    /// `user uuid → warehouse` (`spy_warehouse_user_assignment`, active rows).
    assignments: Vec<(String, i64)>,
}

impl Default for DemoPickingLists {
    fn default() -> Self {
        let list = |id: &str, warehouse_id, items: &[(&str, &str, u64)]| PickingList {
            id: id.into(),
            warehouse_id,
            status: "ready-for-picking".into(),
            items: items
                .iter()
                .map(|&(id, sku, quantity)| PickingListItem {
                    id: id.into(),
                    sku: sku.into(),
                    quantity,
                    number_to_pick: quantity,
                    picked: 0,
                })
                .collect(),
        };
        let lists = [
            list(
                "7f2a0c1e-3b4d-5e6f-8a9b-0c1d2e3f4a5b",
                1,
                &[
                    ("a1b2c3d4-0001-4000-8000-000000000001", "141_29380410", 2),
                    ("a1b2c3d4-0002-4000-8000-000000000002", "066_23294028", 1),
                ],
            ),
            list(
                "8e3b1d2f-4c5e-6f70-9bac-1d2e3f4a5b6c",
                1,
                &[("a1b2c3d4-0003-4000-8000-000000000003", "020_21081478", 5)],
            ),
            list(
                "9f4c2e30-5d6f-7081-acbd-2e3f4a5b6c7d",
                2,
                &[("a1b2c3d4-0004-4000-8000-000000000004", "193_32124735", 3)],
            ),
        ];
        DemoPickingLists {
            data: Mutex::new(Data {
                lists: lists.into_iter().map(|l| (l.id.clone(), l)).collect(),
                assignments: vec![("0d743cc3-a772-5145-971e-d4018ee7a489".into(), 1)],
            }),
        }
    }
}

impl DemoPickingLists {
    fn lock(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Data {
    fn sees(&self, who: Option<&Principal>, warehouse: i64) -> bool {
        match who {
            Some(Principal::Warehouse(w)) => w.id_warehouse() == warehouse,
            Some(Principal::User(u)) => self
                .assignments
                .iter()
                .any(|(uuid, w)| uuid == u.uuid() && *w == warehouse),
            None => false,
        }
    }

    /// The list, if `who` may see it; `NOT_FOUND` otherwise (as if it did not
    /// exist).
    fn find_mut(&mut self, who: Option<&Principal>, id: &str) -> Result<&mut PickingList, Status> {
        let warehouse = self.lists.get(id).map(|l| l.warehouse_id);
        match warehouse {
            Some(w) if self.sees(who, w) => Ok(self.lists.get_mut(id).expect("present")),
            _ => Err(Status::not_found("picking list not found")),
        }
    }
}

impl server::PickingLists for DemoPickingLists {
    async fn list_picking_lists(
        &self,
        request: Request<ListPickingListsRequest>,
    ) -> Result<Response<ListPickingListsResponse>, Status> {
        let who = request.extensions().get::<Principal>();
        let data = self.lock();
        let picking_lists = data
            .lists
            .values()
            .filter(|l| data.sees(who, l.warehouse_id))
            .cloned()
            .collect();
        Ok(Response::new(ListPickingListsResponse { picking_lists }))
    }

    async fn get_picking_list(
        &self,
        request: Request<GetPickingListRequest>,
    ) -> Result<Response<PickingList>, Status> {
        let who = request.extensions().get::<Principal>();
        let mut data = self.lock();
        let list = data.find_mut(who, &request.get_ref().id)?;
        Ok(Response::new(list.clone()))
    }

    async fn start_picking(
        &self,
        request: Request<StartPickingRequest>,
    ) -> Result<Response<PickingList>, Status> {
        let who = request.extensions().get::<Principal>();
        let mut data = self.lock();
        let list = data.find_mut(who, &request.get_ref().id)?;
        if list.status != "ready-for-picking" {
            return Err(Status::failed_precondition(
                "picking list is already started",
            ));
        }
        list.status = "picking-started".into();
        Ok(Response::new(list.clone()))
    }

    async fn update_items(
        &self,
        request: Request<UpdateItemsRequest>,
    ) -> Result<Response<PickingList>, Status> {
        let who = request.extensions().get::<Principal>();
        let req = request.get_ref();
        let mut data = self.lock();
        let list = data.find_mut(who, &req.picking_list_id)?;
        // Check everything first: an update applies whole or not at all.
        for update in &req.items {
            match list.items.iter().find(|i| i.id == update.id) {
                None => return Err(Status::not_found("picking-list item not found")),
                Some(i) if update.picked > i.quantity => {
                    return Err(Status::invalid_argument(
                        "picked quantity exceeds the quantity to pick",
                    ));
                }
                Some(_) => {}
            }
        }
        for update in &req.items {
            if let Some(item) = list.items.iter_mut().find(|i| i.id == update.id) {
                item.picked = update.picked;
                item.number_to_pick = item.quantity - update.picked;
            }
        }
        if list.items.iter().all(|i| i.number_to_pick == 0) {
            list.status = "picking-finished".into();
        }
        Ok(Response::new(list.clone()))
    }
}
