//! The built-in demo service: Spryker's picking lists (SPEC §7), in memory.
//!
//! Realistic enough to show the layers at work: two warehouses, a handful of
//! lists with items, filtering by principal, `start-picking` changing the
//! status and `PATCH .../picking-list-items` updating picked quantities. Error
//! answers are JSON:API envelopes with Glue's error objects.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use glue_auth_core::{Envelope, GlueError, Principal};
use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body as HttpBody;
use http_body_util::{BodyExt, Limited};
use serde_json::{Value, json};

use crate::body::{Body, BoxError, full};
use crate::reads::Reads;

const JSON_API: &str = "application/vnd.api+json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ready,
    Started,
    Finished,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Ready => "ready-for-picking",
            Status::Started => "picking-started",
            Status::Finished => "picking-finished",
        }
    }
}

#[derive(Debug, Clone)]
struct Item {
    id: String,
    sku: &'static str,
    name: &'static str,
    quantity: u64,
    picked: u64,
    not_picked: u64,
}

#[derive(Debug, Clone)]
struct PickingList {
    id: String,
    warehouse: i64,
    status: Status,
    created_at: String,
    updated_at: String,
    user_uuid: Option<String>,
    items: Vec<Item>,
}

struct Warehouse {
    id: i64,
    uuid: &'static str,
    name: &'static str,
}

const WAREHOUSES: [Warehouse; 2] = [
    Warehouse {
        id: 1,
        uuid: "834b3731-02d4-5d6f-9a61-d63ae5e70517",
        name: "Warehouse1",
    },
    Warehouse {
        id: 2,
        uuid: "0fd8ba6a-2ab5-52b0-9b2e-5e2b3c9a6f21",
        name: "Warehouse2",
    },
];

fn warehouse(id: i64) -> Option<&'static Warehouse> {
    WAREHOUSES.iter().find(|w| w.id == id)
}

fn seed() -> Vec<PickingList> {
    let item = |n: u32, sku, name, quantity, picked, not_picked| Item {
        id: format!("5d1f0c2e-7b5a-5f0e-8c9d-00000000{n:04}"),
        sku,
        name,
        quantity,
        picked,
        not_picked,
    };
    let list = |n: u32, warehouse, status, created: &str, items| PickingList {
        id: format!("a3c1e5b0-3f4d-5e6a-9b7c-00000000{n:04}"),
        warehouse,
        status,
        created_at: created.to_owned(),
        updated_at: created.to_owned(),
        user_uuid: None,
        items,
    };
    vec![
        list(
            1,
            1,
            Status::Ready,
            "2024-03-04 08:15:02.000000",
            vec![
                item(11, "066_23294028", "Samsung Galaxy S5 mini", 2, 0, 0),
                item(12, "139_24699831", "Asus Transformer Book T200TA", 1, 0, 0),
            ],
        ),
        list(
            2,
            1,
            Status::Ready,
            "2024-03-04 08:20:41.000000",
            vec![item(
                21,
                "021_21081475",
                "Sony Cyber-shot DSC-W830",
                3,
                0,
                0,
            )],
        ),
        list(
            3,
            1,
            Status::Finished,
            "2024-03-01 14:02:11.000000",
            vec![item(31, "005_30663301", "Canon IXUS 160", 1, 1, 0)],
        ),
        list(
            4,
            2,
            Status::Ready,
            "2024-03-04 09:01:55.000000",
            vec![
                item(41, "176_20946227", "Lenovo Yoga 3 11", 1, 0, 0),
                item(42, "110_19682159", "Samsung Gear S2", 4, 0, 0),
            ],
        ),
        list(
            5,
            2,
            Status::Started,
            "2024-03-03 17:45:30.000000",
            vec![item(51, "084_20300413", "Acer Aspire S7", 2, 1, 0)],
        ),
    ]
}

/// Spryker's date format (`Y-m-d H:i:s.u`, UTC).
fn now_string() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// The demo picking-lists service. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Demo {
    inner: Arc<State>,
}

