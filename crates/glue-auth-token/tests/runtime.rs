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
        // Cost 10, as in production, so the hashing clearly dominates.
        let s = setup_with(|b| b.password_cost(10).max_queued_hashes(64));
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
                let mut max_gap = Duration::ZERO;
                let mut last = Instant::now();
                while !done.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    let now = Instant::now();
                    max_gap = max_gap.max(now - last);
                    last = now;
                    ticks.fetch_add(1, Ordering::SeqCst);
                }
                max_gap
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
        let max_gap = ticker.await.unwrap();
        let ticks = ticks.load(Ordering::SeqCst);

        assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 25);
        assert_eq!(statuses.iter().filter(|&&s| s == 400).count(), 25);
        eprintln!(
            "50 logins in {elapsed:?}; one verification {one_verification:?}; \
             ticker ran {ticks} times, longest gap {max_gap:?}"
        );
        // The logins took a while (50 cost-10 verifications on a bounded pool)…
        assert!(elapsed > Duration::from_millis(100), "{elapsed:?}");
        // …and the only runtime thread kept ticking all along: no tick was
        // held up by a verification (one takes ~50 ms or more).
        let expected = elapsed.as_millis() as u64 / 4;
        assert!(ticks >= expected, "{ticks} ticks in {elapsed:?}");
        assert!(
            max_gap < Duration::from_millis(40),
            "longest gap {max_gap:?}"
        );
    });
}
