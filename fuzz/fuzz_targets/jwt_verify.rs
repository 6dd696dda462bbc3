//! `KeySet::verify` and `Validator::validate` against the fixture key.
//!
//! Input: a token (with the `$` escapes of `glue_auth_fuzz`, so that parts
//! of genuinely signed tokens can be recombined). Checks: no panic; the
//! validator with and without its cache, and the cache's hit path, agree; a
//! validated token verifies to the same claims and is within its dates;
//! `KeySet::verify` (the signature checked with the key parsed once) gives
//! the answer jsonwebtoken's `decode` gives, reason included.
#![no_main]

use std::time::Duration;

use glue_auth_bearer::{DEFAULT_MAX_TOKEN_LEN, TokenError};
use glue_auth_core::{Claims, ClaimsPayload, InvalidReason};
use glue_auth_fuzz::{NOW, PUBLIC_PEM, expand, keys, validator};
use libfuzzer_sys::fuzz_target;

/// What `KeySet::verify` answered when jsonwebtoken checked the signature:
/// RS256 only, the fixture key (a single key without `kid`), no claim
/// checks in jsonwebtoken, then Glue's claims.
fn reference(token: &str) -> Result<Claims, glue_auth_jwt::TokenError> {
    use jsonwebtoken::errors::ErrorKind as K;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let header = jsonwebtoken::decode_header(token).map_err(|_| InvalidReason::Malformed)?;
    if header.alg != Algorithm::RS256 {
        return Err(InvalidReason::Algorithm.into());
    }
    let key = DecodingKey::from_rsa_pem(PUBLIC_PEM).expect("fixture public key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let payload = jsonwebtoken::decode::<ClaimsPayload>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            K::InvalidSignature => InvalidReason::Signature,
            K::InvalidAlgorithm => InvalidReason::Algorithm,
            K::Json(_) => InvalidReason::Claims,
            _ => InvalidReason::Malformed,
        })?
        .claims;
    Ok(Claims::try_from(payload)?)
}

fuzz_target!(|data: &[u8]| {
    let token = expand(data);
    let Ok(token) = std::str::from_utf8(&token) else {
        return;
    };
    let verified = keys().verify(token);
    assert_eq!(
        verified.as_ref().map(|(claims, _)| claims),
        reference(token).as_ref(),
        "jsonwebtoken's decode answers otherwise"
    );
    let uncached = validator(false).validate(token);
    let cached = validator(true).validate(token);
    let hit = validator(true).validate(token);
    assert_eq!(uncached, cached, "cache on and off disagree");
    assert_eq!(cached, hit, "the cache's hit path disagrees");
    if token.len() > DEFAULT_MAX_TOKEN_LEN {
        assert_eq!(uncached, Err(TokenError::Invalid(InvalidReason::Oversized)));
        return;
    }
    match (&verified, &uncached) {
        (Ok((claims, _)), Ok(validated)) => {
            assert_eq!(claims, validated);
            assert_eq!(validated.check_time(NOW, Duration::ZERO), Ok(()));
        }
        (Ok((claims, _)), Err(TokenError::Invalid(reason))) => {
            // Verified but refused: only the dates (zero leeway, no audience
            // list) can refuse it now.
            assert_eq!(claims.check_time(NOW, Duration::ZERO), Err(*reason));
        }
        (Ok(_), Err(TokenError::UnsupportedSubject)) => {
            panic!("verify accepted a subject the validator calls unsupported")
        }
        (Err(e), Ok(_)) => panic!("the validator accepted a token verify refused ({e:?})"),
        (Err(e), Err(f)) => assert_eq!(e, f),
    }
});