struct State {
    lists: Mutex<Vec<PickingList>>,
    /// The user's active warehouse, cached: no database trip for a request
    /// whose answer is known.
    reads: Arc<Reads>,
    body_limit: usize,
}

impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo").finish_non_exhaustive()
    }
}

enum Route<'a> {
    List,
    One(&'a str),
    Start(&'a str),
    Items(&'a str),
}

fn route(path: &str) -> Option<Route<'_>> {
    let path = path.strip_suffix('/').unwrap_or(path);
    let rest = path.strip_prefix("/picking-lists")?;
    if rest.is_empty() {
        return Some(Route::List);
    }
    let rest = rest.strip_prefix('/')?;
    let mut parts = rest.split('/');
    let id = parts.next().filter(|s| !s.is_empty())?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(Route::One(id)),
        (Some("start-picking"), None) => Some(Route::Start(id)),
        (Some("picking-list-items"), None) => Some(Route::Items(id)),
        _ => None,
    }
}

fn error(status: StatusCode, code: Option<&'static str>, message: &'static str) -> Response<Body> {
    GlueError::new_static(status, code, message)
        .to_response(Envelope::JsonApi)
        .map(full)
}

fn not_found() -> Response<Body> {
    error(StatusCode::NOT_FOUND, Some("007"), "Not found")
}

fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut res = error(StatusCode::METHOD_NOT_ALLOWED, None, "Method not allowed.");
    res.headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    res
}

fn unprocessable(message: &'static str) -> Response<Body> {
    error(StatusCode::UNPROCESSABLE_ENTITY, None, message)
}

fn document(status: StatusCode, doc: &Value) -> Response<Body> {
    let mut res = Response::new(full(Bytes::from(doc.to_string())));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON_API));
    res
}

impl Demo {
    pub(crate) fn new(reads: Arc<Reads>, body_limit: usize) -> Self {
        Demo {
            inner: Arc::new(State {
                lists: Mutex::new(seed()),
                reads,
                body_limit,
            }),
        }
    }

