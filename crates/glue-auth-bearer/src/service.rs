//! [`BearerAuth`].

use std::task::{Context, Poll};

use glue_auth_core::{
    Anonymous, GlueRejection, Reject, Rejection, RequestHead, ResponseBody, ResponseFuture,
};
use http::{Request, Response};
use tower_service::Service;

use crate::Validator;

/// The service built by [`BearerAuthLayer`](crate::BearerAuthLayer).
#[derive(Debug, Clone)]
pub struct BearerAuth<S, R = GlueRejection> {
    inner: S,
    validator: Validator,
    responder: R,
}

impl<S, R> BearerAuth<S, R> {
    /// Wraps `inner`.
    pub fn new(inner: S, validator: Validator, responder: R) -> Self {
        BearerAuth {
            inner,
            validator,
            responder,
        }
    }

    glue_auth_core::define_inner_service_accessors!();
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for BearerAuth<S, R>
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

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        match self.validator.authenticate(req.headers()) {
            Ok(Some(claims)) => {
                let ext = req.extensions_mut();
                ext.insert(claims.principal().clone());
                ext.insert(claims);
                ResponseFuture::inner(self.inner.call(req))
            }
            Ok(None) => {
                req.extensions_mut().insert(Anonymous);
                ResponseFuture::inner(self.inner.call(req))
            }
            Err(rejection) => {
                log_rejection(&rejection);
                let mut res = self.responder.reject(&rejection, &RequestHead::of(&req));
                res.extensions_mut().insert(rejection);
                // The inner service was not called: the readiness it granted in
                // poll_ready stays reserved for the next request.
                ResponseFuture::ready(res.map(ResponseBody::local))
            }
        }
    }
}

fn log_rejection(rejection: &Rejection) {
    match rejection {
        Rejection::InvalidToken { reason } => {
            tracing::debug!(reason = reason.as_str(), "bearer token rejected");
        }
        other => tracing::debug!(rejection = ?other, "bearer token rejected"),
    }
}
