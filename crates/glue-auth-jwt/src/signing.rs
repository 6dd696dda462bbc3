//! The RS256 signing key, the compact JWS it produces, and the handle that
//! swaps it at run time.

use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use glue_auth_core::Claims;
use zeroize::{Zeroize, Zeroizing};

use crate::{KeyError, KeySet, MIN_RSA_BITS, PublicKey, der};

/// The RSA private key access tokens are signed with (RS256).
///
/// Loaded from PEM: PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`) or unencrypted
/// PKCS#8 (`-----BEGIN PRIVATE KEY-----`), 2048 bits or more. It also yields
/// its [`PublicKey`], so the validating side can be built from the same file.
///
/// Cheap to clone. `Debug` shows the key size and `kid`, never key material.
///
/// ```
/// use glue_auth_jwt::SigningKey;
///
/// let key = SigningKey::generate().unwrap().with_kid("2024-01");
/// let pem = key.to_pkcs8_pem().unwrap();
/// let again = SigningKey::from_pem(pem.as_bytes()).unwrap();
/// assert_eq!(again.bits(), 2048);
/// assert_eq!(again.public_key().modulus(), key.public_key().modulus());
/// assert_eq!(key.public_key().kid(), Some("2024-01"));
/// assert!(!format!("{key:?}").contains("PRIVATE"));
/// ```
#[derive(Clone)]
pub struct SigningKey {
    pair: Arc<RsaKeyPair>,
    public: PublicKey,
    kid: Option<Arc<str>>,
    /// base64url of the JOSE header, computed once.
    header_b64: Arc<str>,
}

fn header_b64(kid: Option<&str>) -> Arc<str> {
    #[derive(serde::Serialize)]
    struct Header<'a> {
        typ: &'static str,
        alg: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        kid: Option<&'a str>,
    }
    let json = serde_json::to_vec(&Header {
        typ: "JWT",
        alg: "RS256",
        kid,
    })
    .unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json).into()
}

impl SigningKey {
    /// Loads an RSA private key from PEM (PKCS#1 or unencrypted PKCS#8).
    ///
    /// Keys under [`MIN_RSA_BITS`] are refused with [`KeyError::TooShort`].
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let parsed = pem::parse(pem).map_err(|_| KeyError::NotRsaPem)?;
        let tag = parsed.tag().to_owned();
        let mut der = parsed.into_contents();
        let result = match tag.as_str() {
            "RSA PRIVATE KEY" => Self::from_pkcs1_der(&der),
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            _ => Err(KeyError::NotRsaPem),
        };
        der.zeroize();
        result
    }

    /// Loads a DER-encoded PKCS#8 `PrivateKeyInfo` holding an RSA key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let pair = RsaKeyPair::from_pkcs8(der)
            .map_err(|e| key_rejected(e, der::pkcs8_private_bits(der)))?;
        Self::from_pair(pair)
    }

    /// Loads a DER-encoded PKCS#1 `RSAPrivateKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let pair =
            RsaKeyPair::from_der(der).map_err(|e| key_rejected(e, der::pkcs1_private_bits(der)))?;
        Self::from_pair(pair)
    }

    /// Generates a fresh 2048-bit key (development and tests: a gateway
    /// started without a key file).
    pub fn generate() -> Result<Self, KeyError> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::NotRsaPem)?;
        Self::from_pair(pair)
    }

    fn from_pair(pair: RsaKeyPair) -> Result<Self, KeyError> {
        let bits = pair.public_modulus_len() * 8;
        if bits < MIN_RSA_BITS {
            return Err(KeyError::TooShort { bits });
        }
        let pk = pair.public_key();
        let public = PublicKey::from_components(
            pk.modulus().big_endian_without_leading_zero(),
            pk.exponent().big_endian_without_leading_zero(),
        )?;
        Ok(SigningKey {
            pair: Arc::new(pair),
            public,
            kid: None,
            header_b64: header_b64(None),
        })
    }

    /// Sets the key id: tokens then carry `"kid"` in their header, after
    /// `typ` and `alg`. Spryker's tokens have none; set one when validators
    /// hold several keys (rotation).
    pub fn with_kid(mut self, kid: impl Into<Arc<str>>) -> Self {
        let kid = kid.into();
        self.public = self.public.with_kid(Arc::clone(&kid));
        self.header_b64 = header_b64(Some(&kid));
        self.kid = Some(kid);
        self
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Size of the modulus in bits.
    pub fn bits(&self) -> usize {
        self.public.bits()
    }

    /// The public half, with the same `kid`.
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// A key set holding only the public half, for a validator.
    pub fn key_set(&self) -> KeySet {
        KeySet::single(self.public_key())
    }

    /// The private key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE
    /// KEY-----`), to write a generated key to a file. Zeroized on drop.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        let der = self.pair.as_der().map_err(|_| KeyError::NotRsaPem)?;
        let pem = pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec());
        Ok(Zeroizing::new(pem::encode(&pem)))
    }

    /// The public half as SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn public_key_pem(&self) -> Result<String, KeyError> {
        let der = self
            .pair
            .public_key()
            .as_der()
            .map_err(|_| KeyError::NotRsaPem)?;
        Ok(pem::encode(&pem::Pem::new(
            "PUBLIC KEY",
            der.as_ref().to_vec(),
        )))
    }

    /// The compact JWS of `claims`: `base64url(header).base64url(payload).base64url(signature)`
    /// with the header `{"typ":"JWT","alg":"RS256"}` (plus `kid` when set) and
    /// the payload of [`Claims::to_payload_json`], byte for byte as Spryker
    /// writes them.
    ///
    /// Fails only if aws-lc reports an internal error.
    pub fn sign(&self, claims: &Claims) -> Result<String, SignError> {
        let payload = claims.to_payload_json();
        let sig_len = self.pair.public_modulus_len();
        let mut out = String::with_capacity(
            self.header_b64.len() + payload.len() * 4 / 3 + 8 + sig_len * 4 / 3,
        );
        out.push_str(&self.header_b64);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(payload.as_bytes(), &mut out);
        let mut sig = vec![0u8; sig_len];
        // The rng argument is ignored by aws-lc (PKCS#1 v1.5 is deterministic).
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.pair
            .sign(&RSA_PKCS1_SHA256, &rng, out.as_bytes(), &mut sig)
            .map_err(|_| SignError(()))?;
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&sig, &mut out);
        Ok(out)
    }
}

