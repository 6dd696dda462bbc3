//! The one response body type of the gateway.

use bytes::Bytes;
use http_body::Body as HttpBody;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};

/// Errors of streamed bodies.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every response the gateway writes: local bytes or a streamed upstream body.
pub(crate) type Body = UnsyncBoxBody<Bytes, BoxError>;

/// A body of local bytes.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Boxes any body.
pub(crate) fn boxed<B>(body: B) -> Body
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}
