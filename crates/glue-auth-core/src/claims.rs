//! The claims of a Glue access token.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{InvalidReason, NumericDate, Principal, Scopes, SubjectError};

/// The validated claims of an access token: principal, scopes, `jti`, `aud`,
/// `iat`, `nbf` and `exp`.
///
/// One cheap-to-clone value (an `Arc` inside): the bearer layer puts it into the
/// request extensions next to the [`Principal`].
#[derive(Clone, PartialEq, Eq)]
pub struct Claims {
    inner: Arc<ClaimsInner>,
}

#[derive(PartialEq, Eq)]
struct ClaimsInner {
    principal: Principal,
    scopes: Scopes,
    jti: Box<str>,
    aud: Box<[Box<str>]>,
    iat: Option<NumericDate>,
    nbf: Option<NumericDate>,
    exp: NumericDate,
    /// `iss` and the raw `sub` of a token from a configured issuer (never
    /// set for Glue tokens, which carry no `iss`).
    origin: Option<(Box<str>, Box<str>)>,
}

impl Claims {
    /// Starts building claims for a new token (used by issuers and tests).
    pub fn builder(principal: Principal, scopes: Scopes) -> ClaimsBuilder {
        ClaimsBuilder {
            principal,
            scopes,
            jti: String::new(),
            aud: Vec::new(),
            iat: None,
            nbf: None,
            exp: NumericDate::EPOCH,
            origin: None,
        }
    }

    /// The `iss` claim of a token accepted from a configured issuer (an OIDC
    /// provider, another gateway); `None` for Glue tokens, which carry none.
    pub fn issuer(&self) -> Option<&str> {
        self.inner.origin.as_ref().map(|(iss, _)| &**iss)
    }

    /// The raw `sub` claim of a token from a configured issuer, before it was
    /// mapped to the [`Principal`]; `None` for Glue tokens (their `sub` *is*
    /// the principal, see [`Principal::to_subject`]).
    pub fn external_subject(&self) -> Option<&str> {
        self.inner.origin.as_ref().map(|(_, sub)| &**sub)
    }

    /// Who the token speaks for.
    pub fn principal(&self) -> &Principal {
        &self.inner.principal
    }

    /// The `scopes` claim.
    pub fn scopes(&self) -> &Scopes {
        &self.inner.scopes
    }

    /// The `jti` claim (empty when absent).
    pub fn jti(&self) -> &str {
        &self.inner.jti
    }

    /// The `aud` claim: the OAuth client id(s) (empty when absent).
    pub fn audience(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.inner.aud.iter().map(|s| &**s)
    }

    /// The `iat` claim.
    pub fn issued_at(&self) -> Option<NumericDate> {
        self.inner.iat
    }

    /// The `nbf` claim.
    pub fn not_before(&self) -> Option<NumericDate> {
        self.inner.nbf
    }

    /// The `exp` claim.
    pub fn expires_at(&self) -> NumericDate {
        self.inner.exp
    }

    /// Checks `exp`, `nbf` and `iat` against `now` with `leeway`.
    ///
    /// A token is valid while `now < exp + leeway`, once `now >= nbf - leeway`,
    /// and when `iat <= now + leeway`. With zero leeway (Glue's default) one
    /// microsecond decides.
    pub fn check_time(
        &self,
        now: NumericDate,
        leeway: std::time::Duration,
    ) -> Result<(), InvalidReason> {
        let i = &*self.inner;
        if now >= i.exp.saturating_add(leeway) {
            return Err(InvalidReason::Expired);
        }
        let late_now = now.saturating_add(leeway);
        if i.nbf.is_some_and(|nbf| nbf > late_now) {
            return Err(InvalidReason::NotYetValid);
        }
        if i.iat.is_some_and(|iat| iat > late_now) {
            return Err(InvalidReason::IssuedInFuture);
        }
        Ok(())
    }

    /// The JWT payload as Spryker writes it: `aud`, `jti`, `iat`, `nbf`, `exp`,
    /// `sub` (a JSON-encoded string), `scopes`, in that order.
    pub fn to_payload_json(&self) -> String {
        let i = &*self.inner;
        let aud = match &*i.aud {
            [] => None,
            [one] => Some(Audience::One(one)),
            many => Some(Audience::Many(many)),
        };
        let out = PayloadOut {
            aud,
            jti: &i.jti,
            iat: i.iat,
            nbf: i.nbf,
            exp: i.exp,
            sub: i.principal.to_subject(),
            scopes: &i.scopes,
        };
        // Plain structs of strings and numbers always serialize.
        serde_json::to_string(&out).unwrap_or_default()
    }

