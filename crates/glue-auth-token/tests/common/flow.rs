//! Helpers of the code-flow tests (SPEC §2a).

use std::sync::{Arc, Mutex};

use glue_auth_core::NumericDate;
use glue_auth_token::TokenServerBuilder;
use glue_auth_token::store::{
    AuthorizationCodeHash, AuthorizationCodeRecord, AuthorizationCodes, StoreFuture,
};

use super::*;

/// RFC 7636 appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const REDIRECT: &str = "https://fulfillment.example/callback";
pub const LOOPBACK: &str = "http://127.0.0.1/fulfillment/";
pub const INVALID_SCOPE: &str = r#"[{"status":400,"code":"invalid_scope","message":"The requested scope is invalid, unknown, or malformed"}]"#;

/// Two clients: `frontend` with two redirect URIs, `backoffice` with none.
pub fn flow(b: TokenServerBuilder) -> TokenServerBuilder {
    b.clients(["frontend", "backoffice"])
        .redirect_uris("frontend", [REDIRECT, LOOPBACK])
}

/// The parameters of a good `/authorize` request.
pub fn authorize_params() -> Vec<(&'static str, String)> {
    [
        ("response_type", "code"),
        ("client_id", "frontend"),
        ("redirect_uri", REDIRECT),
        ("scope", "user"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("state", "xyz"),
        ("username", SONIA),
        ("password", PASSWORD),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

/// `params` with `key` set to `value` (`None`: removed).
pub fn with(
    mut params: Vec<(&'static str, String)>,
    key: &'static str,
    value: Option<&str>,
) -> Vec<(&'static str, String)> {
    params.retain(|(k, _)| *k != key);
    if let Some(v) = value {
        params.push((key, v.to_owned()));
    }
    params
}

pub fn encode(params: &[(&str, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub async fn authorize(s: &Setup, params: &[(&str, String)]) -> Answer {
    call(s.app(), form("/authorize", &encode(params))).await
}

/// A fresh code of sonia for `frontend` and [`REDIRECT`].
pub async fn code(s: &Setup) -> String {
    let a = authorize(s, &authorize_params()).await;
    assert_eq!(a.status, 200, "{}", a.text());
    a.json()[0]["code"].as_str().unwrap().to_owned()
}

/// The parameters of a good code exchange.
pub fn exchange_params(code: &str) -> Vec<(&'static str, String)> {
    [
        ("grant_type", "authorization_code"),
        ("client_id", "frontend"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

pub async fn exchange(s: &Setup, params: &[(&str, String)]) -> Answer {
    call(s.app(), form("/token", &encode(params))).await
}

/// A memory store that also keeps every record inserted (to show what is
/// stored).
#[derive(Debug, Clone)]
pub struct Recording {
    pub inner: Arc<glue_auth_token::MemoryAuthorizationCodes>,
    pub inserted: Arc<Mutex<Vec<AuthorizationCodeRecord>>>,
}

impl Recording {
    pub fn new(clock: &ManualClock) -> Self {
        Recording {
            inner: Arc::new(glue_auth_token::MemoryAuthorizationCodes::with_clock(
                100,
                clock.clone(),
            )),
            inserted: Arc::default(),
        }
    }
}

impl AuthorizationCodes for Recording {
    fn insert(&self, record: AuthorizationCodeRecord) -> StoreFuture<'_, ()> {
        self.inserted.lock().unwrap().push(record.clone());
        self.inner.insert(record)
    }
    fn take(
        &self,
        hash: AuthorizationCodeHash,
        now: NumericDate,
    ) -> StoreFuture<'_, Option<AuthorizationCodeRecord>> {
        self.inner.take(hash, now)
    }
}
