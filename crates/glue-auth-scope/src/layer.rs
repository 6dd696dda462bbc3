//! [`ScopeLayer`]: the tower layer.

use std::any::type_name;
use std::fmt;
use std::sync::Arc;

use glue_auth_core::GlueRejection;
use tower_layer::Layer;

use crate::{RouteTable, Scope};

/// What every [`Scope`] service of one layer shares.
pub(crate) struct Shared<R> {
    pub(crate) table: RouteTable,
    pub(crate) responder: R,
}

/// Applies a [`RouteTable`] to every request: the matching route's
/// [`Policy`](crate::Policy) decides over the [`Claims`](glue_auth_core::Claims)
/// the bearer layer put into the request extensions.
///
/// A refused request never reaches the inner service: the responder `R`
/// ([`GlueRejection`] by default, or [`Rfc6750Rejection`](glue_auth_core::Rfc6750Rejection),
/// [`GrpcRejection`](glue_auth_core::GrpcRejection), or a closure) renders the
/// answer, and the [`Rejection`](glue_auth_core::Rejection) goes into the
/// response extensions.
///
/// Cheap to clone (one `Arc`), `Send + Sync + 'static` when `R` is.
pub struct ScopeLayer<R = GlueRejection> {
    shared: Arc<Shared<R>>,
}

impl ScopeLayer {
    /// A layer enforcing `table`, answering refusals the Glue way.
    pub fn new(table: RouteTable) -> Self {
        Self::with_responder(table, GlueRejection)
    }
}

impl<R> ScopeLayer<R> {
    /// A layer enforcing `table`, answering refusals with `responder`.
    pub fn with_responder(table: RouteTable, responder: R) -> Self {
        ScopeLayer {
            shared: Arc::new(Shared { table, responder }),
        }
    }

    /// The same table with another responder.
    pub fn responder<R2>(self, responder: R2) -> ScopeLayer<R2> {
        ScopeLayer::with_responder(self.shared.table.clone(), responder)
    }

    /// The table this layer enforces.
    pub fn table(&self) -> &RouteTable {
        &self.shared.table
    }
}

impl<R> Clone for ScopeLayer<R> {
    fn clone(&self) -> Self {
        ScopeLayer {
            shared: self.shared.clone(),
        }
    }
}

impl<R> fmt::Debug for ScopeLayer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeLayer")
            .field("table", &self.shared.table)
            .field("responder", &type_name::<R>())
            .finish()
    }
}

impl<S, R> Layer<S> for ScopeLayer<R> {
    type Service = Scope<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Scope::from_shared(inner, self.shared.clone())
    }
}
