//! [`Issuer`]: signs access tokens, makes refresh tokens, stores and logs
//! them. Shared by every grant and the warehouse exchange.

use std::sync::Arc;

use glue_auth_core::{Claims, NumericDate, Principal, Scopes};
use glue_auth_jwt::Signer;
use zeroize::Zeroizing;

use crate::settings::{Compatibility, Lifetimes};
use crate::store::{
    AccessTokenLog, AccessTokenRecord, RefreshFamily, RefreshTokenHash, RefreshTokenRecord,
    RefreshTokens, StoreError, UserRecord,
};

/// Why a token could not be issued: every one answers 503.
#[derive(Debug)]
pub(crate) enum Failure {
    Store(StoreError),
    Busy,
    Sign,
}

impl Failure {
    /// Logs the cause; the answer is the same 503 for all.
    pub(crate) fn log(&self) {
        match self {
            Failure::Store(e) => tracing::error!(error = %e, "token endpoint: store failed"),
            Failure::Busy => tracing::warn!("token endpoint: password hashing queue full"),
            Failure::Sign => tracing::error!("token endpoint: signing failed"),
        }
    }
}

/// A freshly signed access token and its refresh token.
pub(crate) struct Minted {
    pub(crate) access: Zeroizing<String>,
    pub(crate) refresh: Zeroizing<String>,
    pub(crate) record: RefreshTokenRecord,
    pub(crate) claims: Claims,
    pub(crate) expires_in: u64,
}

pub(crate) struct Issuer {
    pub(crate) signer: Signer,
    pub(crate) lifetimes: Lifetimes,
    pub(crate) compatibility: Compatibility,
    /// `Some` exactly when the refresh grant is on: otherwise nothing can
    /// ever redeem a refresh token, so none is stored.
    pub(crate) refresh_tokens: Option<Arc<dyn RefreshTokens>>,
    pub(crate) access_log: Option<Arc<dyn AccessTokenLog>>,
}

impl Issuer {
    /// The scopes of a user token (SPEC §4).
    pub(crate) fn user_scopes(&self, user: &UserRecord) -> Scopes {
        if self.compatibility.legacy_scopes {
            Scopes::from_iter([Scopes::USER])
        } else if user.is_warehouse_user {
            Scopes::from_iter([Scopes::USER, Scopes::WAREHOUSE_USER])
        } else {
            Scopes::from_iter([Scopes::USER, Scopes::BACK_OFFICE_USER])
        }
    }

    /// Signs an access token and makes its refresh token.
    pub(crate) fn mint(
        &self,
        principal: Principal,
        scopes: Scopes,
        client: &str,
        family: RefreshFamily,
        now: NumericDate,
    ) -> Result<Minted, Failure> {
        let ttl = match principal {
            Principal::User(_) => self.lifetimes.user,
            Principal::Warehouse(_) => self.lifetimes.warehouse,
        };
        let claims = Claims::builder(principal.clone(), scopes.clone())
            .jti(crate::crypto::jti())
            .audience(client)
            .issued_at(now, ttl)
            .build();
        let access = self.signer.sign(&claims).map_err(|_| Failure::Sign)?;
        let refresh = Zeroizing::new(crate::crypto::refresh_token());
        let record = RefreshTokenRecord {
            hash: RefreshTokenHash::of(&refresh),
            family,
            principal,
            scopes,
            client_id: client.to_owned(),
            expires_at: now.saturating_add(self.lifetimes.refresh),
            revoked_at: None,
        };
        Ok(Minted {
            access: Zeroizing::new(access),
            refresh,
            record,
            claims,
            expires_in: ttl.as_secs(),
        })
    }

    /// Stores a new family's first refresh token (refresh grant on) and logs
    /// the access token.
    pub(crate) async fn store_new(&self, minted: &Minted) -> Result<(), Failure> {
        if let Some(store) = &self.refresh_tokens {
            store
                .insert(minted.record.clone())
                .await
                .map_err(Failure::Store)?;
        }
        self.log_access(minted).await
    }

    /// Writes the access-token log row, when a log is configured.
    pub(crate) async fn log_access(&self, minted: &Minted) -> Result<(), Failure> {
        let Some(log) = &self.access_log else {
            return Ok(());
        };
        let c = &minted.claims;
        log.record(AccessTokenRecord {
            jti: c.jti().to_owned(),
            principal: c.principal().clone(),
            scopes: c.scopes().clone(),
            client_id: minted.record.client_id.clone(),
            expires_at: c.expires_at(),
        })
        .await
        .map_err(Failure::Store)
    }
}
