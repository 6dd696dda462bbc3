//! The RS256 signing key and the compact JWS it produces.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use glue_auth_core::{Claims, KeyError, KeySet, MIN_RSA_BITS, PublicKey};
use zeroize::Zeroize;

/// The RSA private key access tokens are signed with (RS256).
///
/// Loaded from PEM: PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`) or unencrypted
/// PKCS#8 (`-----BEGIN PRIVATE KEY-----`), 2048 bits or more. It also yields
/// its [`PublicKey`], so the validating side can be built from the same file.
///
/// Cheap to clone. `Debug` shows the key size and `kid`, never key material.
///
/// ```
/// use glue_auth_token::SigningKey;
///
/// let pem = std::fs::read(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/../../../shared/fixtures/foreign-signer/test-private.pem"
/// )).unwrap();
/// let key = SigningKey::from_pem(&pem).unwrap().with_kid("2024-01");
/// assert_eq!(key.bits(), 2048);
/// assert_eq!(key.public_key().kid(), Some("2024-01"));
/// assert!(format!("{key:?}").contains("2048"));
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
            .map_err(|e| key_rejected(e, der::pkcs8_modulus_bits(der)))?;
        Self::from_pair(pair)
    }

    /// Loads a DER-encoded PKCS#1 `RSAPrivateKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let pair =
            RsaKeyPair::from_der(der).map_err(|e| key_rejected(e, der::pkcs1_modulus_bits(der)))?;
        Self::from_pair(pair)
    }

    /// Generates a fresh key (for development and tests: a gateway started
    /// without a key file). 2048 bits.
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

    /// The compact JWS of `claims`: `base64url(header).base64url(payload).base64url(signature)`
    /// with the header `{"typ":"JWT","alg":"RS256"}` (plus `kid` when set) and
    /// the payload of [`Claims::to_payload_json`], byte for byte as Spryker
    /// writes them.
    ///
    /// Fails only if aws-lc reports an internal error; the endpoints answer 503
    /// then.
    pub fn sign(&self, claims: &Claims) -> Result<String, SignError> {
        let payload = claims.to_payload_json();
        let mut out = String::with_capacity(
            self.header_b64.len()
                + payload.len() * 4 / 3
                + 8
                + self.pair.public_modulus_len() * 4 / 3,
        );
        out.push_str(&self.header_b64);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(payload.as_bytes(), &mut out);
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
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

/// Just enough DER to tell the modulus size of a key aws-lc refused.
mod der {
    fn tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        let (&t, rest) = input.split_first()?;
        if t != tag {
            return None;
        }
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (first as usize, rest)
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let len = rest[..n].iter().fold(0usize, |a, &b| (a << 8) | b as usize);
            (len, &rest[n..])
        };
        (rest.len() >= len).then(|| rest.split_at(len))
    }

    /// `RSAPrivateKey ::= SEQUENCE { version INTEGER, modulus INTEGER, … }`
    pub(super) fn pkcs1_modulus_bits(der: &[u8]) -> Option<usize> {
        let (seq, _) = tlv(der, 0x30)?;
        let (_, rest) = tlv(seq, 0x02)?;
        let (n, _) = tlv(rest, 0x02)?;
        let n = &n[n.iter().position(|&b| b != 0)?..];
        Some(n.len() * 8 - n[0].leading_zeros() as usize)
    }

    /// `PrivateKeyInfo ::= SEQUENCE { version, algorithm SEQUENCE, privateKey OCTET STRING }`
    pub(super) fn pkcs8_modulus_bits(der: &[u8]) -> Option<usize> {
        let (seq, _) = tlv(der, 0x30)?;
        let (_, rest) = tlv(seq, 0x02)?;
        let (_, rest) = tlv(rest, 0x30)?;
        let (key, _) = tlv(rest, 0x04)?;
        pkcs1_modulus_bits(key)
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
