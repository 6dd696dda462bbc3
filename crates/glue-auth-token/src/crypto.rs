//! Randomness (aws-lc's CSPRNG), SHA-256 and hex.

/// `N` bytes from the operating system's CSPRNG (via aws-lc).
///
/// # Panics
///
/// When the system CSPRNG fails, which only happens on a broken system; no
/// token may be issued then.
pub(crate) fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    #[allow(clippy::expect_used)]
    aws_lc_rs::rand::fill(&mut out).expect("the system CSPRNG failed");
    out
}

/// SHA-256 (aws-lc).
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0x0f) as usize] as char);
    }
    s
}

/// A JWT `jti`: 40 random bytes as 80 lowercase hex characters, as Spryker
/// (league/oauth2-server) makes them.
pub(crate) fn jti() -> String {
    hex(&bytes::<40>())
}

/// An opaque refresh token: 32 random bytes (256 bits) as 64 lowercase hex
/// characters.
pub(crate) fn refresh_token() -> String {
    hex(&bytes::<32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jti_is_80_lowercase_hex_and_random() {
        let a = jti();
        assert_eq!(a.len(), 80);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(a, jti());
        assert_eq!(refresh_token().len(), 64);
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
    }
}
