//! Public keys and the swappable set tokens are checked against.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use aws_lc_rs::signature::{self as lc, ParsedPublicKey, RsaPublicKeyComponents};

use crate::alg::COUNT;
use crate::{Algorithm, Algorithms, der};

/// The smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// Why a key could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Not a PEM- or DER-encoded key of a supported format (public: SPKI
    /// `PUBLIC KEY` holding RSA, P-256, P-384 or Ed25519, or PKCS#1 `RSA
    /// PUBLIC KEY`; private: PKCS#1 `RSA PRIVATE KEY` or unencrypted PKCS#8
    /// `PRIVATE KEY`).
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
    /// More than one key of a set is marked as the key for kid-less tokens.
    SeveralKidlessDefaults,
    /// The algorithms asked for do not fit the key type (`ES256` on an RSA
    /// key, an empty list).
    AlgorithmMismatch,
    /// Elliptic-curve or Ed25519 coordinates of the wrong length.
    BadPoint,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NotRsaPem => f.write_str("not a PEM-encoded RSA, EC or Ed25519 key"),
            KeyError::TooShort { bits } => {
                write!(
                    f,
                    "RSA key has {bits} bits, at least {MIN_RSA_BITS} are required"
                )
            }
            KeyError::Empty => f.write_str("the key set has no key"),
            KeyError::DuplicateKid(kid) => write!(f, "two keys share the kid {kid:?}"),
            KeyError::SeveralKidlessDefaults => {
                f.write_str("more than one key is marked as the key for tokens without kid")
            }
            KeyError::AlgorithmMismatch => f.write_str("the algorithms do not fit the key type"),
            KeyError::BadPoint => f.write_str("curve coordinates of the wrong length"),
        }
    }
}

impl std::error::Error for KeyError {}

/// The type of a [`PublicKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// RSA, 2048 bits or more (RS* and PS* algorithms).
    Rsa,
    /// ECDSA on NIST P-256 (ES256).
    EcP256,
    /// ECDSA on NIST P-384 (ES384).
    EcP384,
    /// Ed25519 (EdDSA).
    Ed25519,
}

