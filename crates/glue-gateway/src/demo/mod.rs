//! The built-in demo backend, served when the gateway has no upstream:
//! Spryker's picking lists (SPEC §7, [`picking`]) and warehouse user
//! assignments ([`assignments`]), JSON:API documents shaped as Glue's
//! formatter writes them ([`jsonapi`]); and the fulfillment demo page at
//! `/demo/` ([`page`]).
//!
//! Picking lists live in memory (two warehouses, a handful of lists with
//! items, orders, shipments and products); assignments live in the
//! gateway's store (memory, SQLite, PostgreSQL or MariaDB/MySQL). Error
//! answers are JSON:API envelopes with Glue's error objects.

mod assignments;
mod catalog;
mod jsonapi;
mod page;
mod picking;

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use glue_auth_core::{Envelope, GlueError};
use http::header::{ALLOW, CONTENT_LENGTH, HOST};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body as HttpBody;
use http_body_util::{BodyExt, Limited};

use crate::assignments::Assignments;
use crate::body::{Body, BoxError, full};
use crate::reads::Reads;
use jsonapi::{Ctx, filter_key, include_list, link_query, query_pairs};

/// The demo backend. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Demo {
    inner: Arc<State>,
}

struct State {
    lists: Mutex<picking::Lists>,
    /// The user's active warehouse, cached: no database trip for a request
    /// whose answer is known.
    reads: Arc<Reads>,
    assignments: Assignments,
    body_limit: usize,
}

impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo").finish_non_exhaustive()
    }
}

/// The routes of the demo backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route<'a> {
    Lists,
    List(&'a str),
    Start(&'a str),
    Items(&'a str),
    Assignments,
    Assignment(&'a str),
}

fn route(path: &str) -> Option<Route<'_>> {
    let path = path.strip_suffix('/').unwrap_or(path);
    if let Some(rest) = path.strip_prefix("/warehouse-user-assignments") {
        if rest.is_empty() {
            return Some(Route::Assignments);
        }
        let id = rest.strip_prefix('/')?;
        return (!id.is_empty() && !id.contains('/')).then_some(Route::Assignment(id));
    }
    let rest = path.strip_prefix("/picking-lists")?;
    if rest.is_empty() {
        return Some(Route::Lists);
    }
    let rest = rest.strip_prefix('/')?;
    let mut parts = rest.split('/');
    let id = parts.next().filter(|s| !s.is_empty())?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(Route::List(id)),
        (Some("start-picking"), None) => Some(Route::Start(id)),
        (Some("picking-list-items"), None) => Some(Route::Items(id)),
        _ => None,
    }
}

/// A JSON:API error answer.
pub(crate) fn error(
    status: StatusCode,
    code: Option<&'static str>,
    message: &'static str,
) -> Response<Body> {
    GlueError::new_static(status, code, message)
        .to_response(Envelope::JsonApi)
        .map(full)
}

pub(crate) fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut res = error(StatusCode::METHOD_NOT_ALLOWED, None, "Method not allowed.");
    res.headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    res
}

/// 503 with `Retry-After`: a store did not answer.
pub(crate) fn unavailable(e: &dyn std::fmt::Display) -> Response<Body> {
    tracing::warn!(error = %e, "store unavailable");
    let mut res = error(
        StatusCode::SERVICE_UNAVAILABLE,
        None,
        "Service temporarily unavailable.",
    );
    res.headers_mut().insert(
        http::header::RETRY_AFTER,
        HeaderValue::from(crate::app::RETRY_AFTER_SECS),
    );
    res
}

/// Why a request body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Over the limit: 413.
    TooLarge,
    /// The connection failed: 400.
    Unreadable,
}

impl BodyError {
    pub(crate) fn response(self) -> Response<Body> {
        match self {
            BodyError::TooLarge => error(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                "Request body is too large.",
            ),
            BodyError::Unreadable => error(
                StatusCode::BAD_REQUEST,
                None,
                "Request body could not be read.",
            ),
        }
    }
}

/// Reads a request body of at most `limit` bytes.
pub(crate) async fn read_body<B>(req: Request<B>, limit: usize) -> Result<Bytes, BodyError>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    match Limited::new(req.into_body(), limit).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(BodyError::TooLarge)
        }
        Err(_) => Err(BodyError::Unreadable),
    }
}

impl Demo {
    pub(crate) fn new(reads: Arc<Reads>, assignments: Assignments, body_limit: usize) -> Self {
        Demo {
            inner: Arc::new(State {
                lists: Mutex::new(picking::Lists::new(picking::seed())),
                reads,
                assignments,
                body_limit,
            }),
        }
    }

    fn lists(&self) -> MutexGuard<'_, picking::Lists> {
        self.inner.lists.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Answers one request.
    pub(crate) async fn call<B>(&self, req: Request<B>) -> Response<Body>
    where
        B: HttpBody<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        let path = req.uri().path().to_owned();
        if let Some(page) = page::serve(req.method(), &path) {
            return page;
        }
        let Some(route) = route(&path) else {
            let envelope = Envelope::for_request(req.method(), req.headers());
            return GlueError::NOT_FOUND.to_response(envelope).map(full);
        };
        let pairs = query_pairs(req.uri().query());
        // Glue's FilterRequestValidator: a filter must name a field.
        if pairs.iter().any(|(k, _)| filter_key(k).is_err()) {
            return error(
                StatusCode::BAD_REQUEST,
                Some("011"),
                "Unsupported `Filter` format is used. Please use `filter[resource.property]`",
            );
        }
        let base = req
            .headers()
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| format!("http://{h}"))
            .unwrap_or_default();
        let method = if req.method() == Method::HEAD {
            Method::GET
        } else {
            req.method().clone()
        };
        let (resource, parents, id) = match route {
            Route::Lists => ("picking-lists", vec![], None),
            Route::List(id) => ("picking-lists", vec![], Some(id)),
            Route::Start(id) => (
                "start-picking",
                vec![("picking-lists", id.to_owned())],
                None,
            ),
            Route::Items(id) => (
                "picking-list-items",
                vec![("picking-lists", id.to_owned())],
                None,
            ),
            Route::Assignments => ("warehouse-user-assignments", vec![], None),
            Route::Assignment(id) => ("warehouse-user-assignments", vec![], Some(id)),
        };
        let ctx = Ctx {
            method,
            base,
            parents,
            resource,
            id: id.map(str::to_owned),
            query: link_query(req.uri().query()),
            include: include_list(&pairs),
        };
        match route {
            Route::Assignments | Route::Assignment(_) => {
                assignments::handle(self, req, ctx, &pairs).await
            }
            _ => picking::handle(self, req, ctx, &pairs).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("/picking-lists/"), Some(Route::Lists));
        assert_eq!(route("/picking-lists/a"), Some(Route::List("a")));
        assert_eq!(
            route("/picking-lists/a/picking-list-items/"),
            Some(Route::Items("a"))
        );
        assert_eq!(route("/picking-lists/a/b"), None);
        assert_eq!(
            route("/warehouse-user-assignments/"),
            Some(Route::Assignments)
        );
        assert_eq!(
            route("/warehouse-user-assignments/x"),
            Some(Route::Assignment("x"))
        );
        assert_eq!(route("/warehouse-user-assignments/x/y"), None);
        assert_eq!(route("/warehouse-user-assignmentsx"), None);
    }
}
