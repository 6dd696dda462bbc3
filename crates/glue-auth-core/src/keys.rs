//! RSA public keys that access tokens are checked against.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

use crate::claims::RawClaims;
use crate::{Claims, InvalidReason, SubjectError};

/// The smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// Why a key could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Not a PEM-encoded RSA key (PKCS#1 or PKCS#8/SPKI).
    NotRsaPem,
    /// The modulus is shorter than [`MIN_RSA_BITS`].
    TooShort {
        /// Size of the given modulus.
        bits: usize,
    },
    /// A key set needs at least one key.
    Empty,
    /// Two keys in one set have the same `kid`.
    DuplicateKid(String),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NotRsaPem => f.write_str("not a PEM-encoded RSA key"),
            KeyError::TooShort { bits } => {
                write!(
                    f,
                    "RSA key has {bits} bits, at least {MIN_RSA_BITS} are required"
                )
            }
            KeyError::Empty => f.write_str("the key set has no key"),
            KeyError::DuplicateKid(kid) => write!(f, "two keys share the kid {kid:?}"),
        }
    }
}

impl std::error::Error for KeyError {}

/// One RSA public key, with an optional key id (`kid`).
#[derive(Clone)]
pub struct PublicKey {
    kid: Option<Arc<str>>,
    decoding: DecodingKey,
    n: Arc<[u8]>,
    e: Arc<[u8]>,
}

impl PublicKey {
    /// Loads an RSA public key from PEM (`-----BEGIN PUBLIC KEY-----` or
    /// `-----BEGIN RSA PUBLIC KEY-----`). Keys under 2048 bits are refused.
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let decoding = DecodingKey::from_rsa_pem(pem).map_err(|_| KeyError::NotRsaPem)?;
        let der = match decoding.kind() {
            jsonwebtoken::DecodingKeyKind::SecretOrDer(der) => der.clone(),
            jsonwebtoken::DecodingKeyKind::RsaModulusExponent { .. } => {
                return Err(KeyError::NotRsaPem);
            }
        };
        let (n, e) = der::rsa_public_key(&der).ok_or(KeyError::NotRsaPem)?;
        Self::from_components(n, e)
    }

    /// Builds a key from its big-endian modulus and exponent.
    pub fn from_components(n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        let n = der::trim_leading_zeros(n);
        let e = der::trim_leading_zeros(e);
        if e.is_empty() || n.is_empty() {
            return Err(KeyError::NotRsaPem);
        }
        let bits = n.len() * 8 - n[0].leading_zeros() as usize;
        if bits < MIN_RSA_BITS {
            return Err(KeyError::TooShort { bits });
        }
        Ok(PublicKey {
            kid: None,
            decoding: DecodingKey::from_rsa_raw_components(n, e),
            n: n.into(),
            e: e.into(),
        })
    }

    /// Sets the key id matched against a token's `kid` header.
    pub fn with_kid(mut self, kid: impl Into<Arc<str>>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The modulus, big-endian without leading zeros (JWK `n`).
    pub fn modulus(&self) -> &[u8] {
        &self.n
    }

    /// The public exponent, big-endian (JWK `e`).
    pub fn exponent(&self) -> &[u8] {
        &self.e
    }

    /// Size of the modulus in bits.
    pub fn bits(&self) -> usize {
        self.n.len() * 8 - self.n[0].leading_zeros() as usize
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("kid", &self.kid)
            .field("bits", &self.bits())
            .finish()
    }
}

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

/// The set of RSA public keys tokens are verified against.
///
/// Cheap to clone; clones share the keys. [`KeySet::replace`] swaps the keys at
/// run time (key rotation without restart); every swap bumps
/// [`KeySet::generation`], which caches use to drop what the old keys
/// validated.
///
/// Key selection: a token whose `kid` names a key in the set is checked against
/// that key only; any other token (no `kid`, or one we do not know) is checked
/// against each key in order. A set with one key therefore accepts Spryker's
/// tokens, which carry no `kid`.
#[derive(Clone)]
pub struct KeySet {
    inner: Arc<Shared>,
}

struct Shared {
    keys: RwLock<Arc<Keys>>,
    /// Mirrors `keys.generation` so cache hits read it without a lock.
    generation: AtomicU64,
}

struct Keys {
    keys: Vec<PublicKey>,
    generation: u64,
}

impl KeySet {
    /// A key set of one key.
    pub fn single(key: PublicKey) -> Self {
        Self::from_keys_unchecked(vec![key], 0)
    }

