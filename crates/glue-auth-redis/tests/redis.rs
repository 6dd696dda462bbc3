//! The throttle's semantics on a real Redis, with two throttles (two
//! "instances") sharing it: every rule of the in-process counters holds
//! across them. Skipped with a notice without `GLUE_TEST_REDIS_URL`.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use glue_auth_redis::RedisThrottle;
use glue_auth_token::store::{PasswordHash, UserRecord, UserStatus};
use glue_auth_token::{
    HashingSettings, LoginThrottle, MemoryDirectory, SigningKey, ThrottleSettings, TokenServer,
};
use http::Request;
use http_body_util::{BodyExt, Full};
use redis::AsyncCommands;
use tower::ServiceExt;

macro_rules! redis_or_skip {
    ($name:literal) => {
        match server_url($name) {
            Some(url) => url,
            None => return,
        }
    };
}

#[tokio::test]
async fn sliding_window_per_username_across_two_instances() {
    let url = redis_or_skip!("sliding_window_per_username_across_two_instances");
    let p = prefix("window");
    let a = connected(&url, &p, ThrottleSettings::default()).await;
    let b = connected(&url, &p, ThrottleSettings::default()).await;
    let sonia = user("Sonia@spryker.com");
    for i in 0..5 {
        let t = if i % 2 == 0 { &a } else { &b };
        t.reserve(sonia, at(i * 10))
            .await
            .unwrap()
            .fail(at(i * 10))
            .await;
    }
    // Fifth failure at t=40; the first (t=0) leaves the window at t=300.
    for t in [&a, &b] {
        let case = user("sonia@SPRYKER.com");
        assert_eq!(
            t.reserve(case, at(41)).await.unwrap_err().retry_after_secs,
            259
        );
        assert_eq!(
            t.reserve(sonia, at(299))
                .await
                .unwrap_err()
                .retry_after_secs,
            1
        );
    }
    b.reserve(sonia, at(300)).await.unwrap().fail(at(300)).await;
    assert_eq!(
        a.reserve(sonia, at(301))
            .await
            .unwrap_err()
            .retry_after_secs,
        9
    );
    assert!(a.reserve(user("other"), at(301)).await.is_ok());
    assert_eq!((a.stats().fallbacks, b.stats().fallbacks), (0, 0));
}

#[tokio::test]
async fn attempts_in_flight_hold_places_until_decided_or_dropped() {
    let url = redis_or_skip!("attempts_in_flight_hold_places_until_decided_or_dropped");
    let p = prefix("holds");
    let two = ThrottleSettings {
        per_username: 2,
        ..ThrottleSettings::default()
    };
    let a = connected(&url, &p, two).await;
    let b = connected(&url, &p, two).await;
    let x = user("x");
    let first = a.reserve(x, at(0)).await.unwrap();
    let second = b.reserve(x, at(0)).await.unwrap();
    assert_eq!(a.reserve(x, at(0)).await.unwrap_err().retry_after_secs, 1);
    // Dropped undecided (a cancelled request): the place is freed in the
    // background.
    drop(first);
    assert!(
        eventually(Duration::from_secs(5), || async {
            match b.reserve(x, at(1)).await {
                Ok(r) => {
                    r.fail(at(1)).await;
                    true
                }
                Err(_) => false,
            }
        })
        .await,
        "the dropped reservation's place was not released"
    );
    second.fail(at(1)).await;
    assert_eq!(a.reserve(x, at(3)).await.unwrap_err().retry_after_secs, 298);

    // A success clears the username's failures, not the places held.
    let p = prefix("success");
    let three = ThrottleSettings {
        per_username: 3,
        ..ThrottleSettings::default()
    };
    let a = connected(&url, &p, three).await;
    let b = connected(&url, &p, three).await;
    a.reserve(x, at(0)).await.unwrap().fail(at(0)).await;
    let ok = b.reserve(x, at(1)).await.unwrap();
    let other = a.reserve(x, at(1)).await.unwrap();
    assert!(b.reserve(x, at(1)).await.is_err());
    ok.succeed().await;
    let d = a.reserve(x, at(2)).await.unwrap();
    let e = b.reserve(x, at(2)).await.unwrap();
    assert!(a.reserve(x, at(2)).await.is_err());
    d.fail(at(2)).await;
    e.fail(at(2)).await;
    other.fail(at(2)).await;
    assert_eq!(b.reserve(x, at(3)).await.unwrap_err().retry_after_secs, 299);
}

#[tokio::test]
async fn a_hold_of_a_dead_process_lapses() {
    let url = redis_or_skip!("a_hold_of_a_dead_process_lapses");
    let p = prefix("lapse");
    let one = ThrottleSettings {
        per_username: 1,
        ..ThrottleSettings::default()
    };
    let a = RedisThrottle::builder(&url)
        .key_prefix(&p)
        .settings(one)
        .hold(Duration::from_secs(10))
        .build()
        .unwrap();
    a.connect().await.unwrap();
    let held = a.reserve(user("x"), at(0)).await.unwrap();
    // The process dies: no release ever runs.
    std::mem::forget(held);
    let b = connected(&url, &p, one).await;
    assert!(b.reserve(user("x"), at(9)).await.is_err());
    assert!(b.reserve(user("x"), at(10)).await.is_ok());
}

