//! Property tests of refresh-token rotation (proptest; 256 cases each unless
//! `PROPTEST_CASES` says otherwise): `MemoryRefreshTokens` driven by random
//! sequences of logins (insert), rotations, family revocations, look-ups and
//! clock moves.
//!
//! - Against an exact model (a store too large to evict): every answer is the
//!   model's, and no family ever has two unrevoked tokens ("live heads").
//! - In a small store that evicts: every rotation answers what a look-up just
//!   before it predicts, the store never holds more than its capacity, and
//!   still no family has two unrevoked tokens.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use glue_auth_core::{Clock, ManualClock, NumericDate, Principal, Scopes, WarehousePrincipal};
use glue_auth_token::MemoryRefreshTokens;
use glue_auth_token::store::{
    RefreshFamily, RefreshTokenHash, RefreshTokenRecord, RefreshTokens, Rotation, StoreError,
};
use proptest::prelude::*;

/// Memory stores answer at once.
fn now<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("memory stores are always ready"),
    }
}

#[derive(Debug, Clone)]
enum Cmd {
    /// A login: a new family with one token living this many seconds.
    Login(u32),
    /// Present token `n` (of those issued so far) for rotation.
    Rotate(usize),
    /// Present token `n` with a successor of another family (a bug in the
    /// caller): refused, nothing changes.
    RotateIntoOtherFamily(usize),
    /// Revoke the family of token `n` (what the endpoint does on reuse).
    RevokeFamily(usize),
    /// Look token `n` up.
    Find(usize),
    /// Move the clock forward by this many seconds.
    Advance(u32),
}

fn cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        3 => (1u32..1_000).prop_map(Cmd::Login),
        6 => any::<usize>().prop_map(Cmd::Rotate),
        1 => any::<usize>().prop_map(Cmd::RotateIntoOtherFamily),
        1 => any::<usize>().prop_map(Cmd::RevokeFamily),
        2 => any::<usize>().prop_map(Cmd::Find),
        2 => (0u32..400).prop_map(Cmd::Advance),
    ]
}

struct Harness {
    clock: ManualClock,
    store: MemoryRefreshTokens,
    /// Every token issued so far, in order (the commands pick from it).
    issued: Vec<RefreshTokenHash>,
    counter: u64,
}

impl Harness {
    fn new(capacity: usize) -> Self {
        let clock = ManualClock::new(NumericDate::from_secs(1_764_000_000));
        Harness {
            store: MemoryRefreshTokens::with_clock(capacity, clock.clone()),
            clock,
            issued: Vec::new(),
            counter: 0,
        }
    }

    fn record(&mut self, family: RefreshFamily, expires_at: NumericDate) -> RefreshTokenRecord {
        self.counter += 1;
        let hash = RefreshTokenHash::of(&format!("refresh-token-{}", self.counter));
        RefreshTokenRecord {
            hash,
            family,
            principal: Principal::Warehouse(WarehousePrincipal::new(1)),
            scopes: Scopes::from_iter(["warehouse"]),
            client_id: "frontend".into(),
            expires_at,
            revoked_at: None,
        }
    }

    fn pick(&self, n: usize) -> Option<RefreshTokenHash> {
        (!self.issued.is_empty()).then(|| self.issued[n % self.issued.len()])
    }

    fn find(&self, hash: RefreshTokenHash) -> Option<RefreshTokenRecord> {
        now(self.store.find(hash)).unwrap()
    }

    /// Every stored token of the issued ones, by family: at most one
    /// unrevoked.
    fn assert_one_head_per_family(&self) -> Result<(), TestCaseError> {
        let mut heads: HashMap<RefreshFamily, usize> = HashMap::new();
        for &h in &self.issued {
            if let Some(r) = self.find(h)
                && r.revoked_at.is_none()
            {
                *heads.entry(r.family).or_default() += 1;
            }
        }
        for (family, n) in heads {
            prop_assert!(n <= 1, "{family:?} has {n} live heads");
        }
        Ok(())
    }
}

/// What the model knows of one token.
#[derive(Debug, Clone)]
struct Model {
    family: RefreshFamily,
    expires_at: NumericDate,
    revoked_at: Option<NumericDate>,
}

