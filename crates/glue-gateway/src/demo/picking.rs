//! The demo's picking lists (SPEC §7): filtering by principal and by
//! `filter[picking-lists.status]` / `filter[picking-lists.uuids][]`,
//! `include=picking-list-items,concrete-products,sales-orders,
//! sales-shipments,concrete-product-image-sets` (and `warehouses`),
//! `start-picking` changing the status and `PATCH …/picking-list-items`
//! updating picked quantities, enough for Spryker's Fulfillment App to work
//! a list from start to finish.

use std::collections::{HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use glue_auth_core::Principal;
use http::{Method, Request, Response, StatusCode};
use http_body::Body as HttpBody;
use serde_json::{Value, json};

use super::catalog::{self, ORDERS};
use super::jsonapi::{Ctx, Resource, filter_key, respond, respond_rendered};
use super::{Demo, error, method_not_allowed, read_body, unavailable};
use crate::body::{Body, BoxError};

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
    /// `spy_sales_order_item.uuid`.
    order_item: String,
    sku: &'static str,
    quantity: u64,
    picked: u64,
    not_picked: u64,
}

#[derive(Debug, Clone)]
pub(super) struct PickingList {
    id: String,
    warehouse: i64,
    status: Status,
    created_at: String,
    updated_at: String,
    user_uuid: Option<String>,
    /// Index into [`ORDERS`].
    order: usize,
    items: Vec<Item>,
}

/// The picking lists, and the GET documents rendered from them: kept until
/// the next change, which any mutable access to the lists is (`DerefMut`
/// clears them), so a repeated `GET /picking-lists` is one look-up.
pub(super) struct Lists {
    all: Vec<PickingList>,
    rendered: HashMap<String, Bytes>,
}

/// Documents kept at most; the oldest are not tracked, all go at once.
const RENDERED_CAPACITY: usize = 256;

impl Lists {
    pub(super) fn new(all: Vec<PickingList>) -> Lists {
        Lists {
            all,
            rendered: HashMap::new(),
        }
    }

    fn keep_rendered(&mut self, key: String, body: Bytes) {
        if self.rendered.len() >= RENDERED_CAPACITY {
            self.rendered.clear();
        }
        self.rendered.insert(key, body);
    }
}

impl std::ops::Deref for Lists {
    type Target = Vec<PickingList>;

    fn deref(&self) -> &Vec<PickingList> {
        &self.all
    }
}

impl std::ops::DerefMut for Lists {
    fn deref_mut(&mut self) -> &mut Vec<PickingList> {
        self.rendered.clear();
        &mut self.all
    }
}

pub(super) fn seed() -> Vec<PickingList> {
    let item = |n: u32, sku, quantity, picked, not_picked| Item {
        id: format!("5d1f0c2e-7b5a-5f0e-8c9d-00000000{n:04}"),
        order_item: format!("7e2a4c91-1d3b-5a6f-8e0d-00000000{n:04}"),
        sku,
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
        order: n as usize - 1,
        items,
    };
    vec![
        list(
            1,
            1,
            Status::Ready,
            "2024-03-04 08:15:02.000000",
            vec![
                item(11, "066_23294028", 2, 0, 0),
                item(12, "139_24699831", 1, 0, 0),
            ],
        ),
        list(
            2,
            1,
            Status::Ready,
            "2024-03-04 08:20:41.000000",
            vec![item(21, "021_21081475", 3, 0, 0)],
        ),
        list(
            3,
            1,
            Status::Finished,
            "2024-03-01 14:02:11.000000",
            vec![item(31, "005_30663301", 1, 1, 0)],
        ),
        list(
            4,
            2,
            Status::Ready,
            "2024-03-04 09:01:55.000000",
            vec![
                item(41, "176_20946227", 1, 0, 0),
                item(42, "110_19682159", 4, 0, 0),
            ],
        ),
        list(
            5,
            2,
            Status::Started,
            "2024-03-03 17:45:30.000000",
            vec![item(51, "084_20300413", 2, 1, 0)],
        ),
    ]
}

