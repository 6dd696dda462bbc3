//! `Validator::authenticate` on arbitrary header maps.
//!
//! Input: header lines (`name: value`, or a bare line = an `Authorization`
//! value) with the `$` token escapes of `glue_auth_fuzz`. Checks: no panic;
//! the answer follows SPEC §5.1 (no header → anonymous; several → 401 001;
//! a success only for one header whose second part validates on its own).
#![no_main]

use glue_auth_core::{InvalidReason, Rejection};
use glue_auth_fuzz::{header_lines, validator};
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for (name, value) in header_lines(data) {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name),
            HeaderValue::from_bytes(&value),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    let v = validator(false);
    let answer = v.authenticate(&headers);
    let values: Vec<&HeaderValue> = headers.get_all(AUTHORIZATION).iter().collect();
    match (&answer, values.as_slice()) {
        (Ok(None), []) => {}
        (Ok(None), _) => panic!("a header was present but the request passed as anonymous"),
        (Ok(Some(claims)), [one]) => {
            // The second whitespace-separated part is the token, and it
            // validates on its own to the same claims.
            let token = one
                .as_bytes()
                .split(u8::is_ascii_whitespace)
                .filter(|p| !p.is_empty())
                .nth(1)
                .expect("a success has a token part");
            let token = std::str::from_utf8(token).expect("a success is ASCII");
            assert_eq!(v.validate(token).as_ref(), Ok(claims));
        }
        (Ok(Some(_)), _) => panic!("a success needs exactly one Authorization header"),
        (
            Err(Rejection::InvalidToken {
                reason: InvalidReason::MultipleHeaders,
            }),
            many,
        ) => {
            assert!(many.len() > 1)
        }
        (Err(_), many) if many.len() > 1 => panic!("several headers must be 401 001"),
        (Err(r), _) => {
            let status = r.glue_error().status().as_u16();
            assert!(matches!(status, 400 | 401), "{r:?} answered {status}");
        }
    }
    // The cached validator gives the same answer.
    assert_eq!(validator(true).authenticate(&headers), answer);
});
