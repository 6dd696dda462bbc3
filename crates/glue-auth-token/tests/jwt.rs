//! The issued JWTs, byte for byte (SPEC §4), and the signing key.

mod common;

use std::time::Duration;

use common::*;
use glue_auth_bearer::KeySet;
use glue_auth_core::{Claims, NumericDate, Principal, Scopes, UserPrincipal};
use glue_auth_token::KeyError;
use glue_auth_token::SigningKey;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[tokio::test]
async fn decoded_token_pins_header_claim_order_dates_sub_and_jti() {
    let s = setup();
    let a = login(&s.server, SONIA, PASSWORD).await;
    let token = a.json()["access_token"].as_str().unwrap().to_owned();
    let (header, payload) = decode(&token);
    assert_eq!(header, r#"{"typ":"JWT","alg":"RS256"}"#);

    let jti = payload
        .strip_prefix(r#"{"aud":"frontend","jti":""#)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert_eq!(jti.len(), 80);
    assert!(
        jti.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{jti}"
    );
    // Spryker's sample iat 1699347834.4615901 prints in its shortest form.
    assert_eq!(
        payload,
        format!(
            concat!(
                r#"{{"aud":"frontend","jti":"{}","#,
                r#""iat":1699347834.46159,"nbf":1699347834.46159,"exp":1699376634.46159,"#,
                r#""sub":"{{\"user_reference\":null,\"id_user\":4,\"uuid\":\"0d743cc3-a772-5145-971e-d4018ee7a489\"}}","#,
                r#""scopes":["user","back-office-user"]}}"#
            ),
            jti
        )
    );
    // Two logins never share a jti.
    let b = login(&s.server, SONIA, PASSWORD).await;
    let other = b.json()["access_token"].as_str().unwrap().to_owned();
    assert_ne!(decode(&other).1, payload);

    // Whole seconds print as integers.
    s.clock.set(NumericDate::from_secs(1_764_000_000));
    let c = login(&s.server, SONIA, PASSWORD).await;
    let (_, payload) = decode(c.json()["access_token"].as_str().unwrap());
    assert!(
        payload.contains(r#""iat":1764000000,"nbf":1764000000,"exp":1764028800,"#),
        "{payload}"
    );
}

#[tokio::test]
async fn tokens_verify_against_the_fixture_public_key() {
    let s = setup();
    let token = sonia_token(&s.server).await;
    let keys = KeySet::from_pem(&fixture("test-public.pem")).unwrap();
    let (claims, _) = keys.verify(&token).unwrap();
    assert_eq!(claims.principal().as_user().unwrap().id_user(), 4);
    // A key set built from the private key is the same key.
    assert_eq!(
        s.server.signer().current().public_key().modulus(),
        keys.keys()[0].modulus()
    );
}

#[test]
fn pkcs1_and_pkcs8_load_the_same_key() {
    let pkcs8 = SigningKey::from_pem(&fixture("test-private.pem")).unwrap();
    let pkcs1 = SigningKey::from_pem(&data("test-private-pkcs1.pem")).unwrap();
    assert_eq!(pkcs8.bits(), 2048);
    assert_eq!(pkcs1.public_key().modulus(), pkcs8.public_key().modulus());
    assert_eq!(pkcs1.public_key().exponent(), pkcs8.public_key().exponent());
    // RS256 PKCS#1 v1.5 is deterministic: both sign identically.
    let claims = Claims::builder(
        Principal::User(UserPrincipal::new(4, SONIA_UUID, None::<String>)),
        Scopes::from_iter(["user"]),
    )
    .jti("a")
    .audience("frontend")
    .issued_at(NumericDate::from_micros(T0), Duration::from_secs(1))
    .build();
    assert_eq!(pkcs1.sign(&claims).unwrap(), pkcs8.sign(&claims).unwrap());
}

#[test]
fn bad_keys_are_refused() {
    assert_eq!(
        SigningKey::from_pem(&data("short-1024.pem")).unwrap_err(),
        KeyError::TooShort { bits: 1024 }
    );
    assert_eq!(
        SigningKey::from_pem(&fixture("test-public.pem")).unwrap_err(),
        KeyError::NotRsaPem
    );
    assert_eq!(
        SigningKey::from_pem(b"garbage").unwrap_err(),
        KeyError::NotRsaPem
    );
}

#[tokio::test]
async fn kid_only_when_configured() {
    let dir = directory();
    let clock = clock();
    let server = glue_auth_token::TokenServer::builder(key().with_kid("2024-01"), dir.clone(), dir)
        .clock(clock)
        .hashing(cost4())
        .build()
        .unwrap();
    let token = sonia_token(&server).await;
    let (header, _) = decode(&token);
    assert_eq!(header, r#"{"typ":"JWT","alg":"RS256","kid":"2024-01"}"#);
    assert!(server.signer().current().key_set().verify(&token).is_ok());
}

#[test]
fn debug_never_shows_key_material() {
    let k = key();
    let dbg = format!("{k:?}");
    assert!(dbg.contains("2048") && !dbg.contains("MII"), "{dbg}");
}
