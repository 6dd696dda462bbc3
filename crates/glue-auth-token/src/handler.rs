//! What the endpoints do with a request: routing, the password and refresh
//! grants, and the warehouse-token exchange.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use glue_auth_core::{
    Claims, Envelope, GlueRejection, NumericDate, Principal, Reject, Rejection, RequestHead,
    Scopes, UserPrincipal, WarehousePrincipal,
};
use http::header::CONTENT_LENGTH;
use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use zeroize::Zeroizing;

use crate::params::TokenParams;
use crate::response::{self as res, INVALID_CLIENT, INVALID_CREDENTIALS, INVALID_REFRESH};
use crate::server::Shared;
use crate::store::{
    AccessTokenRecord, BoxError, RefreshFamily, RefreshTokenHash, RefreshTokenRecord, Rotation,
    StoreError, UserStatus,
};
use crate::throttle::{Attempt, user_key};

/// The one boxed future of the crate: the endpoints' own answer. A login
/// awaits a store look-up and a bcrypt verification of tens of milliseconds;
/// one allocation is noise next to that, and it keeps the forwarding path
/// (an enum future, no allocation) independent of the handler's shape.
pub(crate) type AnswerFuture = Pin<Box<dyn Future<Output = Response<Bytes>> + Send + 'static>>;

/// Which endpoint a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Token,
    WarehouseTokens,
}

/// What to do with a request.
pub(crate) enum Dispatch<B> {
    /// Not one of ours: hand it on untouched.
    Forward(Request<B>),
    /// Answered without awaiting anything.
    Ready(Response<Bytes>),
    /// Answered after reading the body and asking the stores.
    Answer(AnswerFuture),
}

fn path_is(path: &str, route: &str) -> bool {
    path.strip_prefix(route)
        .is_some_and(|rest| rest.is_empty() || rest == "/")
}

/// The first `Content-Type` value is exactly `application/vnd.api+json`
/// (for a POST, that is the whole of Glue's JSON:API rule).
fn is_json_api(parts: &Parts) -> bool {
    Envelope::for_request(&Method::POST, &parts.headers) == Envelope::JsonApi
}

/// Renders an authentication or authorization failure of `/warehouse-tokens`
/// (Glue's answers, SPEC §5) and puts the typed reason into the response
/// extensions.
fn reject(parts: &Parts, rejection: Rejection) -> Response<Bytes> {
    let head = RequestHead {
        method: &parts.method,
        uri: &parts.uri,
        headers: &parts.headers,
    };
    let mut answer = res::no_store(GlueRejection.reject(&rejection, &head));
    answer.extensions_mut().insert(rejection);
    answer
}

/// An `invalid_grant` for a refresh token; counts as a failure of the
/// client address.
fn refresh_refused(attempt: Attempt, now: NumericDate, why: &'static str) -> Response<Bytes> {
    tracing::info!(reason = why, "token endpoint: refresh token refused");
    attempt.fail(now);
    res::oauth("invalid_grant", INVALID_REFRESH)
}

enum Failure {
    Store(StoreError),
    Busy,
    Sign,
}

impl Shared {
    pub(crate) fn route(&self, path: &str) -> Option<Route> {
        if path_is(path, &self.settings.token_path) {
            Some(Route::Token)
        } else if path_is(path, &self.settings.warehouse_path) {
            Some(Route::WarehouseTokens)
        } else {
            None
        }
    }

