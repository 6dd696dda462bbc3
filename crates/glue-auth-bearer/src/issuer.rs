//! Tokens of other issuers (an OIDC provider, another gateway that sets
//! `iss`): their keys, audiences, algorithms, and how their claims map to
//! our [`Claims`] and [`Principal`].

use std::fmt;
use std::sync::Arc;

use glue_auth_core::{
    Claims, InvalidReason, NumericDate, Principal, Scopes, SubjectError, UserPrincipal,
};
use glue_auth_jwt::{Algorithms, KeySet, TokenError};
use serde::Deserialize as _;
use serde_json::{Map, Value};

/// How the `sub` (and other claims) of an issuer's token become our
/// [`Principal`].
///
/// Glue's tokens carry the principal *in* `sub` (a JSON-encoded object).
/// Another issuer's `sub` is an opaque string that is unique only within
/// that issuer (OpenID Connect Core §2): it names no Spryker user, and two
/// issuers may hand out the same one. So it never becomes a Glue principal
/// by accident: the default, [`SubjectMapping::Glue`], accepts only Glue's
/// JSON `sub` (an issuer that *is* a Glue or Spryker backend); an OIDC
/// provider's opaque `sub` is 401 `001` under it. Mapping an issuer to Back
/// Office users is an explicit choice ([`SubjectMapping::User`] or
/// [`SubjectMapping::custom`]); make it only for an issuer that is
/// authoritative for your Back Office users. Whatever the mapping,
/// [`Claims::issuer`] and [`Claims::external_subject`] keep where the token
/// came from.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum SubjectMapping {
    /// `sub` is Glue's JSON-encoded principal, read exactly as for Glue
    /// tokens (a malformed one is 401, one naming neither user nor
    /// warehouse is 400).
    #[default]
    Glue,
    /// A Back Office user: `uuid` is the token's `sub`, `id_user` is read
    /// from the claim named here (a JSON integer or a string of digits;
    /// identity providers let you add such a claim). A token without it is
    /// answered like a storefront token in Glue (400 `001`): valid, but not
    /// a Back Office user.
    User {
        /// Name of the claim holding `spy_user.id_user`.
        id_user_claim: String,
    },
    /// Anything else: a function of the verified claims.
    Custom(MapFn),
}

/// The function of [`SubjectMapping::Custom`].
pub type MapFn = Arc<dyn Fn(&ExternalClaims<'_>) -> Result<Principal, SubjectError> + Send + Sync>;

impl SubjectMapping {
    /// A user whose `id_user` is in the claim `id_user_claim` and whose
    /// `uuid` is `sub`.
    pub fn user(id_user_claim: impl Into<String>) -> Self {
        SubjectMapping::User {
            id_user_claim: id_user_claim.into(),
        }
    }

    /// A mapping of your own.
    ///
    /// ```
    /// use glue_auth_bearer::SubjectMapping;
    /// use glue_auth_core::{Principal, SubjectError, WarehousePrincipal};
    ///
    /// // Machine clients of the IdP act for warehouse 1.
    /// let m = SubjectMapping::custom(|c| match c.claim_str("client_id") {
    ///     Some("picker-robot") => Ok(Principal::Warehouse(WarehousePrincipal::new(1))),
    ///     _ => Err(SubjectError::Unsupported),
    /// });
    /// # let _ = m;
    /// ```
    pub fn custom(
        f: impl Fn(&ExternalClaims<'_>) -> Result<Principal, SubjectError> + Send + Sync + 'static,
    ) -> Self {
        SubjectMapping::Custom(Arc::new(f))
    }
}

impl fmt::Debug for SubjectMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubjectMapping::Glue => f.write_str("Glue"),
            SubjectMapping::User { id_user_claim } => f
                .debug_struct("User")
                .field("id_user_claim", id_user_claim)
                .finish(),
            SubjectMapping::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// The verified claims of another issuer's token, as a
/// [`SubjectMapping::custom`] function sees them.
#[derive(Debug)]
pub struct ExternalClaims<'a> {
    issuer: &'a str,
    subject: &'a str,
    claims: &'a Map<String, Value>,
}

impl ExternalClaims<'_> {
    /// `iss`.
    pub fn issuer(&self) -> &str {
        self.issuer
    }

    /// `sub`.
    pub fn subject(&self) -> &str {
        self.subject
    }

    /// Any claim, as JSON.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// A string claim.
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// An integer claim (a JSON integer, or a string of digits).
    pub fn claim_i64(&self, name: &str) -> Option<i64> {
        match self.claims.get(name)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }
}

/// The claims read as scopes, in order; all present ones are merged.
/// Default: `scope` (a space-separated string, RFC 9068), `scp` (a string or
/// an array: Okta, Azure AD) and `scopes` (an array: Glue).
pub const DEFAULT_SCOPE_CLAIMS: [&str; 3] = ["scope", "scp", "scopes"];

