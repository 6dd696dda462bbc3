//! The Spryker suite preset (SPEC §5.2).

use std::fmt;
use std::sync::Arc;

use glue_auth_core::UnauthenticatedStatus;
use http::Method;

use crate::{ConfigError, Policy, RouteTable, RouteTableBuilder, ScopeLayer, WarehouseExists};

/// The route table of Spryker's Glue Backend API suite, with its settings.
///
/// | route | policy |
/// |---|---|
/// | `POST /token`, `POST /authorize` | [public](Policy::public) |
/// | `POST /warehouse-tokens` | [user required](Policy::user_required) + [user scope](Policy::user_scope_with_warehouse_user) (warehouse-user allowed) |
/// | `GET /picking-lists`, `GET /picking-lists/{id}`, `POST /picking-lists/{id}/start-picking` | [warehouse or user](Policy::warehouse_or_user) |
/// | `PATCH /picking-lists/{id}/picking-list-items` | user required + user scope (warehouse-user allowed) |
/// | `GET`, `PATCH` `/warehouse-user-assignments[/{id}]` | user required + user scope (warehouse-user allowed) |
/// | any other method on `/warehouse-user-assignments[/{id}]` | user required + [user scope](Policy::user_scope) (warehouse-user refused) |
/// | `OPTIONS` anything | passes |
/// | anything else | public (setting: [`deny_unmatched`](RouteTableBuilder::deny_unmatched) on [`into_builder`](SprykerBackend::into_builder)) |
///
/// Every route matches with and without a trailing slash; `HEAD` follows `GET`.
///
/// `POST /warehouse-tokens` is on the warehouse-user allowlist because SPEC §3
/// lets `warehouse-user` tokens exchange themselves for a warehouse token (that
/// is what the Fulfillment App does).
///
/// ```
/// use glue_auth_core::UnauthenticatedStatus;
/// use glue_auth_scope::{ScopeLayer, SprykerBackend};
///
/// // One line, default settings:
/// let layer = ScopeLayer::spryker();
/// # let _ = layer;
///
/// // Older releases (403 without a token), warehouses checked against a
/// // snapshot, and routes of your own after the preset:
/// let table = SprykerBackend::new()
///     .unauthenticated_status(UnauthenticatedStatus::Forbidden)
///     .warehouse_exists(|id| id == 1 || id == 2)
///     .into_builder()
///     .any_method("/my-resources/*", glue_auth_scope::Policy::user_required())
///     .build()
///     .unwrap();
/// let layer = ScopeLayer::new(table);
/// # let _ = layer;
/// ```
#[derive(Clone, Default)]
pub struct SprykerBackend {
    unauthenticated_status: Option<UnauthenticatedStatus>,
    warehouse_exists: Option<WarehouseExists>,
}

impl SprykerBackend {
    /// The preset with default settings (401 without a token, no warehouse
    /// existence check).
    pub fn new() -> Self {
        Self::default()
    }

    /// "Unauthorized request." status for requests without a token: 401
    /// (default, current Spryker) or 403 (older releases).
    pub fn unauthenticated_status(mut self, status: UnauthenticatedStatus) -> Self {
        self.unauthenticated_status = Some(status);
        self
    }

    /// Warehouse tokens pass the picking-list routes only when `exists` says
    /// their warehouse exists (SPEC §5.2: "where an assignment store is
    /// configured"). Synchronous: back it with an in-memory snapshot.
    pub fn warehouse_exists<F>(mut self, exists: F) -> Self
    where
        F: Fn(i64) -> bool + Send + Sync + 'static,
    {
        self.warehouse_exists = Some(Arc::new(exists));
        self
    }

    /// The preset as a builder: add your own routes (tried after the preset's)
    /// or change the default before [`build`](RouteTableBuilder::build).
    pub fn into_builder(self) -> RouteTableBuilder {
        let user_any = || Policy::user_required().and(Policy::user_scope_with_warehouse_user());
        let user_strict = || Policy::user_required().and(Policy::user_scope());
        let picking = || match &self.warehouse_exists {
            Some(f) => Policy::warehouse_or_user_shared(f.clone()),
            None => Policy::warehouse_or_user(),
        };
        let mut b = RouteTable::builder()
            .route(Method::POST, "/token", Policy::public())
            .route(Method::POST, "/authorize", Policy::public())
            .route(Method::POST, "/warehouse-tokens", user_any())
            .route(Method::GET, "/picking-lists", picking())
            .route(Method::GET, "/picking-lists/{id}", picking())
            .route(Method::POST, "/picking-lists/{id}/start-picking", picking())
            .route(
                Method::PATCH,
                "/picking-lists/{id}/picking-list-items",
                user_any(),
            );
        for pattern in [
            "/warehouse-user-assignments",
            "/warehouse-user-assignments/{id}",
        ] {
            b = b
                .route_methods([Method::GET, Method::PATCH], pattern, user_any())
                .any_method(pattern, user_strict());
        }
        if let Some(status) = self.unauthenticated_status {
            b = b.unauthenticated_status(status);
        }
        b
    }

    /// The preset table.
    pub fn build(self) -> Result<RouteTable, ConfigError> {
        self.into_builder().build()
    }
}

impl fmt::Debug for SprykerBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SprykerBackend")
            .field(
                "unauthenticated_status",
                &self.unauthenticated_status.unwrap_or_default(),
            )
            .field("warehouse_exists_check", &self.warehouse_exists.is_some())
            .finish()
    }
}

impl RouteTable {
    /// The Spryker suite table with default settings ([`SprykerBackend`]).
    pub fn spryker_backend() -> RouteTable {
        SprykerBackend::new()
            .build()
            // The preset's patterns and policies are constants, checked by the
            // crate's tests.
            .expect("the Spryker preset is a valid table")
    }
}

impl ScopeLayer {
    /// A layer enforcing the Spryker suite table ([`RouteTable::spryker_backend`])
    /// with Glue's answers ([`GlueRejection`](glue_auth_core::GlueRejection)).
    pub fn spryker() -> ScopeLayer {
        ScopeLayer::new(RouteTable::spryker_backend())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_builds_with_every_setting() {
        let t = RouteTable::spryker_backend();
        assert!(t.default_policy().is_public());
        assert!(
            SprykerBackend::new()
                .unauthenticated_status(UnauthenticatedStatus::Forbidden)
                .warehouse_exists(|_| true)
                .build()
                .is_ok()
        );
        let dbg = format!("{:?}", SprykerBackend::new().warehouse_exists(|_| true));
        assert!(dbg.contains("warehouse_exists_check: true"), "{dbg}");
    }
}
