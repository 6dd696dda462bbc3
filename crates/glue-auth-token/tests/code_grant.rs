//! `grant_type=authorization_code` (SPEC §2a): every `/token` row of the
//! error table, the 60 s lifetime on a manual clock, codes stored as hashes
//! with their bindings, loopback redirect URIs on any port, plain PKCE, revoked users.

mod common;

use std::time::Duration;

use common::flow::*;
use common::*;
use glue_auth_token::store::{AuthorizationCodeHash, AuthorizationCodes};

#[tokio::test]
async fn exchange_error_table() {
    let s = setup_with(flow);
    let bad_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx";
    let rows: &[(&str, &str, Option<&str>, &str)] = &[
        ("code missing", "code", None, INVALID_REQUEST),
        (
            "unknown code",
            "code",
            Some("0123456789abcdef"),
            INVALID_REQUEST,
        ),
        (
            "another client",
            "client_id",
            Some("backoffice"),
            INVALID_REQUEST,
        ),
        (
            "redirect_uri missing",
            "redirect_uri",
            None,
            INVALID_REQUEST,
        ),
        (
            "another redirect_uri",
            "redirect_uri",
            Some(LOOPBACK),
            INVALID_REQUEST,
        ),
        ("verifier missing", "code_verifier", None, INVALID_REQUEST),
        (
            "verifier too short",
            "code_verifier",
            Some("abc"),
            INVALID_REQUEST,
        ),
        (
            "verifier with =",
            "code_verifier",
            Some(&format!("{VERIFIER}=")),
            INVALID_REQUEST,
        ),
        (
            "verifier does not match",
            "code_verifier",
            Some(bad_verifier),
            INVALID_GRANT,
        ),
        (
            "verifier is the challenge",
            "code_verifier",
            Some(CHALLENGE),
            INVALID_GRANT,
        ),
        (
            "unknown client",
            "client_id",
            Some("nobody"),
            INVALID_CLIENT,
        ),
    ];
    for (what, key, value, body) in rows {
        let c = code(&s).await;
        let a = exchange(&s, &with(exchange_params(&c), key, *value)).await;
        assert_eq!((a.status.as_u16(), a.text()), (400, *body), "{what}");
        assert_eq!(a.header("cache-control"), Some("no-store"), "{what}");
    }
}

#[tokio::test]
async fn a_code_lives_60_seconds_on_the_injected_clock() {
    let s = setup_with(flow);
    let c = code(&s).await;
    s.clock.advance(Duration::from_micros(59_999_999));
    assert_eq!(exchange(&s, &exchange_params(&c)).await.status, 200);
    let c = code(&s).await;
    s.clock.advance(Duration::from_secs(60));
    exchange(&s, &exchange_params(&c))
        .await
        .is(400, INVALID_REQUEST);
}

