//! Authorization codes of the code flow (SPEC §2a): what `POST /authorize`
//! stores and `grant_type=authorization_code` redeems, once.

use std::fmt;

use glue_auth_core::{NumericDate, Principal, Scopes};

use super::StoreFuture;

/// The SHA-256 of an authorization code: the only form in which a code is
/// stored (as lowercase hex in SQL stores).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuthorizationCodeHash(pub [u8; 32]);

impl AuthorizationCodeHash {
    /// Hashes a code as presented by a client.
    pub fn of(code: &str) -> Self {
        AuthorizationCodeHash(crate::crypto::sha256(code.as_bytes()))
    }

    /// Lowercase hex, for SQL stores.
    pub fn to_hex(&self) -> String {
        crate::crypto::hex(&self.0)
    }
}

/// Prints only a short prefix: enough to correlate logs, useless to an attacker.
impl fmt::Debug for AuthorizationCodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AuthorizationCodeHash({}…)",
            crate::crypto::hex(&self.0[..4])
        )
    }
}

/// The PKCE method a code's challenge was made with (RFC 7636 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeChallengeMethod {
    /// `BASE64URL(SHA256(verifier)) == challenge`.
    S256,
    /// `verifier == challenge`: refused unless a setting allows it.
    Plain,
}

impl CodeChallengeMethod {
    /// The parameter value: `S256` or `plain`.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeChallengeMethod::S256 => "S256",
            CodeChallengeMethod::Plain => "plain",
        }
    }

    /// Parses a parameter value (exactly `S256` or `plain`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "S256" => Some(CodeChallengeMethod::S256),
            "plain" => Some(CodeChallengeMethod::Plain),
            _ => None,
        }
    }
}

/// A stored authorization code and everything it is bound to.
///
/// `Debug` omits the challenge (with `plain` PKCE it is the verifier).
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationCodeRecord {
    /// SHA-256 of the code.
    pub hash: AuthorizationCodeHash,
    /// The OAuth client the code was issued to.
    pub client_id: String,
    /// The redirect URI sent to `/authorize`; `/token` must send the same.
    pub redirect_uri: String,
    /// The user who logged in.
    pub principal: Principal,
    /// The scopes of the access token the code redeems for.
    pub scopes: Scopes,
    /// The PKCE `code_challenge`.
    pub challenge: String,
    /// The PKCE `code_challenge_method`.
    pub challenge_method: CodeChallengeMethod,
    /// After this instant the code is refused (60 s after issue by default).
    pub expires_at: NumericDate,
}

impl fmt::Debug for AuthorizationCodeRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCodeRecord")
            .field("hash", &self.hash)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("principal", &self.principal)
            .field("scopes", &self.scopes)
            .field("challenge_method", &self.challenge_method)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Authorization-code storage (`spy_oauth_code_flow_auth_code`, or memory).
pub trait AuthorizationCodes: Send + Sync + fmt::Debug {
    /// Stores a new code.
    fn insert(&self, record: AuthorizationCodeRecord) -> StoreFuture<'_, ()>;

    /// Atomically removes the code and returns it, if it exists and has not
    /// expired at `now` (`expires_at > now`). Of any number of concurrent
    /// calls for one code, at most one gets `Some`: a code is single use.
    /// Expired codes may be deleted by the same call.
    fn take(
        &self,
        hash: AuthorizationCodeHash,
        now: NumericDate,
    ) -> StoreFuture<'_, Option<AuthorizationCodeRecord>>;
}

impl<T: AuthorizationCodes + ?Sized> AuthorizationCodes for std::sync::Arc<T> {
    fn insert(&self, record: AuthorizationCodeRecord) -> StoreFuture<'_, ()> {
        (**self).insert(record)
    }
    fn take(
        &self,
        hash: AuthorizationCodeHash,
        now: NumericDate,
    ) -> StoreFuture<'_, Option<AuthorizationCodeRecord>> {
        (**self).take(hash, now)
    }
}
