//! Just enough DER to read RSA keys: the one reader behind every key format
//! the crate accepts (SPKI and PKCS#1 public keys; PKCS#1 and PKCS#8 private
//! keys, for the modulus size of a key aws-lc refused).

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;

/// `1.2.840.113549.1.1.1` (rsaEncryption), DER-encoded contents.
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// Reads one tag-length-value; returns the value and what follows it.
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

/// A big-endian unsigned integer without its leading zero bytes.
pub(crate) fn trim_leading_zeros(mut b: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = b {
        b = rest;
    }
    b
}

/// The size in bits of a big-endian unsigned integer.
pub(crate) fn bits(n: &[u8]) -> usize {
    let n = trim_leading_zeros(n);
    match n.first() {
        Some(&first) => n.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`
/// (PKCS#1): the modulus and exponent.
pub(crate) fn pkcs1_public(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (seq, _) = tlv(der, SEQUENCE)?;
    let (n, rest) = tlv(seq, INTEGER)?;
    let (e, _) = tlv(rest, INTEGER)?;
    Some((n, e))
}

/// `1.2.840.10045.2.1` (id-ecPublicKey).
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// `1.2.840.10045.3.1.7` (prime256v1).
const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// `1.3.132.0.34` (secp384r1).
const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
/// `1.3.101.112` (Ed25519).
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// The public key inside an SPKI.
pub(crate) enum Spki<'a> {
    /// Modulus and exponent.
    Rsa(&'a [u8], &'a [u8]),
    /// An uncompressed point (`04 || x || y`) on P-256 or P-384.
    Ec { p384: bool, point: &'a [u8] },
    /// The 32 key bytes.
    Ed25519(&'a [u8]),
}

/// `SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE { OID, params },
/// subjectPublicKey BIT STRING }` holding an RSA, P-256, P-384 or Ed25519
/// key. Any other algorithm or curve, and compressed points, are `None`.
pub(crate) fn spki_public(der: &[u8]) -> Option<Spki<'_>> {
    let (seq, _) = tlv(der, SEQUENCE)?;
    let (algorithm, rest) = tlv(seq, SEQUENCE)?;
    let (oid, params) = tlv(algorithm, OID)?;
    let (bit_string, _) = tlv(rest, BIT_STRING)?;
    // The first byte counts the unused bits of the last byte: 0 for a key.
    let (&0, key) = bit_string.split_first()? else {
        return None;
    };
    match oid {
        RSA_ENCRYPTION => pkcs1_public(key).map(|(n, e)| Spki::Rsa(n, e)),
        EC_PUBLIC_KEY => {
            let (curve, _) = tlv(params, OID)?;
            let (p384, len) = match curve {
                P256 => (false, 65),
                P384 => (true, 97),
                _ => return None,
            };
            (key.len() == len && key[0] == 0x04).then_some(Spki::Ec { p384, point: key })
        }
        ED25519 => (key.len() == 32).then_some(Spki::Ed25519(key)),
        _ => None,
    }
}

/// `RSAPrivateKey ::= SEQUENCE { version INTEGER, modulus INTEGER, … }`
/// (PKCS#1): the modulus size in bits.
pub(crate) fn pkcs1_private_bits(der: &[u8]) -> Option<usize> {
    let (seq, _) = tlv(der, SEQUENCE)?;
    let (_, rest) = tlv(seq, INTEGER)?;
    let (n, _) = tlv(rest, INTEGER)?;
    Some(bits(n))
}

/// `PrivateKeyInfo ::= SEQUENCE { version, algorithm SEQUENCE, privateKey
/// OCTET STRING }` (PKCS#8) holding an RSA key: the modulus size in bits.
pub(crate) fn pkcs8_private_bits(der: &[u8]) -> Option<usize> {
    let (seq, _) = tlv(der, SEQUENCE)?;
    let (_, rest) = tlv(seq, INTEGER)?;
    let (_, rest) = tlv(rest, SEQUENCE)?;
    let (key, _) = tlv(rest, OCTET_STRING)?;
    pkcs1_private_bits(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_tags() {
        assert_eq!(
            tlv(&[0x02, 0x01, 0x05, 0xff], INTEGER),
            Some((&[5u8][..], &[0xffu8][..]))
        );
        assert_eq!(
            tlv(&[0x02, 0x81, 0x01, 0x05], INTEGER),
            Some((&[5u8][..], &[][..]))
        );
        // Wrong tag, truncated value, indefinite and over-long lengths.
        assert_eq!(tlv(&[0x30, 0x01, 0x05], INTEGER), None);
        assert_eq!(tlv(&[0x02, 0x02, 0x05], INTEGER), None);
        assert_eq!(tlv(&[0x02, 0x80, 0x05], INTEGER), None);
        assert_eq!(tlv(&[0x02, 0x85, 1, 1, 1, 1, 1], INTEGER), None);
        assert_eq!(tlv(&[], INTEGER), None);
    }

    #[test]
    fn integers() {
        assert_eq!(trim_leading_zeros(&[0, 0, 1, 0]), &[1, 0]);
        assert_eq!(bits(&[0, 0x80, 0]), 16);
        assert_eq!(bits(&[0x01]), 1);
        assert_eq!(bits(&[0, 0]), 0);
    }

    #[test]
    fn spki_refuses_other_algorithms() {
        // SEQUENCE { SEQUENCE { OID 1.2.840.10045.2.1 (EC) }, BIT STRING 00 }
        let ec = [
            0x30, 0x0e, 0x30, 0x09, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x03,
            0x01, 0x00,
        ];
        assert!(spki_public(&ec).is_none());
    }
}
