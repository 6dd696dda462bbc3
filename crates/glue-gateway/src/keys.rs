//! Key material: loading, dev key generation, RFC 7638 thumbprints, JWKS.

use std::fs;
use std::path::{Path, PathBuf};

use glue_auth_bearer::PublicKey;
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

/// The key with its RFC 7638 thumbprint as `kid`.
fn with_thumbprint(key: PublicKey) -> PublicKey {
    let kid = key.thumbprint();
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
        let encode_failed = |_| ConfigError::new("data_dir", "cannot encode the generated key");
        let pair = SigningKey::generate()
            .map_err(|_| ConfigError::new("data_dir", "RSA key generation failed"))?;
        let private_pem = pair.to_pkcs8_pem().map_err(encode_failed)?;
        let public_pem = pair.public_key_pem().map_err(encode_failed)?;
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
        None if s.public_key.is_none() && s.jwks.is_none() => {
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
    // Kid-less tokens (Glue's, Spryker's, ours before a rotation) are
    // checked against one key, never against each in turn: the previous key
    // (the first extra one) by default, or the current one.
    if verify.len() > 1 {
        let i = if s.kidless_current { 0 } else { 1 };
        verify[i] = verify[i].clone().kidless_default();
    }
    let signing = signing.map(|k| {
        if s.jwt_kid || verify.len() > 1 {
            let kid = k.public_key().thumbprint();
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

/// Files whose change a SIGHUP (or the key-file watch) picks up.
pub(crate) fn reloadable_files(s: &Settings) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if s.jwks.is_some() {
        return v;
    }
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
