//! `grant_type=authorization_code` (SPEC §2a): redeems a code of
//! `POST /authorize` once, with the PKCE verifier, for exactly the password
//! grant's answer.

use bytes::Bytes;
use glue_auth_core::{NumericDate, Principal};
use http::Response;
use http::request::Parts;

use crate::code_flow::CodeFlow;
use crate::issue::Failure;
use crate::login_throttle::Reservation;
use crate::params::TokenParams;
use crate::pkce;
use crate::response::{self as res, INVALID_CLIENT, INVALID_CREDENTIALS};
use crate::server::Endpoints;
use crate::store::{AuthorizationCodeHash, RefreshFamily};

/// An `invalid_request` for a code that cannot be redeemed (unknown,
/// expired, spent, another client's, another redirect URI): logged with the
/// reason, never with the code.
fn refused(why: &'static str) -> Response<Bytes> {
    tracing::info!(reason = why, "token endpoint: authorization code refused");
    res::invalid_request()
}

/// A verifier that does not answer the challenge: `invalid_grant`, counted
/// as a failure of the client address.
async fn wrong_verifier(attempt: Reservation, now: NumericDate) -> Response<Bytes> {
    tracing::info!("token endpoint: PKCE verifier does not match");
    attempt.fail(now).await;
    res::oauth("invalid_grant", INVALID_CREDENTIALS)
}

impl CodeFlow {
    /// `POST /token` with `grant_type=authorization_code`.
    pub(crate) async fn exchange(
        &self,
        ep: &Endpoints,
        parts: &Parts,
        params: TokenParams,
    ) -> Response<Bytes> {
        let Some(client) = ep.client(params.client_id.as_deref()) else {
            return res::oauth("invalid_client", INVALID_CLIENT);
        };
        let (Some(code), Some(redirect_uri), Some(verifier)) =
            (params.code, params.redirect_uri, params.code_verifier)
        else {
            return res::invalid_request();
        };
        if !pkce::well_formed(&verifier) {
            return res::invalid_request();
        }
        // A wrong verifier counts against the client address, like a refused
        // refresh token.
        let attempt = match ep.reserve(parts, None).await {
            Ok(a) => a,
            Err(t) => return res::too_many(t.retry_after_secs),
        };
        let hash = AuthorizationCodeHash::of(&code);
        drop(code);
        let now = ep.now();
        // Taken, whatever follows: a code is spent by its first presentation,
        // also when that presentation is refused.
        let record = match self.store.take(hash, now).await {
            Ok(Some(r)) => r,
            Ok(None) => return refused("unknown, expired or already used"),
            Err(e) => return ep.failure(Failure::Store(e)),
        };
        if record.client_id != client {
            return refused("issued to another client");
        }
        if record.redirect_uri != redirect_uri {
            return refused("another redirect URI");
        }
        if !pkce::verifies(record.challenge_method, &record.challenge, &verifier) {
            return wrong_verifier(attempt, now).await;
        }
        // The user may have been blocked, deleted or given a new password
        // in the seconds since `/authorize` checked them: as with the
        // refresh grant, such a code no longer speaks for the user.
        if let Principal::User(user) = &record.principal {
            let issued_at = record.expires_at.saturating_sub(self.ttl);
            match ep.warehouse.users.standing(user.uuid()).await {
                Ok(Some(s)) if s.allows(Some(issued_at)) => {}
                Ok(_) => {
                    tracing::info!("token endpoint: authorization code of a revoked user");
                    return res::oauth("invalid_grant", INVALID_CREDENTIALS);
                }
                Err(e) => return ep.failure(Failure::Store(e)),
            }
        }
        let minted = match ep.issuer.mint(
            record.principal,
            record.scopes,
            client,
            RefreshFamily::random(),
            now,
        ) {
            Ok(m) => m,
            Err(f) => return ep.failure(f),
        };
        if let Err(f) = ep.issuer.store_new(&minted).await {
            return ep.failure(f);
        }
        tracing::info!("token endpoint: authorization code redeemed");
        res::token_success(ep.issuer.compatibility.response_style, &minted)
    }
}
