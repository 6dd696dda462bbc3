//! JSON Web Keys (RFC 7517) of the public keys, and their thumbprints
//! (RFC 7638). Reading JWK Sets is in `jwks.rs`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::keys::Material;
use crate::{KeyType, PublicKey};

#[derive(Serialize)]
struct Jwk<'a> {
    kty: &'static str,
    #[serde(rename = "use")]
    use_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    alg: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<String>,
}

#[derive(Serialize)]
struct Jwks<'a> {
    keys: Vec<Jwk<'a>>,
}

/// RFC 7638: the SHA-256 of the required members in lexicographic order.
pub(crate) fn thumbprint(key: &PublicKey) -> String {
    let b = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
    let json = match key.material() {
        Material::Rsa { n, e } => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b(e), b(n)),
        Material::Ec { p384, x, y } => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            if *p384 { "P-384" } else { "P-256" },
            b(x),
            b(y)
        ),
        Material::Ed25519 { x } => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b(x)),
    };
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, json.as_bytes());
    URL_SAFE_NO_PAD.encode(d.as_ref())
}

impl PublicKey {
    fn jwk(&self) -> Jwk<'_> {
        let b = |v: &[u8]| Some(URL_SAFE_NO_PAD.encode(v));
        // `alg` only when the key verifies exactly one algorithm.
        let mut algs = self.algorithms().iter();
        let alg = match (algs.next(), algs.next()) {
            (Some(one), None) => Some(one.as_str()),
            // An RSA key of the whole family is published as RS256, as before.
            _ if self.key_type() == KeyType::Rsa => Some("RS256"),
            _ => None,
        };
        let mut jwk = Jwk {
            kty: "RSA",
            use_: "sig",
            alg,
            kid: self.kid(),
            crv: None,
            n: None,
            e: None,
            x: None,
            y: None,
        };
        match self.material() {
            Material::Rsa { n, e } => {
                jwk.n = b(n);
                jwk.e = b(e);
            }
            Material::Ec { p384, x, y } => {
                jwk.kty = "EC";
                jwk.crv = Some(if *p384 { "P-384" } else { "P-256" });
                jwk.x = b(x);
                jwk.y = b(y);
            }
            Material::Ed25519 { x } => {
                jwk.kty = "OKP";
                jwk.crv = Some("Ed25519");
                jwk.x = b(x);
            }
        }
        jwk
    }
}

/// The JWK Set document of `keys` (`{"keys":[{"kty":"RSA","use":"sig",
/// "alg":"RS256","kid":…,"n":…,"e":…}]}`), as served at
/// `/.well-known/jwks.json`. A key without `kid` is written without one.
///
/// ```
/// use glue_auth_jwt::{SigningKey, jwks_json};
///
/// let key = SigningKey::generate().unwrap().public_key();
/// let key = key.clone().with_kid(key.thumbprint());
/// let doc: serde_json::Value = serde_json::from_str(&jwks_json(&[key.clone()])).unwrap();
/// assert_eq!(doc["keys"][0]["kid"], key.thumbprint().as_str());
/// assert_eq!(doc["keys"][0]["e"], "AQAB");
/// ```
pub fn jwks_json(keys: &[PublicKey]) -> String {
    let doc = Jwks {
        keys: keys.iter().map(PublicKey::jwk).collect(),
    };
    // Strings only: serialization cannot fail.
    serde_json::to_string(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_example_thumbprint() {
        // RFC 7638 §3.1.
        let n = URL_SAFE_NO_PAD
            .decode(
                "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            )
            .unwrap();
        let e = URL_SAFE_NO_PAD.decode("AQAB").unwrap();
        let key = PublicKey::from_components(&n, &e).unwrap();
        assert_eq!(
            key.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        let doc: serde_json::Value =
            serde_json::from_str(&jwks_json(&[key.with_kid("k1")])).unwrap();
        let jwk = &doc["keys"][0];
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(jwk["alg"], "RS256");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["kid"], "k1");
        assert_eq!(
            URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap(),
            n
        );
    }
}
