//! [`Scope`]: the service.

use std::any::type_name;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use glue_auth_core::{Claims, GlueRejection, Reject, RequestHead, ResponseBody, ResponseFuture};
use http::{Request, Response};
use tower_service::Service;

use crate::layer::Shared;
use crate::{RouteTable, ScopeLayer};

/// Enforces a [`RouteTable`] in front of `S`. Made by [`ScopeLayer`].
///
/// `Error = S::Error`: a refusal is an `Ok` response, so the service drops into
/// axum (which wants `Infallible`) unchanged.
///
/// Readiness: `poll_ready` asks the inner service. A refused request does not
/// use the readiness it reserved (the inner service is not called), so the
/// next request can use it. An allowed request calls the inner service at once,
/// inside `call`, so the inner service need not be `Clone`.
pub struct Scope<S, R = GlueRejection> {
    inner: S,
    shared: Arc<Shared<R>>,
}

impl<S> Scope<S> {
    /// `inner` guarded by `table`, answering refusals the Glue way.
    pub fn new(inner: S, table: RouteTable) -> Self {
        Scope::from_shared(
            inner,
            Arc::new(Shared {
                table,
                responder: GlueRejection,
            }),
        )
    }

    /// A [`ScopeLayer`] for `table` (as [`ScopeLayer::new`]).
    pub fn layer(table: RouteTable) -> ScopeLayer {
        ScopeLayer::new(table)
    }
}

impl<S, R> Scope<S, R> {
    pub(crate) fn from_shared(inner: S, shared: Arc<Shared<R>>) -> Self {
        Scope { inner, shared }
    }

    /// The table this service enforces.
    pub fn table(&self) -> &RouteTable {
        &self.shared.table
    }

    glue_auth_core::define_inner_service_accessors!();
}

impl<S: Clone, R> Clone for Scope<S, R> {
    fn clone(&self) -> Self {
        Scope {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<S: fmt::Debug, R> fmt::Debug for Scope<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("inner", &self.inner)
            .field("table", &self.shared.table)
            .field("responder", &type_name::<R>())
            .finish()
    }
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for Scope<S, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    R: Reject,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let head = RequestHead::of(&req);
        match self
            .shared
            .table
            .check(&head, req.extensions().get::<Claims>())
        {
            // The inner service is called here, in `call`, right after the
            // `poll_ready` that reserved it: no clone-and-swap is needed.
            Ok(()) => ResponseFuture::inner(self.inner.call(req)),
            Err(rejection) => {
                let mut res = self
                    .shared
                    .responder
                    .reject(&rejection, &head)
                    .map(ResponseBody::local);
                res.extensions_mut().insert(rejection);
                ResponseFuture::ready(res)
            }
        }
    }
}
