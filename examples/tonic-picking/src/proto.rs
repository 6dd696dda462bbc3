//! The messages of `proto/picking.proto` (package `fulfillment.v1`), written
//! as prost-build would generate them.

/// A picking list of one warehouse.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct PickingList {
    /// UUID of the list.
    #[prost(string, tag = "1")]
    pub id: ::prost::alloc::string::String,
    /// `spy_stock.id_stock` of the warehouse the list belongs to.
    #[prost(int64, tag = "2")]
    pub warehouse_id: i64,
    /// `ready-for-picking`, `picking-started` or `picking-finished`.
    #[prost(string, tag = "3")]
    pub status: ::prost::alloc::string::String,
    /// What to pick.
    #[prost(message, repeated, tag = "4")]
    pub items: ::prost::alloc::vec::Vec<PickingListItem>,
}

/// One line of a picking list.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct PickingListItem {
    /// UUID of the item.
    #[prost(string, tag = "1")]
    pub id: ::prost::alloc::string::String,
    /// Product SKU.
    #[prost(string, tag = "2")]
    pub sku: ::prost::alloc::string::String,
    /// Quantity ordered.
    #[prost(uint64, tag = "3")]
    pub quantity: u64,
    /// Still to pick.
    #[prost(uint64, tag = "4")]
    pub number_to_pick: u64,
    /// Picked so far.
    #[prost(uint64, tag = "5")]
    pub picked: u64,
}

/// `ListPickingLists` request (no fields).
#[derive(Clone, Copy, PartialEq, ::prost::Message)]
pub struct ListPickingListsRequest {}

/// `ListPickingLists` response.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ListPickingListsResponse {
    /// The lists the caller may see.
    #[prost(message, repeated, tag = "1")]
    pub picking_lists: ::prost::alloc::vec::Vec<PickingList>,
}

/// `GetPickingList` request.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct GetPickingListRequest {
    /// UUID of the list.
    #[prost(string, tag = "1")]
    pub id: ::prost::alloc::string::String,
}

/// `StartPicking` request.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct StartPickingRequest {
    /// UUID of the list.
    #[prost(string, tag = "1")]
    pub id: ::prost::alloc::string::String,
}

/// `UpdateItems` request.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct UpdateItemsRequest {
    /// UUID of the list.
    #[prost(string, tag = "1")]
    pub picking_list_id: ::prost::alloc::string::String,
    /// New picked quantities.
    #[prost(message, repeated, tag = "2")]
    pub items: ::prost::alloc::vec::Vec<ItemUpdate>,
}

/// A new picked quantity for one item.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ItemUpdate {
    /// UUID of the item.
    #[prost(string, tag = "1")]
    pub id: ::prost::alloc::string::String,
    /// Picked quantity.
    #[prost(uint64, tag = "2")]
    pub picked: u64,
}
