//! Operator warnings logged once per server: a stored hash cost that differs
//! from `password_cost`, a request without client address.
//!
//! A global `tracing` subscriber collects `WARN` messages; each test looks
//! only for its own message, so tests in this binary may run in parallel.

mod common;

use std::fmt;
use std::sync::{Mutex, OnceLock};

use common::*;
use glue_auth_token::ClientAddress;
use glue_auth_token::store::PasswordHash;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Collect;

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for Collect {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if *event.metadata().level() == Level::WARN {
            let mut m = Message(String::new());
            event.record(&mut m);
            WARNINGS.lock().unwrap().push(m.0);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn install() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| tracing::subscriber::set_global_default(Collect).unwrap());
}

fn warnings_containing(needle: &str) -> usize {
    WARNINGS
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.contains(needle))
        .count()
}

#[tokio::test]
async fn stored_hash_of_another_cost_warns_once() {
    install();
    const NEEDLE: &str = "another bcrypt cost than `password_cost`";
    // Every request has an address: no other warning of this server.
    let s =
        setup_with(|b| b.client_address(ClientAddress::custom(|_| Some([192, 0, 2, 1].into()))));
    // Cost 4 like the dummy: no warning.
    login(&s.server, SONIA, "wrong")
        .await
        .is(400, INVALID_GRANT);
    login(&s.server, "ghost@spryker.com", "x")
        .await
        .is(400, INVALID_GRANT);
    assert_eq!(warnings_containing(NEEDLE), 0);
    // A cost-5 hash: one warning, however often it is seen.
    let mut sonia = s.dir.user(SONIA).unwrap();
    sonia.password_hash = PasswordHash::new(bcrypt::hash(PASSWORD, 5).unwrap());
    s.dir.insert_user(sonia);
    for _ in 0..3 {
        assert_eq!(login(&s.server, SONIA, PASSWORD).await.status, 200);
    }
    assert_eq!(warnings_containing(NEEDLE), 1);
}

#[tokio::test]
async fn missing_client_address_warns_once_per_server() {
    install();
    const NEEDLE: &str = "no client address in the request";
    let before = warnings_containing(NEEDLE);
    // No address in the extensions (plain hyper, axum without a mapping).
    let s = setup();
    for _ in 0..3 {
        login(&s.server, SONIA, "wrong")
            .await
            .is(400, INVALID_GRANT);
    }
    assert_eq!(login(&s.server, SONIA, PASSWORD).await.status, 200);
    assert_eq!(warnings_containing(NEEDLE), before + 1);
    // Another server warns on its own.
    let other = setup();
    login(&other.server, SONIA, "wrong")
        .await
        .is(400, INVALID_GRANT);
    assert_eq!(warnings_containing(NEEDLE), before + 2);
    // Nothing to say when the per-address counter is off…
    let off = setup_with(|b| {
        b.throttle(glue_auth_token::ThrottleSettings {
            per_address: 0,
            ..Default::default()
        })
    });
    login(&off.server, SONIA, "wrong")
        .await
        .is(400, INVALID_GRANT);
    // …or when the address is there.
    let with = setup();
    let mut req = form("/token", &login_body(SONIA, "wrong"));
    req.extensions_mut()
        .insert("192.0.2.9:1234".parse::<std::net::SocketAddr>().unwrap());
    call(with.server.clone(), req).await.is(400, INVALID_GRANT);
    assert_eq!(warnings_containing(NEEDLE), before + 2);
}