#[tokio::test]
async fn codes_are_stored_as_hashes_with_their_bindings() {
    let clock = clock();
    let store = Recording::new(&clock);
    let dir = directory();
    let server = flow(builder(&dir, &clock))
        .authorization_codes(store.clone())
        .build()
        .unwrap();
    let s = Setup { server, dir, clock };
    let c = code(&s).await;
    let records = store.inserted.lock().unwrap().clone();
    let [r] = &records[..] else {
        panic!("{records:?}")
    };
    assert_eq!(r.hash, AuthorizationCodeHash::of(&c));
    assert_eq!(
        (r.client_id.as_str(), r.redirect_uri.as_str()),
        ("frontend", REDIRECT)
    );
    assert_eq!(r.challenge, CHALLENGE);
    assert_eq!(
        r.scopes.iter().collect::<Vec<_>>(),
        ["user", "back-office-user"]
    );
    assert!(format!("{r:?}").contains("id_user: 4"), "{r:?}");
    assert_eq!(r.expires_at.as_micros() - T0, 60_000_000);
    let debug = format!("{r:?} {:?}", s.server);
    assert!(!debug.contains(&c) && !debug.contains(&c[..16]) && !debug.contains(CHALLENGE));
    // Spent: gone from the store.
    assert_eq!(exchange(&s, &exchange_params(&c)).await.status, 200);
    assert!(
        store
            .inner
            .take(r.hash, glue_auth_core::Clock::now(&s.clock))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn loopback_redirect_uris_match_on_any_port() {
    let s = setup_with(flow);
    for uri in [
        "http://127.0.0.1:51234/fulfillment/",
        "http://127.0.0.1/fulfillment/",
        "http://127.0.0.1:9/fulfillment/",
    ] {
        let a = authorize(&s, &with(authorize_params(), "redirect_uri", Some(uri))).await;
        assert_eq!(a.status, 200, "{uri}: {}", a.text());
        let c = a.json()[0]["code"].as_str().unwrap().to_owned();
        // The exchange names the URI the code was bound to, port included.
        let other = with(
            exchange_params(&c),
            "redirect_uri",
            Some("http://127.0.0.1:1/fulfillment/"),
        );
        let refused = exchange(&s, &other).await;
        refused.is(400, INVALID_REQUEST);
        let a = authorize(&s, &with(authorize_params(), "redirect_uri", Some(uri))).await;
        let c = a.json()[0]["code"].as_str().unwrap().to_owned();
        let ok = exchange(&s, &with(exchange_params(&c), "redirect_uri", Some(uri))).await;
        assert_eq!(ok.status, 200, "{uri}: {}", ok.text());
    }
    for uri in [
        "http://localhost:51234/fulfillment/",
        "http://127.0.0.1:51234/fulfillment/x",
        "https://127.0.0.1:51234/fulfillment/",
        "https://fulfillment.example:8443/callback",
    ] {
        let a = authorize(&s, &with(authorize_params(), "redirect_uri", Some(uri))).await;
        a.is(400, INVALID_CLIENT);
    }
}

#[tokio::test]
async fn plain_pkce_only_when_allowed() {
    let plain = "a-plain-verifier-that-is-at-least-43-characters-long";
    let params = with(
        with(authorize_params(), "code_challenge_method", Some("plain")),
        "code_challenge",
        Some(plain),
    );
    let s = setup_with(flow);
    authorize(&s, &params).await.is(400, INVALID_REQUEST);
    let s = setup_with(|b| flow(b).plain_pkce(true));
    for params in [
        params.clone(),
        with(params.clone(), "code_challenge_method", None),
    ] {
        let a = authorize(&s, &params).await;
        assert_eq!(a.status, 200, "{}", a.text());
        let c = a.json()[0]["code"].as_str().unwrap().to_owned();
        let ok = exchange(&s, &with(exchange_params(&c), "code_verifier", Some(plain))).await;
        assert_eq!(ok.status, 200, "{}", ok.text());
    }
}

/// `/authorize` checked the user a moment before; a user blocked, deleted or
/// given a new password before the exchange gets no token from the code
/// (`invalid_grant`, as an inactive user at `/authorize`), and the code is
/// spent.
#[tokio::test]
async fn codes_of_blocked_deleted_and_password_changed_users_are_refused() {
    use glue_auth_core::Clock;
    use glue_auth_token::store::UserStatus;
    for status in [UserStatus::Blocked, UserStatus::Deleted] {
        let s = setup_with(flow);
        let c = code(&s).await;
        assert!(s.dir.set_status(SONIA, status));
        exchange(&s, &exchange_params(&c))
            .await
            .is(400, INVALID_GRANT);
        assert!(s.dir.set_status(SONIA, UserStatus::Active));
        exchange(&s, &exchange_params(&c))
            .await
            .is(400, INVALID_REQUEST);
        // Active again: a new code redeems.
        let c = code(&s).await;
        assert_eq!(exchange(&s, &exchange_params(&c)).await.status, 200);
    }

    // A new password after the code was issued.
    let s = setup_with(flow);
    let c = code(&s).await;
    s.clock.advance(Duration::from_secs(1));
    assert!(
        s.dir
            .set_password_hash(SONIA, hash4(PASSWORD), s.clock.now())
    );
    exchange(&s, &exchange_params(&c))
        .await
        .is(400, INVALID_GRANT);
    let c = code(&s).await;
    assert_eq!(exchange(&s, &exchange_params(&c)).await.status, 200);
}
