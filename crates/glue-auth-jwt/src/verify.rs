//! Signature verification of a compact JWS against a [`KeySet`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use glue_auth_core::{Claims, ClaimsPayload, InvalidReason, SubjectError};
use jsonwebtoken::{Header, decode_header};
use serde::de::DeserializeOwned;

use crate::{Algorithm, Algorithms, KeySet, PublicKey};

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
        self.with_key(token, allowed, |header, alg, key, kid_ignored| {
            check_header_parameters(header)?;
            // decode_header found exactly three parts.
            let (message, signature) = token.rsplit_once('.').ok_or(InvalidReason::Malformed)?;
            let (_, payload) = message.rsplit_once('.').ok_or(InvalidReason::Malformed)?;
            let signature = URL_SAFE_NO_PAD
                .decode(signature)
                .map_err(|_| InvalidReason::Malformed)?;
            if !key.verify_signature(alg, message.as_bytes(), &signature) {
                if kid_ignored {
                    // A new kid against a single kid-less key: perhaps a
                    // rotation the source has not seen yet.
                    self.request_refresh();
                }
                return Err(InvalidReason::Signature.into());
            }
            let payload = URL_SAFE_NO_PAD
                .decode(payload)
                .map_err(|_| InvalidReason::Malformed)?;
            let claims =
                serde_json::from_slice::<T>(&payload).map_err(|_| InvalidReason::Claims)?;
            serde_json::from_slice::<RegisteredShape>(&payload)
                .map_err(|_| InvalidReason::Claims)?;
            Ok(claims)
        })
    }

    /// Reads the token's header, checks its `alg` against `allowed`, selects
    /// the key (see [`KeySet`]) and checks that the key takes that `alg`;
    /// then runs `verify` with the header, the algorithm, the key and
    /// whether the key was chosen ignoring the token's `kid`. Returns what
    /// `verify` returns, with the generation of the keys it used.
    fn with_key<R>(
        &self,
        token: &str,
        allowed: Algorithms,
        verify: impl FnOnce(&Header, Algorithm, &PublicKey, bool) -> Result<R, TokenError>,
    ) -> Result<(R, u64), TokenError> {
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
        Ok((verify(&header, alg, key, kid_ignored)?, keys.generation))
    }
}

/// The header rules of jsonwebtoken's `decode` (RFC 7515 §4.1.11, RFC 7797):
/// a `b64` that is not a boolean, or `false`, is refused; `crit` is refused
/// unless it is exactly `["b64"]` with `b64` present.
fn check_header_parameters(header: &Header) -> Result<(), InvalidReason> {
    let b64 = header
        .extras
        .get::<bool>("b64")
        .map_err(|_| InvalidReason::Malformed)?;
    if b64 == Some(false) {
        return Err(InvalidReason::Malformed);
    }
    match header.crit.as_deref() {
        None => Ok(()),
        Some([only]) if only == "b64" && b64.is_some() => Ok(()),
        Some(_) => Err(InvalidReason::Malformed),
    }
}

/// The payload as jsonwebtoken's `decode` reads it besides the caller's
/// type, even with every claim check off: its registered claims, each read
/// leniently (a value of the wrong type is no error), but the whole must
/// deserialize. So a payload that is not an object, that repeats `exp`,
/// `nbf`, `sub`, `iss` or `aud`, or whose `exp`, `nbf` or `sub` is a
/// non-empty array or object is refused. The signature is verified here
/// rather than by jsonwebtoken (to keep each key parsed, see
/// `PublicKey::verify_signature`); this keeps every decision as it was, and
/// a property test (`tests::same_decisions_as_jsonwebtoken`) holds the two
/// to the same answer on arbitrary tokens. The field types decide how much
/// of a value serde_json consumes before a type error, so they are those of
/// jsonwebtoken 12's own struct.
#[derive(serde::Deserialize)]
struct RegisteredShape {
    #[serde(rename = "exp", default, deserialize_with = "lenient_date")]
    _exp: (),
    #[serde(rename = "nbf", default, deserialize_with = "lenient_date")]
    _nbf: (),
    #[serde(rename = "sub")]
    _sub: Lenient<String>,
    #[serde(rename = "iss")]
    _iss: Lenient<serde_json::Value>,
    #[serde(rename = "aud")]
    _aud: Lenient<serde_json::Value>,
}

