//! The demo's picking lists and what their items point at: concrete
//! products with image sets, sales orders and sales shipments, with the
//! attributes Glue's backend resources carry (see `docs/wire-compatibility.md`
//! for the sources).

use glue_auth_token::store::uuid_for;
use serde_json::{Value, json};

use super::jsonapi::Resource;

/// A concrete product (`spy_product`).
#[derive(Debug)]
pub(crate) struct Product {
    pub(crate) sku: &'static str,
    pub(crate) name: &'static str,
}

/// The demo's products (Spryker's demo shop SKUs and names).
pub(crate) const PRODUCTS: [Product; 8] = [
    Product {
        sku: "066_23294028",
        name: "Samsung Galaxy S5 mini",
    },
    Product {
        sku: "139_24699831",
        name: "Asus Transformer Book T200TA",
    },
    Product {
        sku: "021_21081475",
        name: "Sony Cyber-shot DSC-W830",
    },
    Product {
        sku: "005_30663301",
        name: "Canon IXUS 160",
    },
    Product {
        sku: "176_20946227",
        name: "Lenovo Yoga 3 11",
    },
    Product {
        sku: "110_19682159",
        name: "Samsung Gear S2",
    },
    Product {
        sku: "084_20300413",
        name: "Acer Aspire S7",
    },
    Product {
        sku: "112_306918002",
        name: "Samsung Galaxy Tab A",
    },
];

pub(crate) fn product(sku: &str) -> Option<&'static Product> {
    PRODUCTS.iter().find(|p| p.sku == sku)
}

/// A sales order (`spy_sales_order`) with its one shipment
/// (`spy_sales_shipment`).
#[derive(Debug)]
pub(crate) struct Order {
    pub(crate) reference: &'static str,
    pub(crate) created_at: &'static str,
    pub(crate) cart_note: &'static str,
    /// `Y-m-d`, as Spryker stores it.
    pub(crate) requested_delivery_date: &'static str,
}

impl Order {
    /// The shipment's uuid (Spryker's scheme, keyed by the order).
    pub(crate) fn shipment_uuid(&self) -> String {
        uuid_for("spy_sales_shipment", self.reference)
    }
}

/// One order per picking list, in list order.
pub(crate) const ORDERS: [Order; 5] = [
    Order {
        reference: "DE--1001",
        created_at: "2024-03-04 08:10:12.000000",
        cart_note: "Please leave the parcel at the back door.",
        requested_delivery_date: "2024-03-06",
    },
    Order {
        reference: "DE--1002",
        created_at: "2024-03-04 08:18:40.000000",
        cart_note: "",
        requested_delivery_date: "2024-03-07",
    },
    Order {
        reference: "DE--1003",
        created_at: "2024-03-01 13:55:03.000000",
        cart_note: "Gift wrap, please.",
        requested_delivery_date: "2024-03-02",
    },
    Order {
        reference: "DE--1004",
        created_at: "2024-03-04 08:58:17.000000",
        cart_note: "",
        requested_delivery_date: "2024-03-06",
    },
    Order {
        reference: "DE--1005",
        created_at: "2024-03-03 17:40:02.000000",
        cart_note: "Call before delivery.",
        requested_delivery_date: "2024-03-05",
    },
];

/// The image URLs of a product (the demo serves no images: example.com).
fn images(sku: &str) -> Value {
    json!([{
        "externalUrlLarge": format!("https://images.example.com/products/{sku}/large.jpg"),
        "externalUrlSmall": format!("https://images.example.com/products/{sku}/small.jpg"),
    }])
}

/// `concrete-products` (ProductsBackendApi): id = SKU. Glue's attributes
/// (`sku`, `isQuantitySplittable`, `isActive`, `localizedAttributes`,
/// `imageSets`) plus `name`, which the Fulfillment App reads.
pub(crate) fn product_resource(p: &Product) -> Resource {
    Resource::new(
        "concrete-products",
        p.sku,
        json!({
            "sku": p.sku,
            "name": p.name,
            "isQuantitySplittable": true,
            "isActive": true,
            "localizedAttributes": [{
                "locale": "en_US",
                "name": p.name,
                "description": null,
                "isSearchable": true,
                "attributes": {},
            }],
            "imageSets": [{"locale": "en_US", "name": "default", "images": images(p.sku)}],
        }),
    )
}

/// `concrete-product-image-sets` (ProductImageSetsBackendApi): id = SKU,
/// attributes `imageSets` [{`name`, `images`, `locale`}].
pub(crate) fn image_sets_resource(p: &Product) -> Resource {
    Resource::new(
        "concrete-product-image-sets",
        p.sku,
        json!({
            "imageSets": [{"name": "default", "images": images(p.sku), "locale": "en_US"}],
        }),
    )
}

/// `sales-orders` (SalesOrdersBackendApi, CartNotesBackendApi): id = order
/// reference; `orderReference`, `cartNote`, and `createdAt` (SPEC §7).
pub(crate) fn order_resource(o: &Order) -> Resource {
    Resource::new(
        "sales-orders",
        o.reference,
        json!({
            "orderReference": o.reference,
            "cartNote": o.cart_note,
            "createdAt": o.created_at,
        }),
    )
}

/// `sales-shipments` (ShipmentsBackendApi): id = shipment uuid;
/// `requestedDeliveryDate`.
pub(crate) fn shipment_resource(o: &Order) -> Resource {
    Resource::new(
        "sales-shipments",
        o.shipment_uuid(),
        json!({ "requestedDeliveryDate": o.requested_delivery_date }),
    )
}

/// A warehouse the demo's lists live in.
#[derive(Debug)]
pub(crate) struct DemoWarehouse {
    pub(crate) id: i64,
    pub(crate) name: &'static str,
}

pub(crate) const WAREHOUSES: [DemoWarehouse; 2] = [
    DemoWarehouse {
        id: 1,
        name: "Warehouse1",
    },
    DemoWarehouse {
        id: 2,
        name: "Warehouse2",
    },
];

/// `warehouses` (PickingListsWarehousesBackendApi): id = `spy_stock.uuid`.
pub(crate) fn warehouse_resource(id: i64) -> Option<Resource> {
    let w = WAREHOUSES.iter().find(|w| w.id == id)?;
    let uuid = uuid_for("spy_stock", w.id);
    Some(Resource::new(
        "warehouses",
        uuid.clone(),
        json!({"name": w.name, "uuid": uuid, "isActive": true}),
    ))
}
