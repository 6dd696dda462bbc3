//! tower-test readiness: backpressure reaches the caller, and a refused request
//! leaves the inner service's readiness for the next one.

mod common;

use std::task::Poll;

use common::{authorize, user};
use glue_auth_core::{Rejection, ResponseBody};
use glue_auth_scope::{Policy, RouteTable, ScopeLayer};
use http::{Method, Request, Response, StatusCode};
use tower_test::mock;

type Req = Request<()>;
type Res = Response<&'static str>;

fn layer() -> ScopeLayer {
    let table = RouteTable::builder()
        .route(Method::GET, "/private", Policy::user_required())
        .build()
        .unwrap();
    ScopeLayer::new(table)
}

fn private(claims: bool) -> Req {
    let mut req = Request::get("/private").body(()).unwrap();
    if claims {
        authorize(&mut req, Some(&user(&["user", "back-office-user"])));
    }
    req
}

#[tokio::test]
async fn backpressure_propagates() {
    let (mut svc, mut handle) = mock::spawn_layer::<Req, Res, _>(layer());
    handle.allow(0);
    assert!(svc.poll_ready().is_pending());
    handle.allow(1);
    assert!(svc.is_woken());
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
}

#[tokio::test]
async fn inner_errors_pass_through() {
    let (mut svc, mut handle) = mock::spawn_layer::<Req, Res, _>(layer());
    handle.send_error("down");
    match svc.poll_ready() {
        Poll::Ready(Err(e)) => assert_eq!(e.to_string(), "down"),
        other => panic!("{other:?}"),
    }

    let (mut svc, mut handle) = mock::spawn_layer::<Req, Res, _>(layer());
    handle.allow(1);
    assert!(svc.poll_ready().is_ready());
    let fut = svc.call(private(true));
    let (_, send) = handle.next_request().await.unwrap();
    send.send_error("boom");
    assert_eq!(fut.await.unwrap_err().to_string(), "boom");
}

#[tokio::test]
async fn rejected_request_does_not_consume_readiness() {
    let (mut svc, mut handle) = mock::spawn_layer::<Req, Res, _>(layer());
    handle.allow(1);
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));

    // Refused: answered at once, the inner service never sees it.
    let res: Response<ResponseBody<&'static str>> = svc.call(private(false)).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(matches!(
        res.extensions().get::<Rejection>(),
        Some(Rejection::Unauthorized {
            credentials: false,
            ..
        })
    ));
    assert!(handle.poll_request().is_pending());

    // The reservation made for the refused request is still there, although
    // the mock allows no further request.
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
    let fut = svc.call(private(true));
    let (req, send) = handle.next_request().await.unwrap();
    assert_eq!(req.uri(), "/private");
    send.send_response(Response::new("ok"));
    let res = fut.await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // The allowed request used the reservation up: the next one must wait.
    assert!(svc.poll_ready().is_pending());
    handle.allow(1);
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
}

#[tokio::test]
async fn options_reaches_the_inner_service() {
    let (mut svc, mut handle) = mock::spawn_layer::<Req, Res, _>(layer());
    handle.allow(1);
    assert!(svc.poll_ready().is_ready());
    let fut = svc.call(Request::options("/private").body(()).unwrap());
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response(Response::new("preflight"));
    assert_eq!(fut.await.unwrap().status(), StatusCode::OK);
}

#[test]
fn layer_and_service_are_send_sync_static_and_clone() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<ScopeLayer>();
    assert_traits::<ScopeLayer<glue_auth_core::Rfc6750Rejection>>();
    assert_traits::<ScopeLayer<glue_auth_core::GrpcRejection>>();
    assert_traits::<glue_auth_scope::Scope<mock::Mock<Req, Res>>>();
    assert_traits::<RouteTable>();
    assert_traits::<Policy>();
}