    /// A key set of several keys (rotation). Fails when empty or when two keys
    /// share a `kid`.
    pub fn new(keys: impl IntoIterator<Item = PublicKey>) -> Result<Self, KeyError> {
        let keys = Self::check(keys.into_iter().collect())?;
        Ok(Self::from_keys_unchecked(keys, 0))
    }

    /// Loads a single PEM public key.
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        PublicKey::from_pem(pem).map(Self::single)
    }

    fn check(keys: Vec<PublicKey>) -> Result<Vec<PublicKey>, KeyError> {
        if keys.is_empty() {
            return Err(KeyError::Empty);
        }
        let mut seen = HashSet::new();
        for kid in keys.iter().filter_map(PublicKey::kid) {
            if !seen.insert(kid) {
                return Err(KeyError::DuplicateKid(kid.to_owned()));
            }
        }
        Ok(keys)
    }

    fn from_keys_unchecked(keys: Vec<PublicKey>, generation: u64) -> Self {
        KeySet {
            inner: Arc::new(Shared {
                keys: RwLock::new(Arc::new(Keys { keys, generation })),
                generation: AtomicU64::new(generation),
            }),
        }
    }

    fn current(&self) -> Arc<Keys> {
        match self.inner.keys.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces every key at once. Tokens signed by a removed key stop
    /// validating immediately, cached ones included.
    pub fn replace(&self, keys: impl IntoIterator<Item = PublicKey>) -> Result<(), KeyError> {
        let keys = Self::check(keys.into_iter().collect())?;
        let mut guard = match self.inner.keys.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let generation = guard.generation.wrapping_add(1);
        *guard = Arc::new(Keys { keys, generation });
        self.inner.generation.store(generation, Ordering::Release);
        Ok(())
    }

    /// A number that changes whenever the keys change.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    /// The current keys.
    pub fn keys(&self) -> Vec<PublicKey> {
        self.current().keys.clone()
    }

    /// Verifies a compact JWS: RS256 only, signature against the key set, then
    /// the payload in Spryker's format. Dates are *not* checked here (see
    /// [`Claims::check_time`]): that needs a clock and a leeway.
    ///
    /// Returns the claims and the key generation they were verified under.
    pub fn verify(&self, token: &str) -> Result<(Claims, u64), TokenError> {
        let header = decode_header(token).map_err(|_| InvalidReason::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(InvalidReason::Algorithm.into());
        }
        let keys = self.current();
        let by_kid = header
            .kid
            .as_deref()
            .and_then(|kid| keys.keys.iter().find(|k| k.kid() == Some(kid)));
        let validation = validation();
        let mut last = InvalidReason::Signature;
        let candidates: &[PublicKey] = match by_kid {
            Some(k) => std::slice::from_ref(k),
            None => &keys.keys,
        };
        for key in candidates {
            match decode::<RawClaims>(token, &key.decoding, validation) {
                Ok(data) => {
                    let claims = Claims::from_raw(data.claims)?;
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
/// checks the algorithm and signature; dates (with microseconds and our own
/// leeway), audience and subject are checked by this crate.
fn validation() -> &'static Validation {
    static V: std::sync::OnceLock<Validation> = std::sync::OnceLock::new();
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

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.current();
        f.debug_struct("KeySet")
            .field("keys", &keys.keys)
            .field("generation", &keys.generation)
            .finish()
    }
}

/// Just enough DER to read an RSA public key (PKCS#1 `RSAPublicKey`).
mod der {
    fn read_len(input: &[u8]) -> Option<(usize, &[u8])> {
        let (&first, rest) = input.split_first()?;
        if first < 0x80 {
            return Some((first as usize, rest));
        }
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        Some((len, &rest[n..]))
    }

    fn read_tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        let (&t, rest) = input.split_first()?;
        if t != tag {
            return None;
        }
        let (len, rest) = read_len(rest)?;
        if rest.len() < len {
            return None;
        }
        Some(rest.split_at(len))
    }

    /// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`
    pub(super) fn rsa_public_key(der: &[u8]) -> Option<(&[u8], &[u8])> {
        let (seq, _) = read_tlv(der, 0x30)?;
        let (n, rest) = read_tlv(seq, 0x02)?;
        let (e, _) = read_tlv(rest, 0x02)?;
        Some((n, e))
    }

    pub(super) fn trim_leading_zeros(mut b: &[u8]) -> &[u8] {
        while let [0, rest @ ..] = b {
            b = rest;
        }
        b
    }
}
