//! Signature verification of a compact JWS against a [`KeySet`].

use std::collections::HashSet;
use std::sync::OnceLock;

use glue_auth_core::{Claims, ClaimsPayload, InvalidReason, SubjectError};
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};

use crate::{KeySet, PublicKey};

/// Why a token failed verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Any check failed: Glue answers 401 `001`. The reason is for logs only.
    Invalid(InvalidReason),
    /// The signature is valid but `sub` names neither a user nor a warehouse:
    /// Glue answers 400 `001`.
    UnsupportedSubject,
}

impl From<SubjectError> for TokenError {
    fn from(e: SubjectError) -> Self {
        match e {
            SubjectError::Malformed => TokenError::Invalid(InvalidReason::Claims),
            SubjectError::Unsupported => TokenError::UnsupportedSubject,
        }
    }
}

impl From<InvalidReason> for TokenError {
    fn from(r: InvalidReason) -> Self {
        TokenError::Invalid(r)
    }
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Invalid(reason) => write!(f, "invalid access token ({reason})"),
            TokenError::UnsupportedSubject => {
                f.write_str("the token's subject is neither a user nor a warehouse")
            }
        }
    }
}

impl std::error::Error for TokenError {}

/// jsonwebtoken picks its crypto backend from its crate features; should
/// another crate in the build enable a second backend, it would have none and
/// fail on the first token. Install aws-lc explicitly when nothing is
/// installed (once per process; a no-op when a backend is set).
pub(crate) fn ensure_provider() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if jsonwebtoken::crypto::CryptoProvider::try_get_default().is_none() {
            let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        }
    });
}

impl KeySet {
    /// Verifies a compact JWS: RS256 only, no `crit` header parameter
    /// (jsonwebtoken refuses every one it does not implement), the signature
    /// against the key set, then the payload in Spryker's format. Dates are
    /// *not* checked here (see [`Claims::check_time`]): that needs a clock and
    /// a leeway.
    ///
    /// Returns the claims and the key generation they were verified under.
    pub fn verify(&self, token: &str) -> Result<(Claims, u64), TokenError> {
        let header = decode_header(token).map_err(|_| InvalidReason::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(InvalidReason::Algorithm.into());
        }
        let keys = self.snapshot();
        let by_kid = header
            .kid
            .as_deref()
            .and_then(|kid| keys.keys.iter().find(|k| k.kid() == Some(kid)));
        let candidates: &[PublicKey] = match by_kid {
            Some(k) => std::slice::from_ref(k),
            None => &keys.keys,
        };
        let mut last = InvalidReason::Signature;
        for key in candidates {
            match decode::<ClaimsPayload>(token, &key.decoding, validation()) {
                Ok(data) => {
                    let claims = Claims::try_from(data.claims)?;
                    return Ok((claims, keys.generation));
                }
                Err(e) => {
                    last = classify(e.kind());
                    if last != InvalidReason::Signature {
                        // Not a key mismatch: another key will not help.
                        return Err(last.into());
                    }
                }
            }
        }
        Err(last.into())
    }
}

fn classify(kind: &jsonwebtoken::errors::ErrorKind) -> InvalidReason {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::InvalidSignature => InvalidReason::Signature,
        K::InvalidAlgorithm | K::InvalidAlgorithmName | K::UnsupportedAlgorithm => {
            InvalidReason::Algorithm
        }
        K::Json(_) | K::InvalidClaimFormat(_) | K::MissingRequiredClaim(_) => InvalidReason::Claims,
        _ => InvalidReason::Malformed,
    }
}

/// The one `Validation` we use: every field set on purpose. jsonwebtoken only
/// checks the algorithm, the header's `crit` and the signature; dates (with
/// microseconds and our own leeway), audience and subject are checked by the
/// layers.
fn validation() -> &'static Validation {
    static V: OnceLock<Validation> = OnceLock::new();
    V.get_or_init(|| {
        let mut v = Validation::new(Algorithm::RS256);
        v.algorithms = vec![Algorithm::RS256];
        v.required_spec_claims = HashSet::new();
        v.leeway = 0;
        v.reject_tokens_expiring_in_less_than = 0;
        // Integer-only in jsonwebtoken: float dates are checked by Claims::check_time.
        v.validate_exp = false;
        v.validate_nbf = false;
        v.validate_aud = false;
        v.aud = None;
        v.iss = None;
        v.sub = None;
        v
    })
}
