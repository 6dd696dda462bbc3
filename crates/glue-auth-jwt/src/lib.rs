//! RS256 keys for Spryker Glue Backend API access tokens: reading them,
//! signing with them, verifying against them.
//!
//! The one crate of the workspace that does cryptography (aws-lc, through
//! `jsonwebtoken` for verification), shared by the bearer layer
//! (`glue-auth-bearer`, which verifies) and the token endpoint
//! (`glue-auth-token`, which signs). The vocabulary (`Claims`, `Principal`,
//! dates) lives in `glue-auth-core`, which has no crypto dependency.
//!
//! - [`PublicKey`] and [`KeySet`]: public keys (RSA, P-256, P-384, Ed25519;
//!   SPKI or PKCS#1 PEM, or JWK components) with optional `kid` and their
//!   own [`Algorithms`]; the set is swappable at run time and read without
//!   locks, and selects **one** key per token by `kid` (see [`KeySet`]).
//!   [`KeySet::verify`] checks a Glue token: RS256 only, no `crit`, the
//!   signature, Spryker's payload format; [`KeySet::verify_payload`] checks
//!   any token against an algorithm allowlist.
//! - [`parse_jwks`] and [`parse_key_file`]: JWK Sets and key files read as
//!   untrusted input (size and key-count limits; hostile sets refused whole).
//! - [`SigningKey`]: an RSA private key (PKCS#1 or PKCS#8 PEM) that signs
//!   tokens byte for byte as Spryker's lcobucci/jwt does; [`Signer`]: the key
//!   in use, swappable at run time.
//! - [`jwks_json`] and [`PublicKey::thumbprint`]: the JWK Set document.
//!
//! No `jsonwebtoken` or `aws-lc-rs` type appears in the public API.
//!
//! ```
//! use std::time::Duration;
//!
//! use glue_auth_core::{Claims, NumericDate, Principal, Scopes, WarehousePrincipal};
//! use glue_auth_jwt::{SigningKey, TokenError};
//!
//! let key = SigningKey::generate().unwrap();
//! let claims = Claims::builder(
//!     Principal::Warehouse(WarehousePrincipal::new(1)),
//!     Scopes::from_iter(["warehouse"]),
//! )
//! .issued_at(NumericDate::from_secs(1_699_347_834), Duration::from_secs(604_800))
//! .build();
//! let token = key.sign(&claims).unwrap();
//!
//! // Allowed: verified against the public half.
//! let keys = key.key_set();
//! let (verified, _generation) = keys.verify(&token).unwrap();
//! assert_eq!(verified, claims);
//!
//! // Refused: another key's signature.
//! let other = SigningKey::generate().unwrap().key_set();
//! assert!(matches!(other.verify(&token), Err(TokenError::Invalid(_))));
//! ```

#![forbid(unsafe_code)]

// The README's example, compiled and run as a doc test (crates.io shows the
// README, so it must stay true).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod alg;
mod der;
mod jwk;
mod jwks;
mod keys;
mod signing;
mod verify;

pub use alg::{Algorithm, Algorithms, UnknownAlgorithm};
pub use jwk::jwks_json;
pub use jwks::{JwksError, JwksLimits, ParsedKeys, parse_jwks, parse_key_file};
pub use keys::{KeyError, KeySet, KeyType, MIN_RSA_BITS, PublicKey, WeakKeySet};
pub use signing::{SignError, Signer, SigningKey};
pub use verify::{TokenError, peek_issuer};