    pub(crate) fn dispatch<B>(self: &Arc<Self>, req: Request<B>) -> Dispatch<B>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let Some(route) = self.route(req.uri().path()) else {
            return Dispatch::Forward(req);
        };
        let (parts, body) = req.into_parts();
        if let Some(answer) = self.precheck(&parts) {
            return Dispatch::Ready(answer);
        }
        match route {
            Route::Token => Dispatch::Answer(Box::pin(Arc::clone(self).token(parts, body))),
            Route::WarehouseTokens => match self.authorize(&parts) {
                Ok(user) => {
                    Dispatch::Answer(Box::pin(Arc::clone(self).warehouse(parts, body, user)))
                }
                Err(rejection) => Dispatch::Ready(reject(&parts, rejection)),
            },
        }
    }

    /// The answers that need neither body nor store: 404 for JSON:API, 405
    /// for other methods, 413 for a declared oversized body.
    fn precheck(&self, parts: &Parts) -> Option<Response<Bytes>> {
        if is_json_api(parts) {
            return Some(res::not_found());
        }
        if parts.method != Method::POST {
            return Some(res::method_not_allowed());
        }
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.settings.body_limit as u64) {
            return Some(res::too_large());
        }
        None
    }

    /// Reads the body, never buffering more than the limit.
    async fn read_body<B>(&self, body: B) -> Result<Bytes, Response<Bytes>>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        match Limited::new(body, self.settings.body_limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(res::too_large()),
            Err(e) => {
                tracing::debug!(error = %e, "token endpoint: request body failed");
                Err(res::invalid_request())
            }
        }
    }

    fn failure(&self, f: Failure) -> Response<Bytes> {
        match f {
            Failure::Store(e) => tracing::error!(error = %e, "token endpoint: store failed"),
            Failure::Busy => tracing::warn!("token endpoint: password hashing queue full"),
            Failure::Sign => tracing::error!("token endpoint: signing failed"),
        }
        res::unavailable(self.settings.retry_after)
    }

    /// The client address the throttle counts against. Without one the
    /// per-address counter is silently off: say so once per server.
    fn client_addr(&self, parts: &Parts) -> Option<IpAddr> {
        let addr = self.settings.client_address.of(parts);
        if addr.is_none()
            && self.throttle.per_address_on()
            && !self.addr_warned.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                source = ?self.settings.client_address,
                "token endpoint: no client address in the request, so failed logins are \
                 not throttled per address; insert the peer `SocketAddr` into the request \
                 extensions (see `ClientAddress`)"
            );
        }
        addr
    }

    /// The first configured client (the build checks there is one).
    fn default_client(&self) -> &str {
        self.settings.clients.first().map_or("frontend", |c| c)
    }

    /// The client a request names, or the default one; `None` when unknown.
    fn client(&self, requested: Option<&str>) -> Option<&str> {
        match requested {
            None => Some(self.default_client()),
            Some(id) => self
                .settings
                .clients
                .iter()
                .find(|c| ***c == *id)
                .map(|c| &**c),
        }
    }

    // ---- POST /token -----------------------------------------------------

    async fn token<B>(self: Arc<Self>, parts: Parts, body: B) -> Response<Bytes>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let bytes = match self.read_body(body).await {
            Ok(b) => b,
            Err(answer) => return answer,
        };
        let params = TokenParams::parse(&bytes);
        drop(bytes);
        if params.malformed {
            return res::invalid_request();
        }
        match params.grant_type.as_deref() {
            Some("password") => self.password_grant(&parts, params).await,
            Some("refresh_token") if self.settings.refresh_grant => {
                self.refresh_grant(&parts, params).await
            }
            other => res::unsupported_grant_type(other.unwrap_or("")),
        }
    }

    async fn password_grant(&self, parts: &Parts, params: TokenParams) -> Response<Bytes> {
        let Some(client) = self.client(params.client_id.as_deref()) else {
            return res::oauth("invalid_client", INVALID_CLIENT);
        };
        let (Some(username), Some(password)) = (params.username.as_deref(), params.password) else {
            return res::invalid_request();
        };
        let addr = self.client_addr(parts);
        // The attempt holds a place in both counters until it is decided:
        // a failure on `invalid_grant`, a release on any other outcome
        // (dropped, also when the request is cancelled).
        let attempt = match self
            .throttle
            .reserve(Some(&user_key(username)), addr, self.now())
        {
            Ok(a) => a,
            Err(wait) => {
                tracing::info!(retry_after = wait, "token endpoint: login throttled");
                return res::too_many(wait);
            }
        };
        // A password with NUL is refused (after the same one verification
        // every other path pays): PHP's bcrypt stops at the NUL, so in Spryker
        // "change123\0anything" matches "change123", while the Rust crate
        // hashes every byte. Neither reading is safe to copy; nobody types a
        // NUL. Passwords over 72 bytes are fine: only their first 72 bytes
        // are verified, as PHP's `password_verify` does (see `HashPool`).
        let usable = !password.contains('\0');
        let user = if usable {
            match self.users.find_by_username(username).await {
                Ok(u) => u.filter(|u| u.status == UserStatus::Active),
                Err(e) => return self.failure(Failure::Store(e)),
            }
        } else {
            None
        };
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let matched = match self.pool.verify(password, hash).await {
            Ok(m) => m,
            Err(_) => return self.failure(Failure::Busy),
        };
        let user = match user {
            Some(u) if matched => u,
            _ => {
                attempt.fail(self.now());
                tracing::info!("token endpoint: invalid credentials");
                return res::oauth("invalid_grant", INVALID_CREDENTIALS);
            }
        };
        attempt.succeed();
        let scopes = if self.settings.legacy_scopes {
            Scopes::from_iter([Scopes::USER])
        } else if user.is_warehouse_user {
            Scopes::from_iter([Scopes::USER, Scopes::WAREHOUSE_USER])
        } else {
            Scopes::from_iter([Scopes::USER, Scopes::BACK_OFFICE_USER])
        };
        let principal = Principal::User(UserPrincipal::new(
            user.id_user,
            user.uuid,
            user.user_reference,
        ));
        let now = self.now();
        let minted = match self.mint(principal, scopes, client, RefreshFamily::random(), now) {
            Ok(m) => m,
            Err(f) => return self.failure(f),
        };
        if let Err(f) = self.store_new(&minted).await {
            return self.failure(f);
        }
        tracing::info!(id_user = user.id_user, "token endpoint: user logged in");
        res::token_success(
            self.settings.style,
            minted.expires_in,
            &minted.access,
            &minted.refresh,
        )
    }

    async fn refresh_grant(&self, parts: &Parts, params: TokenParams) -> Response<Bytes> {
        let Some(client) = self.client(params.client_id.as_deref()) else {
            return res::oauth("invalid_client", INVALID_CLIENT);
        };
        let Some(token) = params.refresh_token else {
            return res::invalid_request();
        };
        let addr = self.client_addr(parts);
        // Refused refresh tokens count against the client address only.
        let attempt = match self.throttle.reserve(None, addr, self.now()) {
            Ok(a) => a,
            Err(wait) => return res::too_many(wait),
        };
        let hash = RefreshTokenHash::of(&token);
        drop(token);
        let now = self.now();
        let record = match self.refresh_tokens.find(hash).await {
            Ok(Some(r)) => r,
            Ok(None) => return refresh_refused(attempt, now, "unknown"),
            Err(e) => return self.failure(Failure::Store(e)),
        };
        if record.revoked_at.is_some() {
            return self.replayed(&record, attempt, now).await;
        }
        if record.client_id != client {
            return refresh_refused(attempt, now, "other client");
        }
        if record.expires_at <= now {
            return refresh_refused(attempt, now, "expired");
        }
        let mut minted = match self.mint(
            record.principal.clone(),
            record.scopes.clone(),
            client,
            record.family,
            now,
        ) {
            Ok(m) => m,
            Err(f) => return self.failure(f),
        };
        // The family keeps the expiry of its first token: rotation renews the
        // token, never the chain's lifetime (else a chain would live forever).
        minted.record.expires_at = minted.record.expires_at.min(record.expires_at);
        match self
            .refresh_tokens
            .rotate(hash, minted.record.clone(), now)
            .await
        {
            Ok(Rotation::Rotated) => {}
            Ok(Rotation::Reused) => return self.replayed(&record, attempt, now).await,
            Ok(Rotation::NotFound | Rotation::Expired) => {
                return refresh_refused(attempt, now, "gone");
            }
            Err(e) => return self.failure(Failure::Store(e)),
        }
        if let Err(f) = self.log_access(&minted).await {
            return self.failure(f);
        }
        tracing::info!("token endpoint: refresh token rotated");
        res::token_success(
            self.settings.style,
            minted.expires_in,
            &minted.access,
            &minted.refresh,
        )
    }

    /// A spent or revoked refresh token came back: revoke its whole family.
    async fn replayed(
        &self,
        record: &RefreshTokenRecord,
        attempt: Attempt,
        now: NumericDate,
    ) -> Response<Bytes> {
        match self.refresh_tokens.revoke_family(record.family, now).await {
            Ok(n) => tracing::warn!(
                revoked = n,
                "token endpoint: refresh token reused, family revoked"
            ),
            Err(e) => return self.failure(Failure::Store(e)),
        }
        refresh_refused(attempt, now, "reused")
    }

    // ---- POST /warehouse-tokens -------------------------------------------

    /// The user principal of the request: from the bearer layer's claims in
    /// the extensions, or validated here.
    fn authorize(&self, parts: &Parts) -> Result<UserPrincipal, Rejection> {
        let claims = match parts.extensions.get::<Claims>() {
            Some(c) => c.clone(),
            None => match self.validator.authenticate(&parts.headers) {
                Ok(Some(c)) => c,
                Ok(None) => {
                    return Err(Rejection::Unauthorized {
                        status: self.settings.unauthorized_status,
                        credentials: false,
                        required_scope: None,
                    });
                }
                Err(r) => return Err(r),
            },
        };
        let forbidden = || Rejection::Unauthorized {
            status: StatusCode::FORBIDDEN,
            credentials: true,
            required_scope: Some(Scopes::BACK_OFFICE_USER.into()),
        };
        let Principal::User(user) = claims.principal() else {
            return Err(forbidden());
        };
        let s = claims.scopes();
        if !(s.has_back_office_user() || s.has_warehouse_user() || s.is_legacy_user()) {
            return Err(forbidden());
        }
        Ok(user.clone())
    }

    async fn warehouse<B>(
        self: Arc<Self>,
        _parts: Parts,
        body: B,
        user: UserPrincipal,
    ) -> Response<Bytes>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        if let Err(answer) = self.read_body(body).await {
            return answer;
        }
        let id_warehouse = match self.assignments.active_warehouse(user.uuid()).await {
            Ok(Some(id)) => id,
            Ok(None) => {
                tracing::info!(
                    id_user = user.id_user(),
                    "token endpoint: no active warehouse assignment"
                );
                return res::no_warehouse();
            }
            Err(e) => return self.failure(Failure::Store(e)),
        };
        let client = self.default_client();
        let principal = Principal::Warehouse(WarehousePrincipal::new(id_warehouse));
        let scopes = Scopes::from_iter([Scopes::WAREHOUSE]);
        let minted = match self.mint(
            principal,
            scopes,
            client,
            RefreshFamily::random(),
            self.now(),
        ) {
            Ok(m) => m,
            Err(f) => return self.failure(f),
        };
        if let Err(f) = self.store_new(&minted).await {
            return self.failure(f);
        }
        tracing::info!(
            id_user = user.id_user(),
            id_warehouse,
            "token endpoint: warehouse token issued"
        );
        res::warehouse_success(minted.expires_in, &minted.access, &minted.refresh)
    }

    // ---- issuing ---------------------------------------------------------

    /// Signs an access token and makes its refresh token.
    fn mint(
        &self,
        principal: Principal,
        scopes: Scopes,
        client: &str,
        family: RefreshFamily,
        now: NumericDate,
    ) -> Result<Minted, Failure> {
        let s = &self.settings;
        let ttl = match principal {
            Principal::User(_) => s.user_ttl,
            Principal::Warehouse(_) => s.warehouse_ttl,
        };
        let claims = Claims::builder(principal.clone(), scopes.clone())
            .jti(crate::crypto::jti())
            .audience(client)
            .issued_at(now, ttl)
            .build();
        let access = self.key.sign(&claims).map_err(|_| Failure::Sign)?;
        let refresh = Zeroizing::new(crate::crypto::refresh_token());
        let record = RefreshTokenRecord {
            hash: RefreshTokenHash::of(&refresh),
            family,
            principal,
            scopes,
            client_id: client.to_owned(),
            expires_at: now.saturating_add(s.refresh_ttl),
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

    /// Stores a new family's first refresh token (only when the refresh
    /// grant is on: otherwise nothing can ever redeem it) and logs the access
    /// token.
    async fn store_new(&self, minted: &Minted) -> Result<(), Failure> {
        if self.settings.refresh_grant {
            self.refresh_tokens
                .insert(minted.record.clone())
                .await
                .map_err(Failure::Store)?;
        }
        self.log_access(minted).await
    }

    async fn log_access(&self, minted: &Minted) -> Result<(), Failure> {
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

/// A freshly signed access token and its refresh token.
struct Minted {
    access: Zeroizing<String>,
    refresh: Zeroizing<String>,
    record: RefreshTokenRecord,
    claims: Claims,
    expires_in: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_with_and_without_trailing_slash() {
        assert!(path_is("/token", "/token"));
        assert!(path_is("/token/", "/token"));
        assert!(!path_is("/tokens", "/token"));
        assert!(!path_is("/token//", "/token"));
        assert!(!path_is("/token/x", "/token"));
        assert!(!path_is("/", "/token"));
    }
}
