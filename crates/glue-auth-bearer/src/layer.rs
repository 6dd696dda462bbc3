//! [`BearerAuthLayer`].

use glue_auth_core::GlueRejection;
use glue_auth_jwt::KeySet;
use tower_layer::Layer;

use crate::{BearerAuth, ConfigError, Validator};

/// Validates `Authorization: Bearer` JWTs and puts the validated
/// [`Claims`](glue_auth_core::Claims) and [`Principal`](glue_auth_core::Principal)
/// into the request extensions (SPEC §5.1).
///
/// Requests without an `Authorization` header pass on unauthenticated (the
/// scope layer or the route decides); bad credentials are answered by the
/// responder `R` ([`GlueRejection`] by default) without reaching the inner
/// service.
#[derive(Debug, Clone)]
pub struct BearerAuthLayer<R = GlueRejection> {
    validator: Validator,
    responder: R,
}

impl BearerAuthLayer {
    /// A layer around `validator`, answering in Glue's format.
    pub fn new(validator: Validator) -> Self {
        BearerAuthLayer {
            validator,
            responder: GlueRejection,
        }
    }

    /// A layer with Glue's default settings for one key set.
    pub fn from_keys(keys: KeySet) -> Result<Self, ConfigError> {
        Validator::builder(keys).build().map(Self::new)
    }
}

impl<R> BearerAuthLayer<R> {
    /// Renders rejections with another responder (for example
    /// [`GrpcRejection`](glue_auth_core::GrpcRejection) for tonic, or
    /// [`Rfc6750Rejection`](glue_auth_core::Rfc6750Rejection)).
    pub fn responder<R2>(self, responder: R2) -> BearerAuthLayer<R2> {
        BearerAuthLayer {
            validator: self.validator,
            responder,
        }
    }

    /// The validator (for cache statistics, or to share with the token endpoint).
    pub fn validator(&self) -> &Validator {
        &self.validator
    }
}

impl<S, R: Clone> Layer<S> for BearerAuthLayer<R> {
    type Service = BearerAuth<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        BearerAuth::new(inner, self.validator.clone(), self.responder.clone())
    }
}
