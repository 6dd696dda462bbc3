//! bcrypt never runs on the runtime's worker threads: while 50 logins hash,
//! a current-thread runtime keeps serving other work.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use glue_auth_token::store::PasswordHash;

#[test]
fn runtime_keeps_serving_while_50_logins_hash() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // Cost 10, as in production, so the hashing clearly dominates. The
        // username counter is off: it admits only 5 concurrent logins of one
        // username, and 25 of sonia's run at once here.
        let s = setup_with(|b| {
            b.hashing(HashingSettings {
                password_cost: 10,
                max_queued: 64,
                ..HashingSettings::default()
            })
            .throttle(glue_auth_token::ThrottleSettings {
                per_username: 0,
                ..Default::default()
            })
        });
        let mut sonia = s.dir.user(SONIA).unwrap();
        sonia.password_hash = PasswordHash::new(bcrypt::hash(PASSWORD, 10).unwrap());
        s.dir.insert_user(sonia);

        // One verification, timed on this thread: what a tick would wait if
        // bcrypt ran on the runtime's only thread.
        let hash = s.dir.user(SONIA).unwrap().password_hash;
        let t = Instant::now();
        assert!(bcrypt::verify(PASSWORD, hash.expose()).unwrap());
        let one_verification = t.elapsed();

        let ticks = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let ticker = {
            let ticks = Arc::clone(&ticks);
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                let mut gaps = Vec::new();
                let mut last = Instant::now();
                while !done.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    let now = Instant::now();
                    gaps.push(now - last);
                    last = now;
                    ticks.fetch_add(1, Ordering::SeqCst);
                }
                gaps.sort();
                gaps
            })
        };

        let started = Instant::now();
        let logins: Vec<_> = (0..50)
            .map(|i| {
                let server = s.server.clone();
                tokio::spawn(async move {
                    // Half right, half wrong: both paths hash once.
                    let pw = if i % 2 == 0 { PASSWORD } else { "wrong" };
                    let user = if i % 2 == 0 {
                        SONIA.to_owned()
                    } else {
                        format!("u{i}@x")
                    };
                    login(&server, &user, pw).await.status.as_u16()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for l in logins {
            statuses.push(l.await.unwrap());
        }
        let elapsed = started.elapsed();
        done.store(true, Ordering::SeqCst);
        let gaps = ticker.await.unwrap();
        let median_gap = gaps[gaps.len() / 2];
        let max_gap = gaps[gaps.len() - 1];
        let ticks = ticks.load(Ordering::SeqCst);

        assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 25);
        assert_eq!(statuses.iter().filter(|&&s| s == 400).count(), 25);
        eprintln!(
            "50 logins in {elapsed:?}; one verification {one_verification:?}; \
             ticker ran {ticks} times, median gap {median_gap:?}, longest {max_gap:?}"
        );
        // The logins took a while (50 cost-10 verifications on a bounded pool)…
        assert!(elapsed > Duration::from_millis(100), "{elapsed:?}");
        // …and the only runtime thread kept ticking all along. Had bcrypt run
        // on it, the ticker would get at most about one tick per verification
        // (≤ ~50 ticks), each after a gap of a whole verification. Both bounds
        // below leave wide room for a loaded machine (the longest gap is only
        // printed: one scheduler hiccup on a busy CI host says nothing).
        assert!(ticks > 150, "{ticks} ticks in {elapsed:?}");
        assert!(
            median_gap < one_verification / 2,
            "median gap {median_gap:?}, one verification {one_verification:?}"
        );
    });
}
