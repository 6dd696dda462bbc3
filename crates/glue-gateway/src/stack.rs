//! The request path, composed once at start: the three auth layers around
//! the demo service or the upstream proxy, as one concrete type. No boxed
//! services and no lock: a request clones a handful of `Arc`s and allocates
//! one future (the backend's).
//!
//! ```text
//! BearerAuth ─► WarehouseCheck ─► Scope ─► TokenEndpoint? ─► Backend (demo | proxy)
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use glue_auth_bearer::BearerAuth;
use glue_auth_core::{GlueRejection, Principal, Reject, Rejection, RequestHead, ResponseBody};
use glue_auth_scope::Scope;
use glue_auth_token::TokenEndpoint;
use http::{Request, Response};
use http_body::Body as HttpBody;
use pin_project_lite::pin_project;
use tower::Service;

use crate::body::{Body, BoxError};
use crate::demo::Demo;
use crate::proxy::Proxy;
use crate::reads::Reads;

/// What the gateway serves behind the auth layers.
#[derive(Clone, Debug)]
pub(crate) enum Backend {
    Demo(Demo),
    /// Shared: the client and its settings are not cloned per request.
    Proxy(Arc<Proxy>),
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<B> Service<Request<B>> for Backend
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        match self.clone() {
            Backend::Demo(demo) => Box::pin(async move { Ok(demo.call(req).await) }),
            Backend::Proxy(proxy) => Box::pin(async move { Ok(proxy.call(req).await) }),
        }
    }
}

/// The backend behind the token endpoint (a private key is configured), or
/// alone (verify-only: `/token` goes to the backend too).
#[derive(Clone, Debug)]
pub(crate) enum Routes {
    Issuing(TokenEndpoint<Backend>),
    VerifyOnly(Backend),
}

pin_project! {
    #[project = RoutesProj]
    pub(crate) enum RoutesFuture<A, B> {
        Issuing { #[pin] future: A },
        VerifyOnly { #[pin] future: B },
    }
}

impl<A, B, E> Future for RoutesFuture<A, B>
where
    A: Future<Output = Result<Response<ResponseBody<Body>>, E>>,
    B: Future<Output = Result<Response<Body>, E>>,
{
    type Output = Result<Response<ResponseBody<Body>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            RoutesProj::Issuing { future } => future.poll(cx),
            RoutesProj::VerifyOnly { future } => {
                let res = ready!(future.poll(cx))?;
                Poll::Ready(Ok(res.map(ResponseBody::new)))
            }
        }
    }
}

impl<B> Service<Request<B>> for Routes
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<Body>>;
    type Error = Infallible;
    type Future = RoutesFuture<
        <TokenEndpoint<Backend> as Service<Request<B>>>::Future,
        <Backend as Service<Request<B>>>::Future,
    >;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        match self {
            Routes::Issuing(s) => RoutesFuture::Issuing {
                future: s.call(req),
            },
            Routes::VerifyOnly(s) => RoutesFuture::VerifyOnly {
                future: s.call(req),
            },
        }
    }
}

/// Makes sure the scope layer's synchronous "does this warehouse exist"
/// question has a fresh answer for a warehouse token: from the cache without
/// any I/O (almost always), else after one store look-up (single flight).
/// A store that is down and never answered for this warehouse: 503.
#[derive(Clone)]
pub(crate) struct WarehouseCheck<S> {
    inner: S,
    reads: Arc<Reads>,
}

impl<S> WarehouseCheck<S> {
    pub(crate) fn new(inner: S, reads: Arc<Reads>) -> Self {
        WarehouseCheck { inner, reads }
    }
}

impl<S> std::fmt::Debug for WarehouseCheck<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarehouseCheck").finish_non_exhaustive()
    }
}

pin_project! {
    #[project = CheckProj]
    pub(crate) enum CheckFuture<F, T> {
        Inner { #[pin] future: F },
        Lookup { future: BoxFuture<T> },
    }
}

impl<F, B> Future for CheckFuture<F, Result<Response<ResponseBody<B>>, Infallible>>
where
    F: Future<Output = Result<Response<B>, Infallible>>,
{
    type Output = Result<Response<ResponseBody<B>>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CheckProj::Inner { future } => {
                let res = ready!(future.poll(cx))?;
                Poll::Ready(Ok(res.map(ResponseBody::new)))
            }
            CheckProj::Lookup { future } => future.as_mut().poll(cx),
        }
    }
}

