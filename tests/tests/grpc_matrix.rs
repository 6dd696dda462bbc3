//! The tonic example's gRPC methods, every caller, driven in-process through
//! tonic's own client (`tonic::client::Grpc` over the protected service).
//!
//! One table, [`MATRIX`]: a row per method, a column per [`Caller`]; each cell
//! the expected `grpc-status` (0 from the demo handler, 16 UNAUTHENTICATED or
//! 7 PERMISSION_DENIED from the layers) and, for refusals, Glue's message in
//! `grpc-message`.

use glue_auth_integration_tests::{Caller, Expect, ITEM_ID, LIST_ID, test_keys};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::{Code, Status};
use tonic_picking::proto::{
    GetPickingListRequest, ItemUpdate, ListPickingListsRequest, ListPickingListsResponse,
    PickingList, StartPickingRequest, UpdateItemsRequest,
};
use tonic_prost::ProstCodec;

use Expect::{
    AuthFailed403 as AF, AuthFailedAnonymous403 as AFA, InvalidToken401 as BAD,
    Unauthorized401 as U401, Unauthorized403 as U403,
};

/// Reached the demo handler: grpc-status 0.
const OK: Expect = Expect::Handler(200);

#[derive(Debug, Clone, Copy)]
enum Rpc {
    ListPickingLists,
    GetPickingList,
    StartPicking,
    UpdateItems,
    /// A method the route table does not list (`deny_unmatched`).
    Unlisted,
}

#[rustfmt::skip]
const MATRIX: &[(Rpc, [Expect; 6])] = &[
    //                        BO    WU    legacy wh    none  bad
    (Rpc::ListPickingLists, [OK,   OK,   AF,   OK,   AFA,  BAD]),  // warehouse or user
    (Rpc::GetPickingList,   [OK,   OK,   AF,   OK,   AFA,  BAD]),  // warehouse or user
    (Rpc::StartPicking,     [OK,   OK,   AF,   OK,   AFA,  BAD]),  // warehouse or user
    (Rpc::UpdateItems,      [OK,   OK,   OK,   U403, U401, BAD]),  // user required + user scope
    (Rpc::Unlisted,         [U403, U403, U403, U403, U401, BAD]),  // denied
];

type Client = tonic::client::Grpc<tonic_picking::App>;

async fn unary<Req, Res>(
    client: &mut Client,
    method: &str,
    message: Req,
    auth: Option<&str>,
) -> Result<Res, Status>
where
    Req: prost::Message + Send + Sync + 'static,
    Res: prost::Message + Default + Send + Sync + 'static,
{
    let mut req = tonic::Request::new(message);
    if let Some(a) = auth {
        req.metadata_mut()
            .insert("authorization", a.parse().unwrap());
    }
    client.ready().await.unwrap();
    let path = PathAndQuery::try_from(format!("/fulfillment.v1.PickingLists/{method}")).unwrap();
    client
        .unary(req, path, ProstCodec::default())
        .await
        .map(tonic::Response::into_inner)
}

/// One call on a fresh app; `Ok` only when the handler answered as expected.
async fn call(rpc: Rpc, auth: Option<&str>) -> Result<(), Status> {
    let mut client = tonic::client::Grpc::new(tonic_picking::app(test_keys()));
    let c = &mut client;
    let id = || LIST_ID.to_owned();
    match rpc {
        Rpc::ListPickingLists => {
            let res: ListPickingListsResponse =
                unary(c, "ListPickingLists", ListPickingListsRequest {}, auth).await?;
            assert_eq!(res.picking_lists.len(), 2, "warehouse 1 has two lists");
        }
        Rpc::GetPickingList => {
            let res: PickingList = unary(
                c,
                "GetPickingList",
                GetPickingListRequest { id: id() },
                auth,
            )
            .await?;
            assert_eq!(res.id, LIST_ID);
        }
        Rpc::StartPicking => {
            let res: PickingList =
                unary(c, "StartPicking", StartPickingRequest { id: id() }, auth).await?;
            assert_eq!(res.status, "picking-started");
        }
        Rpc::UpdateItems => {
            let req = UpdateItemsRequest {
                picking_list_id: id(),
                items: vec![ItemUpdate {
                    id: ITEM_ID.into(),
                    picked: 2,
                }],
            };
            let res: PickingList = unary(c, "UpdateItems", req, auth).await?;
            assert_eq!((res.items[0].picked, res.items[0].number_to_pick), (2, 0));
        }
        Rpc::Unlisted => {
            let _: ListPickingListsResponse =
                unary(c, "DeleteEverything", ListPickingListsRequest {}, auth).await?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn tonic_example_matrix() {
    let tokens: Vec<Option<String>> = Caller::ALL.iter().map(|c| c.authorization()).collect();
    let mut failures = Vec::new();
    for &(rpc, expect) in MATRIX {
        for (i, caller) in Caller::ALL.into_iter().enumerate() {
            let want = expect[i];
            let got = call(rpc, tokens[i].as_deref()).await;
            let (code, message) = match &got {
                Ok(()) => (0, String::new()),
                Err(s) => (s.code() as i32, s.message().to_owned()),
            };
            let want_message = want
                .glue_error()
                .map_or(String::new(), |e| e.message().to_owned());
            if code != want.grpc_code() || message != want_message {
                failures.push(format!(
                    "{rpc:?} as {caller:?}: grpc-status {code} {message:?}, expected {} {want_message:?}",
                    want.grpc_code()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The handler's own errors still come through the layers unchanged.
#[tokio::test]
async fn handler_statuses_pass_through() {
    let auth = Caller::BackOffice.authorization();
    let mut client = tonic::client::Grpc::new(tonic_picking::app(test_keys()));
    let missing = GetPickingListRequest {
        id: "no-such-list".into(),
    };
    let err = unary::<_, PickingList>(&mut client, "GetPickingList", missing, auth.as_deref())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    // Warehouse 2's list is invisible to the demo user (assigned to warehouse 1).
    let other = GetPickingListRequest {
        id: "9f4c2e30-5d6f-7081-acbd-2e3f4a5b6c7d".into(),
    };
    let err = unary::<_, PickingList>(&mut client, "GetPickingList", other, auth.as_deref())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}
