//! Where failed-login counters live: the [`LoginThrottle`] trait, and its
//! in-process implementation [`MemoryThrottle`].
//!
//! The token endpoint asks the throttle once per attempt, before any store
//! look-up or password hash: [`LoginThrottle::reserve`] either refuses
//! ([`Throttled`]: 429 with `Retry-After`) or admits the attempt, which then
//! holds a place in its counters until it is decided:
//!
//! - [`Reservation::fail`] on `invalid_grant`: the place becomes a failure;
//! - [`Reservation::succeed`] on a successful login: the username's failures
//!   are cleared and the places released;
//! - dropped undecided (any other answer, or the request was cancelled): the
//!   places are released.
//!
//! An attempt is refused when counted failures plus attempts in flight reach
//! a limit, so concurrent guesses cannot overshoot it. An implementation
//! shared by several processes (`glue-auth-redis`) keeps exactly these
//! semantics across all of them.
//!
//! ```
//! use std::time::Duration;
//! use glue_auth_core::NumericDate;
//! use glue_auth_token::{AttemptKeys, LoginThrottle, MemoryThrottle, ThrottleSettings, UserKey};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let throttle = MemoryThrottle::new(ThrottleSettings { per_username: 2, ..Default::default() });
//! let keys = AttemptKeys { user: Some(UserKey::of("Ann@example.com")), address: None };
//! let now = NumericDate::from_secs(1_700_000_000);
//! for _ in 0..2 {
//!     let attempt = throttle.reserve(keys, now).await.unwrap();
//!     attempt.fail(now).await; // invalid_grant
//! }
//! // Case variants share the counter.
//! let keys = AttemptKeys { user: Some(UserKey::of("ann@EXAMPLE.com")), address: None };
//! let refused = throttle.reserve(keys, now).await.unwrap_err();
//! assert_eq!(refused.retry_after_secs, 300);
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;

use glue_auth_core::NumericDate;

use crate::ThrottleSettings;
use crate::throttle::{Attempt, Throttle};

/// The boxed future of a [`LoginThrottle`] call (object safe, like the store
/// traits' `StoreFuture`).
pub type ThrottleFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A username as a throttling key: the SHA-256 of its lowercase form, so
/// that case variants share a counter and no implementation ever keeps what
/// users typed.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserKey([u8; 32]);

impl UserKey {
    /// The key of `username` (lowercased, then hashed).
    pub fn of(username: &str) -> UserKey {
        UserKey(crate::crypto::sha256(username.to_lowercase().as_bytes()))
    }

    /// The 32 bytes of the hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The hash as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        crate::crypto::hex(&self.0)
    }
}

/// Shows the first 8 hex digits only.
impl fmt::Debug for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserKey({}…)", &self.to_hex()[..8])
    }
}

/// What one attempt is counted under. Either part may be absent: a refresh
/// token is counted against the client address only, and without a known
/// client address only the username counts. An implementation ignores a part
/// whose limit is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptKeys {
    /// The username tried ([`ThrottleSettings::per_username`]).
    pub user: Option<UserKey>,
    /// The client address ([`ThrottleSettings::per_address`]).
    pub address: Option<IpAddr>,
}

/// An attempt refused: too many failures (or attempts in flight) in the
/// window. The endpoint answers 429 with `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Seconds until a place frees up (at least 1): until the oldest counted
    /// failure leaves the window, or 1 while attempts in flight hold the
    /// free places.
    pub retry_after_secs: u32,
}

/// Failed-login counters: admits or refuses one attempt at a time (see the
/// [module docs](self)).
///
/// Implementations: [`MemoryThrottle`] (one process; the default of
/// [`TokenServer`](crate::TokenServer)) and, in the `glue-auth-redis` crate,
/// one shared by every instance through Redis. Set one with
/// [`TokenServerBuilder::login_throttle`](crate::TokenServerBuilder::login_throttle).
pub trait LoginThrottle: Send + Sync + 'static {
    /// The limits in force (the endpoint reads whether the per-address
    /// counter is on, and the build checks the window).
    fn settings(&self) -> ThrottleSettings;

    /// Admits one attempt (holding a place in each of its counters until the
    /// [`Reservation`] is decided or dropped) or refuses it. One step per
    /// attempt: counted failures plus attempts in flight must stay under each
    /// limit, however many attempts arrive at once. `now` comes from the
    /// server's clock.
    ///
    /// Never fails otherwise: an implementation whose shared storage is
    /// unavailable decides by itself (in-process counters), it never lets
    /// every attempt through and never answers an error.
    fn reserve(
        &self,
        keys: AttemptKeys,
        now: NumericDate,
    ) -> ThrottleFuture<'_, Result<Reservation, Throttled>>;
}