    fn lists(&self) -> MutexGuard<'_, Vec<PickingList>> {
        self.inner.lists.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Answers one request.
    pub(crate) async fn call<B>(&self, req: Request<B>) -> Response<Body>
    where
        B: HttpBody<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        let Some(route) = route(req.uri().path()) else {
            let envelope = Envelope::for_request(req.method(), req.headers());
            return GlueError::NOT_FOUND.to_response(envelope).map(full);
        };
        let base = req
            .headers()
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| format!("http://{h}"))
            .unwrap_or_default();
        let get = req.method() == Method::GET || req.method() == Method::HEAD;
        let principal = req.extensions().get::<Principal>().cloned();
        let method = req.method().clone();
        match route {
            Route::List if get => self.list(principal, &base).await,
            Route::List => method_not_allowed("GET, HEAD"),
            Route::One(id) if get => {
                let id = id.to_owned();
                self.one(principal, &id, &base).await
            }
            Route::One(_) => method_not_allowed("GET, HEAD"),
            Route::Start(id) if method == Method::POST => {
                let id = id.to_owned();
                self.start(principal, &id, &base).await
            }
            Route::Start(_) => method_not_allowed("POST"),
            Route::Items(id) if method == Method::PATCH => {
                let id = id.to_owned();
                self.patch_items(principal, req, &id, &base).await
            }
            Route::Items(_) => method_not_allowed("PATCH"),
        }
    }

    /// The warehouses the request's principal may see.
    async fn warehouses(&self, principal: Option<&Principal>) -> Result<Vec<i64>, Response<Body>> {
        match principal {
            Some(Principal::Warehouse(w)) => Ok(vec![w.id_warehouse()]),
            Some(Principal::User(u)) => match self.inner.reads.active_warehouse(u.uuid()).await {
                Ok(w) => Ok(w.into_iter().collect()),
                Err(e) => {
                    tracing::warn!(error = %e, "assignment store unavailable");
                    let mut res = error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        None,
                        "Service temporarily unavailable.",
                    );
                    res.headers_mut()
                        .insert(http::header::RETRY_AFTER, HeaderValue::from(5));
                    Err(res)
                }
            },
            // The scope layer lets no anonymous request through to here.
            None => Err(error(StatusCode::FORBIDDEN, None, "Authorization failed.")),
        }
    }

    async fn list(&self, principal: Option<Principal>, base: &str) -> Response<Body> {
        let allowed = match self.warehouses(principal.as_ref()).await {
            Ok(w) => w,
            Err(res) => return res,
        };
        let lists = self.lists();
        let visible: Vec<&PickingList> = lists
            .iter()
            .filter(|l| allowed.contains(&l.warehouse))
            .collect();
        let data: Vec<Value> = visible.iter().map(|l| resource(l, base)).collect();
        let included = included(&visible);
        document(
            StatusCode::OK,
            &json!({
                "data": data,
                "included": included,
                "links": {"self": format!("{base}/picking-lists")},
            }),
        )
    }

    async fn one(&self, principal: Option<Principal>, id: &str, base: &str) -> Response<Body> {
        let allowed = match self.warehouses(principal.as_ref()).await {
            Ok(w) => w,
            Err(res) => return res,
        };
        let lists = self.lists();
        match lists
            .iter()
            .find(|l| l.id == id && allowed.contains(&l.warehouse))
        {
            Some(l) => single(StatusCode::OK, l, base),
            None => not_found(),
        }
    }

    async fn start(&self, principal: Option<Principal>, id: &str, base: &str) -> Response<Body> {
        let allowed = match self.warehouses(principal.as_ref()).await {
            Ok(w) => w,
            Err(res) => return res,
        };
        let user = principal
            .as_ref()
            .and_then(Principal::as_user)
            .map(|u| u.uuid().to_owned());
        let mut lists = self.lists();
        let Some(l) = lists
            .iter_mut()
            .find(|l| l.id == id && allowed.contains(&l.warehouse))
        else {
            return not_found();
        };
        if l.status != Status::Ready {
            return unprocessable("Picking list is already started.");
        }
        l.status = Status::Started;
        l.user_uuid = user;
        l.updated_at = now_string();
        tracing::info!(picking_list = %l.id, "picking started");
        single(StatusCode::CREATED, l, base)
    }

    async fn patch_items<B>(
        &self,
        principal: Option<Principal>,
        req: Request<B>,
        id: &str,
        base: &str,
    ) -> Response<Body>
    where
        B: HttpBody<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        let allowed = match self.warehouses(principal.as_ref()).await {
            Ok(w) => w,
            Err(res) => return res,
        };
        let too_large = || {
            error(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                "Request body is too large.",
            )
        };
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.inner.body_limit as u64) {
            return too_large();
        }
        let body = match Limited::new(req.into_body(), self.inner.body_limit)
            .collect()
            .await
        {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    return too_large();
                }
                return error(
                    StatusCode::BAD_REQUEST,
                    None,
                    "Request body could not be read.",
                );
            }
        };
        let updates = match parse_items(&body) {
            Ok(u) => u,
            Err((status, message)) => return error(status, None, message),
        };
        let mut lists = self.lists();
        let Some(l) = lists
            .iter_mut()
            .find(|l| l.id == id && allowed.contains(&l.warehouse))
        else {
            return not_found();
        };
        if l.status == Status::Finished {
            return unprocessable("Picking list is already finished.");
        }
        // Check everything before changing anything.
        for u in &updates {
            let Some(item) = l.items.iter().find(|i| i.id == u.id) else {
                return unprocessable("Picking list item entity not found.");
            };
            if u.picked.saturating_add(u.not_picked) > item.quantity {
                return unprocessable(
                    "numberOfPicked + numberOfNotPicked exceeds the item quantity.",
                );
            }
        }
        for u in &updates {
            if let Some(item) = l.items.iter_mut().find(|i| i.id == u.id) {
                item.picked = u.picked;
                item.not_picked = u.not_picked;
            }
        }
        let done = l
            .items
            .iter()
            .all(|i| i.picked + i.not_picked == i.quantity);
        l.status = if done {
            Status::Finished
        } else {
            Status::Started
        };
        l.updated_at = now_string();
        tracing::info!(picking_list = %l.id, items = updates.len(), status = l.status.as_str(), "picking list items updated");
        single(StatusCode::OK, l, base)
    }
}

