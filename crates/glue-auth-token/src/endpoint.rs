//! Routing: which endpoint (`/token`, `/authorize`, `/warehouse-tokens`)
//! a request names, the answers that need neither
//! body nor store, the body, and `POST /token`'s choice of grant.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use glue_auth_core::{Envelope, Reject, Rejection, RequestHead};
use http::header::CONTENT_LENGTH;
use http::request::Parts;
use http::{Method, Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::issue::Failure;
use crate::params::TokenParams;
use crate::response as res;
use crate::server::Endpoints;
use crate::store::BoxError;
use crate::warehouse::WarehouseExchange;

/// The one boxed future of the crate: the endpoints' own answer. A login
/// awaits a store look-up and a bcrypt verification of tens of milliseconds;
/// one allocation is noise next to that, and it keeps the forwarding path
/// (an enum future, no allocation) independent of the handlers' shapes.
pub(crate) type AnswerFuture = Pin<Box<dyn Future<Output = Response<Bytes>> + Send + 'static>>;

/// Which endpoint a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Token,
    Authorize,
    WarehouseTokens,
}

/// What to do with a request.
pub(crate) enum Dispatch<B> {
    /// Not one of ours: hand it on untouched.
    Forward(Request<B>),
    /// Answered without awaiting anything.
    Ready(Response<Bytes>),
    /// Answered after reading the body and asking the stores.
    Answer(AnswerFuture),
}

fn path_is(path: &str, route: &str) -> bool {
    path.strip_prefix(route)
        .is_some_and(|rest| rest.is_empty() || rest == "/")
}

/// A refusal of `/warehouse-tokens`, rendered by the layer's responder, with
/// the typed reason in the response extensions and the token routes' cache
/// headers.
pub(crate) fn reject<R: Reject>(
    responder: &R,
    parts: &Parts,
    rejection: Rejection,
) -> Response<Bytes> {
    let head = RequestHead {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
    };
    let mut answer = res::no_store(responder.reject(&rejection, &head));
    answer.extensions_mut().insert(rejection);
    answer
}

impl Endpoints {
    fn route(&self, path: &str) -> Option<Route> {
        if path_is(path, &self.token_path) {
            Some(Route::Token)
        } else if path_is(path, &self.authorize_path) {
            Some(Route::Authorize)
        } else if path_is(path, &self.warehouse_path) {
            Some(Route::WarehouseTokens)
        } else {
            None
        }
    }

    pub(crate) fn dispatch<B, R>(self: &Arc<Self>, req: Request<B>, responder: &R) -> Dispatch<B>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
        R: Reject + Clone + Send + Sync + 'static,
    {
        let Some(route) = self.route(req.uri().path()) else {
            return Dispatch::Forward(req);
        };
        let (parts, body) = req.into_parts();
        if let Some(answer) = self.precheck(&parts) {
            return Dispatch::Ready(answer);
        }
        match route {
            Route::Token => Dispatch::Answer(Box::pin(Arc::clone(self).token(parts, body))),
            Route::Authorize => Dispatch::Answer(Box::pin(Arc::clone(self).authorize(parts, body))),
            Route::WarehouseTokens => match self.warehouse.caller(&parts) {
                Ok(user) => Dispatch::Answer(Box::pin(WarehouseExchange::answer(
                    Arc::clone(self),
                    parts,
                    body,
                    user,
                    responder.clone(),
                ))),
                Err(rejection) => Dispatch::Ready(reject(responder, &parts, rejection)),
            },
        }
    }

    /// The answers that need neither body nor store: 404 for JSON:API
    /// (`Content-Type: application/vnd.api+json`), 405 for other methods,
    /// 413 for a declared oversized body.
    fn precheck(&self, parts: &Parts) -> Option<Response<Bytes>> {
        if Envelope::for_request(&Method::POST, &parts.headers) == Envelope::JsonApi {
            return Some(res::not_found());
        }
        if parts.method != Method::POST {
            return Some(res::method_not_allowed());
        }
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.body_limit as u64) {
            return Some(res::too_large());
        }
        None
    }

    /// Reads the body, never buffering more than the limit.
    pub(crate) async fn read_body<B>(&self, body: B) -> Result<Bytes, Response<Bytes>>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        match Limited::new(body, self.body_limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(res::too_large()),
            Err(e) => {
                tracing::debug!(error = %e, "token endpoint: request body failed");
                Err(res::invalid_request())
            }
        }
    }

    /// `POST /token`'s 503 (Glue's plain body, `Retry-After`).
    pub(crate) fn failure(&self, f: Failure) -> Response<Bytes> {
        f.log();
        res::unavailable(self.retry_after)
    }

    /// `POST /authorize` (SPEC §2a).
    async fn authorize<B>(self: Arc<Self>, parts: Parts, body: B) -> Response<Bytes>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let bytes = match self.read_body(body).await {
            Ok(b) => b,
            Err(answer) => return answer,
        };
        let params = TokenParams::parse(&bytes);
        drop(bytes);
        self.code_flow.authorize(&self, &parts, params).await
    }

    /// `POST /token`: the body's parameters choose the grant.
    async fn token<B>(self: Arc<Self>, parts: Parts, body: B) -> Response<Bytes>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let bytes = match self.read_body(body).await {
            Ok(b) => b,
            Err(answer) => return answer,
        };
        let params = TokenParams::parse(&bytes);
        drop(bytes);
        if params.malformed {
            return res::invalid_request();
        }
        match (params.grant_type.as_deref(), &self.refresh) {
            (Some("password"), _) => self.password.answer(&self, &parts, params).await,
            (Some("refresh_token"), Some(grant)) => grant.answer(&self, &parts, params).await,
            (Some("authorization_code"), _) => self.code_flow.exchange(&self, &parts, params).await,
            (other, _) => res::unsupported_grant_type(other.unwrap_or("")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_with_and_without_trailing_slash() {
        assert!(path_is("/token", "/token"));
        assert!(path_is("/token/", "/token"));
        assert!(!path_is("/tokens", "/token"));
        assert!(!path_is("/token//", "/token"));
        assert!(!path_is("/token/x", "/token"));
        assert!(!path_is("/", "/token"));
    }
}