/// Spryker's date format (`Y-m-d H:i:s.u`, UTC).
fn now_string() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let c = crate::civil::Civil::from_unix(i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        d.subsec_micros()
    )
}

fn not_found() -> Response<Body> {
    error(StatusCode::NOT_FOUND, Some("007"), "Not found")
}

fn unprocessable(message: &'static str) -> Response<Body> {
    error(StatusCode::UNPROCESSABLE_ENTITY, None, message)
}

/// `filter[picking-lists.status]` and `filter[picking-lists.uuids][]`.
#[derive(Debug, Default)]
struct Filters {
    statuses: Vec<String>,
    uuids: Option<Vec<String>>,
}

impl Filters {
    fn parse(pairs: &[(String, String)]) -> Filters {
        let mut f = Filters::default();
        for (k, v) in pairs {
            match filter_key(k) {
                // Glue maps every `status` filter, as PHP keeps the last of a
                // repeated key.
                Ok(Some((_, "status", false))) => f.statuses = vec![v.clone()],
                Ok(Some(("picking-lists", "uuids", true))) => {
                    f.uuids.get_or_insert_with(Vec::new).push(v.clone());
                }
                _ => {}
            }
        }
        f
    }

    fn keeps(&self, l: &PickingList) -> bool {
        (self.statuses.is_empty() || self.statuses.iter().any(|s| s == l.status.as_str()))
            && self.uuids.as_ref().is_none_or(|u| u.contains(&l.id))
    }
}

/// The resources of `lists` and, as the request asks, their related
/// resources (in Glue's order: nested ones first).
fn render(ctx: &Ctx, lists: &[&PickingList]) -> (Vec<Resource>, Vec<Resource>) {
    let mut data = Vec::new();
    let mut included = Vec::new();
    for l in lists {
        let mut r = Resource::new(
            "picking-lists",
            l.id.clone(),
            json!({
                "status": l.status.as_str(),
                "createdAt": l.created_at,
                "updatedAt": l.updated_at,
            }),
        );
        if ctx.wants("picking-list-items") {
            let order = &ORDERS[l.order];
            for i in &l.items {
                r.relate("picking-list-items", i.id.clone());
                let product = catalog::product(i.sku);
                let mut item = Resource::new(
                    "picking-list-items",
                    i.id.clone(),
                    json!({
                        "quantity": i.quantity,
                        "numberOfPicked": i.picked,
                        "numberOfNotPicked": i.not_picked,
                        "orderItem": {
                            "uuid": i.order_item,
                            "sku": i.sku,
                            "quantity": i.quantity,
                            "name": product.map(|p| p.name),
                        },
                    }),
                );
                if let Some(p) = product.filter(|_| ctx.wants("concrete-products")) {
                    item.relate("concrete-products", p.sku);
                    let mut pr = catalog::product_resource(p);
                    if ctx.wants("concrete-product-image-sets") {
                        pr.relate("concrete-product-image-sets", p.sku);
                        included.push(catalog::image_sets_resource(p));
                    }
                    included.push(pr);
                }
                if ctx.wants("sales-orders") {
                    item.relate("sales-orders", order.reference);
                    included.push(catalog::order_resource(order));
                }
                if ctx.wants("sales-shipments") {
                    item.relate("sales-shipments", order.shipment_uuid());
                    included.push(catalog::shipment_resource(order));
                }
                included.push(item);
            }
        }
        if ctx.wants("warehouses")
            && let Some(w) = catalog::warehouse_resource(l.warehouse)
        {
            r.relate("warehouses", w.id.clone());
            included.push(w);
        }
        data.push(r);
    }
    (data, included)
}

