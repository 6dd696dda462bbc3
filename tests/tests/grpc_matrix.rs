//! The tonic example (bearer → scope → token endpoint → picking lists, every
//! refusal a gRPC status), every caller.
//!
//! Two tables, a column per [`Caller`]:
//!
//! - [`MATRIX`]: a row per gRPC method, driven in-process through tonic's own
//!   client (`tonic::client::Grpc` over the protected service); each cell the
//!   expected `grpc-status` (0 from the demo handler, 16 UNAUTHENTICATED or 7
//!   PERMISSION_DENIED from the layers) and, for refusals, Glue's message in
//!   `grpc-message`.
//! - [`HTTP_MATRIX`]: the token routes, plain HTTP requests over a real
//!   HTTP/2 connection to the example's server on a loopback port: the token
//!   endpoint's HTTP answers (201 warehouse token, 400 empty login), or the
//!   layers' trailers-only refusals (`grpc-status` 7 / 16).

use glue_auth_bearer::Validator;
use glue_auth_integration_tests::{
    Answer, Caller, Expect, H2Client, ITEM_ID, LIST_ID, check_token_endpoint_answer, post,
    test_signing_key, unassigned_user_token,
};
use glue_auth_token::TokenServer;
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

/// The token routes on the gRPC port, plain HTTP (`POST`, empty body).
#[rustfmt::skip]
const HTTP_MATRIX: &[(&str, [Expect; 6])] = &[
    //                     BO    WU    legacy wh    none  bad
    ("/warehouse-tokens",  [WT,  WT,   WT,   U403, U401, BAD]),  // user required + user scope
    ("/warehouse-tokens/", [WT,  WT,   WT,   U403, U401, BAD]),
    ("/token",             [NG,  NG,   NG,   NG,   NG,   BAD]),  // public; no grant in the body
    ("/token/",            [NG,  NG,   NG,   NG,   NG,   BAD]),
];

/// The token endpoint issued a warehouse token: HTTP 201, Glue's camelCase array.
const WT: Expect = Expect::TokenEndpoint(201);
/// The token endpoint refused an empty login: HTTP 400 `unsupported_grant_type`.
const NG: Expect = Expect::TokenEndpoint(400);

type Client = tonic::client::Grpc<tonic_picking::App>;

/// The validator and token server every app of a run shares (building a
/// token server hashes its dummy password: once per run, not per cell).
struct Front {
    validator: Validator,
    tokens: TokenServer,
}

impl Front {
    fn new() -> Front {
        let key = test_signing_key();
        Front {
            validator: Validator::new(key.key_set()),
            tokens: tonic_picking::token_server(key),
        }
    }

    /// A client of a fresh app (fresh demo data).
    fn client(&self) -> Client {
        tonic::client::Grpc::new(tonic_picking::app_with(
            self.validator.clone(),
            self.tokens.clone(),
        ))
    }
}

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
async fn call(front: &Front, rpc: Rpc, auth: Option<&str>) -> Result<(), Status> {
    let mut client = front.client();
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
    let front = Front::new();
    let tokens: Vec<Option<String>> = Caller::ALL.iter().map(|c| c.authorization()).collect();
    let mut failures = Vec::new();
    for &(rpc, expect) in MATRIX {
        for (i, caller) in Caller::ALL.into_iter().enumerate() {
            let want = expect[i];
            let want_code = want.grpc_code().expect("gRPC rows expect gRPC answers");
            let got = call(&front, rpc, tokens[i].as_deref()).await;
            let (code, message) = match &got {
                Ok(()) => (0, String::new()),
                Err(s) => (s.code() as i32, s.message().to_owned()),
            };
            let want_message = want
                .glue_error()
                .map_or(String::new(), |e| e.message().to_owned());
            if code != want_code || message != want_message {
                failures.push(format!(
                    "{rpc:?} as {caller:?}: grpc-status {code} {message:?}, expected {want_code} {want_message:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// [`HTTP_MATRIX`] against the example's own server (tonic's
/// `Server::builder().layer(auth_layers(..))`) on a loopback port, one HTTP/2
/// connection for every cell.
#[tokio::test]
async fn token_routes_over_http2() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(tonic_picking::serve(listener, test_signing_key()));
    let mut client = H2Client::connect(&addr).await;

    let tokens: Vec<Option<String>> = Caller::ALL.iter().map(|c| c.authorization()).collect();
    let mut failures = Vec::new();
    let mut cells = 0;
    for &(path, expect) in HTTP_MATRIX {
        for (i, caller) in Caller::ALL.into_iter().enumerate() {
            let got = client.send(post(path, tokens[i].as_deref(), "")).await;
            cells += 1;
            let cell = format!("POST {path} as {caller:?}");
            let verdict = match expect[i] {
                Expect::TokenEndpoint(status) => check_token_endpoint_answer(path, status, &got),
                refusal => trailers_only(
                    refusal.grpc_code().expect("a refusal has a grpc-status"),
                    refusal.glue_error().expect("a refusal").message(),
                    &got,
                ),
            };
            failures.extend(verdict.err().map(|e| format!("{cell}: {e}")));
        }
    }

    // The token endpoint's own refusal (a user without an active warehouse
    // assignment) goes through the same gRPC responder: 7, Glue's message.
    let auth = format!("Bearer {}", unassigned_user_token());
    let got = client
        .send(post("/warehouse-tokens", Some(&auth), ""))
        .await;
    let verdict = trailers_only(7, "Operation is forbidden.", &got);
    failures.extend(verdict.err().map(|e| format!("no active warehouse: {e}")));

    server.abort();
    assert_eq!(cells, HTTP_MATRIX.len() * 6);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A refusal the gRPC way: HTTP 200, `content-type: application/grpc`,
/// `grpc-status` `code` and `grpc-message` `message` in the headers, no body
/// and no trailers.
fn trailers_only(code: i32, message: &str, got: &Answer) -> Result<(), String> {
    let code = code.to_string();
    let seen = (
        got.status,
        got.header("content-type"),
        got.header("grpc-status"),
        got.header("grpc-message"),
    );
    let expected = (
        200,
        Some("application/grpc"),
        Some(code.as_str()),
        Some(message),
    );
    if seen != expected {
        return Err(format!(
            "{seen:?}, expected {expected:?} (body {})",
            got.body
        ));
    }
    if !got.body.is_empty() || got.trailers.is_some() {
        return Err(format!(
            "not trailers-only: body {:?}, trailers {:?}",
            got.body, got.trailers
        ));
    }
    Ok(())
}

/// The handler's own errors still come through the layers unchanged.
#[tokio::test]
async fn handler_statuses_pass_through() {
    let auth = Caller::BackOffice.authorization();
    let mut client = Front::new().client();
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
