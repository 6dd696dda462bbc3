//! The refresh grant (setting; off by default): rotation, reuse detection,
//! family revocation, concurrency.

mod common;

use std::time::Duration;

use common::*;
use glue_auth_core::{Claims, Clock};
use glue_auth_token::{MemoryRefreshTokens, TokenServer};
use std::sync::Arc;

const INVALID_REFRESH: &str =
    r#"[{"status":400,"code":"invalid_grant","message":"The refresh token is invalid."}]"#;

fn refresh_body(token: &str) -> String {
    format!("grant_type=refresh_token&refresh_token={token}")
}

async fn use_refresh(server: &TokenServer, token: &str) -> Answer {
    call(server.clone(), form("/token", &refresh_body(token))).await
}

fn tokens(a: &Answer) -> (String, String) {
    let v = a.json();
    (
        v["access_token"].as_str().unwrap().to_owned(),
        v["refresh_token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn off_by_default() {
    let s = setup();
    let a = login(&s.server, SONIA, PASSWORD).await;
    let (_, refresh) = tokens(&a);
    use_refresh(&s.server, &refresh).await.is(
        400,
        r#"[{"status":400,"code":"unsupported_grant_type","message":"Grant type \"refresh_token\" not found"}]"#,
    );
}

#[tokio::test]
async fn rotation_same_principal_and_scopes_and_reuse_revokes_the_family() {
    let s = setup_with(|b| b.refresh_grant(true));
    let a = login(&s.server, "picker@spryker.com", PASSWORD).await;
    let (access0, r0) = tokens(&a);
    s.clock.advance(Duration::from_secs(60));

    let b = use_refresh(&s.server, &r0).await;
    assert_eq!(b.status, 200, "{}", b.text());
    assert_eq!(b.header("cache-control"), Some("no-store"));
    let (access1, r1) = tokens(&b);
    assert_ne!(r1, r0);
    let c0 = Claims::parse_unverified_payload(&decode(&access0).1).unwrap();
    let c1 = Claims::parse_unverified_payload(&decode(&access1).1).unwrap();
    assert_eq!(c1.principal(), c0.principal());
    assert_eq!(c1.scopes(), c0.scopes());
    assert_ne!(c1.jti(), c0.jti());
    assert_eq!(
        c1.issued_at().unwrap().as_micros() - c0.issued_at().unwrap().as_micros(),
        60_000_000
    );

    // r1 rotates again; r0 comes back: the family (r2 included) is revoked.
    let c = use_refresh(&s.server, &r1).await;
    let (_, r2) = tokens(&c);
    use_refresh(&s.server, &r0).await.is(400, INVALID_REFRESH);
    use_refresh(&s.server, &r2).await.is(400, INVALID_REFRESH);
    // Another login starts a new family that still works.
    let d = login(&s.server, SONIA, PASSWORD).await;
    let (_, fresh) = tokens(&d);
    assert_eq!(use_refresh(&s.server, &fresh).await.status, 200);
}

#[tokio::test]
async fn unknown_expired_and_other_client_tokens_are_invalid_grant() {
    let s = setup_with(|b| {
        b.refresh_grant(true)
            .clients(["frontend", "other"])
            .lifetimes(Lifetimes {
                refresh: Duration::from_secs(3600),
                ..Lifetimes::default()
            })
    });
    use_refresh(&s.server, "nope")
        .await
        .is(400, INVALID_REFRESH);
    call(s.server.clone(), form("/token", "grant_type=refresh_token"))
        .await
        .is(400, INVALID_REQUEST);
    let (_, r) = tokens(&login(&s.server, SONIA, PASSWORD).await);
    let body = format!("{}&client_id=other", refresh_body(&r));
    call(s.server.clone(), form("/token", &body))
        .await
        .is(400, INVALID_REFRESH);
    let body = format!("{}&client_id=unknown", refresh_body(&r));
    call(s.server.clone(), form("/token", &body))
        .await
        .is(400, INVALID_CLIENT);
    s.clock.advance(Duration::from_secs(3600));
    use_refresh(&s.server, &r).await.is(400, INVALID_REFRESH);
}

#[tokio::test]
async fn warehouse_refresh_tokens_refresh_warehouse_tokens() {
    let s = setup_with(|b| b.refresh_grant(true));
    let user = sonia_token(&s.server).await;
    let a = call(s.app(), bearer("/warehouse-tokens", &user)).await;
    let r = a.json()[0]["refreshToken"].as_str().unwrap().to_owned();
    let b = use_refresh(&s.server, &r).await;
    assert_eq!(b.status, 200);
    assert_eq!(b.json()["expires_in"], 604800);
    let c = Claims::parse_unverified_payload(&decode(&tokens(&b).0).1).unwrap();
    assert!(c.principal().is_warehouse());
    assert_eq!(c.scopes().iter().collect::<Vec<_>>(), ["warehouse"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_uses_one_winner_family_revoked() {
    let store = Arc::new(MemoryRefreshTokens::new(1000));
    let s = setup_with(|b| b.refresh_grant(true).refresh_tokens(Arc::clone(&store)));
    let (_, r) = tokens(&login(&s.server, SONIA, PASSWORD).await);
    let barrier = Arc::new(tokio::sync::Barrier::new(32));
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let server = s.server.clone();
        let r = r.clone();
        let barrier = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            use_refresh(&server, &r).await
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let a = t.await.unwrap();
        if a.status == 200 {
            winners.push(tokens(&a).1);
        } else {
            a.is(400, INVALID_REFRESH);
        }
    }
    assert_eq!(winners.len(), 1);
    // The losers were replays: the winner's new refresh token is revoked too.
    use_refresh(&s.server, &winners[0])
        .await
        .is(400, INVALID_REFRESH);
    assert_eq!(store.len(), 2);
}

#[tokio::test]
async fn grant_off_issues_refresh_tokens_but_stores_none() {
    let store = Arc::new(MemoryRefreshTokens::new(1000));
    let s = setup_with(|b| b.refresh_tokens(Arc::clone(&store)));
    let a = login(&s.server, SONIA, PASSWORD).await;
    assert_eq!(a.status, 200);
    // Wire compatibility: the answer still carries a refresh token.
    assert!(tokens(&a).1.len() >= 64);
    let user = tokens(&a).0;
    for _ in 0..5 {
        let w = call(s.app(), bearer("/warehouse-tokens", &user)).await;
        assert_eq!(w.status, 201);
        assert!(w.json()[0]["refreshToken"].as_str().unwrap().len() >= 64);
    }
    assert!(store.is_empty(), "{store:?}");
}

#[tokio::test]
async fn full_store_evicts_and_logins_keep_working() {
    let store = Arc::new(MemoryRefreshTokens::new(3));
    let s = setup_with(|b| b.refresh_grant(true).refresh_tokens(Arc::clone(&store)));
    let user = sonia_token(&s.server).await;
    // A user token holder mints far more warehouse tokens than the capacity.
    for _ in 0..20 {
        let w = call(s.app(), bearer("/warehouse-tokens", &user)).await;
        assert_eq!(w.status, 201, "{}", w.text());
    }
    assert_eq!(store.len(), 3);
    // Logins still succeed, and the newest refresh token works.
    for _ in 0..3 {
        assert_eq!(login(&s.server, SONIA, PASSWORD).await.status, 200);
    }
    let (_, r) = tokens(&login(&s.server, SONIA, PASSWORD).await);
    assert_eq!(use_refresh(&s.server, &r).await.status, 200);
    assert_eq!(store.len(), 3);
}

#[tokio::test]
async fn rotation_keeps_the_chains_first_expiry() {
    let s = setup_with(|b| {
        b.refresh_grant(true).lifetimes(Lifetimes {
            refresh: Duration::from_secs(3600),
            ..Lifetimes::default()
        })
    });
    let (_, r0) = tokens(&login(&s.server, SONIA, PASSWORD).await);
    s.clock.advance(Duration::from_secs(3000));
    let a = use_refresh(&s.server, &r0).await;
    assert_eq!(a.status, 200, "{}", a.text());
    let (_, r1) = tokens(&a);
    // 3599 s after the login the chain is still alive…
    s.clock.advance(Duration::from_secs(599));
    let b = use_refresh(&s.server, &r1).await;
    assert_eq!(b.status, 200, "{}", b.text());
    let (_, r2) = tokens(&b);
    // …and at 3600 s it ends, though r2 is only 1 s old.
    s.clock.advance(Duration::from_secs(1));
    use_refresh(&s.server, &r2).await.is(400, INVALID_REFRESH);
}

/// Issue 16: a refresh token stops refreshing once its user is blocked or
/// deleted, or changed password after the chain's login; the family ends
/// with it (an unblocked user logs in again).
#[tokio::test]
async fn blocked_deleted_and_password_changed_users_refresh_tokens_are_refused() {
    use glue_auth_token::store::UserStatus;
    for status in [UserStatus::Blocked, UserStatus::Deleted] {
        let s = setup_with(|b| b.refresh_grant(true));
        let (_, r0) = tokens(&login(&s.server, SONIA, PASSWORD).await);
        let (_, r1) = tokens(&use_refresh(&s.server, &r0).await);
        assert!(s.dir.set_status(SONIA, status));
        use_refresh(&s.server, &r1).await.is(400, INVALID_REFRESH);
        assert!(s.dir.set_status(SONIA, UserStatus::Active));
        // The family was revoked: still refused.
        use_refresh(&s.server, &r1).await.is(400, INVALID_REFRESH);
        let (_, fresh) = tokens(&login(&s.server, SONIA, PASSWORD).await);
        assert_eq!(
            use_refresh(&s.server, &fresh).await.status,
            200,
            "{status:?}"
        );
    }

    let s = setup_with(|b| b.refresh_grant(true));
    let (_, old) = tokens(&login(&s.server, SONIA, PASSWORD).await);
    s.clock.advance(Duration::from_secs(60));
    // Rotated after the login: the chain still started before the change.
    let (_, old) = tokens(&use_refresh(&s.server, &old).await);
    s.clock.advance(Duration::from_secs(60));
    assert!(
        s.dir
            .set_password_hash(SONIA, hash4("a-new-password-1"), s.clock.now())
    );
    s.clock.advance(Duration::from_secs(1));
    use_refresh(&s.server, &old).await.is(400, INVALID_REFRESH);
    let (_, new) = tokens(&login(&s.server, SONIA, "a-new-password-1").await);
    assert_eq!(use_refresh(&s.server, &new).await.status, 200);
}
