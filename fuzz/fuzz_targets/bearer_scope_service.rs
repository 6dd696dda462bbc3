//! The whole front: `BearerAuthLayer` → `ScopeLayer::spryker()` → an inner
//! service, on arbitrary requests.
//!
//! Input: the request text of `glue_auth_fuzz` (method line, URI line,
//! header lines whose values may splice fragments of valid tokens). Checks:
//! no panic; the answer is immediate; only the documented statuses come out
//! (200 from the inner service, 400/401/403 from the layers, SPEC §5); every
//! refusal is Glue's error body with the same status; a 401 about the token
//! carries `WWW-Authenticate`; the inner service only ever sees requests the
//! route table allows, marked by the bearer layer.
#![no_main]

use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use glue_auth_bearer::BearerAuthLayer;
use glue_auth_core::{Anonymous, Claims, Rejection};
use glue_auth_fuzz::{Head, validator};
use glue_auth_scope::{RouteTable, ScopeLayer};
use http::header::WWW_AUTHENTICATE;
use http::{HeaderName, HeaderValue, Request, Response};
use http_body_util::Full;
use libfuzzer_sys::fuzz_target;
use tower_layer::Layer;
use tower_service::Service;

/// The inner service: checks what reached it, answers 200.
#[derive(Clone)]
struct Inner;

impl Service<Request<()>> for Inner {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Full<Bytes>>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<()>) -> Self::Future {
        let ext = req.extensions();
        assert!(
            ext.get::<Claims>().is_some() != ext.get::<Anonymous>().is_some(),
            "the bearer layer marks every request it passes: claims or anonymous"
        );
        static TABLE: OnceLock<RouteTable> = OnceLock::new();
        let table = TABLE.get_or_init(RouteTable::spryker_backend);
        assert_eq!(
            table.check_request(&req),
            Ok(()),
            "a refused request got through"
        );
        ready(Ok(Response::new(Full::new(Bytes::from_static(b"inner")))))
    }
}

fuzz_target!(|data: &[u8]| {
    let head = Head::parse(data);
    let mut builder = Request::builder().method(head.method).uri(head.uri);
    for (name, value) in &head.headers {
        let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        else {
            continue;
        };
        builder = builder.header(name, value);
    }
    let Ok(req) = builder.body(()) else {
        return;
    };
    let mut svc =
        BearerAuthLayer::new(validator(true).clone()).layer(ScopeLayer::spryker().layer(Inner));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(svc.poll_ready(&mut cx).is_ready());
    let fut = pin!(svc.call(req));
    let Poll::Ready(Ok(res)) = fut.poll(&mut cx) else {
        panic!("the stack answers at once");
    };
    let status = res.status().as_u16();
    let rejection = res.extensions().get::<Rejection>().cloned();
    match (status, &rejection) {
        (200, None) => return,
        (400 | 401 | 403, Some(r)) => assert_eq!(r.glue_error().status().as_u16(), status),
        _ => panic!("undocumented answer {status} ({rejection:?})"),
    }
    if matches!(
        rejection,
        Some(Rejection::InvalidToken { .. } | Rejection::MissingToken { .. })
    ) {
        assert!(
            res.headers().contains_key(WWW_AUTHENTICATE),
            "{rejection:?}"
        );
    }
    let body = collect_body(res);
    let json: serde_json::Value = serde_json::from_slice(&body).expect("a JSON error body");
    let errors = json.get("errors").unwrap_or(&json);
    let error = &errors.as_array().expect("an error array")[0];
    assert_eq!(error["status"], status);
    assert_eq!(error.as_object().expect("an error object").len(), 3);
});

/// The body of a layer's own answer (a `Full<Bytes>` inside `ResponseBody`).
fn collect_body<B>(res: Response<B>) -> Vec<u8>
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let mut body = pin!(res.into_body());
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    loop {
        match body.as_mut().poll_frame(&mut cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Ok(mut data) = frame.into_data() {
                    while bytes::Buf::has_remaining(&data) {
                        let chunk = bytes::Buf::chunk(&data);
                        let n = chunk.len();
                        out.extend_from_slice(chunk);
                        bytes::Buf::advance(&mut data, n);
                    }
                }
            }
            Poll::Ready(None) => return out,
            Poll::Ready(Some(Err(e))) => panic!("body error {e:?}"),
            Poll::Pending => panic!("a local body is always ready"),
        }
    }
}
