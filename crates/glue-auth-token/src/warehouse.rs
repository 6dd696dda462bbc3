//! `POST /warehouse-tokens`: a user token is exchanged for a token of the
//! user's active warehouse (SPEC §3).
//!
//! Who may call it is the route table's decision (the scope layer's Spryker
//! preset: user required + user scope, SPEC §5.2); the bearer layer has
//! validated the token and put its claims into the extensions. The endpoint
//! only needs a user principal to know whose warehouse to look up.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use glue_auth_core::{
    Anonymous, Claims, InvalidReason, Principal, Reject, Rejection, Scopes, UnauthenticatedStatus,
    UserPrincipal, WarehousePrincipal,
};
use http::request::Parts;
use http::{Response, StatusCode};
use http_body::Body;

use crate::endpoint::reject;
use crate::issue::Failure;
use crate::response as res;
use crate::server::Endpoints;
use crate::store::{BoxError, RefreshFamily, UserDirectory, WarehouseAssignments};

/// What the RFC 6750 responder names as the scope this route needs.
const SCOPE_USER: &str = "user";

pub(crate) struct WarehouseExchange {
    /// Also asked by the code grant whether a user still stands.
    pub(crate) users: Arc<dyn UserDirectory>,
    assignments: Arc<dyn WarehouseAssignments>,
    unauthenticated_status: UnauthenticatedStatus,
    /// Set once the missing bearer layer was reported.
    misconfigured: AtomicBool,
}

impl WarehouseExchange {
    pub(crate) fn new(
        users: Arc<dyn UserDirectory>,
        assignments: Arc<dyn WarehouseAssignments>,
        unauthenticated_status: UnauthenticatedStatus,
    ) -> Self {
        WarehouseExchange {
            users,
            assignments,
            unauthenticated_status,
            misconfigured: AtomicBool::new(false),
        }
    }

    /// The user principal the bearer layer found, or the refusal.
    ///
    /// No `Claims` and no [`Anonymous`] marker means no bearer layer ran in
    /// front of the endpoint: a wiring bug, answered 500 and logged (an
    /// error, the first time), never a silent second validation.
    pub(crate) fn caller(&self, parts: &Parts) -> Result<UserPrincipal, Rejection> {
        let Some(claims) = parts.extensions.get::<Claims>() else {
            if parts.extensions.get::<Anonymous>().is_some() {
                return Err(Rejection::Unauthorized {
                    status: self.unauthenticated_status.status(),
                    credentials: false,
                    required_scope: Some(SCOPE_USER.into()),
                });
            }
            if !self.misconfigured.swap(true, Ordering::Relaxed) {
                tracing::error!(
                    "POST /warehouse-tokens reached the token endpoint without a \
                     BearerAuthLayer in front of it: put glue_auth_bearer::BearerAuthLayer \
                     (and ScopeLayer) before TokenEndpointLayer; answering 500"
                );
            }
            return Err(Rejection::MissingLayer {
                layer: "BearerAuthLayer",
            });
        };
        match claims.principal() {
            Principal::User(user) => Ok(user.clone()),
            Principal::Warehouse(_) => Err(Rejection::Unauthorized {
                status: StatusCode::FORBIDDEN,
                credentials: true,
                required_scope: Some(SCOPE_USER.into()),
            }),
        }
    }

    /// The exchange: the body is read (and size-limited) but ignored; the
    /// user must still be active and not have changed password since the
    /// token was issued (else 401 `001`, as for any invalid token); the
    /// user's active assignment decides the warehouse.
    pub(crate) async fn answer<B, R>(
        ep: Arc<Endpoints>,
        parts: Parts,
        body: B,
        user: UserPrincipal,
        responder: R,
    ) -> Response<Bytes>
    where
        B: Body,
        B::Error: Into<BoxError>,
        R: Reject,
    {
        if let Err(answer) = ep.read_body(body).await {
            return answer;
        }
        let unavailable = |f: Failure| {
            f.log();
            reject(
                &responder,
                &parts,
                Rejection::Unavailable {
                    retry_after: ep.retry_after,
                },
            )
        };
        let issued_at = parts.extensions.get::<Claims>().and_then(Claims::issued_at);
        match ep.warehouse.users.standing(user.uuid()).await {
            Ok(Some(standing)) if standing.allows(issued_at) => {}
            Ok(standing) => {
                tracing::info!(
                    id_user = user.id_user(),
                    status = standing.map(|s| s.status.as_str()),
                    "token endpoint: user token revoked (user blocked, deleted or \
                     password changed since it was issued)"
                );
                let revoked = Rejection::InvalidToken {
                    reason: InvalidReason::Revoked,
                };
                return reject(&responder, &parts, revoked);
            }
            Err(e) => return unavailable(Failure::Store(e)),
        }
        let id_warehouse = match ep.warehouse.assignments.active_warehouse(user.uuid()).await {
            Ok(Some(id)) => id,
            Ok(None) => {
                tracing::info!(
                    id_user = user.id_user(),
                    "token endpoint: no active warehouse assignment"
                );
                return reject(&responder, &parts, Rejection::NoActiveWarehouse);
            }
            Err(e) => return unavailable(Failure::Store(e)),
        };
        let principal = Principal::Warehouse(WarehousePrincipal::new(id_warehouse));
        let scopes = Scopes::from_iter([Scopes::WAREHOUSE]);
        let minted = match ep.issuer.mint(
            principal,
            scopes,
            ep.default_client(),
            RefreshFamily::random(),
            ep.now(),
        ) {
            Ok(m) => m,
            Err(f) => return unavailable(f),
        };
        if let Err(f) = ep.issuer.store_new(&minted).await {
            return unavailable(f);
        }
        tracing::info!(
            id_user = user.id_user(),
            id_warehouse,
            "token endpoint: warehouse token issued"
        );
        res::warehouse_success(&minted)
    }
}
