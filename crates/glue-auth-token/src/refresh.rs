//! `grant_type=refresh_token` (off by default): rotation on every use, and
//! the whole family revoked when a spent token comes back (SPEC §2).

use std::sync::Arc;

use bytes::Bytes;
use glue_auth_core::{NumericDate, Principal};
use http::Response;
use http::request::Parts;

use crate::issue::Failure;
use crate::login_throttle::Reservation;
use crate::params::TokenParams;
use crate::response::{self as res, INVALID_CLIENT, INVALID_REFRESH};
use crate::server::Endpoints;
use crate::store::{RefreshTokenHash, RefreshTokenRecord, RefreshTokens, Rotation, UserDirectory};

pub(crate) struct RefreshGrant {
    store: Arc<dyn RefreshTokens>,
    users: Arc<dyn UserDirectory>,
}

/// An `invalid_grant` for a refresh token; counts as a failure of the
/// client address.
async fn refused(attempt: Reservation, now: NumericDate, why: &'static str) -> Response<Bytes> {
    tracing::info!(reason = why, "token endpoint: refresh token refused");
    attempt.fail(now).await;
    res::oauth("invalid_grant", INVALID_REFRESH)
}

impl RefreshGrant {
    pub(crate) fn new(store: Arc<dyn RefreshTokens>, users: Arc<dyn UserDirectory>) -> Self {
        RefreshGrant { store, users }
    }

    pub(crate) async fn answer(
        &self,
        ep: &Endpoints,
        parts: &Parts,
        params: TokenParams,
    ) -> Response<Bytes> {
        let Some(client) = ep.client(params.client_id.as_deref()) else {
            return res::oauth("invalid_client", INVALID_CLIENT);
        };
        let Some(token) = params.refresh_token else {
            return res::invalid_request();
        };
        // Refused refresh tokens count against the client address only.
        let attempt = match ep.reserve(parts, None).await {
            Ok(a) => a,
            Err(t) => return res::too_many(t.retry_after_secs),
        };
        let hash = RefreshTokenHash::of(&token);
        drop(token);
        let now = ep.now();
        let record = match self.store.find(hash).await {
            Ok(Some(r)) => r,
            Ok(None) => return refused(attempt, now, "unknown").await,
            Err(e) => return ep.failure(Failure::Store(e)),
        };
        if record.revoked_at.is_some() {
            return self.replayed(ep, &record, attempt, now).await;
        }
        if record.client_id != client {
            return refused(attempt, now, "other client").await;
        }
        if record.expires_at <= now {
            return refused(attempt, now, "expired").await;
        }
        if let Principal::User(user) = &record.principal {
            // The chain started at the login: its expiry is the first token's
            // (rotation keeps it), so login = expiry - refresh lifetime.
            let started = record
                .expires_at
                .saturating_sub(ep.issuer.lifetimes.refresh);
            match self.users.standing(user.uuid()).await {
                Ok(Some(s)) if s.allows(Some(started)) => {}
                Ok(_) => return self.revoked(ep, &record, attempt, now).await,
                Err(e) => return ep.failure(Failure::Store(e)),
            }
        }
        let mut minted = match ep.issuer.mint(
            record.principal.clone(),
            record.scopes.clone(),
            client,
            record.family,
            now,
        ) {
            Ok(m) => m,
            Err(f) => return ep.failure(f),
        };
        // The family keeps the expiry of its first token: rotation renews the
        // token, never the chain's lifetime (else a chain would live forever).
        minted.record.expires_at = minted.record.expires_at.min(record.expires_at);
        match self.store.rotate(hash, minted.record.clone(), now).await {
            Ok(Rotation::Rotated) => {}
            Ok(Rotation::Reused) => return self.replayed(ep, &record, attempt, now).await,
            Ok(Rotation::NotFound | Rotation::Expired) => {
                return refused(attempt, now, "gone").await;
            }
            Err(e) => return ep.failure(Failure::Store(e)),
        }
        if let Err(f) = ep.issuer.log_access(&minted).await {
            return ep.failure(f);
        }
        tracing::info!("token endpoint: refresh token rotated");
        res::token_success(ep.issuer.compatibility.response_style, &minted)
    }

    /// The user was blocked, deleted or changed password since the chain
    /// started: the family ends.
    async fn revoked(
        &self,
        ep: &Endpoints,
        record: &RefreshTokenRecord,
        attempt: Reservation,
        now: NumericDate,
    ) -> Response<Bytes> {
        if let Err(e) = self.store.revoke_family(record.family, now).await {
            return ep.failure(Failure::Store(e));
        }
        refused(attempt, now, "user revoked").await
    }

    /// A spent or revoked refresh token came back: revoke its whole family.
    async fn replayed(
        &self,
        ep: &Endpoints,
        record: &RefreshTokenRecord,
        attempt: Reservation,
        now: NumericDate,
    ) -> Response<Bytes> {
        match self.store.revoke_family(record.family, now).await {
            Ok(n) => tracing::warn!(
                revoked = n,
                "token endpoint: refresh token reused, family revoked"
            ),
            Err(e) => return ep.failure(Failure::Store(e)),
        }
        refused(attempt, now, "reused").await
    }
}
