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

/// `SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE { OID, params },
/// subjectPublicKey BIT STRING }` holding an RSA key: the modulus and
/// exponent. Any other algorithm is `None`.
pub(crate) fn spki_rsa_public(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (seq, _) = tlv(der, SEQUENCE)?;
    let (algorithm, rest) = tlv(seq, SEQUENCE)?;
    let (oid, _) = tlv(algorithm, OID)?;
    if oid != RSA_ENCRYPTION {
        return None;
    }
    let (bit_string, _) = tlv(rest, BIT_STRING)?;
    // The first byte counts the unused bits of the last byte: 0 for a key.
    let (&0, key) = bit_string.split_first()? else {
        return None;
    };
    pkcs1_public(key)
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
        assert_eq!(spki_rsa_public(&ec), None);
    }
}
