//! Several issuers in one validator: Glue tokens (no `iss`) keep Glue's
//! rules; an OIDC provider's tokens are checked against its own keys,
//! audiences and algorithms, and mapped into our principal and scopes.
//! Key selection by `kid`, never by trying every key.

mod common;

use std::time::Duration;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use common::*;
use glue_auth_bearer::{
    Algorithm, Algorithms, ConfigError, Issuer, KeySet, PublicKey, SubjectMapping, TokenError,
    Validator,
};
use glue_auth_core::{InvalidReason, ManualClock, NumericDate, Principal, WarehousePrincipal};
use jsonwebtoken::EncodingKey;

const IDP: &str = "https://login.example.com/realms/shop";

fn clock() -> ManualClock {
    ManualClock::new(NumericDate::from_micros(NOW))
}

/// A P-256 key pair: (signing key for jsonwebtoken, public key with kid).
fn ec_key(kid: &str) -> (EncodingKey, PublicKey) {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let pkcs8 = pair.to_pkcs8v1().unwrap();
    let point = pair.public_key().as_ref().to_vec();
    let public = PublicKey::from_ec_coordinates(&point[1..33], &point[33..])
        .unwrap()
        .with_kid(kid);
    (EncodingKey::from_ec_der(pkcs8.as_ref()), public)
}

fn idp_payload(extra: &str) -> String {
    format!(
        r#"{{"iss":"{IDP}","sub":"8f14e45f-ceea-467f-a0e6-1d7c7d1e0b6a","aud":["glue-backend","account"],"exp":1764003600,"iat":1764000000,"jti":"abc","scope":"openid user back-office-user"{extra}}}"#
    )
}

