use std::sync::Arc;

use bytes::Bytes;
use glue_auth_core::{Principal, UserPrincipal, WarehousePrincipal};
use glue_auth_token::MemoryDirectory;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

use super::super::jsonapi::JSON_API;
use super::*;
use crate::assignments::Assignments;
use crate::reads::Reads;

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

fn demo() -> Demo {
    let dir = MemoryDirectory::demo();
    let reads = Arc::new(Reads::new(Arc::new(dir.clone())));
    let assignments = Assignments::new(Arc::new(dir), Some(Arc::clone(&reads)));
    Demo::new(reads, assignments, 1024)
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

fn get(p: &str) -> Request<Full<Bytes>> {
    Request::get(p)
        .header("host", "gw")
        .body(Full::default())
        .unwrap()
}

#[test]
fn filtering_start_and_patch() {
    rt().block_on(async {
        let d = demo();
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
        // Glue's formatter: the PATCH names no resource id, so `data` is an
        // array (of the picking list); the items come along unasked, being
        // the request's own resource type.
        assert_eq!(doc["data"][0]["type"], "picking-lists");
        assert_eq!(doc["data"][0]["attributes"]["status"], "picking-finished");
        assert_eq!(doc["included"][0]["attributes"]["numberOfPicked"], 2);
    });
}

#[test]
fn filters_and_includes() {
    rt().block_on(async {
        let d = demo();
        let (_, doc) = send(
            &d,
            get("/picking-lists?filter[picking-lists.status]=picking-finished"),
            user(),
        )
        .await;
        assert_eq!(doc["data"].as_array().unwrap().len(), 1);
        assert_eq!(
            doc["links"]["self"],
            "http://gw/picking-lists?filter[picking-lists.status]=picking-finished"
        );
        let one = "a3c1e5b0-3f4d-5e6a-9b7c-000000000001";
        let two = "a3c1e5b0-3f4d-5e6a-9b7c-000000000002";
        let (_, doc) = send(
            &d,
            get(&format!(
                "/picking-lists?filter%5Bpicking-lists.uuids%5D%5B%5D={one}&filter[picking-lists.uuids][]={two}"
            )),
            user(),
        )
        .await;
        let ids: Vec<&str> = doc["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [one, two]);
        // No include: no relationships, nothing included (Glue).
        assert!(doc.get("included").is_none());
        assert!(doc["data"][0].get("relationships").is_none());

        let all = "picking-list-items,concrete-products,sales-orders,sales-shipments,concrete-product-image-sets";
        let (s, doc) = send(&d, get(&format!("/picking-lists/{one}?include={all}")), user()).await;
        assert_eq!(s, 200);
        let list = &doc["data"];
        assert!(list.is_object());
        let items = list["relationships"]["picking-list-items"]["data"]
            .as_array()
            .unwrap();
        assert_eq!(items.len(), 2);
        let included = doc["included"].as_array().unwrap();
        let find = |ty: &str, id: &str| {
            included
                .iter()
                .find(|r| r["type"] == ty && r["id"] == id)
                .unwrap_or_else(|| panic!("{ty} {id} not included: {doc}"))
        };
        let item = find("picking-list-items", items[0]["id"].as_str().unwrap());
        assert_eq!(item["attributes"]["orderItem"]["sku"], "066_23294028");
        let rels = &item["relationships"];
        assert_eq!(
            rels["concrete-products"]["data"],
            json!([{"type": "concrete-products", "id": "066_23294028"}])
        );
        let order = rels["sales-orders"]["data"][0]["id"].as_str().unwrap();
        assert_eq!(
            find("sales-orders", order)["attributes"]["orderReference"],
            order
        );
        assert!(find("sales-orders", order)["attributes"]["createdAt"].is_string());
        let shipment = rels["sales-shipments"]["data"][0]["id"].as_str().unwrap();
        assert!(find("sales-shipments", shipment)["attributes"]["requestedDeliveryDate"].is_string());
        let product = find("concrete-products", "066_23294028");
        assert_eq!(product["attributes"]["name"], "Samsung Galaxy S5 mini");
        let sets = find("concrete-product-image-sets", "066_23294028");
        assert!(sets["attributes"]["imageSets"][0]["images"][0]["externalUrlSmall"].is_string());
        assert_eq!(
            product["relationships"]["concrete-product-image-sets"]["data"][0]["id"],
            "066_23294028"
        );
        assert_eq!(
            item["links"]["self"],
            format!("http://gw/picking-list-items/{}?include={all}", items[0]["id"].as_str().unwrap())
        );
        // Each related resource once, though two items point at one order.
        let orders = included.iter().filter(|r| r["type"] == "sales-orders").count();
        assert_eq!(orders, 1);

        // A filter without a field: Glue's 400 011.
        let (s, doc) = send(&d, get("/picking-lists?filter[status]=x"), user()).await;
        assert_eq!(s, 400);
        assert_eq!(doc["errors"][0]["code"], "011");
    });
}

#[test]
fn dates_look_like_spryker() {
    let s = now_string();
    assert_eq!(s.len(), "2024-03-04 08:15:02.000000".len(), "{s}");
    assert!(s.starts_with("20"), "{s}");
}
