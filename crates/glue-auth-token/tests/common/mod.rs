//! Shared helpers of the integration tests.
#![allow(dead_code, unreachable_pub, missing_docs, unused_imports)]

pub mod flow;

use std::convert::Infallible;
use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use glue_auth_bearer::{BearerAuthLayer, Validator};
use glue_auth_core::{ManualClock, NumericDate, ResponseBody};
use glue_auth_scope::{RouteTable, ScopeLayer};
use glue_auth_token::store::{
    PasswordHash, StoreError, StoreFuture, UserDirectory, UserRecord, UserStanding, UserStatus,
    WarehouseAssignments,
};
pub use glue_auth_token::{Compatibility, HashingSettings, Lifetimes};
use glue_auth_token::{MemoryDirectory, SigningKey, TokenServer, TokenServerBuilder};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::util::BoxCloneSyncService;
use tower::{ServiceBuilder, ServiceExt};

pub const SONIA: &str = "sonia@spryker.com";
pub const SONIA_UUID: &str = "0d743cc3-a772-5145-971e-d4018ee7a489";
pub const PASSWORD: &str = "change123";
/// 2023-11-07T09:03:54.46159Z: Spryker's sample `iat`.
pub const T0: i64 = 1_699_347_834_461_590;

pub const INVALID_REQUEST: &str = r#"[{"status":400,"code":"invalid_request","message":"The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed."}]"#;
pub const INVALID_GRANT: &str =
    r#"[{"status":400,"code":"invalid_grant","message":"The user credentials were incorrect."}]"#;
pub const INVALID_CLIENT: &str =
    r#"[{"status":400,"code":"invalid_client","message":"Client authentication failed"}]"#;
pub const NOT_FOUND: &str = r#"[{"status":404,"code":"007","message":"Not found"}]"#;

/// A file of `tests/data/`: the foreign-signer keys of `shared/fixtures` are
/// copied there (see its README), so the tests run from the published package.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn key() -> SigningKey {
    static KEY: LazyLock<SigningKey> =
        LazyLock::new(|| SigningKey::from_pem(&fixture("test-private.pem")).unwrap());
    KEY.clone()
}

/// bcrypt cost-4 hashes, computed once per test binary.
pub fn hash4(password: &str) -> PasswordHash {
    PasswordHash::new(
        bcrypt::hash(password, 4)
            .unwrap()
            .replacen("$2b$", "$2y$", 1),
    )
}

pub fn user(id: i64, username: &str, status: UserStatus, warehouse_user: bool) -> UserRecord {
    UserRecord {
        id_user: id,
        uuid: format!("00000000-0000-0000-0000-{id:012}"),
        username: username.into(),
        password_hash: hash4(PASSWORD),
        status,
        is_warehouse_user: warehouse_user,
        user_reference: None,
    }
}

/// Demo data with cost-4 hashes, plus: a blocked user, a deleted user, a
/// warehouse user (assigned to warehouse 2), and an active user without
/// assignment.
pub fn directory() -> MemoryDirectory {
    let dir = MemoryDirectory::demo();
    let mut sonia = dir.user(SONIA).unwrap();
    sonia.password_hash = hash4(PASSWORD);
    dir.insert_user(sonia);
    dir.insert_user(user(10, "blocked@spryker.com", UserStatus::Blocked, false));
    dir.insert_user(user(11, "deleted@spryker.com", UserStatus::Deleted, false));
    let wh = user(12, "picker@spryker.com", UserStatus::Active, true);
    dir.assign(&wh.uuid, 2, true);
    dir.insert_user(wh);
    dir.insert_user(user(13, "lonely@spryker.com", UserStatus::Active, false));
    dir
}

pub fn clock() -> ManualClock {
    ManualClock::new(NumericDate::from_micros(T0))
}

pub fn builder(dir: &MemoryDirectory, clock: &ManualClock) -> TokenServerBuilder {
    TokenServer::builder(key(), dir.clone(), dir.clone())
        .clock(clock.clone())
        .hashing(cost4())
}

/// Test hashing: bcrypt cost 4.
pub fn cost4() -> HashingSettings {
    HashingSettings {
        password_cost: 4,
        ..HashingSettings::default()
    }
}

/// A validator of the server's tokens on the test clock.
pub fn validator_for(server: &TokenServer, clock: &ManualClock) -> Validator {
    Validator::builder(server.signer().current().key_set())
        .clock(clock.clone())
        .build()
        .unwrap()
}

/// The body of [`App`]'s answers: bearer ∘ scope ∘ token endpoint ∘ fallback.
pub type AppBody = ResponseBody<ResponseBody<ResponseBody<Full<Bytes>>>>;

/// The documented stack: bearer → scope → token endpoint → a fallback that
/// answers 404 `007`.
pub type App = BoxCloneSyncService<Request<Full<Bytes>>, Response<AppBody>, Infallible>;

/// The documented stack around `server`, validating on `clock`, with the
/// Spryker preset table.
pub fn app_for(server: &TokenServer, clock: &ManualClock) -> App {
    app_with(server, clock, RouteTable::spryker_backend())
}

/// [`app_for`] with another route table.
pub fn app_with(server: &TokenServer, clock: &ManualClock, table: RouteTable) -> App {
    BoxCloneSyncService::new(
        ServiceBuilder::new()
            .layer(BearerAuthLayer::new(validator_for(server, clock)))
            .layer(ScopeLayer::new(table))
            .layer(server.layer())
            .service(tower::service_fn(|_req: Request<Full<Bytes>>| async {
                let mut res = Response::new(Full::new(Bytes::from_static(NOT_FOUND.as_bytes())));
                *res.status_mut() = StatusCode::NOT_FOUND;
                res.headers_mut()
                    .insert("content-type", "application/json".parse().unwrap());
                Ok::<_, Infallible>(res)
            })),
    )
}

