//! Reading JWK Sets (RFC 7517) and key files, defensively: a key set
//! fetched from elsewhere is untrusted input.

use std::collections::HashSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::{Algorithm, Algorithms, KeyError, KeyType, PublicKey};

/// Bounds on a JWK Set document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksLimits {
    /// Largest document accepted, in bytes (default 1 MiB).
    pub max_bytes: usize,
    /// Most keys accepted in one document (default 100).
    pub max_keys: usize,
}

impl Default for JwksLimits {
    fn default() -> Self {
        JwksLimits {
            max_bytes: 1024 * 1024,
            max_keys: 100,
        }
    }
}

/// Why a JWK Set (or key file) was refused as a whole. The caller keeps the
/// keys it had.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwksError {
    /// Larger than [`JwksLimits::max_bytes`].
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// More keys than [`JwksLimits::max_keys`].
    TooManyKeys {
        /// Keys in the document.
        keys: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a JSON object with a `keys` array (or, for a key file, not PEM
    /// either).
    Malformed(String),
    /// Two signature keys share a `kid`: a token naming it would be ambiguous.
    DuplicateKid(String),
    /// A key that has no place in a public signature key set: `alg` `none`
    /// or `HS*`, a symmetric (`oct`) key, private key material, an `alg`
    /// that does not fit the key type, an RSA key under 2048 bits, a bad
    /// coordinate.
    HostileKey {
        /// Position in the `keys` array.
        index: usize,
        /// Its `kid`, if any.
        kid: Option<String>,
        /// What is wrong with it.
        reason: String,
    },
    /// No usable signature key in the document.
    NoUsableKey,
}

impl fmt::Display for JwksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwksError::TooLarge { limit } => write!(f, "key set larger than {limit} bytes"),
            JwksError::TooManyKeys { keys, limit } => {
                write!(f, "key set has {keys} keys, at most {limit} are accepted")
            }
            JwksError::Malformed(e) => write!(f, "not a JWK Set: {e}"),
            JwksError::DuplicateKid(kid) => write!(f, "two keys share the kid {kid:?}"),
            JwksError::HostileKey { index, kid, reason } => {
                write!(f, "key #{index}")?;
                if let Some(kid) = kid {
                    write!(f, " (kid {kid:?})")?;
                }
                write!(f, " refused: {reason}")
            }
            JwksError::NoUsableKey => f.write_str("no usable signature key in the key set"),
        }
    }
}

impl std::error::Error for JwksError {}

/// The keys of an accepted JWK Set, and the keys left out of it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ParsedKeys {
    /// The signature keys, in document order.
    pub keys: Vec<PublicKey>,
    /// One line per key left out (an encryption key, an unknown `kty`, an
    /// unsupported curve): RFC 7517 §5 says to ignore what one does not
    /// understand. For the log.
    pub skipped: Vec<String>,
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<RawJwk>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    alg: Option<String>,
    kid: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
    d: Option<String>,
    k: Option<String>,
}

/// Longest `kid` accepted.
const MAX_KID_LEN: usize = 256;

enum Verdict {
    Key(PublicKey),
    Skip(String),
    Refuse(String),
}

