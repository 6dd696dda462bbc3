//! Key material: loading, dev key generation, RFC 7638 thumbprints, JWKS.

use std::fs;
use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use glue_auth_core::PublicKey;
use glue_auth_token::SigningKey;

use crate::config::{ConfigError, KeySource, Settings};

/// File names of the generated development key pair inside the data directory.
pub(crate) const DEV_PRIVATE: &str = "dev-private.pem";
pub(crate) const DEV_PUBLIC: &str = "dev-public.pem";

/// What the gateway signs and verifies with.
#[derive(Debug, Clone)]
pub(crate) struct KeyMaterial {
    /// `None`: verify-only mode (tokens are issued elsewhere).
    pub(crate) signing: Option<SigningKey>,
    /// Verification keys, each with its thumbprint as `kid`. The signing key's
    /// public half comes first.
    pub(crate) verify: Vec<PublicKey>,
    /// The key pair was generated for development.
    pub(crate) dev: bool,
    /// Whether it was generated on this call.
    pub(crate) generated: bool,
}

/// RFC 7638 JWK thumbprint of an RSA key: SHA-256 over
/// `{"e":"...","kty":"RSA","n":"..."}`, base64url.
pub(crate) fn thumbprint(key: &PublicKey) -> String {
    let json = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(key.exponent()),
        URL_SAFE_NO_PAD.encode(key.modulus())
    );
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, json.as_bytes());
    URL_SAFE_NO_PAD.encode(d.as_ref())
}

/// The JWK Set (RFC 7517) of the verification keys.
pub(crate) fn jwks(keys: &[PublicKey]) -> serde_json::Value {
    let keys: Vec<_> = keys
        .iter()
        .map(|k| {
            serde_json::json!({
                "kty": "RSA",
                "use": "sig",
                "alg": "RS256",
                "kid": thumbprint(k),
                "n": URL_SAFE_NO_PAD.encode(k.modulus()),
                "e": URL_SAFE_NO_PAD.encode(k.exponent()),
            })
        })
        .collect();
    serde_json::json!({ "keys": keys })
}

fn with_thumbprint(key: PublicKey) -> PublicKey {
    let kid = thumbprint(&key);
    key.with_kid(kid)
}

fn read(source: &KeySource, setting: &'static str) -> Result<Vec<u8>, ConfigError> {
    match source {
        KeySource::Inline(pem) => Ok(pem.clone().into_bytes()),
        KeySource::File(path) => fs::read(path)
            .map_err(|e| ConfigError::new(setting, format!("cannot read {}: {e}", path.display()))),
    }
}

fn write_private(path: &Path, pem: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(pem.as_bytes())?;
    f.sync_all()
}

/// Generates (once) and loads the development key pair in `dir`.
fn dev_key(dir: &Path) -> Result<(SigningKey, bool), ConfigError> {
    let private = dir.join(DEV_PRIVATE);
    let public = dir.join(DEV_PUBLIC);
    let mut generated = false;
    if !private.exists() {
        crate::files::create_private_dir(dir).map_err(|e| {
            ConfigError::new("data_dir", format!("cannot create {}: {e}", dir.display()))
        })?;
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| ConfigError::new("data_dir", "RSA key generation failed"))?;
        let pkcs8 = pair
            .as_der()
            .map_err(|_| ConfigError::new("data_dir", "cannot encode the generated key"))?;
        let spki = aws_lc_rs::signature::KeyPair::public_key(&pair)
            .as_der()
            .map_err(|_| ConfigError::new("data_dir", "cannot encode the generated key"))?;
        let private_pem = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.as_ref().to_vec()));
        let public_pem = pem::encode(&pem::Pem::new("PUBLIC KEY", spki.as_ref().to_vec()));
        write_private(&private, &private_pem).map_err(|e| {
            ConfigError::new(
                "data_dir",
                format!("cannot write {}: {e}", private.display()),
            )
        })?;
        fs::write(&public, public_pem).map_err(|e| {
            ConfigError::new(
                "data_dir",
                format!("cannot write {}: {e}", public.display()),
            )
        })?;
        generated = true;
    }
    let pem = fs::read(&private).map_err(|e| {
        ConfigError::new(
            "data_dir",
            format!("cannot read {}: {e}", private.display()),
        )
    })?;
    let key = SigningKey::from_pem(&pem).map_err(|e| {
        ConfigError::new(
            "data_dir",
            format!(
                "{}: {e} (delete it to generate a new one)",
                private.display()
            ),
        )
    })?;
    Ok((key, generated))
}