fn key_rejected(e: aws_lc_rs::error::KeyRejected, bits: Option<usize>) -> KeyError {
    match (e.description_(), bits) {
        (_, Some(bits)) if bits < MIN_RSA_BITS => KeyError::TooShort { bits },
        ("TooSmall", _) => KeyError::TooShort {
            bits: bits.unwrap_or(0),
        },
        _ => KeyError::NotRsaPem,
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &"RS256")
            .field("bits", &self.bits())
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// RS256 signing failed inside aws-lc (never expected with a loaded key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignError(());

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RS256 signing failed")
    }
}

impl std::error::Error for SignError {}

/// The signing key in use, swappable at run time: what the token endpoint
/// signs with.
///
/// Cheap to clone; clones share the slot. [`Signer::replace`] swaps the key
/// for every clone at once (a key reload), without a lock on the signing path
/// and without touching anything else the endpoint holds (throttle counters,
/// the hashing pool, requests in flight).
///
/// ```
/// use glue_auth_jwt::{Signer, SigningKey};
///
/// let signer = Signer::new(SigningKey::generate().unwrap());
/// let endpoint_copy = signer.clone();
/// let next = SigningKey::generate().unwrap().with_kid("next");
/// signer.replace(next);
/// assert_eq!(endpoint_copy.current().kid(), Some("next"));
/// ```
#[derive(Clone)]
pub struct Signer {
    slot: Arc<ArcSwap<SigningKey>>,
}

impl Signer {
    /// A slot holding `key`.
    pub fn new(key: SigningKey) -> Self {
        Signer {
            slot: Arc::new(ArcSwap::from_pointee(key)),
        }
    }

    /// The key in use now.
    pub fn current(&self) -> SigningKey {
        SigningKey::clone(&self.slot.load())
    }

    /// Puts `key` in use for every clone of this signer.
    pub fn replace(&self, key: SigningKey) {
        self.slot.store(Arc::new(key));
    }

    /// Signs with the key in use now ([`SigningKey::sign`]).
    pub fn sign(&self, claims: &Claims) -> Result<String, SignError> {
        self.slot.load().sign(claims)
    }
}

impl From<SigningKey> for Signer {
    fn from(key: SigningKey) -> Self {
        Signer::new(key)
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Signer").field(&**self.slot.load()).finish()
    }
}
