//! RSA public keys and the swappable set tokens are checked against.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;
use jsonwebtoken::DecodingKey;

use crate::der;

/// The smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// Why a key could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Not a PEM- or DER-encoded RSA key of a supported format (public:
    /// SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`; private: PKCS#1
    /// `RSA PRIVATE KEY` or unencrypted PKCS#8 `PRIVATE KEY`).
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
///
/// Cheap to clone. `Debug` shows the `kid` and the size.
#[derive(Clone)]
pub struct PublicKey {
    kid: Option<Arc<str>>,
    pub(crate) decoding: DecodingKey,
    n: Arc<[u8]>,
    e: Arc<[u8]>,
}

impl PublicKey {
    /// Loads an RSA public key from PEM: `-----BEGIN PUBLIC KEY-----` (SPKI)
    /// or `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1). Keys under
    /// [`MIN_RSA_BITS`] are refused.
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let parsed = pem::parse(pem).map_err(|_| KeyError::NotRsaPem)?;
        let (n, e) = match parsed.tag() {
            "PUBLIC KEY" => der::spki_rsa_public(parsed.contents()),
            "RSA PUBLIC KEY" => der::pkcs1_public(parsed.contents()),
            _ => None,
        }
        .ok_or(KeyError::NotRsaPem)?;
        Self::from_components(n, e)
    }

    /// Builds a key from its big-endian modulus and exponent (JWK `n`, `e`).
    pub fn from_components(n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        let n = der::trim_leading_zeros(n);
        let e = der::trim_leading_zeros(e);
        if e.is_empty() || n.is_empty() {
            return Err(KeyError::NotRsaPem);
        }
        let bits = der::bits(n);
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
        der::bits(&self.n)
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

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.kid == other.kid && self.n == other.n && self.e == other.e
    }
}

impl Eq for PublicKey {}

/// The set of RSA public keys tokens are verified against.
///
/// Cheap to clone; clones share the keys. [`KeySet::replace`] swaps the keys
/// at run time (key rotation without restart); readers never lock: they take
/// a snapshot ([`arc_swap`]). Every swap bumps [`KeySet::generation`], which
/// caches use to drop what the old keys validated.
///
/// Key selection: a token whose `kid` names a key in the set is checked against
/// that key only; any other token (no `kid`, or one we do not know) is checked
/// against each key in order. A set with one key therefore accepts Spryker's
/// tokens, which carry no `kid`.
#[derive(Clone)]
pub struct KeySet {
    inner: Arc<ArcSwap<Keys>>,
}

pub(crate) struct Keys {
    pub(crate) keys: Vec<PublicKey>,
    pub(crate) generation: u64,
}

impl KeySet {
    /// A key set of one key.
    pub fn single(key: PublicKey) -> Self {
        Self::from_checked(vec![key])
    }

    /// A key set of several keys (rotation). Fails when empty or when two keys
    /// share a `kid`.
    pub fn new(keys: impl IntoIterator<Item = PublicKey>) -> Result<Self, KeyError> {
        Ok(Self::from_checked(check(keys.into_iter().collect())?))
    }

    /// Loads a single PEM public key.
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        PublicKey::from_pem(pem).map(Self::single)
    }

    fn from_checked(keys: Vec<PublicKey>) -> Self {
        crate::verify::ensure_provider();
        KeySet {
            inner: Arc::new(ArcSwap::from_pointee(Keys {
                keys,
                generation: 0,
            })),
        }
    }

    pub(crate) fn snapshot(&self) -> arc_swap::Guard<Arc<Keys>> {
        self.inner.load()
    }

    /// Replaces every key at once. Tokens signed by a removed key stop
    /// validating immediately, cached ones included. On error the old keys
    /// stay.
    pub fn replace(&self, keys: impl IntoIterator<Item = PublicKey>) -> Result<(), KeyError> {
        let keys = check(keys.into_iter().collect())?;
        self.inner.rcu(|old| Keys {
            keys: keys.clone(),
            generation: old.generation.wrapping_add(1),
        });
        Ok(())
    }

    /// A number that changes whenever the keys change.
    pub fn generation(&self) -> u64 {
        self.inner.load().generation
    }

    /// The current keys.
    pub fn keys(&self) -> Vec<PublicKey> {
        self.inner.load().keys.clone()
    }
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

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.inner.load();
        f.debug_struct("KeySet")
            .field("keys", &keys.keys)
            .field("generation", &keys.generation)
            .finish()
    }
}
