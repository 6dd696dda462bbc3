//! The whole Spryker route table, every caller, against the axum and the hyper
//! example apps (bearer → scope → token endpoint → picking lists), driven
//! in-process (`oneshot`, no sockets).
//!
//! One table, [`MATRIX`]: a row per route, a column per [`Caller`]. Each cell
//! is the exact answer: a 2xx from the demo handler (the layers let it
//! through), the handler's 404 fallback for routes the demo does not serve
//! (still proof that the scope layer passed it), the token endpoint's answer
//! on `/token` and `/warehouse-tokens`, or the layers' refusal with Glue's
//! status and body.

use bytes::Bytes;
use glue_auth_bearer::Validator;
use glue_auth_core::{Envelope, JSON_API};
use glue_auth_integration_tests::{
    Answer, Caller, Expect, ITEM_ID, LIST_ID, NO_ACTIVE_WAREHOUSE, check_token_endpoint_answer,
    post, test_signing_key, unassigned_user_token,
};
use http::Request;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http_body_util::Full;
use tower::ServiceExt;

use Expect::{
    AuthFailed403 as AF, AuthFailedAnonymous403 as AFA, Fallback404 as NF, InvalidToken401 as BAD,
    Unauthorized401 as U401, Unauthorized403 as U403,
};

/// Reached the demo handler, which answered 200 with a JSON:API document.
const OK: Expect = Expect::Handler(200);
/// The token endpoint issued a warehouse token: 201, Glue's camelCase array.
const WT: Expect = Expect::TokenEndpoint(201);
/// The token endpoint refused an empty login: 400 `unsupported_grant_type`.
const NO_GRANT: Expect = Expect::TokenEndpoint(400);
/// The token endpoint answered a JSON:API request: 404 `007`, plain.
const TE404: Expect = Expect::TokenEndpoint(404);

/// How the request asks to be answered (SPEC §1).
#[derive(Debug, Clone, Copy)]
enum Env {
    /// `Accept` (GET) or `Content-Type` (other methods) `application/vnd.api+json`.
    JsonApi,
    /// No content negotiation: plain `[{...}]` errors.
    Plain,
}

/// `{list}` is [`LIST_ID`] (warehouse 1, visible to the demo user and to
/// warehouse 1), `{a}` an assignment id.
struct Row {
    method: &'static str,
    path: &'static str,
    env: Env,
    /// Columns: back-office user, warehouse user, legacy `["user"]`,
    /// warehouse token, no token, bad token.
    expect: [Expect; 6],
}

const fn row(method: &'static str, path: &'static str, env: Env, expect: [Expect; 6]) -> Row {
    Row {
        method,
        path,
        env,
        expect,
    }
}

#[rustfmt::skip]
const MATRIX: &[Row] = &[
    //                                                                              BO    WU    legacy wh    none  bad
    // Picking lists: warehouse or user.
    row("GET",    "/picking-lists",                              Env::JsonApi, [OK,   OK,   AF,   OK,   AFA,  BAD]),
    row("GET",    "/picking-lists/{list}",                       Env::JsonApi, [OK,   OK,   AF,   OK,   AFA,  BAD]),
    row("POST",   "/picking-lists/{list}/start-picking",         Env::JsonApi, [OK,   OK,   AF,   OK,   AFA,  BAD]),
    // User required + user scope (warehouse-user allowed).
    row("PATCH",  "/picking-lists/{list}/picking-list-items",    Env::JsonApi, [OK,   OK,   OK,   U403, U401, BAD]),
    // User required + user scope (warehouse-user allowed): the token endpoint
    // exchanges every user token for a token of warehouse 1 (SPEC §3).
    row("POST",   "/warehouse-tokens",                           Env::Plain,   [WT,   WT,   WT,   U403, U401, BAD]),
    row("POST",   "/warehouse-tokens/",                          Env::Plain,   [WT,   WT,   WT,   U403, U401, BAD]),
    // Not served by the demo: allowed requests reach the handler's 404 fallback.
    row("GET",    "/warehouse-user-assignments",                 Env::JsonApi, [NF,   NF,   NF,   U403, U401, BAD]),
    row("GET",    "/warehouse-user-assignments/{a}",             Env::JsonApi, [NF,   NF,   NF,   U403, U401, BAD]),
    row("PATCH",  "/warehouse-user-assignments/{a}",             Env::JsonApi, [NF,   NF,   NF,   U403, U401, BAD]),
    // Other methods on assignments: the warehouse-user allowlist does not apply.
    row("POST",   "/warehouse-user-assignments",                 Env::JsonApi, [NF,   U403, NF,   U403, U401, BAD]),
    row("DELETE", "/warehouse-user-assignments/{a}",             Env::Plain,   [NF,   U403, NF,   U403, U401, BAD]),
    // Public route, answered by the token endpoint (an empty body names no
    // grant); a bad token is refused on every route (validation comes first).
    row("POST",   "/token",                                      Env::Plain,   [NO_GRANT, NO_GRANT, NO_GRANT, NO_GRANT, NO_GRANT, BAD]),
    row("POST",   "/token/",                                     Env::Plain,   [NO_GRANT, NO_GRANT, NO_GRANT, NO_GRANT, NO_GRANT, BAD]),
    // The token routes answer only the plain convention (SPEC §1).
    row("POST",   "/token",                                      Env::JsonApi, [TE404, TE404, TE404, TE404, TE404, BAD]),
    row("POST",   "/warehouse-tokens",                           Env::JsonApi, [TE404, TE404, TE404, U403, U401, BAD]),
];