impl KeyType {
    /// Every algorithm this type of key can verify.
    pub fn algorithms(self) -> Algorithms {
        match self {
            KeyType::Rsa => Algorithms::RSA,
            KeyType::EcP256 => Algorithms::P256,
            KeyType::EcP384 => Algorithms::P384,
            KeyType::Ed25519 => Algorithms::ED25519,
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Material {
    Rsa {
        n: Arc<[u8]>,
        e: Arc<[u8]>,
    },
    Ec {
        p384: bool,
        x: Arc<[u8]>,
        y: Arc<[u8]>,
    },
    Ed25519 {
        x: Arc<[u8]>,
    },
}

/// One public key (RSA, P-256, P-384 or Ed25519), with an optional key id
/// (`kid`) and the algorithms it may verify.
///
/// Cheap to clone. `Debug` shows the type, `kid` and size.
///
/// A key's algorithms default to every algorithm of its type (RSA: RS256 to
/// PS512); a JWK's `alg` narrows them to that one. A token is accepted only
/// with an algorithm that both its key and the validator (Glue: RS256 only;
/// an issuer: its allowlist) accept: the token's `alg` header is never
/// trusted beyond that.
#[derive(Clone)]
pub struct PublicKey {
    kid: Option<Arc<str>>,
    thumbprint: Arc<str>,
    material: Material,
    /// The key parsed once per algorithm, on its first verification.
    parsed: Arc<Parsed>,
    algorithms: Algorithms,
    kidless_default: bool,
}

impl PublicKey {
    /// Loads a public key from PEM: `-----BEGIN PUBLIC KEY-----` (SPKI
    /// holding RSA, P-256, P-384 or Ed25519) or `-----BEGIN RSA PUBLIC
    /// KEY-----` (PKCS#1). RSA keys under [`MIN_RSA_BITS`] are refused.
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let parsed = pem::parse(pem).map_err(|_| KeyError::NotRsaPem)?;
        Self::from_pem_block(&parsed)
    }

    pub(crate) fn from_pem_block(parsed: &pem::Pem) -> Result<Self, KeyError> {
        match parsed.tag() {
            "PUBLIC KEY" => match der::spki_public(parsed.contents()) {
                Some(der::Spki::Rsa(n, e)) => Self::from_components(n, e),
                Some(der::Spki::Ec { p384, point }) => {
                    let half = (point.len() - 1) / 2;
                    Self::from_ec(p384, &point[1..=half], &point[1 + half..])
                }
                Some(der::Spki::Ed25519(x)) => Self::from_ed25519(x),
                None => Err(KeyError::NotRsaPem),
            },
            "RSA PUBLIC KEY" => {
                let (n, e) = der::pkcs1_public(parsed.contents()).ok_or(KeyError::NotRsaPem)?;
                Self::from_components(n, e)
            }
            _ => Err(KeyError::NotRsaPem),
        }
    }

    /// Builds an RSA key from its big-endian modulus and exponent (JWK `n`, `e`).
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
        Ok(Self::from_material(Material::Rsa {
            n: n.into(),
            e: e.into(),
        }))
    }

    /// Builds an ECDSA key from its affine coordinates (JWK `x`, `y`), each
    /// 32 bytes for P-256 or 48 bytes for P-384.
    pub fn from_ec_coordinates(x: &[u8], y: &[u8]) -> Result<Self, KeyError> {
        match (x.len(), y.len()) {
            (32, 32) => Self::from_ec(false, x, y),
            (48, 48) => Self::from_ec(true, x, y),
            _ => Err(KeyError::BadPoint),
        }
    }

    fn from_ec(p384: bool, x: &[u8], y: &[u8]) -> Result<Self, KeyError> {
        let len = if p384 { 48 } else { 32 };
        if x.len() != len || y.len() != len {
            return Err(KeyError::BadPoint);
        }
        Ok(Self::from_material(Material::Ec {
            p384,
            x: x.into(),
            y: y.into(),
        }))
    }

    /// Builds an Ed25519 key from its 32 bytes (JWK `x`).
    pub fn from_ed25519(x: &[u8]) -> Result<Self, KeyError> {
        if x.len() != 32 {
            return Err(KeyError::BadPoint);
        }
        Ok(Self::from_material(Material::Ed25519 { x: x.into() }))
    }

    fn from_material(material: Material) -> Self {
        let mut key = PublicKey {
            kid: None,
            thumbprint: Arc::from(""),
            material,
            parsed: Arc::default(),
            algorithms: Algorithms::NONE,
            kidless_default: false,
        };
        key.algorithms = key.key_type().algorithms();
        key.thumbprint = crate::jwk::thumbprint(&key).into();
        key
    }

    /// Sets the key id matched against a token's `kid` header.
    pub fn with_kid(mut self, kid: impl Into<Arc<str>>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Narrows the algorithms this key verifies (a JWK's `alg`). Fails when
    /// none of them fits the key type.
    ///
    /// ```
    /// use glue_auth_jwt::{Algorithm, Algorithms, SigningKey};
    ///
    /// let key = SigningKey::generate().unwrap().public_key();
    /// let ps = key.clone().with_algorithms(Algorithms::from_iter([Algorithm::PS256])).unwrap();
    /// assert!(!ps.algorithms().contains(Algorithm::RS256));
    /// assert!(key.with_algorithms(Algorithms::P256).is_err());
    /// ```
    pub fn with_algorithms(mut self, algorithms: Algorithms) -> Result<Self, KeyError> {
        let fit = self.key_type().algorithms().intersect(algorithms);
        if fit.is_empty() || fit != algorithms {
            return Err(KeyError::AlgorithmMismatch);
        }
        self.algorithms = fit;
        Ok(self)
    }

    /// Marks this key as the one that checks tokens without a `kid` header
    /// (Glue's and Spryker's tokens carry none). A set with exactly one key
    /// needs no mark; a set of several keys accepts kid-less tokens only
    /// when one key is marked. See [`KeySet`] for the selection rule.
    pub fn kidless_default(mut self) -> Self {
        self.kidless_default = true;
        self
    }

    /// Whether [`kidless_default`](Self::kidless_default) was set.
    pub fn is_kidless_default(&self) -> bool {
        self.kidless_default
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The RFC 7638 thumbprint: base64url of the SHA-256 of the key's
    /// required JWK members (RSA: `{"e":…,"kty":"RSA","n":…}`). A stable `kid`
    /// for a key that has none; a key without `kid` also matches tokens whose
    /// `kid` is its thumbprint.
    pub fn thumbprint(&self) -> String {
        self.thumbprint.to_string()
    }

    pub(crate) fn matches_kid(&self, kid: &str) -> bool {
        match &self.kid {
            Some(own) => **own == *kid,
            None => *self.thumbprint == *kid,
        }
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        match &self.material {
            Material::Rsa { .. } => KeyType::Rsa,
            Material::Ec { p384: false, .. } => KeyType::EcP256,
            Material::Ec { p384: true, .. } => KeyType::EcP384,
            Material::Ed25519 { .. } => KeyType::Ed25519,
        }
    }

    /// The algorithms this key verifies.
    pub fn algorithms(&self) -> Algorithms {
        self.algorithms
    }

    pub(crate) fn material(&self) -> &Material {
        &self.material
    }

    /// Whether `signature` is this key's signature of `message` with `alg`
    /// (which the caller has checked against [`algorithms`](Self::algorithms)).
    ///
    /// The key is handed to aws-lc once per algorithm and kept (aws-lc-rs's
    /// `ParsedPublicKey`): an RSA key's Montgomery context is then computed
    /// on the first verification instead of on every one, as happens when
    /// the key is rebuilt from its components each time.
    pub(crate) fn verify_signature(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        self.parsed.slots[alg as usize]
            .get_or_init(|| self.parse(alg))
            .as_ref()
            .is_some_and(|key| key.verify_sig(message, signature).is_ok())
    }

    /// jsonwebtoken's form of this key (the reference in tests).
    #[cfg(test)]
    pub(crate) fn decoding_key(&self) -> jsonwebtoken::DecodingKey {
        use jsonwebtoken::DecodingKey;
        match &self.material {
            Material::Rsa { n, e } => DecodingKey::from_rsa_raw_components(n, e),
            Material::Ec { x, y, .. } => DecodingKey::from_ec_der(&ec_point(x, y)),
            Material::Ed25519 { x } => DecodingKey::from_ed_der(x),
        }
    }

    /// aws-lc's parsed form of this key for `alg`; `None` when the key does
    /// not parse (then nothing verifies against it).
    fn parse(&self, alg: Algorithm) -> Option<ParsedPublicKey> {
        let rsa = |params: &'static lc::RsaParameters| match &self.material {
            Material::Rsa { n, e } => RsaPublicKeyComponents {
                n: &n[..],
                e: &e[..],
            }
            .to_parsed_public_key(params)
            .ok(),
            _ => None,
        };
        match (alg, &self.material) {
            (Algorithm::RS256, _) => rsa(&lc::RSA_PKCS1_2048_8192_SHA256),
            (Algorithm::RS384, _) => rsa(&lc::RSA_PKCS1_2048_8192_SHA384),
            (Algorithm::RS512, _) => rsa(&lc::RSA_PKCS1_2048_8192_SHA512),
            (Algorithm::PS256, _) => rsa(&lc::RSA_PSS_2048_8192_SHA256),
            (Algorithm::PS384, _) => rsa(&lc::RSA_PSS_2048_8192_SHA384),
            (Algorithm::PS512, _) => rsa(&lc::RSA_PSS_2048_8192_SHA512),
            (Algorithm::ES256, Material::Ec { p384: false, x, y }) => {
                ParsedPublicKey::new(&lc::ECDSA_P256_SHA256_FIXED, ec_point(x, y)).ok()
            }
            (Algorithm::ES384, Material::Ec { p384: true, x, y }) => {
                ParsedPublicKey::new(&lc::ECDSA_P384_SHA384_FIXED, ec_point(x, y)).ok()
            }
            (Algorithm::EdDSA, Material::Ed25519 { x }) => {
                ParsedPublicKey::new(&lc::ED25519, &x[..]).ok()
            }
            _ => None,
        }
    }

    /// The RSA modulus, big-endian without leading zeros (JWK `n`); empty for
    /// a key of another type.
    pub fn modulus(&self) -> &[u8] {
        match &self.material {
            Material::Rsa { n, .. } => n,
            _ => &[],
        }
    }

    /// The RSA public exponent, big-endian (JWK `e`); empty for a key of
    /// another type.
    pub fn exponent(&self) -> &[u8] {
        match &self.material {
            Material::Rsa { e, .. } => e,
            _ => &[],
        }
    }

    /// Size of the key in bits (the RSA modulus, or the curve's size).
    pub fn bits(&self) -> usize {
        match &self.material {
            Material::Rsa { n, .. } => der::bits(n),
            Material::Ec { p384: false, .. } | Material::Ed25519 { .. } => 256,
            Material::Ec { p384: true, .. } => 384,
        }
    }
}

/// One slot per [`Algorithm`], filled on first use; shared by a key's clones.
#[derive(Default)]
struct Parsed {
    slots: [OnceLock<Option<ParsedPublicKey>>; COUNT],
}

/// The uncompressed SEC1 point `04 || x || y`.
fn ec_point(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut point = Vec::with_capacity(1 + x.len() + y.len());
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    point
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("type", &self.key_type())
            .field("kid", &self.kid)
            .field("bits", &self.bits())
            .field("algorithms", &self.algorithms)
            .finish()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.kid == other.kid
            && self.material == other.material
            && self.algorithms == other.algorithms
    }
}

impl Eq for PublicKey {}

/// The set of public keys tokens are verified against.
///
/// Cheap to clone; clones share the keys. [`KeySet::replace`] swaps the keys
/// at run time (key rotation without restart; a key source does it after
/// each fetch); readers never lock: they take a snapshot ([`arc_swap`]).
/// Every swap bumps [`KeySet::generation`], which caches use to drop what
/// the old keys validated.
///
/// **Key selection** (one key per token, never a trial of every key):
///
/// - a token with a `kid` header is checked against the key with that `kid`
///   (a key without `kid` answers to its RFC 7638
///   [thumbprint](PublicKey::thumbprint), the `kid` the gateway writes); a
///   set of a single key without `kid` (one PEM file, as in Glue) ignores
///   the header and checks every token against that key;
/// - a token without `kid` (Glue's and Spryker's tokens) is checked against
///   the key marked [`kidless_default`](PublicKey::kidless_default), or, when
///   none is marked, the set's only key; a set of several keys without a
///   mark refuses kid-less tokens;
/// - anything else is [`InvalidReason::UnknownKey`](glue_auth_core::InvalidReason::UnknownKey)
///   (401), and the set asks its key source (if it has one, see
///   [`KeySet::on_unknown_key`]) to refetch.
///
/// ```
/// use glue_auth_jwt::{KeySet, SigningKey};
///
/// let old = SigningKey::generate().unwrap();
/// let new = SigningKey::generate().unwrap().with_kid("2025-01");
/// // Old tokens carry no kid: the old key is marked for them.
/// let keys = KeySet::new([new.public_key(), old.public_key().kidless_default()]).unwrap();
/// # use glue_auth_core::{Claims, Principal, Scopes, WarehousePrincipal, NumericDate};
/// # let claims = Claims::builder(Principal::Warehouse(WarehousePrincipal::new(1)), Scopes::from_iter(["warehouse"]))
/// #     .issued_at(NumericDate::now(), std::time::Duration::from_secs(60)).build();
/// assert!(keys.verify(&old.sign(&claims).unwrap()).is_ok());
/// assert!(keys.verify(&new.sign(&claims).unwrap()).is_ok());
/// ```
#[derive(Clone)]
pub struct KeySet {
    inner: Arc<Shared>,
}

type Hook = Box<dyn Fn() + Send + Sync>;

struct Shared {
    keys: ArcSwap<Keys>,
    on_unknown_key: OnceLock<Hook>,
}

pub(crate) struct Keys {
    pub(crate) keys: Vec<PublicKey>,
    pub(crate) generation: u64,
    /// Index of the key for tokens without `kid`.
    kidless: Option<usize>,
}

impl Keys {
    /// The one key a token with this `kid` header (or none) is checked
    /// against, and whether it was chosen *despite* the token's `kid` (a
    /// single key without `kid` of its own, which ignores the header).
    pub(crate) fn select(&self, kid: Option<&str>) -> Option<(&PublicKey, bool)> {
        match kid {
            Some(kid) => match self.keys.iter().find(|k| k.matches_kid(kid)) {
                Some(k) => Some((k, false)),
                None => match &self.keys[..] {
                    [only] if only.kid.is_none() => Some((only, true)),
                    _ => None,
                },
            },
            None => self.kidless.map(|i| (&self.keys[i], false)),
        }
    }
}

impl KeySet {
    /// A key set of one key.
    pub fn single(key: PublicKey) -> Self {
        Self::from_checked(vec![key], Some(0))
    }

    /// A key set of several keys (rotation). Fails when empty, when two keys
    /// share a `kid`, or when more than one key is marked as the kid-less
    /// default.
    pub fn new(keys: impl IntoIterator<Item = PublicKey>) -> Result<Self, KeyError> {
        let (keys, kidless) = check(keys.into_iter().collect())?;
        Ok(Self::from_checked(keys, kidless))
    }

    /// A set without keys, refusing every token until a key source fills it
    /// ([`KeySet::replace`]): what a remote source starts from.
    pub fn empty() -> Self {
        Self::from_checked(Vec::new(), None)
    }

    /// Loads a single PEM public key.
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        PublicKey::from_pem(pem).map(Self::single)
    }

    fn from_checked(keys: Vec<PublicKey>, kidless: Option<usize>) -> Self {
        KeySet {
            inner: Arc::new(Shared {
                keys: ArcSwap::from_pointee(Keys {
                    keys,
                    generation: 0,
                    kidless,
                }),
                on_unknown_key: OnceLock::new(),
            }),
        }
    }

    pub(crate) fn snapshot(&self) -> arc_swap::Guard<Arc<Keys>> {
        self.inner.keys.load()
    }

    /// Replaces every key at once. Tokens signed by a removed key stop
    /// validating immediately, cached ones included. On error (an empty
    /// list, a duplicate `kid`, two kid-less defaults) the old keys stay.
    pub fn replace(&self, keys: impl IntoIterator<Item = PublicKey>) -> Result<(), KeyError> {
        let (keys, kidless) = check(keys.into_iter().collect())?;
        self.inner.keys.rcu(|old| Keys {
            keys: keys.clone(),
            generation: old.generation.wrapping_add(1),
            kidless,
        });
        Ok(())
    }

    /// A number that changes whenever the keys change.
    pub fn generation(&self) -> u64 {
        self.inner.keys.load().generation
    }

    /// The current keys.
    pub fn keys(&self) -> Vec<PublicKey> {
        self.inner.keys.load().keys.clone()
    }

    /// Whether the set holds no key (a remote source before its first fetch).
    pub fn is_empty(&self) -> bool {
        self.inner.keys.load().keys.is_empty()
    }

    /// Registers what to do when a token names no key of the set (a key
    /// source's refetch trigger). Called synchronously on the request's
    /// path, so it must only signal (set a flag, wake a task), never fetch.
    /// Only the first registration counts: returns `false` when a hook was
    /// already set.
    pub fn on_unknown_key(&self, hook: impl Fn() + Send + Sync + 'static) -> bool {
        self.inner.on_unknown_key.set(Box::new(hook)).is_ok()
    }

    /// A handle that does not keep the keys alive (for a key source's
    /// background task, which should end when nobody validates any more).
    pub fn downgrade(&self) -> WeakKeySet {
        WeakKeySet {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// Runs the [`on_unknown_key`](Self::on_unknown_key) hook, if any.
    pub fn request_refresh(&self) {
        if let Some(hook) = self.inner.on_unknown_key.get() {
            hook();
        }
    }
}

/// A [`KeySet`] that does not keep the keys alive ([`KeySet::downgrade`]).
#[derive(Clone)]
pub struct WeakKeySet {
    inner: std::sync::Weak<Shared>,
}

impl WeakKeySet {
    /// The set, while some [`KeySet`] handle still holds it.
    pub fn upgrade(&self) -> Option<KeySet> {
        self.inner.upgrade().map(|inner| KeySet { inner })
    }
}

impl fmt::Debug for WeakKeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakKeySet").finish_non_exhaustive()
    }
}

fn check(keys: Vec<PublicKey>) -> Result<(Vec<PublicKey>, Option<usize>), KeyError> {
    if keys.is_empty() {
        return Err(KeyError::Empty);
    }
    let mut seen = HashSet::new();
    for kid in keys.iter().filter_map(PublicKey::kid) {
        if !seen.insert(kid) {
            return Err(KeyError::DuplicateKid(kid.to_owned()));
        }
    }
    let mut marked = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| k.kidless_default)
        .map(|(i, _)| i);
    let kidless = match (marked.next(), marked.next()) {
        (Some(_), Some(_)) => return Err(KeyError::SeveralKidlessDefaults),
        (Some(i), None) => Some(i),
        (None, _) if keys.len() == 1 => Some(0),
        (None, _) => None,
    };
    Ok((keys, kidless))
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.inner.keys.load();
        f.debug_struct("KeySet")
            .field("keys", &keys.keys)
            .field("generation", &keys.generation)
            .finish()
    }
}
