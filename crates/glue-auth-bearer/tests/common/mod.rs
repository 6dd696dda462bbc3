//! Test keys and a hand-rolled JWT signer, so tests can build tokens in
//! Spryker's exact format (and every malformed variant of it).
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::path::PathBuf;

use aws_lc_rs::encoding::AsDer;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use glue_auth_bearer::{KeySet, PublicKey};
use jsonwebtoken::{Algorithm, EncodingKey};

pub const NOW: i64 = 1_764_000_000_123_456; // µs, the fixtures' clock
pub const SONIA_UUID: &str = "0d743cc3-a772-5145-971e-d4018ee7a489";
pub const USER_SUB: &str =
    r#"{"user_reference":null,"id_user":4,"uuid":"0d743cc3-a772-5145-971e-d4018ee7a489"}"#;
pub const JTI: &str =
    "5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f";

/// `shared/fixtures` beside the repository: only `tests/fixtures.rs` (the
/// interoperability tests, not in the published package) reads it.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
}

/// `tests/data/`: the foreign-signer key pair of `shared/fixtures`, copied into
/// the crate so that the tests run from the published package
/// (`tests/fixtures.rs` checks that the copies still match).
pub fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn test_private_pem() -> Vec<u8> {
    std::fs::read(data().join("test-private.pem")).unwrap()
}

pub fn test_public_pem() -> Vec<u8> {
    std::fs::read(data().join("test-public.pem")).unwrap()
}

pub fn test_keys() -> KeySet {
    KeySet::from_pem(&test_public_pem()).unwrap()
}

pub fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// A fresh RSA key pair: (private PEM, public key).
pub fn generate_key(bits: aws_lc_rs::rsa::KeySize) -> (Vec<u8>, PublicKey) {
    let pair = aws_lc_rs::rsa::KeyPair::generate(bits).unwrap();
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'_>>::as_der(&pair).unwrap();
    let pem = pem("PRIVATE KEY", der.as_ref());
    let public = aws_lc_rs::signature::KeyPair::public_key(&pair);
    let spki = AsDer::<aws_lc_rs::encoding::PublicKeyX509Der<'_>>::as_der(public).unwrap();
    let public = PublicKey::from_pem(pem_str("PUBLIC KEY", spki.as_ref()).as_bytes()).unwrap();
    (pem, public)
}

fn pem_str(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn pem(label: &str, der: &[u8]) -> Vec<u8> {
    pem_str(label, der).into_bytes()
}

/// Signs `header.payload` exactly as given (no re-serialization).
pub fn sign_with(header: &str, payload: &str, key: &EncodingKey, alg: Algorithm) -> String {
    let msg = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let sig = jsonwebtoken::crypto::sign(msg.as_bytes(), key, alg).unwrap();
    format!("{msg}.{sig}")
}

pub fn test_signing_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&test_private_pem()).unwrap()
}

/// An RS256 token with Spryker's header signed by the test key.
pub fn sign(payload: &str) -> String {
    sign_with(
        r#"{"typ":"JWT","alg":"RS256"}"#,
        payload,
        &test_signing_key(),
        Algorithm::RS256,
    )
}

/// Spryker's payload with float dates (seconds with microseconds).
pub fn payload(iat: &str, nbf: &str, exp: &str, sub: &str, scopes: &str) -> String {
    format!(
        r#"{{"aud":"frontend","jti":"{JTI}","iat":{iat},"nbf":{nbf},"exp":{exp},"sub":{},"scopes":{scopes}}}"#,
        serde_json::to_string(sub).unwrap()
    )
}

/// A valid Back Office user token at NOW.
pub fn user_token() -> String {
    sign(&payload(
        "1764000000.123456",
        "1764000000.123456",
        "1764028800.123456",
        USER_SUB,
        r#"["user","back-office-user"]"#,
    ))
}

/// µs → JSON seconds with microseconds.
pub fn secs(micros: i64) -> String {
    glue_auth_core::NumericDate::from_micros(micros).to_string()
}