struct ItemUpdate {
    id: String,
    picked: u64,
    not_picked: u64,
}

/// A refused PATCH body: status and message.
type BodyError = (StatusCode, &'static str);

fn parse_items(body: &[u8]) -> Result<Vec<ItemUpdate>, BodyError> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|_| (StatusCode::BAD_REQUEST, "Request body is not valid JSON."))?;
    let Some(data) = doc.get("data").and_then(Value::as_array) else {
        return Err((
            StatusCode::BAD_REQUEST,
            "Request body must be a JSON:API document with a `data` array.",
        ));
    };
    if data.is_empty() {
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            "`data` must name at least one item.",
        ));
    }
    let mut out: Vec<ItemUpdate> = Vec::with_capacity(data.len());
    let mut ids: HashSet<&str> = HashSet::with_capacity(data.len());
    for entry in data {
        if entry.get("type").and_then(Value::as_str) != Some("picking-list-items") {
            return Err((
                StatusCode::UNPROCESSABLE_ENTITY,
                "Every entry of `data` must have type `picking-list-items`.",
            ));
        }
        let Some(id) = entry.get("id").and_then(Value::as_str) else {
            return Err((
                StatusCode::UNPROCESSABLE_ENTITY,
                "Every entry of `data` needs an `id`.",
            ));
        };
        let attrs = entry.get("attributes");
        let number = |key: &str| attrs.and_then(|a| a.get(key)).and_then(Value::as_u64);
        let (Some(picked), Some(not_picked)) =
            (number("numberOfPicked"), number("numberOfNotPicked"))
        else {
            return Err((
                StatusCode::UNPROCESSABLE_ENTITY,
                "`numberOfPicked` and `numberOfNotPicked` must be non-negative integers.",
            ));
        };
        if !ids.insert(id) {
            return Err((StatusCode::UNPROCESSABLE_ENTITY, "An item is listed twice."));
        }
        out.push(ItemUpdate {
            id: id.to_owned(),
            picked,
            not_picked,
        });
    }
    Ok(out)
}

fn resource(l: &PickingList, base: &str) -> Value {
    let items: Vec<Value> = l
        .items
        .iter()
        .map(|i| json!({"type": "picking-list-items", "id": i.id}))
        .collect();
    let wh = warehouse(l.warehouse);
    json!({
        "type": "picking-lists",
        "id": l.id,
        "attributes": {
            "status": l.status.as_str(),
            "createdAt": l.created_at,
            "updatedAt": l.updated_at,
        },
        "relationships": {
            "picking-list-items": {"data": items},
            "warehouses": {"data": wh.map(|w| vec![json!({"type": "warehouses", "id": w.uuid})]).unwrap_or_default()},
        },
        "links": {"self": format!("{base}/picking-lists/{}", l.id)},
    })
}

fn included(lists: &[&PickingList]) -> Vec<Value> {
    let mut out = Vec::new();
    let mut seen_wh = Vec::new();
    for l in lists {
        for i in &l.items {
            out.push(json!({
                "type": "picking-list-items",
                "id": i.id,
                "attributes": {
                    "quantity": i.quantity,
                    "numberOfPicked": i.picked,
                    "numberOfNotPicked": i.not_picked,
                    "orderItem": {"sku": i.sku, "name": i.name, "quantity": i.quantity},
                },
            }));
        }
        if let Some(w) = warehouse(l.warehouse)
            && !seen_wh.contains(&w.id)
        {
            seen_wh.push(w.id);
            out.push(json!({
                "type": "warehouses",
                "id": w.uuid,
                "attributes": {"name": w.name, "uuid": w.uuid, "isActive": true},
            }));
        }
    }
    out
}