/// Another issuer whose tokens the validator accepts, chosen by the token's
/// `iss` claim, with its own keys, audiences, algorithms and claim mapping.
///
/// ```
/// use glue_auth_bearer::{Issuer, SubjectMapping, Validator};
/// use glue_auth_jwt::{Algorithm, Algorithms, KeySet, SigningKey};
///
/// let glue_keys = SigningKey::generate().unwrap().key_set();
/// let idp_keys = KeySet::empty(); // filled by a key source (JWKS URL, file)
/// let validator = Validator::builder(glue_keys)
///     .issuer(
///         Issuer::new("https://login.example.com/realms/shop", idp_keys)
///             .audiences(["glue-backend"])
///             .algorithms(Algorithms::from_iter([Algorithm::RS256, Algorithm::ES256]))
///             .subject(SubjectMapping::user("glue_id_user")),
///     )
///     .build()
///     .unwrap();
/// # let _ = validator;
/// ```
#[derive(Debug, Clone)]
pub struct Issuer {
    pub(crate) iss: Box<str>,
    pub(crate) keys: KeySet,
    pub(crate) audiences: Option<Vec<String>>,
    pub(crate) any_audience: bool,
    pub(crate) algorithms: Algorithms,
    pub(crate) scope_claims: Vec<String>,
    pub(crate) subject: SubjectMapping,
}

impl Issuer {
    /// Tokens whose `iss` is exactly `iss`, verified against `keys`.
    /// Defaults: RS256 only, scopes from [`DEFAULT_SCOPE_CLAIMS`],
    /// [`SubjectMapping::Glue`]; an audience allowlist is required (or
    /// [`any_audience`](Self::any_audience)).
    pub fn new(iss: impl Into<String>, keys: KeySet) -> Self {
        Issuer {
            iss: iss.into().into_boxed_str(),
            keys,
            audiences: None,
            any_audience: false,
            algorithms: Algorithms::GLUE,
            scope_claims: DEFAULT_SCOPE_CLAIMS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            subject: SubjectMapping::Glue,
        }
    }

    /// Accept only tokens whose `aud` contains one of these. An identity
    /// provider signs tokens for all its clients with the same keys: without
    /// this, a token minted for another application would be accepted.
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences = Some(audiences.into_iter().map(Into::into).collect());
        self
    }

    /// Accept any `aud` (only for an issuer whose tokens are all meant for
    /// you).
    pub fn any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// The signature algorithms accepted (default RS256 only). A key's own
    /// `alg` narrows this further.
    pub fn algorithms(mut self, algorithms: Algorithms) -> Self {
        self.algorithms = algorithms;
        self
    }

    /// The claims read as scopes (default [`DEFAULT_SCOPE_CLAIMS`]).
    pub fn scope_claims<I, S>(mut self, claims: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scope_claims = claims.into_iter().map(Into::into).collect();
        self
    }

    /// How `sub` becomes the [`Principal`] (default [`SubjectMapping::Glue`]).
    pub fn subject(mut self, mapping: SubjectMapping) -> Self {
        self.subject = mapping;
        self
    }

    /// The `iss` value.
    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// The issuer's key set.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// Verifies a token of this issuer and maps its claims. Dates and
    /// audience are checked by the validator.
    pub(crate) fn verify(&self, token: &str) -> Result<(Claims, u64), TokenError> {
        let (payload, generation) = self
            .keys
            .verify_payload::<Map<String, Value>>(token, self.algorithms)?;
        Ok((self.map(&payload)?, generation))
    }

    fn map(&self, c: &Map<String, Value>) -> Result<Claims, TokenError> {
        let claims_err = || TokenError::Invalid(InvalidReason::Claims);
        // Checked again on the verified payload: the look-up used an
        // unverified peek.
        if c.get("iss").and_then(Value::as_str) != Some(&*self.iss) {
            return Err(InvalidReason::Issuer.into());
        }
        let sub = c
            .get("sub")
            .and_then(Value::as_str)
            .ok_or_else(claims_err)?;
        let date = |name: &str| -> Result<Option<NumericDate>, TokenError> {
            match c.get(name) {
                None => Ok(None),
                Some(v) => NumericDate::deserialize(v)
                    .map(Some)
                    .map_err(|_| claims_err()),
            }
        };
        let exp = date("exp")?.ok_or_else(claims_err)?;
        let aud: Vec<&str> = match c.get("aud") {
            None => Vec::new(),
            Some(Value::String(a)) => vec![a],
            Some(Value::Array(list)) => list
                .iter()
                .map(|v| v.as_str().ok_or_else(claims_err))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(claims_err()),
        };
        let jti = match c.get("jti") {
            None => "",
            Some(v) => v.as_str().ok_or_else(claims_err)?,
        };
        let mut scopes: Vec<&str> = Vec::new();
        for name in &self.scope_claims {
            let words: Vec<&str> = match c.get(name.as_str()) {
                None => continue,
                Some(Value::String(s)) => s.split_ascii_whitespace().collect(),
                Some(Value::Array(list)) => list
                    .iter()
                    .map(|v| v.as_str().ok_or_else(claims_err))
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err(claims_err()),
            };
            for w in words {
                if !scopes.contains(&w) {
                    scopes.push(w);
                }
            }
        }
        let view = ExternalClaims {
            issuer: &self.iss,
            subject: sub,
            claims: c,
        };
        let principal = match &self.subject {
            SubjectMapping::Glue => Principal::from_subject(sub)?,
            SubjectMapping::User { id_user_claim } => {
                let id = view
                    .claim_i64(id_user_claim)
                    .ok_or(TokenError::UnsupportedSubject)?;
                Principal::User(UserPrincipal::new(id, sub, None::<&str>))
            }
            SubjectMapping::Custom(f) => f(&view)?,
        };
        Ok(Claims::builder(principal, Scopes::from_iter(scopes))
            .jti(jti)
            .audiences(aud)
            .issued_at_only(date("iat")?)
            .not_before(date("nbf")?)
            .expires_at(exp)
            .origin(&*self.iss, sub)
            .build())
    }
}
