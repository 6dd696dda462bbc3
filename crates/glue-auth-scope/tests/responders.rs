//! The other responders: gRPC trailers-only, RFC 6750, and closures.

mod common;

use bytes::Bytes;
use common::{authorize, echo, send, user, warehouse};
use glue_auth_core::{GrpcRejection, Rejection, RequestHead, Rfc6750Rejection};
use glue_auth_scope::{Policy, RouteTable, ScopeLayer};
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{Request, Response};
use http_body_util::Full;
use tower::{Layer, service_fn};

fn grpc(path: &str, claims: Option<&glue_auth_core::Claims>) -> Request<Full<Bytes>> {
    let mut req = Request::post(path)
        .header(CONTENT_TYPE, "application/grpc")
        .body(Full::default())
        .unwrap();
    authorize(&mut req, claims);
    req
}

#[tokio::test]
async fn grpc_trailers_only_answers() {
    let table = RouteTable::builder()
        .grpc_method(
            "fulfillment.v1.Picking",
            "StartPicking",
            Policy::warehouse_or_user(),
        )
        .grpc_service(
            "fulfillment.v1.Admin",
            Policy::user_required().and(Policy::user_scope()),
        )
        .grpc_method("fulfillment.v1.Picking", "Health", Policy::public())
        .grpc_service("fulfillment.v1.Picking", Policy::user_required())
        .build()
        .unwrap();
    let app = ScopeLayer::with_responder(table, GrpcRejection).layer(service_fn(echo));

    // Authentication failure: no token where a user is required → 16.
    let a = send(&app, grpc("/fulfillment.v1.Admin/DeleteUser", None)).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.headers[CONTENT_TYPE], "application/grpc");
    assert_eq!(a.headers["grpc-status"], "16");
    assert_eq!(a.headers["grpc-message"], "Unauthorized request.");
    assert_eq!(a.body, "");

    // Authorization failure: a warehouse token where a user is required → 7.
    let wh = warehouse(1, &["warehouse"]);
    let a = send(&app, grpc("/fulfillment.v1.Admin/DeleteUser", Some(&wh))).await;
    assert_eq!(a.headers["grpc-status"], "7");
    // A warehouse-user token on a back-office-only service → 7.
    let wu = user(&["user", "warehouse-user"]);
    let a = send(&app, grpc("/fulfillment.v1.Admin/DeleteUser", Some(&wu))).await;
    assert_eq!(a.headers["grpc-status"], "7");
    // The picking strategy answers "Authorization failed.": 16 without a
    // token (nobody authenticated), 7 with one that does not fit.
    let a = send(&app, grpc("/fulfillment.v1.Picking/StartPicking", None)).await;
    assert_eq!(a.headers["grpc-status"], "16");
    assert_eq!(a.headers["grpc-message"], "Authorization failed.");
    let legacy = user(&["user"]);
    let a = send(
        &app,
        grpc("/fulfillment.v1.Picking/StartPicking", Some(&legacy)),
    )
    .await;
    assert_eq!(a.headers["grpc-status"], "7");

    // Allowed calls reach the service; first match wins over the service-wide route.
    let a = send(
        &app,
        grpc("/fulfillment.v1.Picking/StartPicking", Some(&wh)),
    )
    .await;
    assert_eq!(a.body, "reached POST /fulfillment.v1.Picking/StartPicking");
    assert!(!a.headers.contains_key("grpc-status"));
    let a = send(&app, grpc("/fulfillment.v1.Picking/Health", None)).await;
    assert_eq!(a.body, "reached POST /fulfillment.v1.Picking/Health");
    let a = send(&app, grpc("/fulfillment.v1.Picking/ListItems", None)).await;
    assert_eq!(a.headers["grpc-status"], "16");
    // Another service is not matched by a service prefix.
    let a = send(&app, grpc("/fulfillment.v1.PickingX/ListItems", None)).await;
    assert_eq!(a.status, 200);
    assert!(!a.headers.contains_key("grpc-status"));
}

#[tokio::test]
async fn rfc6750_insufficient_scope() {
    let layer = ScopeLayer::spryker().responder(Rfc6750Rejection::new().realm("glue"));
    let app = layer.layer(service_fn(echo));

    // A warehouse-user may not create assignments.
    let mut req = Request::post("/warehouse-user-assignments")
        .body(Full::default())
        .unwrap();
    authorize(&mut req, Some(&user(&["user", "warehouse-user"])));
    let a = send(&app, req).await;
    assert_eq!(a.status, 403);
    assert_eq!(
        a.headers[WWW_AUTHENTICATE],
        r#"Bearer realm="glue", error="insufficient_scope", scope="back-office-user""#
    );
    let body: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(body["error"], "insufficient_scope");

    // A warehouse token without the `warehouse` scope on picking lists.
    let mut req = Request::get("/picking-lists")
        .body(Full::default())
        .unwrap();
    authorize(&mut req, Some(&warehouse(1, &[])));
    let a = send(&app, req).await;
    assert_eq!(a.status, 403);
    assert_eq!(
        a.headers[WWW_AUTHENTICATE],
        r#"Bearer realm="glue", error="insufficient_scope", scope="warehouse""#
    );

    // A user token with unknown scopes on picking lists.
    let mut req = Request::get("/picking-lists")
        .body(Full::default())
        .unwrap();
    authorize(&mut req, Some(&user(&["user", "other"])));
    let a = send(&app, req).await;
    assert_eq!(
        a.headers[WWW_AUTHENTICATE],
        r#"Bearer realm="glue", error="insufficient_scope", scope="back-office-user warehouse-user""#
    );

    // No token where a user is required: a plain challenge, 401.
    let req = Request::post("/warehouse-tokens")
        .body(Full::default())
        .unwrap();
    let a = send(&app, req).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.headers[WWW_AUTHENTICATE], r#"Bearer realm="glue""#);
}

#[tokio::test]
async fn closure_responder_and_closure_policy() {
    let table = RouteTable::builder()
        .any_method(
            "/tenants/{tenant}/*",
            Policy::from_fn(|claims, head: &RequestHead<'_>| {
                // Only tenant 7, and only with a token.
                let tenant_ok = head.uri.path().starts_with("/tenants/7/");
                if claims.is_some() && tenant_ok {
                    Ok(())
                } else {
                    Err(Rejection::AuthorizationFailed {
                        credentials: claims.is_some(),
                        required_scope: None,
                    })
                }
            }),
        )
        .build()
        .unwrap();
    let teapot = |r: &Rejection, _: &RequestHead<'_>| {
        Response::builder()
            .status(418)
            .body(Bytes::from(r.glue_error().message().to_owned()))
            .unwrap()
    };
    let app = ScopeLayer::with_responder(table, teapot).layer(service_fn(echo));
    let mut req = Request::get("/tenants/7/things")
        .body(Full::default())
        .unwrap();
    authorize(&mut req, Some(&user(&["user"])));
    assert_eq!(send(&app, req).await.status, 200);
    let mut req = Request::get("/tenants/8/things")
        .body(Full::default())
        .unwrap();
    authorize(&mut req, Some(&user(&["user"])));
    let a = send(&app, req).await;
    assert_eq!((a.status, a.body.as_str()), (418, "Authorization failed."));
}
