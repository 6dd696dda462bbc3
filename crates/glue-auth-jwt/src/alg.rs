//! The signature algorithms a key or an issuer may accept.

use std::fmt;
use std::str::FromStr;

/// An asymmetric JWS signature algorithm (RFC 7518 §3, RFC 8037).
///
/// `none` and the HMAC algorithms (`HS*`) do not exist here on purpose: a
/// public key set can never accept them.
///
/// ```
/// use glue_auth_jwt::Algorithm;
///
/// assert_eq!("PS256".parse::<Algorithm>(), Ok(Algorithm::PS256));
/// assert!("none".parse::<Algorithm>().is_err());
/// assert!("HS256".parse::<Algorithm>().is_err());
/// assert_eq!(Algorithm::EdDSA.as_str(), "EdDSA");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (Glue's and Spryker's only algorithm).
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

/// How many algorithms [`Algorithm`] has (`alg as usize` is below it).
pub(crate) const COUNT: usize = ALL.len();

const ALL: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

impl Algorithm {
    /// The JOSE name (`"RS256"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    pub(crate) fn from_jwt(alg: jsonwebtoken::Algorithm) -> Option<Self> {
        use jsonwebtoken::Algorithm as J;
        Some(match alg {
            J::RS256 => Algorithm::RS256,
            J::RS384 => Algorithm::RS384,
            J::RS512 => Algorithm::RS512,
            J::PS256 => Algorithm::PS256,
            J::PS384 => Algorithm::PS384,
            J::PS512 => Algorithm::PS512,
            J::ES256 => Algorithm::ES256,
            J::ES384 => Algorithm::ES384,
            J::EdDSA => Algorithm::EdDSA,
            _ => return None,
        })
    }

    /// jsonwebtoken's name for it (the reference verification in tests).
    #[cfg(test)]
    pub(crate) fn to_jwt(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as J;
        match self {
            Algorithm::RS256 => J::RS256,
            Algorithm::RS384 => J::RS384,
            Algorithm::RS512 => J::RS512,
            Algorithm::PS256 => J::PS256,
            Algorithm::PS384 => J::PS384,
            Algorithm::PS512 => J::PS512,
            Algorithm::ES256 => J::ES256,
            Algorithm::ES384 => J::ES384,
            Algorithm::EdDSA => J::EdDSA,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An algorithm name that is not one of [`Algorithm`]'s (`none`, `HS256`,
/// a typo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAlgorithm(pub String);

impl fmt::Display for UnknownAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not an accepted signature algorithm (RS256/384/512, PS256/384/512, ES256, ES384, EdDSA)",
            self.0
        )
    }
}

impl std::error::Error for UnknownAlgorithm {}

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL.into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAlgorithm(s.to_owned()))
    }
}

/// A set of [`Algorithm`]s: what a key or an issuer accepts. A bit set;
/// `Copy`.
///
/// ```
/// use glue_auth_jwt::{Algorithm, Algorithms};
///
/// let rsa = Algorithms::RSA;
/// assert!(rsa.contains(Algorithm::PS512));
/// let glue = Algorithms::from_iter([Algorithm::RS256]);
/// assert_eq!(rsa.intersect(glue), glue);
/// assert!(!glue.contains(Algorithm::ES256));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Algorithms(u16);

impl Algorithms {
    /// No algorithm.
    pub const NONE: Algorithms = Algorithms(0);
    /// RS256 only: Glue's tokens.
    pub const GLUE: Algorithms = Algorithms(1 << (Algorithm::RS256 as u16));
    /// Every RSA algorithm (RS256/384/512, PS256/384/512).
    pub const RSA: Algorithms = Algorithms(0b11_1111);
    /// ES256 only (P-256 keys).
    pub const P256: Algorithms = Algorithms(1 << (Algorithm::ES256 as u16));
    /// ES384 only (P-384 keys).
    pub const P384: Algorithms = Algorithms(1 << (Algorithm::ES384 as u16));
    /// EdDSA only (Ed25519 keys).
    pub const ED25519: Algorithms = Algorithms(1 << (Algorithm::EdDSA as u16));
    /// Every algorithm of [`Algorithm`].
    pub const ALL: Algorithms = Algorithms(0b1_1111_1111);

    /// Whether `alg` is in the set.
    pub fn contains(self, alg: Algorithm) -> bool {
        self.0 & alg.bit() != 0
    }

    /// The algorithms in both sets.
    pub fn intersect(self, other: Algorithms) -> Algorithms {
        Algorithms(self.0 & other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The algorithms, in [`Algorithm`]'s order.
    pub fn iter(self) -> impl Iterator<Item = Algorithm> {
        ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

impl FromIterator<Algorithm> for Algorithms {
    fn from_iter<I: IntoIterator<Item = Algorithm>>(iter: I) -> Self {
        Algorithms(iter.into_iter().fold(0, |acc, a| acc | a.bit()))
    }
}

impl fmt::Debug for Algorithms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sets_are_bits() {
        for a in ALL {
            assert_eq!(a.as_str().parse::<Algorithm>(), Ok(a));
            assert_eq!(Algorithm::from_jwt(a.to_jwt()), Some(a));
        }
        assert_eq!(Algorithms::RSA.iter().count(), 6);
        assert!(Algorithms::RSA.intersect(Algorithms::P256).is_empty());
        assert_eq!(Algorithm::from_jwt(jsonwebtoken::Algorithm::HS256), None);
        for bad in ["none", "None", "HS256", "rs256", ""] {
            assert!(bad.parse::<Algorithm>().is_err(), "{bad}");
        }
    }
}
