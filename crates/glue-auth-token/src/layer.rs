//! [`TokenEndpointLayer`].

use tower_layer::Layer;

use crate::{TokenEndpoint, TokenServer};

/// A [`Layer`] that answers `POST /token` and `POST /warehouse-tokens` (with or
/// without a trailing slash; paths configurable) and forwards every other
/// request to the inner service untouched.
///
/// Made from a [`TokenServer`] ([`TokenServer::layer`]); cheap to clone.
#[derive(Debug, Clone)]
pub struct TokenEndpointLayer {
    server: TokenServer,
}

impl TokenEndpointLayer {
    /// A layer over a configured server.
    pub fn new(server: TokenServer) -> Self {
        TokenEndpointLayer { server }
    }

    /// The server behind the layer.
    pub fn server(&self) -> &TokenServer {
        &self.server
    }
}

impl<S> Layer<S> for TokenEndpointLayer {
    type Service = TokenEndpoint<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TokenEndpoint::new(inner, self.server.clone())
    }
}
