//! The failed-login throttle of the glue-auth token endpoints in **Redis**,
//! shared by every gateway instance: [`RedisThrottle`] implements
//! [`glue_auth_token::LoginThrottle`].
//!
//! In-process counters ([`glue_auth_token::MemoryThrottle`], the default)
//! let N instances behind a load balancer allow N × 5 guesses per username
//! per window. Spryker keeps these counters in Redis (its security blocker),
//! so the Redis is already there: point every instance at it and the limits
//! hold for the deployment as a whole.
//!
//! ```
//! use std::time::Duration;
//! use glue_auth_core::NumericDate;
//! use glue_auth_redis::RedisThrottle;
//! use glue_auth_token::{AttemptKeys, LoginThrottle, ThrottleSettings, UserKey};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let throttle = RedisThrottle::builder("redis://127.0.0.1:1/") // nothing listens there
//!     .settings(ThrottleSettings { per_username: 2, ..Default::default() })
//!     .timeout(Duration::from_millis(100))
//!     .build()
//!     .unwrap();
//! // Redis does not answer: the start-up log says so, the throttle works on.
//! assert!(throttle.connect().await.is_err());
//!
//! let keys = AttemptKeys { user: Some(UserKey::of("ann@example.com")), address: None };
//! let now = NumericDate::now();
//! // Allowed: two wrong passwords are answered (400 invalid_grant) ...
//! for _ in 0..2 {
//!     throttle.reserve(keys, now).await.unwrap().fail(now).await;
//! }
//! // ... rejected: the third attempt gets 429, counted in this process
//! // while Redis is away (never unlimited, never an error).
//! let refused = throttle.reserve(keys, now).await.unwrap_err();
//! assert_eq!(refused.retry_after_secs, 300);
//! assert!(throttle.stats().fallbacks >= 3);
//! assert!(!throttle.stats().available);
//! # }
//! ```
//!
//! Put it into the token server with
//! [`TokenServerBuilder::login_throttle`](glue_auth_token::TokenServerBuilder::login_throttle);
//! the gateway does with `--redis-url` / `REDIS_URL`.
//!
//! # Semantics: the same as in one process, across all of them
//!
//! An attempt is admitted in one atomic step (a Lua script) when counted
//! failures plus attempts in flight stay under each limit (username and
//! client address together), and then holds a place in both counters until
//! it is decided: `invalid_grant` turns the place into a failure, a
//! successful login clears the username's failures, any other answer or a
//! dropped request releases the place. However the attempts are spread over
//! instances, at most `per_username` are admitted per username per window.
//!
//! # Keys
//!
//! Per counter two sorted sets, `{prefix}u:{sha256 hex}:f` / `:h` for a
//! username (the SHA-256 of the lowercase name, [`glue_auth_token::UserKey`]:
//! names are never stored, nor shown in `MONITOR`), `{prefix}a:{address}:f` /
//! `:h` for a client address:
//!
//! - `:f` the failures: score = when (µs), member = the attempt's random id;
//!   pruned to the window and to the newest `limit` on every write, TTL =
//!   the window;
//! - `:h` the attempts in flight: score = when the hold lapses, member = the
//!   id; TTL = the hold time (default 60 s).
//!
//! So a key holds at most `limit` members, and a counter nobody touches is
//! gone after the window. The prefix (default `glue-auth:throttle:`) keeps
//! them apart from Spryker's own keys; it does not hide the SHA-256 of a
//! username from a dictionary: protect the Redis as you protect the
//! database.
//!
//! # Round trips
//!
//! - **Admission**: one `EVALSHA` per attempt (`EVAL` once after a Redis
//!   restart, when the script cache is empty), awaited before the password
//!   is looked at.
//! - **Decision** (`invalid_grant` or success): one `EVALSHA`, awaited
//!   before the answer goes out, so that a client reading its 400 and trying
//!   again always finds its failure counted (the same `Retry-After` as in
//!   one process). Both are a fraction of a millisecond next to a bcrypt
//!   verification.
//! - **Release** of a dropped request: a dropped future cannot wait, so the
//!   release is spawned on the runtime; if it cannot run (no runtime, Redis
//!   away) the hold lapses after the hold time. A process that dies holding
//!   places loses them the same way.
//!
//! # Time
//!
//! Scores are the token server's clock (`now` of
//! [`LoginThrottle::reserve`](glue_auth_token::LoginThrottle::reserve)), so
//! the instances' clocks must agree (NTP): a clock s seconds ahead prunes
//! failures s seconds early.
//!
//! # When Redis is unavailable
//!
//! Every call is bounded by the timeout (default 100 ms). An error or a late
//! answer marks Redis unavailable: that attempt, and every one after it
//! until Redis answers again, is decided by in-process counters with the
//! same limits (per instance: N instances allow N × the limit during the
//! outage, never more, never unlimited; the endpoint never answers an
//! error for it). Each such attempt counts in
//! [`RedisThrottleStats::fallbacks`]; the log says when Redis went away, at
//! most every 30 s that it is still away, and when it is back. A background
//! task reconnects every `retry_interval` (default 1 s; a new connection must
//! answer `PING`), so requests never wait for a connect. Failures counted in
//! process during an outage stay there; they are not copied into Redis when
//! it returns (Redis's counters, possibly empty after a restart without
//! persistence, decide again).
//!
//! A decision that Redis does not take (it went away after the admission) is
//! counted in process instead (a failure), or left to lapse (a success or
//! release).
//!
//! # Not supported
//!
//! TLS (`rediss://`) and Redis Cluster: the two keys of one attempt are
//! updated by one script, which a cluster refuses across slots. A
//! Sentinel-managed primary works through its address.

#![forbid(unsafe_code)]

// The README's example, compiled and run as a doc test (crates.io shows the
// README, so it must stay true).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod scripts;
mod throttle;
mod url;

pub use throttle::{
    RedisConfigError, RedisThrottle, RedisThrottleBuilder, RedisThrottleStats, RedisUnavailable,
};
