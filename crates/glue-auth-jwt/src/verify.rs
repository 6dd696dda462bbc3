//! Signature verification of a compact JWS against a [`KeySet`].

use std::collections::HashSet;
use std::sync::OnceLock;

use glue_auth_core::{Claims, ClaimsPayload, InvalidReason, SubjectError};
use jsonwebtoken::{Validation, decode, decode_header};
use serde::de::DeserializeOwned;

use crate::{Algorithm, Algorithms, KeySet};

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
    /// Verifies a Glue access token: RS256 only, no `crit` header parameter
    /// (jsonwebtoken refuses every one it does not implement), the signature
    /// against the one key the token's `kid` selects (see [`KeySet`]), then
    /// the payload in Spryker's format. Dates are *not* checked here (see
    /// [`Claims::check_time`]): that needs a clock and a leeway.
    ///
    /// Returns the claims and the key generation they were verified under.
    pub fn verify(&self, token: &str) -> Result<(Claims, u64), TokenError> {
        let (payload, generation) =
            self.verify_payload::<ClaimsPayload>(token, Algorithms::GLUE)?;
        Ok((Claims::try_from(payload)?, generation))
    }

    /// Verifies a compact JWS whose algorithm is in `allowed` (and in the
    /// selected key's own [`algorithms`](crate::PublicKey::algorithms)), and
    /// deserializes its payload as `T`: the building block for tokens of
    /// other issuers. No `crit` header parameter is accepted.
    ///
    /// A token whose key is not in the set is
    /// [`InvalidReason::UnknownKey`] and runs the set's
    /// [`on_unknown_key`](KeySet::on_unknown_key) hook.
    ///
    /// ```
    /// use glue_auth_jwt::{Algorithms, SigningKey};
    ///
    /// let key = SigningKey::generate().unwrap();
    /// # use glue_auth_core::{Claims, Principal, Scopes, WarehousePrincipal, NumericDate};
    /// # let claims = Claims::builder(Principal::Warehouse(WarehousePrincipal::new(1)), Scopes::from_iter(["warehouse"]))
    /// #     .issued_at(NumericDate::now(), std::time::Duration::from_secs(60)).build();
    /// let token = key.sign(&claims).unwrap();
    /// let keys = key.key_set();
    /// let (payload, _) = keys.verify_payload::<serde_json::Value>(&token, Algorithms::RSA).unwrap();
    /// assert_eq!(payload["scopes"][0], "warehouse");
    /// // RS256 is not on an ES256-only allowlist.
    /// assert!(keys.verify_payload::<serde_json::Value>(&token, Algorithms::P256).is_err());
    /// ```
    pub fn verify_payload<T: DeserializeOwned>(
        &self,
        token: &str,
        allowed: Algorithms,
    ) -> Result<(T, u64), TokenError> {
        let header = decode_header(token).map_err(|_| InvalidReason::Malformed)?;
        let alg = Algorithm::from_jwt(header.alg).ok_or(InvalidReason::Algorithm)?;
        if !allowed.contains(alg) {
            return Err(InvalidReason::Algorithm.into());
        }
        let keys = self.snapshot();
        let Some((key, kid_ignored)) = keys.select(header.kid.as_deref()) else {
            self.request_refresh();
            return Err(InvalidReason::UnknownKey.into());
        };
        if !key.algorithms().contains(alg) {
            return Err(InvalidReason::Algorithm.into());
        }
        match decode::<T>(token, &key.decoding, validation(alg)) {
            Ok(data) => Ok((data.claims, keys.generation)),
            Err(e) => {
                let reason = classify(e.kind());
                if kid_ignored && reason == InvalidReason::Signature {
                    // A new kid against a single kid-less key: perhaps a
                    // rotation the source has not seen yet.
                    self.request_refresh();
                }
                Err(reason.into())
            }
        }
    }
}

/// The `iss` claim of a compact JWS, read **without verifying anything**:
/// which issuer's keys to verify it with. `Ok(None)` when the payload has
/// no `iss` (Glue's tokens); an error when the payload is not base64url
/// JSON or `iss` is not a string.
///
/// ```
/// use glue_auth_jwt::peek_issuer;
///
/// // {"iss":"https://idp.example"}
/// let token = "e30.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIn0.sig";
/// assert_eq!(peek_issuer(token).unwrap().as_deref(), Some("https://idp.example"));
/// assert_eq!(peek_issuer("e30.e30.sig").unwrap(), None);
/// assert!(peek_issuer("garbage").is_err());
/// ```
pub fn peek_issuer(token: &str) -> Result<Option<String>, TokenError> {
    use base64::Engine as _;
    #[derive(serde::Deserialize)]
    struct Peek<'a> {
        #[serde(default, borrow)]
        iss: Option<std::borrow::Cow<'a, str>>,
    }
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(InvalidReason::Malformed.into());
    };
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| InvalidReason::Malformed)?;
    let peek: Peek<'_> = serde_json::from_slice(&json).map_err(|_| InvalidReason::Claims)?;
    Ok(peek.iss.map(std::borrow::Cow::into_owned))
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

/// The `Validation` of one algorithm: every field set on purpose.
/// jsonwebtoken only checks the algorithm, the header's `crit` and the
/// signature; dates (with microseconds and our own leeway), audience, issuer
/// and subject are checked by the layers.
fn validation(alg: Algorithm) -> &'static Validation {
    static V: OnceLock<Vec<Validation>> = OnceLock::new();
    let all = V.get_or_init(|| Algorithms::ALL.iter().map(one_validation).collect());
    &all[alg as usize]
}

fn one_validation(alg: Algorithm) -> Validation {
    {
        let alg = alg.to_jwt();
        let mut v = Validation::new(alg);
        v.algorithms = vec![alg];
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
    }
}