/// Loads the keys the settings name (or the dev key pair).
pub(crate) fn load(s: &Settings) -> Result<KeyMaterial, ConfigError> {
    let mut dev = false;
    let mut generated = false;
    let signing = match &s.private_key {
        Some(src) => {
            if let KeySource::File(path) = src
                && crate::files::readable_by_others(path)
            {
                tracing::warn!(
                    path = %path.display(),
                    "the private key file is readable by group or others: chmod 600 it"
                );
            }
            let pem = read(src, "private_key_path")?;
            Some(SigningKey::from_pem(&pem).map_err(|e| {
                ConfigError::new(
                    "private_key_path",
                    format!("not a usable RSA private key: {e}"),
                )
            })?)
        }
        None if s.public_key.is_none() => {
            let (key, gen_now) = dev_key(&s.data_dir)?;
            dev = true;
            generated = gen_now;
            Some(key)
        }
        None => None,
    };
    let mut verify = Vec::new();
    if let Some(src) = &s.public_key {
        let pem = read(src, "public_key_path")?;
        let public = PublicKey::from_pem(&pem).map_err(|e| {
            ConfigError::new(
                "public_key_path",
                format!("not a usable RSA public key: {e}"),
            )
        })?;
        if let Some(signing) = &signing {
            let mine = signing.public_key();
            if mine.modulus() != public.modulus() || mine.exponent() != public.exponent() {
                return Err(ConfigError::new(
                    "public_key_path",
                    "the public key does not belong to the private key",
                ));
            }
        }
        verify.push(with_thumbprint(public));
    } else if let Some(signing) = &signing {
        verify.push(with_thumbprint(signing.public_key()));
    }
    for path in &s.extra_public_keys {
        let pem = read(&KeySource::File(path.clone()), "extra_public_key_paths")?;
        let key = PublicKey::from_pem(&pem).map_err(|e| {
            ConfigError::new(
                "extra_public_key_paths",
                format!("{}: not a usable RSA public key: {e}", path.display()),
            )
        })?;
        let key = with_thumbprint(key);
        if verify.iter().any(|k| k.kid() == key.kid()) {
            continue;
        }
        verify.push(key);
    }
    let signing = signing.map(|k| {
        if s.jwt_kid || verify.len() > 1 {
            let kid = thumbprint(&k.public_key());
            k.with_kid(kid)
        } else {
            k
        }
    });
    Ok(KeyMaterial {
        signing,
        verify,
        dev,
        generated,
    })
}

/// Files whose change a SIGHUP picks up (for the log).
pub(crate) fn reloadable_files(s: &Settings) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(KeySource::File(p)) = &s.private_key {
        v.push(p.clone());
    }
    if let Some(KeySource::File(p)) = &s.public_key {
        v.push(p.clone());
    }
    if s.private_key.is_none() && s.public_key.is_none() {
        v.push(s.data_dir.join(DEV_PRIVATE));
    }
    v.extend(s.extra_public_keys.iter().cloned());
    v
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
            thumbprint(&key),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        let set = jwks(&[key]);
        assert_eq!(set["keys"][0]["e"], "AQAB");
        assert_eq!(set["keys"][0]["alg"], "RS256");
        assert_eq!(set["keys"][0]["use"], "sig");
    }
}