/// A value read as `Option<T>`, its type errors swallowed (and the value
/// dropped: only whether the payload as a whole reads matters).
struct Lenient<T>(std::marker::PhantomData<T>);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Lenient<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let _ = Option::<T>::deserialize(d);
        Ok(Lenient(std::marker::PhantomData))
    }
}

/// A date read through `deserialize_any` by a visitor that takes numbers
/// and nothing else, its errors swallowed: a scalar of another type is
/// consumed and ignored, an array or object is not consumed (serde's default
/// `visit_seq`/`visit_map`), which fails the payload unless it is empty.
fn lenient_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<(), D::Error> {
    struct Number;
    impl serde::de::Visitor<'_> for Number {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a number")
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
    }
    let _ = d.deserialize_any(Number);
    Ok(())
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::LazyLock;

    use aws_lc_rs::encoding::AsDer as _;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use glue_auth_core::{ClaimsPayload, InvalidReason};
    use jsonwebtoken::{Validation, decode};
    use proptest::prelude::*;
    use serde::de::DeserializeOwned;
    use serde_json::Value;

    use super::TokenError;
    use crate::{Algorithm, Algorithms, KeySet, PublicKey, SigningKey};

    /// What `KeySet::verify_payload` was before it verified signatures
    /// itself: jsonwebtoken's `decode` after the same key selection.
    fn reference<T: DeserializeOwned>(
        keys: &KeySet,
        token: &str,
        allowed: Algorithms,
    ) -> Result<(T, u64), TokenError> {
        // jsonwebtoken picks its crypto backend from its crate features and
        // has none when a build enables both: name aws-lc, as before.
        if jsonwebtoken::crypto::CryptoProvider::try_get_default().is_none() {
            let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        }
        keys.with_key(token, allowed, |_, alg, key, _| {
            decode::<T>(token, &key.decoding_key(), &validation(alg))
                .map(|data| data.claims)
                .map_err(|e| classify(e.kind()).into())
        })
    }

    fn classify(kind: &jsonwebtoken::errors::ErrorKind) -> InvalidReason {
        use jsonwebtoken::errors::ErrorKind as K;
        match kind {
            K::InvalidSignature => InvalidReason::Signature,
            K::InvalidAlgorithm | K::InvalidAlgorithmName | K::UnsupportedAlgorithm => {
                InvalidReason::Algorithm
            }
            K::Json(_) | K::InvalidClaimFormat(_) | K::MissingRequiredClaim(_) => {
                InvalidReason::Claims
            }
            _ => InvalidReason::Malformed,
        }
    }

    /// jsonwebtoken checking only the algorithm, `crit` and the signature.
    fn validation(alg: Algorithm) -> Validation {
        let alg = alg.to_jwt();
        let mut v = Validation::new(alg);
        v.algorithms = vec![alg];
        v.required_spec_claims = HashSet::new();
        v.leeway = 0;
        v.reject_tokens_expiring_in_less_than = 0;
        v.validate_exp = false;
        v.validate_nbf = false;
        v.validate_aud = false;
        v
    }

    struct Keys {
        rsa_pair: aws_lc_rs::rsa::KeyPair,
        ec: EcdsaKeyPair,
        ed: Ed25519KeyPair,
        /// kid `rsa` (also the kid-less default), `ec`, `ed`.
        several: KeySet,
        /// The RSA key alone, without kid: every token goes to it.
        single: KeySet,
    }

    static KEYS: LazyLock<Keys> = LazyLock::new(|| {
        let rsa_pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pkcs8 = rsa_pair.as_der().unwrap();
        let rsa = SigningKey::from_pkcs8_der(pkcs8.as_ref()).unwrap();
        let rng = SystemRandom::new();
        let ec_doc =
            EcdsaKeyPair::generate_pkcs8(&lc::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let ec = EcdsaKeyPair::from_pkcs8(&lc::ECDSA_P256_SHA256_FIXED_SIGNING, ec_doc.as_ref())
            .unwrap();
        let ed = Ed25519KeyPair::generate().unwrap();
        let point = ec.public_key().as_ref();
        let ec_public = PublicKey::from_ec_coordinates(&point[1..33], &point[33..]).unwrap();
        let ed_public = PublicKey::from_ed25519(ed.public_key().as_ref()).unwrap();
        let several = KeySet::new([
            rsa.public_key().with_kid("rsa").kidless_default(),
            ec_public.with_kid("ec"),
            ed_public.with_kid("ed"),
        ])
        .unwrap();
        let single = KeySet::single(rsa.public_key());
        Keys {
            rsa_pair,
            ec,
            ed,
            several,
            single,
        }
    });

    #[derive(Debug, Clone)]
    enum Sig {
        /// Signed with the key the header's `alg` belongs to.
        Valid,
        /// One bit of a valid signature flipped.
        Flipped(usize),
        /// Valid, then the payload changed by one character.
        PayloadChanged,
        /// Not base64url.
        NotBase64,
        Empty,
    }

    #[derive(Debug, Clone)]
    struct Case {
        header: String,
        payload: String,
        sig: Sig,
        single: bool,
        extra_part: bool,
    }

    fn sign(alg: &str, message: &[u8]) -> Vec<u8> {
        let keys = &*KEYS;
        let rng = SystemRandom::new();
        let rsa = |enc: &'static dyn lc::RsaEncoding| {
            let mut out = vec![0; keys.rsa_pair.public_modulus_len()];
            keys.rsa_pair.sign(enc, &rng, message, &mut out).unwrap();
            out
        };
        match alg {
            "RS256" => rsa(&lc::RSA_PKCS1_SHA256),
            "RS512" => rsa(&lc::RSA_PKCS1_SHA512),
            "PS256" => rsa(&lc::RSA_PSS_SHA256),
            "ES256" => keys.ec.sign(&rng, message).unwrap().as_ref().to_vec(),
            "EdDSA" => keys.ed.sign(message).as_ref().to_vec(),
            _ => b"not a signature".to_vec(),
        }
    }

    impl Case {
        fn token(&self) -> String {
            let alg = serde_json::from_str::<Value>(&self.header)
                .ok()
                .and_then(|h| h.get("alg").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            let message = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(&self.header),
                URL_SAFE_NO_PAD.encode(&self.payload)
            );
            let mut signature = sign(&alg, message.as_bytes());
            let mut message = message;
            match self.sig {
                Sig::Valid | Sig::NotBase64 | Sig::Empty => {}
                Sig::Flipped(bit) => {
                    let i = (bit / 8) % signature.len();
                    signature[i] ^= 1 << (bit % 8);
                }
                Sig::PayloadChanged => {
                    let changed = format!("{} ", self.payload);
                    let (header, _) = message.split_once('.').unwrap();
                    message = format!("{header}.{}", URL_SAFE_NO_PAD.encode(changed));
                }
            }
            let signature = match self.sig {
                Sig::NotBase64 => "a+b/c=".to_owned(),
                Sig::Empty => String::new(),
                _ => URL_SAFE_NO_PAD.encode(signature),
            };
            let extra = if self.extra_part { ".e30" } else { "" };
            format!("{message}.{signature}{extra}")
        }
    }

    /// Mostly headers that reach the signature and the payload, the rest
    /// hostile.
    fn header() -> impl Strategy<Value = String> {
        let plain = (
            prop::sample::select(vec![
                r#""alg":"RS256""#,
                r#""alg":"RS256","kid":"rsa""#,
                r#""alg":"RS512""#,
                r#""alg":"PS256","kid":"rsa""#,
                r#""alg":"ES256","kid":"ec""#,
                r#""alg":"EdDSA","kid":"ed""#,
            ]),
            prop::sample::select(vec!["", r#","typ":"JWT""#]),
        )
            .prop_map(|(a, t)| format!("{{{a}{t}}}"));
        prop_oneof![2 => plain, 1 => hostile_header()]
    }

    fn hostile_header() -> impl Strategy<Value = String> {
        let alg = prop::sample::select(vec![
            r#""alg":"RS256""#,
            r#""alg":"RS512""#,
            r#""alg":"PS256""#,
            r#""alg":"ES256""#,
            r#""alg":"EdDSA""#,
            r#""alg":"HS256""#,
            r#""alg":"none""#,
            r#""alg":5"#,
        ]);
        let kid = prop::sample::select(vec![
            "",
            r#","kid":"rsa""#,
            r#","kid":"ec""#,
            r#","kid":"ed""#,
            r#","kid":"other""#,
            r#","kid":5"#,
        ]);
        let crit = prop::sample::select(vec![
            "",
            "",
            r#","crit":[]"#,
            r#","crit":["b64"]"#,
            r#","crit":["b64","b64"]"#,
            r#","crit":["exp"]"#,
            r#","crit":"b64""#,
        ]);
        let b64 = prop::sample::select(vec![
            "",
            "",
            r#","b64":true"#,
            r#","b64":false"#,
            r#","b64":"true""#,
            r#","b64":null"#,
        ]);
        let extra = prop::sample::select(vec![
            "",
            r#","typ":"JWT""#,
            r#","typ":5"#,
            r#","jwk":5"#,
            r#","x5c":[1]"#,
            r#","cty":null"#,
            r#","alg":"RS256""#,
        ]);
        (alg, kid, crit, b64, extra).prop_map(|(a, k, c, b, e)| format!("{{{a}{k}{c}{b}{e}}}"))
    }

    fn payload() -> impl Strategy<Value = String> {
        let name = prop::sample::select(vec![
            "exp", "nbf", "sub", "iss", "aud", "iat", "scopes", "x",
        ]);
        let value = prop::sample::select(vec![
            "1",
            "-1",
            "1.5",
            "-1.5",
            "1e300",
            "18446744073709551616",
            "null",
            "true",
            r#""s""#,
            r#""{\"id_user\":4}""#,
            r#""\ud800""#,
            "[]",
            "[1]",
            r#"["a","b"]"#,
            "{}",
            r#"{"a":1}"#,
            r#"[[[]]]"#,
        ]);
        let object = prop::collection::vec((name, value), 0..6).prop_map(|fields| {
            let body: Vec<String> = fields
                .iter()
                .map(|(n, v)| format!(r#""{n}":{v}"#))
                .collect();
            format!("{{{}}}", body.join(","))
        });
        prop_oneof![
            8 => object,
            1 => prop::sample::select(vec![
                "[]",
                r#"[1,2,"s",null,null]"#,
                r#"[1,2,"s",null,null,6]"#,
                "5",
                r#""s""#,
                "{",
                "{}x",
                "",
            ])
            .prop_map(str::to_owned),
        ]
    }

    fn case() -> impl Strategy<Value = Case> {
        let sig = prop_oneof![
            6 => Just(Sig::Valid),
            1 => any::<usize>().prop_map(Sig::Flipped),
            1 => Just(Sig::PayloadChanged),
            1 => Just(Sig::NotBase64),
            1 => Just(Sig::Empty),
        ];
        (
            header(),
            payload(),
            sig,
            any::<bool>(),
            prop::bool::weighted(0.05),
        )
            .prop_map(|(header, payload, sig, single, extra_part)| Case {
                header,
                payload,
                sig,
                single,
                extra_part,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Verifying the signature with the key parsed once changes no
        /// decision and no reason against jsonwebtoken's `decode`, for any
        /// header, payload and signature (valid, forged, malformed), any
        /// allowlist, and both the claims type of Glue's tokens and a JSON
        /// value (an issuer's claims).
        #[test]
        fn same_decisions_as_jsonwebtoken(case in case(), glue_only in any::<bool>()) {
            let keys = if case.single { &KEYS.single } else { &KEYS.several };
            let allowed = if glue_only { Algorithms::GLUE } else { Algorithms::ALL };
            let token = case.token();
            let ours = keys.verify_payload::<Value>(&token, allowed);
            let theirs = reference::<Value>(keys, &token, allowed);
            prop_assert_eq!(&ours, &theirs, "token {}", token);
            let ours = keys.verify_payload::<ClaimsPayload>(&token, allowed).map(|(_, g)| g);
            let theirs = reference::<ClaimsPayload>(keys, &token, allowed).map(|(_, g)| g);
            prop_assert_eq!(ours, theirs, "token {}", token);
        }
    }

    /// The payload rules jsonwebtoken applied (and that `RegisteredShape`
    /// keeps), one by one, on validly signed RS256 tokens.
    #[test]
    fn payloads_jsonwebtoken_refused_are_still_refused() {
        for (payload, accepted) in [
            (
                r#"{"sub":"x","exp":1.5,"nbf":-1,"iss":[1],"aud":{"a":1}}"#,
                true,
            ),
            (r#"{"exp":[],"nbf":{},"sub":5,"aud":null}"#, true),
            (r#"{"exp":[1]}"#, false),
            (r#"{"nbf":{"a":1}}"#, false),
            (r#"{"sub":[1]}"#, false),
            (r#"{"sub":{"a":1}}"#, false),
            (r#"{"aud":1,"aud":1}"#, false),
            (r#"{"exp":1,"exp":1}"#, false),
            (r#"{"iss":"\ud800"}"#, false),
            ("[]", false),
            ("5", false),
        ] {
            let case = Case {
                header: r#"{"alg":"RS256"}"#.to_owned(),
                payload: payload.to_owned(),
                sig: Sig::Valid,
                single: true,
                extra_part: false,
            };
            let token = case.token();
            let ours = KEYS
                .single
                .verify_payload::<Value>(&token, Algorithms::GLUE);
            assert_eq!(
                ours,
                reference::<Value>(&KEYS.single, &token, Algorithms::GLUE),
                "{payload}"
            );
            assert_eq!(ours.is_ok(), accepted, "{payload}: {ours:?}");
        }
    }

    /// The generator reaches every outcome, so the comparison above is not
    /// between two refusals only.
    #[test]
    fn the_cases_reach_every_outcome() {
        use proptest::strategy::ValueTree as _;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let mut seen = HashSet::new();
        for _ in 0..3000 {
            let case = case().new_tree(&mut runner).unwrap().current();
            let keys = if case.single {
                &KEYS.single
            } else {
                &KEYS.several
            };
            let outcome = match keys.verify_payload::<Value>(&case.token(), Algorithms::ALL) {
                Ok(_) => "ok".to_owned(),
                Err(e) => format!("{e:?}"),
            };
            seen.insert(outcome);
        }
        for outcome in [
            "ok",
            "Invalid(Malformed)",
            "Invalid(Algorithm)",
            "Invalid(UnknownKey)",
            "Invalid(Signature)",
            "Invalid(Claims)",
        ] {
            assert!(seen.contains(outcome), "{outcome} never reached: {seen:?}");
        }
    }

    /// Each key type and algorithm verifies its own valid signatures; a
    /// key's parsed form is reused (the second verification uses the slot
    /// the first filled).
    #[test]
    fn every_algorithm_verifies_with_the_parsed_key() {
        for (alg, kid) in [
            ("RS256", "rsa"),
            ("RS512", "rsa"),
            ("PS256", "rsa"),
            ("ES256", "ec"),
            ("EdDSA", "ed"),
        ] {
            let case = Case {
                header: format!(r#"{{"alg":"{alg}","kid":"{kid}"}}"#),
                payload: r#"{"sub":"x"}"#.to_owned(),
                sig: Sig::Valid,
                single: false,
                extra_part: false,
            };
            for _ in 0..2 {
                let (payload, _) = KEYS
                    .several
                    .verify_payload::<Value>(&case.token(), Algorithms::ALL)
                    .unwrap_or_else(|e| panic!("{alg}: {e}"));
                assert_eq!(payload["sub"], "x");
            }
        }
    }
}