    /// Parses a JWT payload in Spryker's format **without verifying anything**
    /// (no signature, no dates): for tooling, fixtures and tests. Never use it
    /// to authenticate a request.
    ///
    /// ```
    /// use glue_auth_core::Claims;
    ///
    /// let c = Claims::parse_unverified_payload(
    ///     r#"{"aud":"frontend","jti":"x","iat":1700036266.7512529,"exp":1700641066.735831,"sub":"{\"id_warehouse\":1}","scopes":["warehouse"]}"#,
    /// ).unwrap();
    /// assert_eq!(c.expires_at().as_micros(), 1_700_641_066_735_831);
    /// ```
    pub fn parse_unverified_payload(json: &str) -> Result<Claims, SubjectError> {
        let raw: ClaimsPayload = serde_json::from_str(json).map_err(|_| SubjectError::Malformed)?;
        Claims::try_from(raw)
    }
}

impl TryFrom<ClaimsPayload> for Claims {
    type Error = SubjectError;

    /// Reads the subject of a decoded payload: [`SubjectError::Malformed`]
    /// (401 `001`) or [`SubjectError::Unsupported`] (400 `001`) when `sub` is
    /// not a user or warehouse of Spryker's format.
    fn try_from(raw: ClaimsPayload) -> Result<Claims, SubjectError> {
        let principal = Principal::from_subject(&raw.sub)?;
        let aud = match raw.aud {
            None => Box::default(),
            Some(RawAudience::One(a)) => Box::new([a.into_boxed_str()]) as Box<[Box<str>]>,
            Some(RawAudience::Many(v)) => v.into_iter().map(String::into_boxed_str).collect(),
        };
        Ok(Claims {
            inner: Arc::new(ClaimsInner {
                principal,
                scopes: raw.scopes,
                jti: raw.jti.unwrap_or_default().into_boxed_str(),
                aud,
                iat: raw.iat,
                nbf: raw.nbf,
                exp: raw.exp,
                origin: None,
            }),
        })
    }
}

/// Never prints the `jti`: it identifies a live credential.
impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.inner;
        f.debug_struct("Claims")
            .field("principal", &i.principal)
            .field("scopes", &i.scopes)
            .field("aud", &i.aud)
            .field("iat", &i.iat)
            .field("nbf", &i.nbf)
            .field("exp", &i.exp)
            .finish_non_exhaustive()
    }
}

/// Builder for [`Claims`] of a token about to be issued.
pub struct ClaimsBuilder {
    principal: Principal,
    scopes: Scopes,
    jti: String,
    aud: Vec<Box<str>>,
    iat: Option<NumericDate>,
    nbf: Option<NumericDate>,
    exp: NumericDate,
    origin: Option<(Box<str>, Box<str>)>,
}

impl ClaimsBuilder {
    /// Sets `jti`.
    pub fn jti(mut self, jti: impl Into<String>) -> Self {
        self.jti = jti.into();
        self
    }

    /// Sets `aud` to one client id (Spryker writes a single string).
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.aud = vec![aud.into().into_boxed_str()];
        self
    }

    /// Sets `aud` to several values (tokens of other issuers may name
    /// several audiences).
    pub fn audiences<I, S>(mut self, aud: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.aud = aud.into_iter().map(|a| a.into().into_boxed_str()).collect();
        self
    }

    /// Sets `iat` alone (`None` drops it).
    pub fn issued_at_only(mut self, iat: Option<NumericDate>) -> Self {
        self.iat = iat;
        self
    }

    /// Records that the token came from the configured issuer `iss` with the
    /// raw subject `sub` ([`Claims::issuer`], [`Claims::external_subject`]).
    /// Not written by [`Claims::to_payload_json`]: Glue tokens carry no `iss`.
    pub fn origin(mut self, iss: impl Into<String>, sub: impl Into<String>) -> Self {
        self.origin = Some((iss.into().into_boxed_str(), sub.into().into_boxed_str()));
        self
    }

    /// Sets `iat` and `nbf` to `at`, and `exp` to `at + ttl`, as Spryker does.
    pub fn issued_at(mut self, at: NumericDate, ttl: std::time::Duration) -> Self {
        self.iat = Some(at);
        self.nbf = Some(at);
        self.exp = at.saturating_add(ttl);
        self
    }

    /// Overrides `nbf` (`None` drops the claim).
    pub fn not_before(mut self, nbf: Option<NumericDate>) -> Self {
        self.nbf = nbf;
        self
    }

    /// Overrides `exp`.
    pub fn expires_at(mut self, exp: NumericDate) -> Self {
        self.exp = exp;
        self
    }

    /// The claims.
    pub fn build(self) -> Claims {
        Claims {
            inner: Arc::new(ClaimsInner {
                principal: self.principal,
                scopes: self.scopes,
                jti: self.jti.into_boxed_str(),
                aud: self.aud.into_boxed_slice(),
                iat: self.iat,
                nbf: self.nbf,
                exp: self.exp,
                origin: self.origin,
            }),
        }
    }
}

/// Never prints the `jti`, like [`Claims`].
impl fmt::Debug for ClaimsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimsBuilder")
            .field("principal", &self.principal)
            .field("scopes", &self.scopes)
            .field("aud", &self.aud)
            .field("iat", &self.iat)
            .field("nbf", &self.nbf)
            .field("exp", &self.exp)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum Audience<'a> {
    One(&'a str),
    Many(&'a [Box<str>]),
}

#[derive(Serialize)]
struct PayloadOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<Audience<'a>>,
    jti: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    iat: Option<NumericDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nbf: Option<NumericDate>,
    exp: NumericDate,
    sub: String,
    scopes: &'a Scopes,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawAudience {
    One(String),
    Many(Vec<String>),
}