fn single(status: StatusCode, l: &PickingList, base: &str) -> Response<Body> {
    document(
        status,
        &json!({
            "data": resource(l, base),
            "included": included(&[l]),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use glue_auth_core::{UserPrincipal, WarehousePrincipal};

    #[test]
    fn items_listed_twice_are_refused_in_large_bodies_too() {
        let entry = |id: usize| {
            json!({"type": "picking-list-items", "id": format!("i-{id}"),
                   "attributes": {"numberOfPicked": 0, "numberOfNotPicked": 0}})
        };
        let mut data: Vec<Value> = (0..20_000).map(entry).collect();
        let body = json!({ "data": data }).to_string();
        assert_eq!(parse_items(body.as_bytes()).unwrap().len(), 20_000);
        data.push(entry(7));
        let body = json!({ "data": data }).to_string();
        let Err((status, message)) = parse_items(body.as_bytes()) else {
            panic!("a duplicate was accepted");
        };
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(message, "An item is listed twice.");
    }
    use glue_auth_token::MemoryDirectory;
    use http_body_util::Full;

    fn demo() -> Demo {
        Demo::new(
            Arc::new(Reads::new(Arc::new(MemoryDirectory::demo()))),
            1024,
        )
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    async fn send(d: &Demo, mut req: Request<Full<Bytes>>, p: Principal) -> (StatusCode, Value) {
        req.extensions_mut().insert(p);
        let res = d.call(req).await;
        let status = res.status();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap())
    }

    fn user() -> Principal {
        Principal::User(UserPrincipal::new(
            4,
            "0d743cc3-a772-5145-971e-d4018ee7a489",
            None::<String>,
        ))
    }

    #[test]
    fn filtering_start_and_patch() {
        rt().block_on(async {
            let d = demo();
            let get = |p: &str| Request::get(p).body(Full::default()).unwrap();
            let (s, doc) = send(&d, get("/picking-lists"), user()).await;
            assert_eq!(s, 200);
            assert_eq!(doc["data"].as_array().unwrap().len(), 3);
            let (_, doc) = send(
                &d,
                get("/picking-lists/"),
                Principal::Warehouse(WarehousePrincipal::new(2)),
            )
            .await;
            assert_eq!(doc["data"].as_array().unwrap().len(), 2);
            let other = "/picking-lists/a3c1e5b0-3f4d-5e6a-9b7c-000000000004";
            let (s, doc) = send(&d, get(other), user()).await;
            assert_eq!(s, 404);
            assert_eq!(doc["errors"][0]["code"], "007");

            let id = "a3c1e5b0-3f4d-5e6a-9b7c-000000000002";
            let start = Request::post(format!("/picking-lists/{id}/start-picking"))
                .body(Full::default())
                .unwrap();
            let (s, doc) = send(&d, start, user()).await;
            assert_eq!(s, 201);
            assert_eq!(doc["data"]["attributes"]["status"], "picking-started");

            let patch = |body: &str| {
                Request::patch(format!("/picking-lists/{id}/picking-list-items"))
                    .header("content-type", JSON_API)
                    .body(Full::new(Bytes::from(body.to_owned())))
                    .unwrap()
            };
            let (s, _) = send(&d, patch("{"), user()).await;
            assert_eq!(s, 400);
            let (s, _) = send(
                &d,
                patch(r#"{"data":[{"id":"5d1f0c2e-7b5a-5f0e-8c9d-000000000021","type":"picking-list-items","attributes":{"numberOfPicked":3,"numberOfNotPicked":1}}]}"#),
                user(),
            )
            .await;
            assert_eq!(s, 422);
            let (s, doc) = send(
                &d,
                patch(r#"{"data":[{"id":"5d1f0c2e-7b5a-5f0e-8c9d-000000000021","type":"picking-list-items","attributes":{"numberOfPicked":2,"numberOfNotPicked":1}}]}"#),
                user(),
            )
            .await;
            assert_eq!(s, 200);
            assert_eq!(doc["data"]["attributes"]["status"], "picking-finished");
            assert_eq!(doc["included"][0]["attributes"]["numberOfPicked"], 2);
        });
    }

    #[test]
    fn dates_look_like_spryker() {
        let s = now_string();
        assert_eq!(s.len(), "2024-03-04 08:15:02.000000".len(), "{s}");
        assert!(s.starts_with("20"), "{s}");
    }
}
