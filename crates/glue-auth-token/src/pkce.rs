//! PKCE (RFC 7636) for the authorization-code grant (SPEC §2a): the
//! challenge sent to `/authorize`, the verifier sent to `/token`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::store::CodeChallengeMethod;

/// A `code_challenge` or `code_verifier` is 43 to 128 characters of
/// `[A-Za-z0-9-._~]` (RFC 7636 §4.1, §4.2).
pub(crate) fn well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The method a request names: `Ok(None)` for an unknown name. RFC 7636
/// §4.3: a missing method means `plain`.
pub(crate) fn method(name: Option<&str>) -> Option<CodeChallengeMethod> {
    match name {
        None => Some(CodeChallengeMethod::Plain),
        Some(n) => CodeChallengeMethod::parse(n),
    }
}

/// `BASE64URL(SHA256(verifier))`.
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(crate::crypto::sha256(verifier.as_bytes()))
}

/// Whether `verifier` answers `challenge`, compared in constant time.
pub(crate) fn verifies(method: CodeChallengeMethod, challenge: &str, verifier: &str) -> bool {
    let expected = match method {
        CodeChallengeMethod::S256 => s256(verifier),
        CodeChallengeMethod::Plain => verifier.to_owned(),
    };
    aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), challenge.as_bytes())
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636, appendix B.
    #[test]
    fn rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(s256(verifier), challenge);
        assert!(well_formed(verifier) && well_formed(challenge));
        assert!(verifies(CodeChallengeMethod::S256, challenge, verifier));
        let mut other = verifier.to_owned();
        other.replace_range(0..1, "e");
        assert!(!verifies(CodeChallengeMethod::S256, challenge, &other));
        assert!(!verifies(CodeChallengeMethod::Plain, challenge, verifier));
        assert!(verifies(CodeChallengeMethod::Plain, verifier, verifier));
        // The challenge itself is not a verifier.
        assert!(!verifies(CodeChallengeMethod::S256, challenge, challenge));
    }

    #[test]
    fn shapes() {
        assert!(!well_formed(&"a".repeat(42)));
        assert!(well_formed(&"a".repeat(43)));
        assert!(well_formed(&"a".repeat(128)));
        assert!(!well_formed(&"a".repeat(129)));
        assert!(!well_formed(&format!("{}+", "a".repeat(43))));
        assert!(!well_formed(&format!("{}=", "a".repeat(43))));
        assert!(well_formed(&format!("{}-._~", "a".repeat(43))));
        assert_eq!(method(Some("S256")), Some(CodeChallengeMethod::S256));
        assert_eq!(method(Some("plain")), Some(CodeChallengeMethod::Plain));
        assert_eq!(method(None), Some(CodeChallengeMethod::Plain));
        assert_eq!(method(Some("s256")), None);
        assert_eq!(method(Some("")), None);
    }
}