#[tokio::test]
async fn per_address_and_disabled_counters() {
    let url = redis_or_skip!("per_address_and_disabled_counters");
    let p = prefix("address");
    let s = ThrottleSettings {
        per_username: 0,
        per_address: 2,
        ..ThrottleSettings::default()
    };
    let a = connected(&url, &p, s).await;
    let b = connected(&url, &p, s).await;
    let ip = "192.0.2.7";
    a.reserve(both("x", ip), at(0))
        .await
        .unwrap()
        .fail(at(0))
        .await;
    // Admitted, then decided (a dropped reservation is released in the
    // background: not yet, maybe, at the next line).
    b.reserve(both("x", ip), at(0))
        .await
        .unwrap()
        .succeed()
        .await;
    b.reserve(both("y", ip), at(1))
        .await
        .unwrap()
        .fail(at(1))
        .await;
    let keys = glue_auth_token::AttemptKeys {
        user: None,
        address: Some(ip.parse().unwrap()),
    };
    assert_eq!(
        a.reserve(keys, at(1)).await.unwrap_err().retry_after_secs,
        299
    );
    // The username counter is off; another address is free; IPv6 too.
    assert!(a.reserve(user("x"), at(1)).await.is_ok());
    assert!(a.reserve(both("x", "2001:db8::1"), at(1)).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_attempts_on_two_instances_cannot_overshoot_the_limit() {
    let url = redis_or_skip!("concurrent_attempts_on_two_instances_cannot_overshoot");
    let p = prefix("concurrent");
    let a = connected(&url, &p, ThrottleSettings::default()).await;
    let b = connected(&url, &p, ThrottleSettings::default()).await;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let t = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { t.reserve(user("sonia"), at(0)).await })
        })
        .collect();
    let mut admitted = Vec::new();
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => admitted.push(r),
            Err(w) => {
                assert_eq!(w.retry_after_secs, 1);
                refused += 1;
            }
        }
    }
    assert_eq!((admitted.len(), refused), (5, 35));
    for r in admitted {
        r.fail(at(1)).await;
    }
    assert_eq!(
        b.reserve(user("sonia"), at(2))
            .await
            .unwrap_err()
            .retry_after_secs,
        299
    );
}

#[tokio::test]
async fn keys_are_bounded_hashed_and_expire() {
    let url = redis_or_skip!("keys_are_bounded_hashed_and_expire");
    let p = prefix("keys");
    let t = connected(&url, &p, ThrottleSettings::default()).await;
    let name = "ann.keys@example.com";
    for i in 0..50 {
        // Failures far apart: each attempt is admitted.
        let now = at(i * 400);
        t.reserve(both(name, "198.51.100.9"), now)
            .await
            .unwrap()
            .fail(now)
            .await;
    }
    let mut conn = raw(&url).await;
    let keys: Vec<String> = conn.keys(format!("{p}*")).await.unwrap();
    assert!(!keys.is_empty());
    for k in &keys {
        assert!(!k.contains("ann"), "{k}");
        let ttl: i64 = conn.pttl(k).await.unwrap();
        assert!(ttl > 0 && ttl <= 300_000, "{k}: {ttl}");
        let members: i64 = conn.zcard(k).await.unwrap();
        assert!(members <= 20, "{k}: {members}");
    }
    let hashed = glue_auth_token::UserKey::of(name).to_hex();
    assert!(keys.iter().any(|k| k.contains(&hashed)), "{keys:?}");
}

const PASSWORD: &str = "change123";

fn server(url: &str, prefix: &str, users: MemoryDirectory) -> TokenServer {
    TokenServer::builder(SigningKey::generate().unwrap(), users.clone(), users)
        .hashing(HashingSettings {
            password_cost: 4,
            ..HashingSettings::default()
        })
        .login_throttle(throttle(url, prefix, ThrottleSettings::default()))
        .build()
        .unwrap()
}

async fn login(server: &TokenServer, password: &str) -> (u16, Option<String>, Bytes) {
    let req = Request::post("/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(format!(
            "grant_type=password&username=ann%40example.com&password={password}"
        ))))
        .unwrap();
    let res = server.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        retry,
        res.into_body().collect().await.unwrap().to_bytes(),
    )
}

/// Two token servers (two instances) on one Redis: five wrong passwords
/// spread over both, then both answer 429 even for the right password.
#[tokio::test]
async fn two_token_servers_share_the_count() {
    let url = redis_or_skip!("two_token_servers_share_the_count");
    let p = prefix("servers");
    let users = MemoryDirectory::demo();
    users.insert_user(UserRecord {
        id_user: 5,
        uuid: "5e1fa1d8-2d0a-4a8e-9c6b-2f9e6f6c0a11".into(),
        username: "ann@example.com".into(),
        password_hash: PasswordHash::new(bcrypt::hash(PASSWORD, 4).unwrap()),
        status: UserStatus::Active,
        is_warehouse_user: false,
        user_reference: None,
    });
    let (a, b) = (server(&url, &p, users.clone()), server(&url, &p, users));
    // A success on one clears the count for both.
    for s in [&a, &b, &a, &b] {
        assert_eq!(login(s, "wrong").await.0, 400);
    }
    assert_eq!(login(&b, PASSWORD).await.0, 200);
    for i in 0..5 {
        let s = if i % 2 == 0 { &a } else { &b };
        assert_eq!(login(s, "wrong").await.0, 400);
    }
    for s in [&a, &b] {
        let (status, retry, body) = login(s, PASSWORD).await;
        assert_eq!(status, 429, "{body:?}");
        let retry: u32 = retry.unwrap().parse().unwrap();
        assert!((295..=300).contains(&retry), "{retry}");
    }
}