fn idp_token(key: &EncodingKey, kid: &str, extra: &str) -> String {
    sign_with(
        &format!(r#"{{"alg":"ES256","typ":"JWT","kid":"{kid}"}}"#),
        &idp_payload(extra),
        key,
        jsonwebtoken::Algorithm::ES256,
    )
}

fn validator(idp_keys: KeySet, mapping: SubjectMapping) -> Validator {
    Validator::builder(test_keys())
        .clock(clock())
        .no_cache()
        .issuer(
            Issuer::new(IDP, idp_keys)
                .audiences(["glue-backend"])
                .algorithms(Algorithms::from_iter([Algorithm::ES256]))
                .subject(mapping),
        )
        .build()
        .unwrap()
}

#[test]
fn glue_and_oidc_tokens_in_one_validator() {
    let (sk, pk) = ec_key("idp-1");
    let v = validator(KeySet::single(pk), SubjectMapping::user("glue_id_user"));

    // Glue: no iss, Glue's key and rules, as before.
    let glue = v.validate(&user_token()).unwrap();
    assert_eq!(glue.issuer(), None);
    assert_eq!(glue.principal().as_user().unwrap().id_user(), 4);

    // The IdP: its key, its audience, `scope` as a space-separated string.
    let c = v
        .validate(&idp_token(&sk, "idp-1", r#","glue_id_user":"4""#))
        .unwrap();
    assert_eq!(c.issuer(), Some(IDP));
    assert_eq!(
        c.external_subject(),
        Some("8f14e45f-ceea-467f-a0e6-1d7c7d1e0b6a")
    );
    let user = c.principal().as_user().unwrap();
    assert_eq!(user.id_user(), 4);
    assert_eq!(user.uuid(), "8f14e45f-ceea-467f-a0e6-1d7c7d1e0b6a");
    assert_eq!(
        c.scopes().iter().collect::<Vec<_>>(),
        ["openid", "user", "back-office-user"]
    );
    assert!(c.scopes().has_back_office_user());
    assert_eq!(
        c.audience().collect::<Vec<_>>(),
        ["glue-backend", "account"]
    );

    // `scp` as an array (Okta) and Glue's `scopes` merge in.
    let c = v
        .validate(&idp_token(
            &sk,
            "idp-1",
            r#","glue_id_user":4,"scp":["picking"],"scopes":["user"]"#,
        ))
        .unwrap();
    assert_eq!(
        c.scopes().iter().collect::<Vec<_>>(),
        ["openid", "user", "back-office-user", "picking"]
    );
}

#[test]
fn each_issuer_keeps_its_own_rules() {
    let (sk, pk) = ec_key("idp-1");
    let v = validator(KeySet::single(pk), SubjectMapping::user("glue_id_user"));
    let invalid = |r| Err(TokenError::Invalid(r));

    // Without the id_user claim: valid, but not a Back Office user (400).
    assert_eq!(
        v.validate(&idp_token(&sk, "idp-1", "")).map(|_| ()),
        Err(TokenError::UnsupportedSubject)
    );
    // Another audience of the same IdP.
    let other_aud = sign_with(
        r#"{"alg":"ES256","kid":"idp-1"}"#,
        &idp_payload(r#","glue_id_user":4"#)
            .replace(r#"["glue-backend","account"]"#, r#""account""#),
        &sk,
        jsonwebtoken::Algorithm::ES256,
    );
    assert_eq!(
        v.validate(&other_aud).map(|_| ()),
        invalid(InvalidReason::Audience)
    );
    // An unknown issuer.
    let other_iss = sign_with(
        r#"{"alg":"ES256","kid":"idp-1"}"#,
        &idp_payload(r#","glue_id_user":4"#).replace(IDP, "https://evil.example"),
        &sk,
        jsonwebtoken::Algorithm::ES256,
    );
    assert_eq!(
        v.validate(&other_iss).map(|_| ()),
        invalid(InvalidReason::Issuer)
    );
    // A Glue key signing an IdP token: RS256 is not on the IdP's allowlist.
    let glue_signed = sign_with(
        r#"{"alg":"RS256","kid":"idp-1"}"#,
        &idp_payload(r#","glue_id_user":4"#),
        &test_signing_key(),
        jsonwebtoken::Algorithm::RS256,
    );
    assert_eq!(
        v.validate(&glue_signed).map(|_| ()),
        invalid(InvalidReason::Algorithm)
    );
    // An unknown kid is looked up, not guessed.
    assert_eq!(
        v.validate(&idp_token(&sk, "idp-2", r#","glue_id_user":4"#))
            .map(|_| ()),
        invalid(InvalidReason::UnknownKey)
    );
    // The IdP's `sub` under the default (Glue) mapping is not a principal.
    let v = Validator::builder(test_keys())
        .clock(clock())
        .issuer(
            Issuer::new(IDP, v.issuers()[0].keys().clone())
                .any_audience()
                .algorithms(Algorithms::from_iter([Algorithm::ES256])),
        )
        .build()
        .unwrap();
    assert_eq!(
        v.validate(&idp_token(&sk, "idp-1", r#","glue_id_user":4"#))
            .map(|_| ()),
        invalid(InvalidReason::Claims)
    );
    // A custom mapping.
    let v = validator(
        v.issuers()[0].keys().clone(),
        SubjectMapping::custom(|c| {
            c.claim_i64("warehouse")
                .map(|id| Principal::Warehouse(WarehousePrincipal::new(id)))
                .ok_or(glue_auth_core::SubjectError::Unsupported)
        }),
    );
    let c = v
        .validate(&idp_token(&sk, "idp-1", r#","warehouse":7"#))
        .unwrap();
    assert_eq!(c.principal().as_warehouse().unwrap().id_warehouse(), 7);
}

#[test]
fn an_issuer_needs_an_audience_decision() {
    let err = Validator::builder(test_keys())
        .issuer(Issuer::new(IDP, KeySet::empty()))
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::IssuerAudience(IDP.into()));
    let err = Validator::builder(test_keys())
        .issuer(Issuer::new(IDP, KeySet::empty()).any_audience())
        .issuer(Issuer::new(IDP, KeySet::empty()).any_audience())
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::DuplicateIssuer(IDP.into()));
    let err = Validator::builder(test_keys())
        .issuer(
            Issuer::new(IDP, KeySet::empty())
                .any_audience()
                .algorithms(Algorithms::NONE),
        )
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::IssuerAlgorithms(IDP.into()));
}

#[test]
fn kid_less_tokens_need_one_key_or_a_marked_one() {
    let (pem, new) = generate_key(aws_lc_rs::rsa::KeySize::Rsa2048);
    let old = PublicKey::from_pem(&test_public_pem()).unwrap();
    let v = |keys: KeySet| {
        Validator::builder(keys)
            .clock(clock())
            .no_cache()
            .build()
            .unwrap()
    };
    // One key: Glue's kid-less tokens, as always.
    assert!(
        v(KeySet::single(old.clone()))
            .validate(&user_token())
            .is_ok()
    );
    // Two keys, none marked: no key is tried at random.
    let two = KeySet::new([new.clone(), old.clone()]).unwrap();
    assert_eq!(
        v(two).validate(&user_token()).unwrap_err(),
        TokenError::Invalid(InvalidReason::UnknownKey)
    );
    // Two keys, the old one marked for kid-less tokens.
    let marked = KeySet::new([new.clone(), old.clone().kidless_default()]).unwrap();
    assert!(v(marked.clone()).validate(&user_token()).is_ok());
    // A kid-less token of the other key is checked against the marked key
    // only: a signature failure, not a second try.
    let new_key = EncodingKey::from_rsa_pem(&pem).unwrap();
    let t = sign_with(
        r#"{"typ":"JWT","alg":"RS256"}"#,
        &serde_json::to_string(&serde_json::json!({"exp": 1764028800, "sub": USER_SUB})).unwrap(),
        &new_key,
        jsonwebtoken::Algorithm::RS256,
    );
    assert_eq!(
        v(marked).validate(&t).unwrap_err(),
        TokenError::Invalid(InvalidReason::Signature)
    );
    // Two marks are refused.
    assert!(KeySet::new([new.kidless_default(), old.clone().kidless_default()]).is_err());
    // A key without kid answers to its thumbprint.
    let t = sign_with(
        &format!(
            r#"{{"typ":"JWT","alg":"RS256","kid":"{}"}}"#,
            old.thumbprint()
        ),
        &serde_json::to_string(&serde_json::json!({"exp": 1764028800, "sub": USER_SUB})).unwrap(),
        &test_signing_key(),
        jsonwebtoken::Algorithm::RS256,
    );
    let (_, other) = generate_key(aws_lc_rs::rsa::KeySize::Rsa2048);
    let keys = KeySet::new([other.with_kid("x"), old]).unwrap();
    assert!(v(keys).validate(&t).is_ok());
    let _ = Duration::ZERO;
}
