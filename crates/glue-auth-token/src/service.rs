//! [`TokenEndpoint`], the middleware, and the standalone [`TokenServer`]
//! service.

use std::convert::Infallible;
use std::task::{Context, Poll};

use bytes::Bytes;
use glue_auth_core::{GlueRejection, Reject, ResponseBody};
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use tower_service::Service;

use crate::TokenServer;
use crate::endpoint::Dispatch;
use crate::future::{LocalAnswer, ResponseFuture, ServerFuture};
use crate::store::BoxError;

/// Middleware that answers the token routes and forwards everything else;
/// made by [`TokenEndpointLayer`](crate::TokenEndpointLayer).
///
/// `poll_ready` is the inner service's. A request the endpoint answers
/// itself does not call the inner service, so the readiness it reserved stays
/// available for the next request.
#[derive(Debug, Clone)]
pub struct TokenEndpoint<S, R = GlueRejection> {
    inner: S,
    server: TokenServer,
    responder: R,
}

impl<S, R> TokenEndpoint<S, R> {
    /// Wraps `inner`.
    pub fn new(inner: S, server: TokenServer, responder: R) -> Self {
        TokenEndpoint {
            inner,
            server,
            responder,
        }
    }

    glue_auth_core::define_inner_service_accessors!();
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for TokenEndpoint<S, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    R: Reject + Clone + Send + Sync + 'static,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        match self.server.shared.dispatch(req, &self.responder) {
            Dispatch::Forward(req) => ResponseFuture::inner(self.inner.call(req)),
            Dispatch::Ready(res) => ResponseFuture::local(LocalAnswer::Ready(Some(res))),
            Dispatch::Answer(fut) => ResponseFuture::local(LocalAnswer::Boxed(fut)),
        }
    }
}

/// The standalone service: answers the two token routes (refusals in Glue's
/// format); any other path gets 404 `007` in the plain convention.
///
/// Mount it where a bearer layer runs first, as for the layer:
///
/// ```
/// # async fn demo() {
/// use glue_auth_jwt::SigningKey;
/// use glue_auth_token::{MemoryDirectory, TokenServer};
/// use tower::ServiceExt;
///
/// let dir = MemoryDirectory::demo();
/// let server = TokenServer::builder(SigningKey::generate().unwrap(), dir.clone(), dir)
///     .build()
///     .unwrap();
/// // axum: Router::new().route_service("/token", server.clone())
/// //           .route_service("/warehouse-tokens", server).layer(bearer_layer)
/// let res = server
///     .oneshot(http::Request::get("/token").body(String::new()).unwrap())
///     .await
///     .unwrap();
/// assert_eq!(res.status(), 405);
/// # }
/// ```
impl<ReqBody> Service<Request<ReqBody>> for TokenServer
where
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = ServerFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let answer = match self.shared.dispatch(req, &GlueRejection) {
            Dispatch::Forward(_) => LocalAnswer::Ready(Some(crate::response::not_found())),
            Dispatch::Ready(res) => LocalAnswer::Ready(Some(res)),
            Dispatch::Answer(fut) => LocalAnswer::Boxed(fut),
        };
        ServerFuture::new(answer)
    }
}