/// The payload of an access token as it arrives, before its subject is read:
/// deserialize it (serde) from a payload whose signature was checked, then
/// turn it into [`Claims`] with `Claims::try_from`.
///
/// `exp` and `sub` are required (a token without an expiry is never
/// accepted); `iat` and `nbf` may be absent, but when present they must be
/// numbers (`null` is refused, not read as absent).
#[derive(Deserialize)]
pub struct ClaimsPayload {
    #[serde(default)]
    aud: Option<RawAudience>,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default, deserialize_with = "present_date")]
    iat: Option<NumericDate>,
    #[serde(default, deserialize_with = "present_date")]
    nbf: Option<NumericDate>,
    exp: NumericDate,
    sub: String,
    #[serde(default)]
    scopes: Scopes,
}

/// A date that is present must be a number: `null` is an error, absence
/// (the field's `default`) is `None`.
fn present_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<NumericDate>, D::Error> {
    NumericDate::deserialize(d).map(Some)
}

impl fmt::Debug for ClaimsPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimsPayload")
            .field("iat", &self.iat)
            .field("nbf", &self.nbf)
            .field("exp", &self.exp)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UserPrincipal;
    use std::time::Duration;

    fn sample() -> Claims {
        Claims::builder(
            Principal::User(UserPrincipal::new(
                4,
                "0d743cc3-a772-5145-971e-d4018ee7a489",
                None::<String>,
            )),
            Scopes::from_iter(["user"]),
        )
        .jti("30ec441000ac376bfe564ec65a87caf4853dc0b6c8c634ee9689f96d36f8233834351f313736ba62")
        .audience("frontend")
        .issued_at(
            NumericDate::from_micros(1_699_347_834_461_590),
            Duration::from_secs(28800),
        )
        .build()
    }

    #[test]
    fn payload_has_spryker_claim_order_and_formats() {
        assert_eq!(
            sample().to_payload_json(),
            concat!(
                r#"{"aud":"frontend","jti":"30ec441000ac376bfe564ec65a87caf4853dc0b6c8c634ee9689f96d36f8233834351f313736ba62","#,
                r#""iat":1699347834.46159,"nbf":1699347834.46159,"exp":1699376634.46159,"#,
                r#""sub":"{\"user_reference\":null,\"id_user\":4,\"uuid\":\"0d743cc3-a772-5145-971e-d4018ee7a489\"}","#,
                r#""scopes":["user"]}"#
            )
        );
    }

    #[test]
    fn payload_round_trips() {
        let c = sample();
        let raw: ClaimsPayload = serde_json::from_str(&c.to_payload_json()).unwrap();
        assert_eq!(Claims::try_from(raw).unwrap(), c);
    }

    #[test]
    fn null_dates_are_refused_absent_ones_are_not() {
        let sub = r#""sub":"{\"id_warehouse\":1}""#;
        let with = |extra: &str| format!(r#"{{"exp":1700000000,{sub}{extra}}}"#);
        assert!(Claims::parse_unverified_payload(&with("")).is_ok());
        assert!(Claims::parse_unverified_payload(&with(r#","nbf":1699000000.5"#)).is_ok());
        for bad in [r#","nbf":null"#, r#","iat":null"#, r#","iat":"1699000000""#] {
            assert_eq!(
                Claims::parse_unverified_payload(&with(bad)),
                Err(SubjectError::Malformed),
                "{bad}"
            );
        }
        let no_exp = format!(r#"{{{sub}}}"#);
        assert_eq!(
            Claims::parse_unverified_payload(&no_exp),
            Err(SubjectError::Malformed)
        );
    }

    #[test]
    fn time_checks_are_exact_to_the_microsecond() {
        let c = sample();
        let exp = c.expires_at();
        let iat = c.issued_at().unwrap();
        let z = Duration::ZERO;
        let us = Duration::from_micros(1);
        assert_eq!(c.check_time(exp.saturating_sub(us), z), Ok(()));
        assert_eq!(c.check_time(exp, z), Err(InvalidReason::Expired));
        assert_eq!(c.check_time(iat, z), Ok(()));
        assert_eq!(
            c.check_time(iat.saturating_sub(us), z),
            Err(InvalidReason::NotYetValid)
        );
        assert_eq!(c.check_time(exp, Duration::from_secs(1)), Ok(()));
    }

    #[test]
    fn debug_hides_jti() {
        let dbg = format!("{:?}", sample());
        assert!(!dbg.contains("30ec4410"), "{dbg}");
        let builder =
            Claims::builder(sample().principal().clone(), Scopes::default()).jti("30ec4410secret");
        let dbg = format!("{builder:?}");
        assert!(!dbg.contains("30ec4410"), "{dbg}");
    }
}
