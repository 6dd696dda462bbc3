//! [`TokenEndpointLayer`].

use glue_auth_core::GlueRejection;
use tower_layer::Layer;

use crate::{TokenEndpoint, TokenServer};

/// A [`Layer`] that answers `POST /token` and `POST /warehouse-tokens` (with or
/// without a trailing slash; paths configurable) and forwards every other
/// request to the inner service untouched.
///
/// Made from a [`TokenServer`] ([`TokenServer::layer`]); cheap to clone. It
/// belongs **behind** `BearerAuthLayer` and `ScopeLayer`: the bearer layer
/// validates every request's token once, before routing, and the scope
/// layer's route table decides who may call `/warehouse-tokens`.
///
/// Refusals of `/warehouse-tokens` (no user, no active warehouse, store down)
/// are rendered by the responder `R`, like the other layers' refusals:
/// [`GlueRejection`] by default, or
/// [`GrpcRejection`](glue_auth_core::GrpcRejection) /
/// [`Rfc6750Rejection`](glue_auth_core::Rfc6750Rejection) through
/// [`responder`](TokenEndpointLayer::responder). The OAuth answers of
/// `/token` keep Glue's format (SPEC §2) whatever the responder.
#[derive(Debug, Clone)]
pub struct TokenEndpointLayer<R = GlueRejection> {
    server: TokenServer,
    responder: R,
}

impl TokenEndpointLayer {
    /// A layer over a configured server, answering in Glue's format.
    pub fn new(server: TokenServer) -> Self {
        TokenEndpointLayer {
            server,
            responder: GlueRejection,
        }
    }
}

impl<R> TokenEndpointLayer<R> {
    /// Renders the refusals of `/warehouse-tokens` with another responder.
    pub fn responder<R2>(self, responder: R2) -> TokenEndpointLayer<R2> {
        TokenEndpointLayer {
            server: self.server,
            responder,
        }
    }

    /// The server behind the layer.
    pub fn server(&self) -> &TokenServer {
        &self.server
    }
}

impl<S, R: Clone> Layer<S> for TokenEndpointLayer<R> {
    type Service = TokenEndpoint<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        TokenEndpoint::new(inner, self.server.clone(), self.responder.clone())
    }
}