/// Reads a JWK Set document (`{"keys":[…]}`), refusing it **as a whole**
/// when it is hostile or broken, so that a caller keeps its previous keys:
/// over the size or key-count limit, not JSON, a duplicate `kid`, a key with
/// `alg` `none` or `HS*`, a symmetric (`oct`) key, private key material
/// (`d`), an `alg` that does not fit the key's type or curve, an RSA modulus
/// under 2048 bits, or no usable key at all.
///
/// Left out (and listed in [`ParsedKeys::skipped`]), as RFC 7517 §5 asks:
/// keys for encryption (`use` other than `sig`, `key_ops` without
/// `verify`, `RSA-OAEP` and the like), unknown key types, curves we do not
/// verify (P-521, secp256k1, Ed448, X25519).
///
/// ```
/// use glue_auth_jwt::{JwksError, JwksLimits, SigningKey, jwks_json, parse_jwks};
///
/// let key = SigningKey::generate().unwrap().public_key().with_kid("a");
/// let doc = jwks_json(&[key.clone()]);
/// let parsed = parse_jwks(doc.as_bytes(), &JwksLimits::default()).unwrap();
/// assert_eq!(parsed.keys, vec![key.with_algorithms(glue_auth_jwt::Algorithms::GLUE).unwrap()]);
///
/// let hostile = br#"{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"HS256"}]}"#;
/// assert!(matches!(
///     parse_jwks(hostile, &JwksLimits::default()),
///     Err(JwksError::HostileKey { .. })
/// ));
/// ```
pub fn parse_jwks(doc: &[u8], limits: &JwksLimits) -> Result<ParsedKeys, JwksError> {
    if doc.len() > limits.max_bytes {
        return Err(JwksError::TooLarge {
            limit: limits.max_bytes,
        });
    }
    let raw: RawSet =
        serde_json::from_slice(doc).map_err(|e| JwksError::Malformed(e.to_string()))?;
    if raw.keys.len() > limits.max_keys {
        return Err(JwksError::TooManyKeys {
            keys: raw.keys.len(),
            limit: limits.max_keys,
        });
    }
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    let mut kids = HashSet::new();
    for (index, jwk) in raw.keys.into_iter().enumerate() {
        let kid = jwk.kid.clone();
        match judge(jwk) {
            Verdict::Key(key) => {
                if let Some(kid) = key.kid()
                    && !kids.insert(kid.to_owned())
                {
                    return Err(JwksError::DuplicateKid(kid.to_owned()));
                }
                keys.push(key);
            }
            Verdict::Skip(reason) => skipped.push(match &kid {
                Some(kid) => format!("key #{index} (kid {kid:?}): {reason}"),
                None => format!("key #{index}: {reason}"),
            }),
            Verdict::Refuse(reason) => {
                return Err(JwksError::HostileKey { index, kid, reason });
            }
        }
    }
    if keys.is_empty() {
        return Err(JwksError::NoUsableKey);
    }
    Ok(ParsedKeys { keys, skipped })
}

fn b64(field: &str, v: Option<&str>) -> Result<Vec<u8>, String> {
    let v = v.ok_or_else(|| format!("`{field}` is missing"))?;
    URL_SAFE_NO_PAD
        .decode(v)
        .map_err(|_| format!("`{field}` is not base64url"))
}

