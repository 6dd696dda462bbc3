//! Enumeration defence: an unknown username costs the same as a wrong password.
//!
//! Statistical test: interleaved rounds of the three paths (wrong password,
//! unknown user, blocked user) through the whole endpoint at bcrypt cost 8.
//! Each round's unknown/blocked time is divided by the same round's
//! wrong-password time, and the median of those paired ratios is compared to
//! 1: load from other processes hits the three samples of a round alike, so
//! the paired ratio is far steadier than independent medians on a busy
//! machine. The order within a round rotates, so no path always goes first.
//! Both paths run exactly one bcrypt verification at the same cost; the
//! tolerance (15 %) is far below what a missing verification (microseconds
//! instead of ~10+ ms) or a dummy hash of another cost (a factor of 2 per
//! cost step) would cause. Benchmarks of the endpoint: docs/benchmarks.md.
//! The same test on a database whose hashes are cost 12 (the dummy taking
//! the stored cost, as the gateway sets it): glue-auth-sql's
//! `tests/password_cost.rs`.

mod common;

use std::time::{Duration, Instant};

use common::flow;
use common::*;
use glue_auth_token::store::{PasswordHash, UserStatus};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Which route the logins go to.
#[derive(Clone, Copy, Debug)]
enum Route {
    Token,
    Authorize,
}

async fn attempt(s: &Setup, route: Route, user: &str) -> Answer {
    match route {
        Route::Token => login(&s.server, user, "wrong-password").await,
        Route::Authorize => {
            let params = flow::with(flow::authorize_params(), "username", Some(user));
            let params = flow::with(params, "password", Some("wrong-password"));
            flow::authorize(s, &params).await
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_costs_the_same_as_a_wrong_password() {
    same_cost_on_every_path(Route::Token).await;
}

/// SPEC §2a: credentials on `/authorize` cost one verification on every path
/// too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_unknown_user_costs_the_same_as_a_wrong_password() {
    same_cost_on_every_path(Route::Authorize).await;
}

async fn same_cost_on_every_path(route: Route) {
    const COST: u32 = 8;
    let s = setup_with(|b| {
        flow::flow(b)
            .hashing(HashingSettings {
                password_cost: COST,
                ..HashingSettings::default()
            })
            .throttle(glue_auth_token::ThrottleSettings {
                per_username: 0,
                per_address: 0,
                ..Default::default()
            })
    });
    let mut sonia = s.dir.user(SONIA).unwrap();
    sonia.password_hash = PasswordHash::new(bcrypt::hash(PASSWORD, COST).unwrap());
    s.dir.insert_user(sonia);
    let mut blocked = user(40, "blocked8@spryker.com", UserStatus::Blocked, false);
    blocked.password_hash = PasswordHash::new(bcrypt::hash(PASSWORD, COST).unwrap());
    s.dir.insert_user(blocked);

    // Warm up.
    for _ in 0..3 {
        attempt(&s, route, SONIA).await;
        attempt(&s, route, "ghost@spryker.com").await;
    }
    let (mut wrong, mut unknown, mut inactive) = (Vec::new(), Vec::new(), Vec::new());
    let (mut unknown_ratio, mut inactive_ratio) = (Vec::new(), Vec::new());
    for i in 0..60 {
        let mut round = [
            (SONIA.to_owned(), Duration::ZERO),
            (format!("ghost{i}@spryker.com"), Duration::ZERO),
            ("blocked8@spryker.com".to_owned(), Duration::ZERO),
        ];
        for k in 0..3 {
            let (user, took) = &mut round[(i + k) % 3];
            let t = Instant::now();
            let a = attempt(&s, route, user).await;
            *took = t.elapsed();
            a.is(400, INVALID_GRANT);
        }
        let [(_, w), (_, u), (_, b)] = round;
        wrong.push(w);
        unknown.push(u);
        inactive.push(b);
        unknown_ratio.push(u.as_secs_f64() / w.as_secs_f64());
        inactive_ratio.push(b.as_secs_f64() / w.as_secs_f64());
    }
    let (w, u, b) = (median(wrong), median(unknown), median(inactive));
    eprintln!("{route:?} medians: wrong password {w:?}, unknown user {u:?}, blocked user {b:?}");
    for (name, mut ratios) in [("unknown", unknown_ratio), ("blocked", inactive_ratio)] {
        ratios.sort_by(f64::total_cmp);
        let ratio = ratios[ratios.len() / 2];
        eprintln!("{route:?} median paired ratio {name}/wrong: {ratio:.3}");
        assert!(
            (0.85..=1.15).contains(&ratio),
            "{name} user / wrong password, median of paired ratios {ratio:.3} (medians {u:?} / {b:?} vs {w:?})"
        );
    }
    // Sanity: the verification dominates (cost 8 is several milliseconds).
    assert!(w > Duration::from_millis(2), "{w:?}");
}
