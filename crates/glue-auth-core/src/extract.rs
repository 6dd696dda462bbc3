//! axum extractors for [`Claims`] and [`Principal`] (feature `axum`).

use std::fmt;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use http::{StatusCode, header};

use crate::{Anonymous, Claims, Envelope, GlueError, Principal};

/// Why a [`Claims`] or [`Principal`] extractor failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtractRejection {
    /// The bearer layer ran and the request carried no token: 401
    /// "Unauthorized request." (put a scope layer in front of such routes to
    /// answer before the handler runs).
    Unauthenticated,
    /// No bearer layer ran for this request: a wiring bug, answered 500 with a
    /// message naming the missing layer.
    MissingLayer(&'static str),
}

impl fmt::Display for ExtractRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtractRejection::Unauthenticated => f.write_str("Unauthorized request."),
            ExtractRejection::MissingLayer(what) => write!(
                f,
                "missing request extension {what}: is glue_auth_bearer::BearerAuthLayer installed in front of this route?"
            ),
        }
    }
}

impl std::error::Error for ExtractRejection {}

impl IntoResponse for ExtractRejection {
    fn into_response(self) -> Response {
        match self {
            ExtractRejection::Unauthenticated => {
                let e =
                    GlueError::new_static(StatusCode::UNAUTHORIZED, None, "Unauthorized request.");
                let res = e.to_response(Envelope::Plain);
                res.map(axum_core::body::Body::from)
            }
            ExtractRejection::MissingLayer(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                self.to_string(),
            )
                .into_response(),
        }
    }
}

fn lookup<T: Clone + Send + Sync + 'static>(
    parts: &Parts,
    name: &'static str,
) -> Result<T, ExtractRejection> {
    if let Some(v) = parts.extensions.get::<T>() {
        return Ok(v.clone());
    }
    if parts.extensions.get::<Anonymous>().is_some() {
        return Err(ExtractRejection::Unauthenticated);
    }
    Err(ExtractRejection::MissingLayer(name))
}

impl<S: Send + Sync> FromRequestParts<S> for Claims {
    type Rejection = ExtractRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        lookup(parts, "glue_auth_core::Claims")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ExtractRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        lookup(parts, "glue_auth_core::Principal")
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Claims {
    type Rejection = ExtractRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        match lookup(parts, "glue_auth_core::Claims") {
            Ok(c) => Ok(Some(c)),
            Err(ExtractRejection::Unauthenticated) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Principal {
    type Rejection = ExtractRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        match lookup(parts, "glue_auth_core::Principal") {
            Ok(p) => Ok(Some(p)),
            Err(ExtractRejection::Unauthenticated) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Scopes, UserPrincipal};
    use axum::{Router, routing::get};
    use http::Request;
    use http_body_util::BodyExt;
    use tower::Service as _;

    fn claims() -> Claims {
        Claims::builder(
            Principal::User(UserPrincipal::new(4, "u-4", None::<String>)),
            Scopes::from_iter(["user", "back-office-user"]),
        )
        .build()
    }

    async fn call(app: &mut Router, ext: Option<Claims>, anonymous: bool) -> (StatusCode, String) {
        let mut req = Request::get("/").body(axum::body::Body::empty()).unwrap();
        if let Some(c) = ext {
            req.extensions_mut().insert(c.principal().clone());
            req.extensions_mut().insert(c);
        }
        if anonymous {
            req.extensions_mut().insert(Anonymous);
        }
        let res = app.call(req).await.unwrap();
        let status = res.status();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn required_and_optional_extractors() {
        let mut app = Router::new().route(
            "/",
            get(|c: Claims, p: Principal| async move {
                format!("{} {}", c.scopes(), p.as_user().unwrap().id_user())
            }),
        );
        assert_eq!(
            call(&mut app, Some(claims()), false).await,
            (StatusCode::OK, "user back-office-user 4".into())
        );
        let (status, body) = call(&mut app, None, true).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            body,
            r#"[{"status":401,"code":null,"message":"Unauthorized request."}]"#
        );
        let (status, body) = call(&mut app, None, false).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            body.contains("BearerAuthLayer") && body.contains("glue_auth_core::Claims"),
            "{body}"
        );

        let mut app = Router::new().route(
            "/",
            get(|c: Option<Claims>| async move { format!("{}", c.is_some()) }),
        );
        assert_eq!(
            call(&mut app, None, true).await,
            (StatusCode::OK, "false".into())
        );
        assert_eq!(
            call(&mut app, Some(claims()), false).await,
            (StatusCode::OK, "true".into())
        );
        assert_eq!(
            call(&mut app, None, false).await.0,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
