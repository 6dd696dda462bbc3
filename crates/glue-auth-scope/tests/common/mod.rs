//! Shared helpers of the integration tests.

#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;

use bytes::Bytes;
use glue_auth_core::{Claims, Principal, Scopes, UserPrincipal, WarehousePrincipal};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use tower::{Service, ServiceExt};

pub const SONIA_UUID: &str = "0d743cc3-a772-5145-971e-d4018ee7a489";

pub fn user(scopes: &[&str]) -> Claims {
    Claims::builder(
        Principal::User(UserPrincipal::new(4, SONIA_UUID, None::<String>)),
        Scopes::from_iter(scopes),
    )
    .build()
}

pub fn warehouse(id: i64, scopes: &[&str]) -> Claims {
    Claims::builder(
        Principal::Warehouse(WarehousePrincipal::new(id)),
        Scopes::from_iter(scopes),
    )
    .build()
}

/// Puts claims into a request the way the bearer layer does.
pub fn authorize<B>(req: &mut Request<B>, claims: Option<&Claims>) {
    if let Some(c) = claims {
        req.extensions_mut().insert(c.principal().clone());
        req.extensions_mut().insert(c.clone());
    }
}

/// The inner service: answers 200 `reached <METHOD> <PATH>`.
pub async fn echo(req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!("reached {} {}", req.method(), req.uri().path());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub rejection: Option<glue_auth_core::Rejection>,
    pub body: String,
}

pub async fn send<S, B>(svc: &S, req: Request<Full<Bytes>>) -> Answer
where
    S: Service<Request<Full<Bytes>>, Response = Response<B>, Error = Infallible> + Clone,
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let res = svc.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let rejection = res.extensions().get::<glue_auth_core::Rejection>().cloned();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        rejection,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}