proptest! {
    #[test]
    fn rotation_matches_the_model_and_keeps_one_head_per_family(
        cmds in proptest::collection::vec(cmd(), 1..60),
    ) {
        let mut h = Harness::new(1_000_000);
        let mut model: HashMap<RefreshTokenHash, Model> = HashMap::new();
        for cmd in cmds {
            let t = h.clock.now();
            match cmd {
                Cmd::Login(ttl) => {
                    let r = h.record(RefreshFamily::random(), t.saturating_add(Duration::from_secs(ttl.into())));
                    model.insert(r.hash, Model { family: r.family, expires_at: r.expires_at, revoked_at: None });
                    h.issued.push(r.hash);
                    now(h.store.insert(r)).unwrap();
                }
                Cmd::Rotate(n) => {
                    let Some(used) = h.pick(n) else { continue };
                    let m = model[&used].clone();
                    // Rotation never extends the chain: the successor keeps its expiry.
                    let next = h.record(m.family, m.expires_at);
                    let expected = if m.revoked_at.is_some() {
                        Rotation::Reused
                    } else if m.expires_at <= t {
                        Rotation::Expired
                    } else {
                        Rotation::Rotated
                    };
                    let got = now(h.store.rotate(used, next.clone(), t)).unwrap();
                    prop_assert_eq!(&got, &expected);
                    if got == Rotation::Rotated {
                        model.get_mut(&used).unwrap().revoked_at = Some(t);
                        model.insert(next.hash, Model { family: m.family, expires_at: m.expires_at, revoked_at: None });
                        h.issued.push(next.hash);
                    }
                }
                Cmd::RotateIntoOtherFamily(n) => {
                    let Some(used) = h.pick(n) else { continue };
                    let m = model[&used].clone();
                    let next = h.record(RefreshFamily::random(), m.expires_at);
                    let got = now(h.store.rotate(used, next, t));
                    if m.revoked_at.is_none() && m.expires_at > t {
                        prop_assert!(matches!(got, Err(StoreError::Inconsistent(_))), "{:?}", got);
                    } else {
                        prop_assert!(got.is_ok(), "{:?}", got);
                    }
                }
                Cmd::RevokeFamily(n) => {
                    let Some(token) = h.pick(n) else { continue };
                    let family = model[&token].family;
                    let mut expected = 0;
                    for m in model.values_mut() {
                        if m.family == family && m.revoked_at.is_none() {
                            m.revoked_at = Some(t);
                            expected += 1;
                        }
                    }
                    prop_assert_eq!(now(h.store.revoke_family(family, t)).unwrap(), expected);
                }
                Cmd::Find(n) => {
                    let Some(token) = h.pick(n) else { continue };
                    let r = h.find(token).expect("nothing is evicted from a large store");
                    let m = &model[&token];
                    prop_assert_eq!((r.family, r.expires_at, r.revoked_at), (m.family, m.expires_at, m.revoked_at));
                }
                Cmd::Advance(s) => h.clock.advance(Duration::from_secs(s.into())),
            }
            prop_assert_eq!(h.store.len(), model.len());
            h.assert_one_head_per_family()?;
        }
        // The whole store agrees with the model at the end.
        for (hash, m) in &model {
            let r = h.find(*hash).unwrap();
            prop_assert_eq!((r.family, r.expires_at, r.revoked_at), (m.family, m.expires_at, m.revoked_at));
        }
    }

    #[test]
    fn a_small_evicting_store_keeps_one_head_per_family(
        capacity in 1usize..6,
        cmds in proptest::collection::vec(cmd(), 1..80),
    ) {
        let mut h = Harness::new(capacity);
        for cmd in cmds {
            let t = h.clock.now();
            match cmd {
                Cmd::Login(ttl) => {
                    let r = h.record(RefreshFamily::random(), t.saturating_add(Duration::from_secs(ttl.into())));
                    h.issued.push(r.hash);
                    now(h.store.insert(r)).unwrap();
                }
                Cmd::Rotate(n) | Cmd::RotateIntoOtherFamily(n) => {
                    let Some(used) = h.pick(n) else { continue };
                    let before = h.find(used);
                    let other = matches!(cmd, Cmd::RotateIntoOtherFamily(_));
                    let (family, expires_at) = match &before {
                        Some(r) if !other => (r.family, r.expires_at),
                        Some(r) => (RefreshFamily::random(), r.expires_at),
                        None => (RefreshFamily::random(), t.saturating_add(Duration::from_secs(60))),
                    };
                    let next = h.record(family, expires_at);
                    let got = now(h.store.rotate(used, next.clone(), t));
                    match before {
                        None => prop_assert_eq!(got.unwrap(), Rotation::NotFound),
                        Some(r) if r.revoked_at.is_some() => prop_assert_eq!(got.unwrap(), Rotation::Reused),
                        Some(r) if r.expires_at <= t => prop_assert_eq!(got.unwrap(), Rotation::Expired),
                        Some(_) if other => prop_assert!(matches!(got, Err(StoreError::Inconsistent(_)))),
                        Some(_) => {
                            prop_assert_eq!(got.unwrap(), Rotation::Rotated);
                            // Spent (or already evicted by its own successor's insert: a
                            // revoked token is the first to go from a full store).
                            prop_assert!(h.find(used).is_none_or(|r| r.revoked_at == Some(t)));
                            prop_assert!(h.find(next.hash).is_some(), "the successor is stored");
                            h.issued.push(next.hash);
                        }
                    }
                }
                Cmd::RevokeFamily(n) => {
                    let Some(token) = h.pick(n) else { continue };
                    if let Some(r) = h.find(token) {
                        now(h.store.revoke_family(r.family, t)).unwrap();
                        prop_assert!(h.find(token).unwrap().revoked_at.is_some());
                    }
                }
                Cmd::Find(n) => {
                    if let Some(token) = h.pick(n) {
                        h.find(token);
                    }
                }
                Cmd::Advance(s) => h.clock.advance(Duration::from_secs(s.into())),
            }
            prop_assert!(h.store.len() <= capacity);
            h.assert_one_head_per_family()?;
        }
    }
}
