//! `KeySet::verify` and `Validator::validate` against the fixture key.
//!
//! Input: a token (with the `$` escapes of `glue_auth_fuzz`, so that parts
//! of genuinely signed tokens can be recombined). Checks: no panic; the
//! validator with and without its cache, and the cache's hit path, agree; a
//! validated token verifies to the same claims and is within its dates.
#![no_main]

use std::time::Duration;

use glue_auth_bearer::{DEFAULT_MAX_TOKEN_LEN, TokenError};
use glue_auth_core::InvalidReason;
use glue_auth_fuzz::{NOW, expand, keys, validator};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let token = expand(data);
    let Ok(token) = std::str::from_utf8(&token) else {
        return;
    };
    let verified = keys().verify(token);
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