impl<T: LoginThrottle + ?Sized> LoginThrottle for Arc<T> {
    fn settings(&self) -> ThrottleSettings {
        (**self).settings()
    }

    fn reserve(
        &self,
        keys: AttemptKeys,
        now: NumericDate,
    ) -> ThrottleFuture<'_, Result<Reservation, Throttled>> {
        (**self).reserve(keys, now)
    }
}

/// The decisions of an admitted attempt, as a [`LoginThrottle`]
/// implementation carries them out. Dropping it undecided must release its
/// places (without blocking: spawn the work, or let the place expire).
pub trait Reserved: Send {
    /// The attempt failed (`invalid_grant`): its places become failures.
    fn fail(self: Box<Self>, now: NumericDate) -> ThrottleFuture<'static, ()>;

    /// The login succeeded: the username's failures are cleared, the places
    /// released.
    fn succeed(self: Box<Self>) -> ThrottleFuture<'static, ()>;
}

/// An admitted attempt holding a place in its counters. Decide it with
/// [`fail`](Self::fail) or [`succeed`](Self::succeed); dropping it undecided
/// releases the places (a cancelled request does not keep them).
pub struct Reservation(Box<dyn Reserved>);

impl Reservation {
    /// Wraps an implementation's reservation.
    pub fn new(reserved: impl Reserved + 'static) -> Reservation {
        Reservation(Box::new(reserved))
    }

    /// The attempt failed (`invalid_grant`): its places become failures.
    pub fn fail(self, now: NumericDate) -> ThrottleFuture<'static, ()> {
        self.0.fail(now)
    }

    /// The login succeeded: clears the username's failures, releases the
    /// places.
    pub fn succeed(self) -> ThrottleFuture<'static, ()> {
        self.0.succeed()
    }
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reservation")
    }
}

/// Failed-login counters in this process: sliding windows per username and
/// per client address, in bounded memory (at most
/// [`capacity`](ThrottleSettings::capacity) keys per counter, idle keys
/// dropped after the window). Several instances of a service each count for
/// themselves: N instances behind a load balancer allow N × the limit.
#[derive(Debug, Clone)]
pub struct MemoryThrottle {
    inner: Arc<Throttle>,
}

impl MemoryThrottle {
    /// Empty counters with these limits.
    pub fn new(settings: ThrottleSettings) -> MemoryThrottle {
        MemoryThrottle {
            inner: Arc::new(Throttle::new(settings)),
        }
    }

    /// The synchronous admission (no I/O).
    fn admit(&self, keys: AttemptKeys, now: NumericDate) -> Result<Reservation, Throttled> {
        self.inner
            .reserve(keys.user.as_ref().map(UserKey::as_bytes), keys.address, now)
            .map(Reservation::new)
            .map_err(|retry_after_secs| Throttled { retry_after_secs })
    }
}

impl LoginThrottle for MemoryThrottle {
    fn settings(&self) -> ThrottleSettings {
        self.inner.settings()
    }

    fn reserve(
        &self,
        keys: AttemptKeys,
        now: NumericDate,
    ) -> ThrottleFuture<'_, Result<Reservation, Throttled>> {
        Box::pin(std::future::ready(self.admit(keys, now)))
    }
}

impl Reserved for Attempt {
    fn fail(self: Box<Self>, now: NumericDate) -> ThrottleFuture<'static, ()> {
        Attempt::fail(*self, now);
        Box::pin(std::future::ready(()))
    }

    fn succeed(self: Box<Self>) -> ThrottleFuture<'static, ()> {
        Attempt::succeed(*self);
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_keys_ignore_case_and_hide_the_name() {
        let k = UserKey::of("Sonia@Spryker.com");
        assert_eq!(k, UserKey::of("sonia@spryker.com"));
        assert_eq!(k.to_hex().len(), 64);
        let debug = format!("{k:?}");
        assert!(!debug.contains("sonia"), "{debug}");
        assert_eq!(debug.len(), "UserKey(…)".len() + 8);
    }
}
