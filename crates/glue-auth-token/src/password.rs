//! `grant_type=password`: a Back Office user logs in (SPEC §2).

use std::sync::Arc;

use bytes::Bytes;
use glue_auth_core::{Principal, UserPrincipal};
use http::Response;
use http::request::Parts;
use zeroize::Zeroizing;

use crate::hashing::HashPool;
use crate::issue::Failure;
use crate::login_throttle::UserKey;
use crate::params::TokenParams;
use crate::response::{self as res, INVALID_CLIENT, INVALID_CREDENTIALS};
use crate::server::Endpoints;
use crate::store::{RefreshFamily, UserDirectory, UserRecord, UserStatus};

pub(crate) struct PasswordGrant {
    users: Arc<dyn UserDirectory>,
    pool: HashPool,
}

impl PasswordGrant {
    pub(crate) fn new(users: Arc<dyn UserDirectory>, pool: HashPool) -> Self {
        PasswordGrant { users, pool }
    }

    pub(crate) fn password_cost(&self) -> u32 {
        self.pool.dummy_cost()
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
        let (Some(username), Some(password)) = (params.username.as_deref(), params.password) else {
            return res::invalid_request();
        };
        let user = match self.authenticate(ep, parts, username, password).await {
            Ok(u) => u,
            Err(answer) => return answer,
        };
        let scopes = ep.issuer.user_scopes(&user);
        let principal = Principal::User(UserPrincipal::new(
            user.id_user,
            user.uuid,
            user.user_reference,
        ));
        let minted =
            match ep
                .issuer
                .mint(principal, scopes, client, RefreshFamily::random(), ep.now())
            {
                Ok(m) => m,
                Err(f) => return ep.failure(f),
            };
        if let Err(f) = ep.issuer.store_new(&minted).await {
            return ep.failure(f);
        }
        tracing::info!(id_user = user.id_user, "token endpoint: user logged in");
        res::token_success(ep.issuer.compatibility.response_style, &minted)
    }

    /// Checks a username and password, for the password grant and for
    /// `POST /authorize` alike: the same throttle (an attempt holds a place
    /// until decided; `invalid_grant` counts as a failure, success clears the
    /// username), one bcrypt verification on every path (unknown, blocked,
    /// deleted users and NUL passwords against the dummy hash), the same
    /// answers (`invalid_grant`, 429, 503).
    pub(crate) async fn authenticate(
        &self,
        ep: &Endpoints,
        parts: &Parts,
        username: &str,
        password: Zeroizing<String>,
    ) -> Result<UserRecord, Response<Bytes>> {
        // The attempt holds a place in both counters until it is decided:
        // a failure on `invalid_grant`, a release on any other outcome
        // (dropped, also when the request is cancelled).
        let attempt = match ep.reserve(parts, Some(UserKey::of(username))).await {
            Ok(a) => a,
            Err(t) => {
                let wait = t.retry_after_secs;
                tracing::info!(retry_after = wait, "token endpoint: login throttled");
                return Err(res::too_many(wait));
            }
        };
        // A password with NUL is refused (after the same one verification
        // every other path pays): PHP's bcrypt stops at the NUL, so in Spryker
        // "change123\0anything" matches "change123", while the Rust crate
        // hashes every byte. Neither reading is safe to copy; nobody types a
        // NUL. Passwords over 72 bytes are fine: only their first 72 bytes
        // are verified, as PHP's `password_verify` does (see `HashPool`).
        let user = if password.contains('\0') {
            None
        } else {
            match self.users.find_by_username(username).await {
                Ok(u) => u.filter(|u| u.status == UserStatus::Active),
                Err(e) => return Err(ep.failure(Failure::Store(e))),
            }
        };
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let matched = match self.pool.verify(password, hash).await {
            Ok(m) => m,
            Err(_) => return Err(ep.failure(Failure::Busy)),
        };
        let user = match user {
            Some(u) if matched => u,
            _ => {
                attempt.fail(ep.now()).await;
                tracing::info!("token endpoint: invalid credentials");
                return Err(res::oauth("invalid_grant", INVALID_CREDENTIALS));
            }
        };
        attempt.succeed().await;
        Ok(user)
    }
}