fn judge(jwk: RawJwk) -> Verdict {
    use Verdict::{Refuse, Skip};
    if let Some(kid) = &jwk.kid
        && (kid.is_empty() || kid.len() > MAX_KID_LEN)
    {
        return Refuse(format!("kid empty or longer than {MAX_KID_LEN} bytes"));
    }
    let kty = jwk.kty.as_deref().unwrap_or("");
    // Never acceptable, whatever else the key says.
    match jwk.alg.as_deref() {
        Some(a) if a.eq_ignore_ascii_case("none") => {
            return Refuse("alg \"none\" in a signature key set".into());
        }
        Some(a) if a.starts_with("HS") => {
            return Refuse(format!("symmetric alg {a:?} in a public key set"));
        }
        _ => {}
    }
    if kty == "oct" || jwk.k.is_some() {
        return Refuse("symmetric (oct) key material in a public key set".into());
    }
    if jwk.d.is_some() {
        return Refuse("private key material (`d`) published".into());
    }
    // Keys for something else than verifying signatures.
    if let Some(u) = jwk.use_.as_deref()
        && u != "sig"
    {
        return Skip(format!("use {u:?}"));
    }
    if let Some(ops) = &jwk.key_ops
        && !ops.iter().any(|o| o == "verify")
    {
        return Skip("key_ops without \"verify\"".into());
    }
    let alg = match jwk.alg.as_deref() {
        None => None,
        Some(a) => match a.parse::<Algorithm>() {
            Ok(alg) => Some(alg),
            Err(_) if is_signature_alg(a) => return Skip(format!("unsupported alg {a:?}")),
            Err(_) => return Skip(format!("alg {a:?} is not a signature algorithm")),
        },
    };
    let key = match kty {
        "RSA" => {
            let (n, e) = match (b64("n", jwk.n.as_deref()), b64("e", jwk.e.as_deref())) {
                (Ok(n), Ok(e)) => (n, e),
                (Err(r), _) | (_, Err(r)) => return Refuse(r),
            };
            PublicKey::from_components(&n, &e)
        }
        "EC" => {
            match jwk.crv.as_deref() {
                Some("P-256" | "P-384") => {}
                other => return Skip(format!("unsupported curve {other:?}")),
            }
            let (x, y) = match (b64("x", jwk.x.as_deref()), b64("y", jwk.y.as_deref())) {
                (Ok(x), Ok(y)) => (x, y),
                (Err(r), _) | (_, Err(r)) => return Refuse(r),
            };
            let key = PublicKey::from_ec_coordinates(&x, &y);
            let want = if jwk.crv.as_deref() == Some("P-384") {
                KeyType::EcP384
            } else {
                KeyType::EcP256
            };
            match key {
                Ok(k) if k.key_type() != want => Err(KeyError::BadPoint),
                other => other,
            }
        }
        "OKP" => {
            if jwk.crv.as_deref() != Some("Ed25519") {
                return Skip(format!("unsupported curve {:?}", jwk.crv));
            }
            match b64("x", jwk.x.as_deref()) {
                Ok(x) => PublicKey::from_ed25519(&x),
                Err(r) => return Refuse(r),
            }
        }
        "" => return Refuse("`kty` is missing".into()),
        other => return Skip(format!("unknown kty {other:?}")),
    };
    let mut key = match key {
        Ok(k) => k,
        Err(e) => return Refuse(e.to_string()),
    };
    if let Some(alg) = alg {
        key = match key.with_algorithms(Algorithms::from_iter([alg])) {
            Ok(k) => k,
            Err(_) => return Refuse(format!("alg {alg} does not fit kty {kty:?}")),
        };
    }
    if let Some(kid) = jwk.kid {
        key = key.with_kid(kid);
    }
    Verdict::Key(key)
}

/// JWS algorithms of RFC 7518 and friends that we do not verify.
fn is_signature_alg(a: &str) -> bool {
    matches!(a, "ES512" | "ES256K" | "Ed25519" | "Ed448")
}

