//! `POST /authorize` (SPEC §2a): the Fulfillment App's login, which answers
//! an authorization code bound to the client, the redirect URI, the user,
//! the scopes and the PKCE challenge. The code is redeemed at `/token`
//! (`code_grant.rs`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use glue_auth_core::{Principal, UserPrincipal};
use http::Response;
use http::request::Parts;
use zeroize::Zeroizing;

use crate::issue::Failure;
use crate::params::TokenParams;
use crate::pkce;
use crate::redirect::RedirectUris;
use crate::response::{self as res, INVALID_CLIENT, INVALID_SCOPE};
use crate::server::Endpoints;
use crate::store::{
    AuthorizationCodeHash, AuthorizationCodeRecord, AuthorizationCodes, CodeChallengeMethod,
};

/// The scopes `/authorize` knows. The token's scopes follow from the user
/// (SPEC §4), as with the password grant; naming one of these is allowed,
/// anything else is `invalid_scope`.
const KNOWN_SCOPES: [&str; 3] = ["user", "back-office-user", "warehouse-user"];

/// The code flow's state: the code store, the registered redirect URIs and
/// the settings.
pub(crate) struct CodeFlow {
    pub(crate) store: Arc<dyn AuthorizationCodes>,
    pub(crate) redirects: RedirectUris,
    pub(crate) plain_pkce: bool,
    pub(crate) ttl: Duration,
}

impl CodeFlow {
    /// `POST /authorize`. The checks that need neither store nor bcrypt come
    /// first; then the credentials go through the password grant's path
    /// (throttle, one verification on every path).
    pub(crate) async fn authorize(
        &self,
        ep: &Endpoints,
        parts: &Parts,
        params: TokenParams,
    ) -> Response<Bytes> {
        if params.malformed || params.response_type.as_deref() != Some("code") {
            return res::invalid_request();
        }
        let Some(requested) = params.client_id.as_deref() else {
            return res::invalid_request();
        };
        let Some(client) = ep.client(Some(requested)) else {
            return res::oauth("invalid_client", INVALID_CLIENT);
        };
        let Some(redirect_uri) = self
            .redirects
            .resolve(client, params.redirect_uri.as_deref())
        else {
            tracing::info!("authorize: redirect URI not registered for the client");
            return res::oauth("invalid_client", INVALID_CLIENT);
        };
        let scopes_ok = params
            .scope
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
            .all(|s| KNOWN_SCOPES.contains(&s));
        if !scopes_ok {
            return res::oauth("invalid_scope", INVALID_SCOPE);
        }
        let Some(challenge) = params.code_challenge.filter(|c| pkce::well_formed(c)) else {
            return res::invalid_request();
        };
        let method = match pkce::method(params.code_challenge_method.as_deref()) {
            Some(CodeChallengeMethod::S256) => CodeChallengeMethod::S256,
            Some(CodeChallengeMethod::Plain) if self.plain_pkce => CodeChallengeMethod::Plain,
            _ => return res::invalid_request(),
        };
        let (Some(username), Some(password)) = (params.username.as_deref(), params.password) else {
            return res::invalid_request();
        };
        let user = match ep
            .password
            .authenticate(ep, parts, username, password)
            .await
        {
            Ok(u) => u,
            Err(answer) => return answer,
        };
        let now = ep.now();
        let code = Zeroizing::new(crate::crypto::jti());
        let record = AuthorizationCodeRecord {
            hash: AuthorizationCodeHash::of(&code),
            client_id: client.to_owned(),
            redirect_uri,
            scopes: ep.issuer.user_scopes(&user),
            principal: Principal::User(UserPrincipal::new(
                user.id_user,
                user.uuid,
                user.user_reference,
            )),
            challenge,
            challenge_method: method,
            expires_at: now.saturating_add(self.ttl),
        };
        if let Err(e) = self.store.insert(record).await {
            return ep.failure(Failure::Store(e));
        }
        tracing::info!(id_user = user.id_user, "authorize: code issued");
        res::authorize_success(&code, params.state.as_deref())
    }
}