impl<S, B, RB> Service<Request<B>> for WarehouseCheck<S>
where
    S: Service<Request<B>, Response = Response<RB>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    RB: Send + 'static,
{
    type Response = Response<ResponseBody<RB>>;
    type Error = Infallible;
    type Future = CheckFuture<S::Future, Result<Response<ResponseBody<RB>>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let id = match req.extensions().get::<Principal>() {
            Some(Principal::Warehouse(w)) if !self.reads.warehouse_fresh(w.id_warehouse()) => {
                w.id_warehouse()
            }
            _ => {
                return CheckFuture::Inner {
                    future: self.inner.call(req),
                };
            }
        };
        // The ready inner service goes into the future; a fresh clone stays.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let reads = Arc::clone(&self.reads);
        CheckFuture::Lookup {
            future: Box::pin(async move {
                if let Err(e) = reads.warehouse_exists(id).await {
                    tracing::warn!(error = %e, id_warehouse = id, "warehouse look-up failed: store unavailable");
                    let rejection = Rejection::Unavailable {
                        retry_after: crate::app::RETRY_AFTER_SECS,
                    };
                    let mut res = GlueRejection.reject(&rejection, &RequestHead::of(&req));
                    res.extensions_mut().insert(rejection);
                    return Ok(res.map(ResponseBody::local));
                }
                let res = inner.call(req).await?;
                Ok(res.map(ResponseBody::new))
            }),
        }
    }
}

/// The whole protected path.
pub(crate) type Stack = BearerAuth<WarehouseCheck<Scope<Routes>>>;

/// Marks the answer of a request that ran out of time (for the metrics).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimedOut;

/// The request timeout: past `limit`, the request is dropped and answered
/// 504 "Gateway timeout." behind a proxy (the upstream was too slow), else
/// 503 with `Retry-After` (the demo or a store was), in Glue's plain
/// envelope.
#[derive(Clone, Debug)]
pub(crate) struct Deadline<S> {
    inner: S,
    limit: std::time::Duration,
    behind_proxy: bool,
}

impl<S> Deadline<S> {
    pub(crate) fn new(inner: S, limit: std::time::Duration, behind_proxy: bool) -> Self {
        Deadline {
            inner,
            limit,
            behind_proxy,
        }
    }
}

pin_project! {
    pub(crate) struct DeadlineFuture<F> {
        #[pin]
        future: F,
        #[pin]
        sleep: tokio::time::Sleep,
        behind_proxy: bool,
    }
}

impl<F, B> Future for DeadlineFuture<F>
where
    F: Future<Output = Result<Response<B>, Infallible>>,
{
    type Output = Result<Response<ResponseBody<B>>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(res) = this.future.poll(cx) {
            return Poll::Ready(res.map(|r| r.map(ResponseBody::new)));
        }
        ready!(this.sleep.poll(cx));
        let (status, message) = if *this.behind_proxy {
            (http::StatusCode::GATEWAY_TIMEOUT, "Gateway timeout.")
        } else {
            (
                http::StatusCode::SERVICE_UNAVAILABLE,
                "Service temporarily unavailable.",
            )
        };
        let mut res = glue_auth_core::GlueError::new_static(status, None, message)
            .to_response(glue_auth_core::Envelope::Plain);
        if !*this.behind_proxy {
            res.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from(crate::app::RETRY_AFTER_SECS),
            );
        }
        res.extensions_mut().insert(TimedOut);
        Poll::Ready(Ok(res.map(ResponseBody::local)))
    }
}

impl<S, B, RB> Service<Request<B>> for Deadline<S>
where
    S: Service<Request<B>, Response = Response<RB>, Error = Infallible>,
{
    type Response = Response<ResponseBody<RB>>;
    type Error = Infallible;
    type Future = DeadlineFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        DeadlineFuture {
            future: self.inner.call(req),
            sleep: tokio::time::sleep(self.limit),
            behind_proxy: self.behind_proxy,
        }
    }
}