/// Reads a key file: a JWK Set (the first non-blank byte is `{`) or one or
/// more PEM public keys, one after the other. Same limits and refusals as
/// [`parse_jwks`].
///
/// ```
/// use glue_auth_jwt::{JwksLimits, SigningKey, parse_key_file};
///
/// let a = SigningKey::generate().unwrap().public_key_pem().unwrap();
/// let b = SigningKey::generate().unwrap().public_key_pem().unwrap();
/// let both = format!("{a}{b}");
/// let parsed = parse_key_file(both.as_bytes(), &JwksLimits::default()).unwrap();
/// assert_eq!(parsed.keys.len(), 2);
/// ```
pub fn parse_key_file(bytes: &[u8], limits: &JwksLimits) -> Result<ParsedKeys, JwksError> {
    if bytes.len() > limits.max_bytes {
        return Err(JwksError::TooLarge {
            limit: limits.max_bytes,
        });
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return parse_jwks(bytes, limits);
    }
    let blocks = pem::parse_many(bytes).map_err(|e| JwksError::Malformed(e.to_string()))?;
    if blocks.len() > limits.max_keys {
        return Err(JwksError::TooManyKeys {
            keys: blocks.len(),
            limit: limits.max_keys,
        });
    }
    let mut keys = Vec::with_capacity(blocks.len());
    for (index, block) in blocks.iter().enumerate() {
        let key = PublicKey::from_pem_block(block).map_err(|e| JwksError::HostileKey {
            index,
            kid: None,
            reason: e.to_string(),
        })?;
        if keys
            .iter()
            .any(|k: &PublicKey| k.thumbprint() == key.thumbprint())
        {
            continue;
        }
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(JwksError::NoUsableKey);
    }
    Ok(ParsedKeys {
        keys,
        skipped: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rsa_jwk(extra: &str) -> String {
        let key = crate::SigningKey::generate().unwrap().public_key();
        format!(
            r#"{{"kty":"RSA","n":"{}","e":"AQAB"{extra}}}"#,
            URL_SAFE_NO_PAD.encode(key.modulus())
        )
    }

    fn parse(doc: &str) -> Result<ParsedKeys, JwksError> {
        parse_jwks(doc.as_bytes(), &JwksLimits::default())
    }

    #[test]
    fn hostile_documents_are_refused_whole() {
        let good = rsa_jwk(r#","kid":"a""#);
        for (doc, what) in [
            (
                format!(r#"{{"keys":[{good},{{"kty":"RSA","alg":"none","kid":"n"}}]}}"#),
                "none",
            ),
            (
                format!(r#"{{"keys":[{good},{{"kty":"oct","k":"AAAA","kid":"s"}}]}}"#),
                "oct",
            ),
            (
                format!(
                    r#"{{"keys":[{good},{}]}}"#,
                    rsa_jwk(r#","kid":"b","alg":"ES256""#)
                ),
                "mismatch",
            ),
            (
                format!(
                    r#"{{"keys":[{good},{}]}}"#,
                    rsa_jwk(r#","kid":"c","d":"AAAA""#)
                ),
                "private",
            ),
            (
                format!(r#"{{"keys":[{good},{}]}}"#, rsa_jwk(r#","kid":"a""#)),
                "duplicate",
            ),
            (
                format!(r#"{{"keys":[{good},{{"kty":"RSA","n":"AQAB","e":"AQAB"}}]}}"#),
                "short",
            ),
            (r#"{"keys":{}}"#.to_owned(), "malformed"),
            (r#"{"keys":[]}"#.to_owned(), "empty"),
        ] {
            assert!(parse(&doc).is_err(), "{what}");
        }
        let many = format!(r#"{{"keys":[{}]}}"#, vec![good.as_str(); 101].join(","));
        assert!(matches!(parse(&many), Err(JwksError::TooManyKeys { .. })));
        let huge = format!(r#"{{"keys":[{good}],"pad":"{}"}}"#, "x".repeat(1024 * 1024));
        assert!(matches!(parse(&huge), Err(JwksError::TooLarge { .. })));
    }

    #[test]
    fn encryption_keys_and_unknown_types_are_skipped() {
        let doc = format!(
            r#"{{"keys":[{},{},{},{{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}},{{"kty":"XYZ"}}]}}"#,
            rsa_jwk(r#","kid":"sig","alg":"RS256","use":"sig""#),
            rsa_jwk(r#","kid":"enc","alg":"RSA-OAEP","use":"enc""#),
            rsa_jwk(r#","kid":"enc2","alg":"RSA-OAEP""#),
        );
        let parsed = parse(&doc).unwrap();
        assert_eq!(parsed.keys.len(), 1);
        assert_eq!(parsed.keys[0].kid(), Some("sig"));
        assert_eq!(parsed.skipped.len(), 4, "{:?}", parsed.skipped);
    }

    #[test]
    fn ec_and_okp_keys() {
        let x = URL_SAFE_NO_PAD.encode([1u8; 32]);
        let doc = format!(
            r#"{{"keys":[{{"kty":"EC","crv":"P-256","x":"{x}","y":"{x}","kid":"e"}},{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"o"}}]}}"#
        );
        let parsed = parse(&doc).unwrap();
        assert_eq!(parsed.keys[0].key_type(), KeyType::EcP256);
        assert_eq!(parsed.keys[1].algorithms(), Algorithms::ED25519);
        let bad =
            format!(r#"{{"keys":[{{"kty":"EC","crv":"P-384","x":"{x}","y":"{x}","kid":"e"}}]}}"#);
        assert!(matches!(parse(&bad), Err(JwksError::HostileKey { .. })));
    }
}
