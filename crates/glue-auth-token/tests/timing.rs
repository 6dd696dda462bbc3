//! Enumeration defence: an unknown username costs the same as a wrong password.
//!
//! Statistical test: interleaved samples of both paths through the whole
//! endpoint at bcrypt cost 8, medians compared. Both run exactly one bcrypt
//! verification at the same cost, so the medians agree within a few percent
//! even on a busy machine; the tolerance (15 %) is far below the gap a missing
//! verification would cause (an unknown user answering in microseconds instead
//! of ~10+ ms). `criterion` numbers for the same paths are in BENCH_NOTES.md.

mod common;

use std::time::{Duration, Instant};

use common::*;
use glue_auth_token::store::{PasswordHash, UserStatus};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_costs_the_same_as_a_wrong_password() {
    const COST: u32 = 8;
    let s = setup_with(|b| {
        b.password_cost(COST)
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
        login(&s.server, SONIA, "wrong").await;
        login(&s.server, "ghost@spryker.com", "wrong").await;
    }
    let (mut wrong, mut unknown, mut inactive) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..40 {
        for (user, out) in [
            (SONIA.to_owned(), &mut wrong),
            (format!("ghost{i}@spryker.com"), &mut unknown),
            ("blocked8@spryker.com".to_owned(), &mut inactive),
        ] {
            let t = Instant::now();
            let a = login(&s.server, &user, "wrong-password").await;
            out.push(t.elapsed());
            assert_eq!(a.status, 400);
        }
    }
    let (w, u, b) = (median(wrong), median(unknown), median(inactive));
    eprintln!("medians: wrong password {w:?}, unknown user {u:?}, blocked user {b:?}");
    for (name, other) in [("unknown", u), ("blocked", b)] {
        let ratio = other.as_secs_f64() / w.as_secs_f64();
        assert!(
            (0.85..=1.15).contains(&ratio),
            "{name} user median {other:?} vs wrong password {w:?} (ratio {ratio:.3})"
        );
    }
    // Sanity: the verification dominates (cost 8 is several milliseconds).
    assert!(w > Duration::from_millis(2), "{w:?}");
}