impl Demo {
    /// The warehouses the request's principal may see.
    async fn warehouses(&self, principal: Option<&Principal>) -> Result<Vec<i64>, Response<Body>> {
        match principal {
            Some(Principal::Warehouse(w)) => Ok(vec![w.id_warehouse()]),
            Some(Principal::User(u)) => match self.inner.reads.active_warehouse(u.uuid()).await {
                Ok(w) => Ok(w.into_iter().collect()),
                Err(e) => Err(unavailable(&e)),
            },
            // The scope layer lets no anonymous request through to here.
            None => Err(error(StatusCode::FORBIDDEN, None, "Authorization failed.")),
        }
    }
}

/// Answers a picking-list route.
pub(super) async fn handle<B>(
    demo: &Demo,
    req: Request<B>,
    ctx: Ctx,
    pairs: &[(String, String)],
) -> Response<Body>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let principal = req.extensions().get::<Principal>().cloned();
    let (method, allow) = match ctx.resource {
        "start-picking" => (Method::POST, "POST"),
        "picking-list-items" => (Method::PATCH, "PATCH"),
        _ => (Method::GET, "GET, HEAD"),
    };
    if ctx.method != method {
        return method_not_allowed(allow);
    }
    let allowed = match demo.warehouses(principal.as_ref()).await {
        Ok(w) => w,
        Err(res) => return res,
    };
    let parent = ctx.parents.first().map(|(_, id)| id.clone());
    match ctx.resource {
        "picking-lists" => {
            let mut lists = demo.lists();
            // Everything the document depends on: the principal's
            // warehouses, the host (links) and the path and query.
            let key = format!("{allowed:?} {} {}", ctx.base, req.uri());
            if let Some(body) = lists.rendered.get(&key) {
                return respond_rendered(StatusCode::OK, body.clone());
            }
            let lists_ref: &Lists = &lists;
            let visible: Vec<&PickingList> = match &ctx.id {
                Some(id) => lists_ref
                    .iter()
                    .filter(|l| &l.id == id && allowed.contains(&l.warehouse))
                    .collect(),
                None => {
                    let filters = Filters::parse(pairs);
                    lists_ref
                        .iter()
                        .filter(|l| allowed.contains(&l.warehouse) && filters.keeps(l))
                        .collect()
                }
            };
            if ctx.id.is_some() && visible.is_empty() {
                return not_found();
            }
            let (data, included) = render(&ctx, &visible);
            let body = Bytes::from(ctx.document(&data, &included).to_string());
            lists.keep_rendered(key, body.clone());
            respond_rendered(StatusCode::OK, body)
        }
        "start-picking" => {
            let user = principal
                .as_ref()
                .and_then(Principal::as_user)
                .map(|u| u.uuid().to_owned());
            let mut lists = demo.lists();
            let Some(l) = lists
                .iter_mut()
                .find(|l| Some(&l.id) == parent.as_ref() && allowed.contains(&l.warehouse))
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
            let (data, included) = render(&ctx, &[&*l]);
            respond(StatusCode::CREATED, &ctx.document(&data, &included))
        }
        _ => patch_items(demo, req, ctx, parent.unwrap_or_default(), &allowed).await,
    }
}

async fn patch_items<B>(
    demo: &Demo,
    req: Request<B>,
    ctx: Ctx,
    id: String,
    allowed: &[i64],
) -> Response<Body>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let body = match read_body(req, demo.inner.body_limit).await {
        Ok(b) => b,
        Err(e) => return e.response(),
    };
    let updates = match parse_items(&body) {
        Ok(u) => u,
        Err((status, message)) => return error(status, None, message),
    };
    let mut lists = demo.lists();
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
            return unprocessable("numberOfPicked + numberOfNotPicked exceeds the item quantity.");
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
    // Glue answers the picking list, as an array (the request names no id).
    let (data, included) = render(&ctx, &[&*l]);
    respond(StatusCode::OK, &ctx.document(&data, &included))
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

#[cfg(test)]
mod tests;