const ASSIGNMENT_ID: &str = "4bb1f2a0-5c6d-4e7f-8091-a2b3c4d5e6f7";

fn patch_body() -> String {
    format!(
        r#"{{"data":[{{"type":"picking-list-items","id":"{ITEM_ID}","attributes":{{"picked":1}}}}]}}"#
    )
}

fn request(row: &Row, authorization: Option<&str>) -> Request<Full<Bytes>> {
    let path = row
        .path
        .replace("{list}", LIST_ID)
        .replace("{a}", ASSIGNMENT_ID);
    let mut b = Request::builder().method(row.method).uri(path);
    if let Some(a) = authorization {
        b = b.header(AUTHORIZATION, a);
    }
    if let Env::JsonApi = row.env {
        b = match row.method {
            "GET" => b.header(ACCEPT, JSON_API),
            _ => b.header(CONTENT_TYPE, JSON_API),
        };
    }
    let body = match row.method {
        "PATCH" => Full::new(Bytes::from(patch_body())),
        _ => Full::default(),
    };
    b.body(body).unwrap()
}

/// Checks one answer against its cell; the mismatch, if any.
fn judge(row: &Row, caller: Caller, expect: Expect, got: &Answer) -> Option<String> {
    let cell = format!("{} {} as {caller:?}", row.method, row.path);
    if got.status != expect.status() {
        return Some(format!(
            "{cell}: status {} (expected {} {expect:?}), body {}",
            got.status,
            expect.status(),
            got.body
        ));
    }
    let content_type = got.headers.get(CONTENT_TYPE).map(|v| v.to_str().unwrap());
    match expect {
        Expect::TokenEndpoint(status) => check_token_endpoint_answer(row.path, status, got)
            .err()
            .map(|e| format!("{cell}: {e}")),
        Expect::Handler(_) => {
            let doc: serde_json::Value = serde_json::from_str(&got.body).ok()?;
            if content_type != Some(JSON_API) || doc.get("data").is_none() {
                return Some(format!("{cell}: not a JSON:API document: {}", got.body));
            }
            None
        }
        _ => {
            let envelope = match row.env {
                Env::JsonApi => Envelope::JsonApi,
                Env::Plain => Envelope::Plain,
            };
            let body = expect.body(envelope).unwrap();
            if got.body != body || content_type != Some(envelope.content_type()) {
                return Some(format!(
                    "{cell}: body {} ({content_type:?}), expected {body}",
                    got.body
                ));
            }
            let challenge = match expect {
                Expect::Unauthorized401 => Some("Bearer"),
                Expect::InvalidToken401 => Some(r#"Bearer error="invalid_token""#),
                _ => None,
            };
            let got_challenge = got
                .headers
                .get(WWW_AUTHENTICATE)
                .map(|v| v.to_str().unwrap());
            (got_challenge != challenge).then(|| {
                format!("{cell}: WWW-Authenticate {got_challenge:?}, expected {challenge:?}")
            })
        }
    }
}

/// Runs every cell of [`MATRIX`] through `send` (a fresh app per request, so
/// the stateful routes always start from the demo data).
async fn run_matrix(name: &str, send: impl AsyncFn(Request<Full<Bytes>>) -> Answer) {
    let tokens: Vec<Option<String>> = Caller::ALL.iter().map(|c| c.authorization()).collect();
    let mut failures = Vec::new();
    let mut cells = 0;
    for row in MATRIX {
        for (i, caller) in Caller::ALL.into_iter().enumerate() {
            let got = send(request(row, tokens[i].as_deref())).await;
            cells += 1;
            failures.extend(judge(row, caller, row.expect[i], &got));
        }
    }
    assert_eq!(cells, MATRIX.len() * 6);
    assert!(
        failures.is_empty(),
        "{name}: {} of {cells} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn answer<B>(res: http::Response<B>) -> Answer
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    Answer::of(res).await
}

// Each request gets a fresh app (fresh demo data) around one validator and
// one token server: building a token server hashes its dummy password, so it
// is built once per run.

#[tokio::test]
async fn axum_example_matrix() {
    let key = test_signing_key();
    let validator = Validator::new(key.key_set());
    let tokens = axum_picking::token_server(key);
    run_matrix("axum", async |req: Request<Full<Bytes>>| {
        let app = axum_picking::app_with(validator.clone(), tokens.clone());
        let res = app.oneshot(req.map(axum::body::Body::new)).await.unwrap();
        answer(res).await
    })
    .await;
}

#[tokio::test]
async fn hyper_example_matrix() {
    let key = test_signing_key();
    let validator = Validator::new(key.key_set());
    let tokens = hyper_picking::token_server(key);
    run_matrix("hyper", async |req: Request<Full<Bytes>>| {
        let app = hyper_picking::app_with(validator.clone(), tokens.clone());
        let res = app.oneshot(req).await.unwrap();
        answer(res).await
    })
    .await;
}

/// A user without an active warehouse assignment passes the scope layer and
/// gets the token endpoint's own refusal, 403 `5101`, in Glue's plain format.
#[tokio::test]
async fn no_active_warehouse_is_5101() {
    let auth = format!("Bearer {}", unassigned_user_token());
    let req = || post("/warehouse-tokens", Some(&auth), "");
    let axum_answer = answer(
        axum_picking::app(test_signing_key())
            .oneshot(req().map(axum::body::Body::new))
            .await
            .unwrap(),
    )
    .await;
    let hyper_answer = answer(
        hyper_picking::app(test_signing_key())
            .oneshot(req())
            .await
            .unwrap(),
    )
    .await;
    for got in [axum_answer, hyper_answer] {
        assert_eq!(got.status, 403);
        assert_eq!(got.body, NO_ACTIVE_WAREHOUSE);
        assert_eq!(got.header("content-type"), Some("application/json"));
        assert_eq!(got.header("cache-control"), Some("no-store"));
    }
}

/// The handler really ran on the allowed rows: its answers show the effect.
#[tokio::test]
async fn allowed_requests_reach_the_handlers() {
    let token = Caller::WarehouseUser.authorization().unwrap();
    let start = row(
        "POST",
        "/picking-lists/{list}/start-picking",
        Env::JsonApi,
        [OK; 6],
    );
    let patch = row(
        "PATCH",
        "/picking-lists/{list}/picking-list-items",
        Env::JsonApi,
        [OK; 6],
    );

    let axum_app = axum_picking::app(test_signing_key());
    let hyper_app = hyper_picking::app(test_signing_key());
    for r in [&start, &patch] {
        let a = answer(
            axum_app
                .clone()
                .oneshot(request(r, Some(&token)).map(axum::body::Body::new))
                .await
                .unwrap(),
        )
        .await;
        let h = answer(
            hyper_app
                .clone()
                .oneshot(request(r, Some(&token)))
                .await
                .unwrap(),
        )
        .await;
        // Both examples render the same document.
        let doc: serde_json::Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(
            doc,
            serde_json::from_str::<serde_json::Value>(&h.body).unwrap()
        );
        assert_eq!(doc["data"]["id"], LIST_ID);
        assert_eq!(doc["data"]["attributes"]["status"], "picking-started");
    }
    let doc: serde_json::Value = {
        let r = row("GET", "/picking-lists/{list}", Env::JsonApi, [OK; 6]);
        let a = answer(
            axum_app
                .oneshot(request(&r, Some(&token)).map(axum::body::Body::new))
                .await
                .unwrap(),
        )
        .await;
        serde_json::from_str(&a.body).unwrap()
    };
    let item = &doc["data"]["attributes"]["pickingListItems"][0];
    assert_eq!(item["picked"], 1);
    assert_eq!(item["numberToPick"], 1);

    // A warehouse token sees only its warehouse: warehouse 1 has two lists.
    let wh = Caller::Warehouse.authorization().unwrap();
    let r = row("GET", "/picking-lists", Env::JsonApi, [OK; 6]);
    let h = answer(hyper_app.oneshot(request(&r, Some(&wh))).await.unwrap()).await;
    let doc: serde_json::Value = serde_json::from_str(&h.body).unwrap();
    assert_eq!(doc["data"].as_array().unwrap().len(), 2);
}