pub struct Setup {
    pub server: TokenServer,
    pub dir: MemoryDirectory,
    pub clock: ManualClock,
}

impl Setup {
    /// The documented stack around this setup's server.
    pub fn app(&self) -> App {
        app_for(&self.server, &self.clock)
    }
}

pub fn setup() -> Setup {
    setup_with(|b| b)
}

pub fn setup_with(f: impl FnOnce(TokenServerBuilder) -> TokenServerBuilder) -> Setup {
    let dir = directory();
    let clock = clock();
    let server = f(builder(&dir, &clock)).build().unwrap();
    Setup { server, dir, clock }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub extensions: http::Extensions,
}

impl Answer {
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// Asserts the status and the exact body of a plain error.
    #[track_caller]
    pub fn is(&self, status: u16, body: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        assert_eq!(self.text(), body);
        assert_eq!(self.header("content-type"), Some("application/json"));
    }
}

pub async fn call<S, B>(svc: S, req: Request<Full<Bytes>>) -> Answer
where
    S: tower::Service<Request<Full<Bytes>>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let res = svc.oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
        extensions: parts.extensions,
    }
}

pub fn form(path: &str, body: &str) -> Request<Full<Bytes>> {
    Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

pub fn json(path: &str, body: &str) -> Request<Full<Bytes>> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

pub fn login_body(username: &str, password: &str) -> String {
    format!(
        "grant_type=password&username={}&password={}",
        enc(username),
        enc(password)
    )
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn login_request(username: &str, password: &str) -> Request<Full<Bytes>> {
    form("/token", &login_body(username, password))
}

pub async fn login(server: &TokenServer, username: &str, password: &str) -> Answer {
    call(server.clone(), login_request(username, password)).await
}

/// A user access token of sonia.
pub async fn sonia_token(server: &TokenServer) -> String {
    let a = login(server, SONIA, PASSWORD).await;
    assert_eq!(a.status, 200, "{}", a.text());
    a.json()["access_token"].as_str().unwrap().to_owned()
}

pub fn bearer(path: &str, token: &str) -> Request<Full<Bytes>> {
    Request::post(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Full::default())
        .unwrap()
}

/// Splits a compact JWS into decoded header and payload text.
pub fn decode(token: &str) -> (String, String) {
    use base64::Engine as _;
    let mut parts = token.split('.');
    let d = |s: &str| {
        String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap(),
        )
        .unwrap()
    };
    let header = d(parts.next().unwrap());
    let payload = d(parts.next().unwrap());
    assert!(parts.next().is_some());
    assert!(parts.next().is_none());
    (header, payload)
}

/// A store that is down.
#[derive(Debug, Clone, Copy)]
pub struct DownStore;

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection refused")
    }
}

impl std::error::Error for Refused {}

impl UserDirectory for DownStore {
    fn find_by_username<'a>(&'a self, _: &'a str) -> StoreFuture<'a, Option<UserRecord>> {
        Box::pin(async { Err(StoreError::unavailable(Refused)) })
    }
    fn standing<'a>(&'a self, _: &'a str) -> StoreFuture<'a, Option<UserStanding>> {
        Box::pin(async { Err(StoreError::unavailable(Refused)) })
    }
}

impl WarehouseAssignments for DownStore {
    fn active_warehouse<'a>(&'a self, _: &'a str) -> StoreFuture<'a, Option<i64>> {
        Box::pin(async { Err(StoreError::unavailable(Refused)) })
    }
    fn warehouse_exists(&self, _: i64) -> StoreFuture<'_, bool> {
        Box::pin(async { Err(StoreError::unavailable(Refused)) })
    }
}

pub fn arc_dir(dir: &MemoryDirectory) -> Arc<dyn UserDirectory> {
    Arc::new(dir.clone())
}

/// A user directory whose look-ups wait until the gate opens: a login is then
/// deterministically "in flight" (admitted by the throttle, not yet decided).
#[derive(Debug, Clone)]
pub struct Gated {
    pub dir: MemoryDirectory,
    open: tokio::sync::watch::Receiver<bool>,
    pub arrived: Arc<std::sync::atomic::AtomicUsize>,
}

impl Gated {
    /// The directory and the gate's opener (`send(true)` opens it).
    pub fn new(dir: MemoryDirectory) -> (Self, tokio::sync::watch::Sender<bool>) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let gated = Gated {
            dir,
            open: rx,
            arrived: Arc::default(),
        };
        (gated, tx)
    }

    /// Waits until `n` look-ups are waiting at (or went through) the gate.
    pub async fn wait_arrived(&self, n: usize) {
        while self.arrived.load(std::sync::atomic::Ordering::SeqCst) < n {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
}

impl UserDirectory for Gated {
    fn find_by_username<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRecord>> {
        let mut open = self.open.clone();
        Box::pin(async move {
            self.arrived
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = open.wait_for(|o| *o).await;
            self.dir.find_by_username(username).await
        })
    }
    fn standing<'a>(&'a self, user_uuid: &'a str) -> StoreFuture<'a, Option<UserStanding>> {
        self.dir.standing(user_uuid)
    }
}
