//! [`RedisThrottle`]: the counters in Redis, the connection, the fallback.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use glue_auth_core::NumericDate;
use glue_auth_token::{
    AttemptKeys, LoginThrottle, MemoryThrottle, Reservation, Reserved, ThrottleFuture,
    ThrottleSettings, Throttled,
};
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;

use crate::scripts::{FAIL_SCRIPT, RELEASE_SCRIPT, RESERVE_SCRIPT};
use crate::url::redact;

/// How often, at most, the log repeats that Redis is still unavailable.
const REMINDER_EVERY: Duration = Duration::from_secs(30);

/// Why a [`RedisThrottleBuilder`] refused its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisConfigError {
    /// The URL is not a Redis URL this crate connects to (the message shows
    /// it with the password masked).
    Url(String),
    /// A setting is out of range.
    Setting(&'static str, String),
}

impl fmt::Display for RedisConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedisConfigError::Url(m) => f.write_str(m),
            RedisConfigError::Setting(what, m) => write!(f, "{what}: {m}"),
        }
    }
}

impl std::error::Error for RedisConfigError {}

/// Redis did not answer (connect, or a `PING`) within the timeouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUnavailable(String);

impl fmt::Display for RedisUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redis unavailable: {}", self.0)
    }
}

impl std::error::Error for RedisUnavailable {}

/// What the throttle has done so far, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisThrottleStats {
    /// Whether a connection to Redis is established and answered last time.
    pub available: bool,
    /// Attempts admitted or refused by the in-process counters because Redis
    /// was unavailable (not connected, an error, or no answer in time).
    pub fallbacks: u64,
    /// Times Redis became unavailable (a connection lost or timed out).
    pub outages: u64,
}

/// Settings of a [`RedisThrottle`]; see each method for its default.
#[derive(Clone)]
pub struct RedisThrottleBuilder {
    url: String,
    settings: ThrottleSettings,
    timeout: Duration,
    connect_timeout: Duration,
    retry_interval: Duration,
    hold: Duration,
    key_prefix: String,
}

impl fmt::Debug for RedisThrottleBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisThrottleBuilder")
            .field("url", &redact(&self.url))
            .field("settings", &self.settings)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry_interval", &self.retry_interval)
            .field("hold", &self.hold)
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

impl RedisThrottleBuilder {
    /// The limits (default: SPEC §2's 5 per username, 20 per address, 300 s).
    /// The same on every instance sharing the Redis: each decides with its
    /// own. `capacity` bounds the in-process fallback counters.
    pub fn settings(mut self, settings: ThrottleSettings) -> Self {
        self.settings = settings;
        self
    }

    /// How long one attempt's round trip may take before the attempt is
    /// decided by the in-process counters and Redis is taken for
    /// unavailable (default 100 ms).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// How long a (re)connection may take, `PING` included; reconnecting
    /// runs in the background, never on a request (default 1 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Pause between reconnection attempts while Redis is unavailable
    /// (default 1 s).
    pub fn retry_interval(mut self, d: Duration) -> Self {
        self.retry_interval = d;
        self
    }

    /// The longest an admitted attempt holds its place: a decision removes
    /// it, and so does a dropped request (in the background); a hold whose
    /// process died lapses after this (default 60 s; at least 1 s).
    pub fn hold(mut self, d: Duration) -> Self {
        self.hold = d;
        self
    }

    /// Prefix of every key (default `glue-auth:throttle:`); give deployments
    /// that share one Redis database but not their counters different
    /// prefixes.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Checks the settings. No I/O: connect with [`RedisThrottle::connect`]
    /// (else the first attempt connects in the background and is decided in
    /// process).
    pub fn build(self) -> Result<RedisThrottle, RedisConfigError> {
        let shown = redact(&self.url);
        let url = self.url.trim();
        if url.starts_with("rediss://") || url.starts_with("valkeys://") {
            return Err(RedisConfigError::Url(format!(
                "{shown}: TLS connections to Redis are not supported; use redis:// on a trusted network"
            )));
        }
        if !["redis://", "redis+unix://", "unix://", "valkey://"]
            .iter()
            .any(|s| url.starts_with(s))
        {
            return Err(RedisConfigError::Url(format!(
                "{shown}: not a Redis URL (redis://[:password@]host[:port][/db])"
            )));
        }
        let client = redis::Client::open(url)
            .map_err(|_| RedisConfigError::Url(format!("{shown}: not a valid Redis URL")))?;
        let positive = |what, d: Duration| {
            if d.is_zero() {
                Err(RedisConfigError::Setting(what, "must be above 0".into()))
            } else {
                Ok(d)
            }
        };
        positive("timeout", self.timeout)?;
        positive("connect_timeout", self.connect_timeout)?;
        positive("retry_interval", self.retry_interval)?;
        if self.hold < Duration::from_secs(1) {
            return Err(RedisConfigError::Setting(
                "hold",
                "must be at least one second".into(),
            ));
        }
        if self.settings.window < Duration::from_secs(1) {
            return Err(RedisConfigError::Setting(
                "window",
                "must be at least one second".into(),
            ));
        }
        if self.key_prefix.is_empty() {
            return Err(RedisConfigError::Setting(
                "key_prefix",
                "must not be empty".into(),
            ));
        }
        Ok(RedisThrottle {
            inner: Arc::new(Inner {
                settings: self.settings,
                timeout: self.timeout,
                connect_timeout: self.connect_timeout,
                retry_interval: self.retry_interval,
                hold: self.hold,
                prefix: self.key_prefix,
                client,
                url: shown,
                link: Mutex::new(Link::default()),
                reconnecting: AtomicBool::new(false),
                local: MemoryThrottle::new(self.settings),
                fallbacks: AtomicU64::new(0),
                outages: AtomicU64::new(0),
            }),
        })
    }
}

/// Failed-login counters in Redis, shared by every process that uses the
/// same Redis database and key prefix: the
/// [`LoginThrottle`] of the token endpoint across a whole deployment (see the
/// crate docs). Cheap to clone (one `Arc`), `Send + Sync + 'static`.
#[derive(Clone)]
pub struct RedisThrottle {
    inner: Arc<Inner>,
}

impl fmt::Debug for RedisThrottle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisThrottle")
            .field("url", &self.inner.url)
            .field("settings", &self.inner.settings)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl RedisThrottle {
    /// Starts a configuration for the Redis at `url`
    /// (`redis://[[user]:password@]host[:port][/db]`, or
    /// `redis+unix:///path/to/socket`).
    pub fn builder(url: impl Into<String>) -> RedisThrottleBuilder {
        RedisThrottleBuilder {
            url: url.into(),
            settings: ThrottleSettings::default(),
            timeout: Duration::from_millis(100),
            connect_timeout: Duration::from_secs(1),
            retry_interval: Duration::from_secs(1),
            hold: Duration::from_secs(60),
            key_prefix: "glue-auth:throttle:".into(),
        }
    }

    /// Connects now (bounded by the connect timeout). On failure the
    /// throttle keeps working with its in-process counters and reconnects in
    /// the background (within a Tokio runtime); the error says why, for the
    /// start-up log.
    pub async fn connect(&self) -> Result<(), RedisUnavailable> {
        match self.inner.open().await {
            Ok(conn) => {
                self.inner.install(conn);
                Ok(())
            }
            Err(e) => {
                self.inner.mark_down(None, &e);
                self.inner.spawn_reconnect();
                Err(RedisUnavailable(e))
            }
        }
    }

    /// Counters for metrics.
    pub fn stats(&self) -> RedisThrottleStats {
        let available = lock(&self.inner.link).conn.is_some();
        RedisThrottleStats {
            available,
            fallbacks: self.inner.fallbacks.load(Ordering::Relaxed),
            outages: self.inner.outages.load(Ordering::Relaxed),
        }
    }

    /// The Redis URL, password masked.
    pub fn url(&self) -> &str {
        &self.inner.url
    }
}

impl LoginThrottle for RedisThrottle {
    fn settings(&self) -> ThrottleSettings {
        self.inner.settings
    }

    fn reserve(
        &self,
        keys: AttemptKeys,
        now: NumericDate,
    ) -> ThrottleFuture<'_, Result<Reservation, Throttled>> {
        Box::pin(self.inner.reserve(keys, now))
    }
}

/// The connection, when there is one. `generation` counts installed
/// connections: a failure on an older one does not drop a newer one.
#[derive(Default)]
struct Link {
    conn: Option<MultiplexedConnection>,
    generation: u64,
    /// Since when Redis is unavailable (`None`: available, or never tried).
    down_since: Option<Instant>,
    last_reminder: Option<Instant>,
}

struct Inner {
    settings: ThrottleSettings,
    timeout: Duration,
    connect_timeout: Duration,
    retry_interval: Duration,
    hold: Duration,
    prefix: String,
    client: redis::Client,
    /// Redacted.
    url: String,
    link: Mutex<Link>,
    /// A reconnection task is running.
    reconnecting: AtomicBool,
    /// Decides while Redis is unavailable.
    local: MemoryThrottle,
    fallbacks: AtomicU64,
    outages: AtomicU64,
}

fn lock(m: &Mutex<Link>) -> MutexGuard<'_, Link> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One counter of an attempt: its two keys and its limit.
#[derive(Debug, Clone)]
struct Counter {
    fails: String,
    holds: String,
    limit: u32,
    user: bool,
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// A reservation id: 96 random bits, hex.
fn random_id() -> String {
    let mut b = [0u8; 12];
    // The system RNG does not fail on supported platforms; ids only need to
    // differ among the few members of one key.
    let _ = aws_lc_rs::rand::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Inner {
    /// The counters an attempt is checked against (a limit of 0 is off).
    fn counters(&self, keys: AttemptKeys) -> Vec<Counter> {
        let s = self.settings;
        let mut out = Vec::with_capacity(2);
        if let Some(user) = keys.user.filter(|_| s.per_username > 0) {
            let base = format!("{}u:{}", self.prefix, user.to_hex());
            out.push(Counter {
                fails: format!("{base}:f"),
                holds: format!("{base}:h"),
                limit: s.per_username,
                user: true,
            });
        }
        if let Some(addr) = keys.address.filter(|_| s.per_address > 0) {
            let base = format!("{}a:{addr}", self.prefix);
            out.push(Counter {
                fails: format!("{base}:f"),
                holds: format!("{base}:h"),
                limit: s.per_address,
                user: false,
            });
        }
        out
    }

    fn connection(&self) -> Option<(u64, MultiplexedConnection)> {
        let link = lock(&self.link);
        link.conn.clone().map(|c| (link.generation, c))
    }

    async fn reserve(
        self: &Arc<Self>,
        keys: AttemptKeys,
        now: NumericDate,
    ) -> Result<Reservation, Throttled> {
        let counters = self.counters(keys);
        if counters.is_empty() {
            // Nothing to count: no round trip.
            return self.local.reserve(keys, now).await;
        }
        let Some((generation, mut conn)) = self.connection() else {
            return self.fallback(keys, now).await;
        };
        let id = random_id();
        let mut call = RESERVE_SCRIPT.prepare_invoke();
        for c in &counters {
            call.key(&c.fails).key(&c.holds);
        }
        call.arg(now.as_micros())
            .arg(micros(self.settings.window))
            .arg(micros(self.hold))
            .arg(&id);
        for c in &counters {
            call.arg(c.limit);
        }
        let answer = tokio::time::timeout(self.timeout, call.invoke_async::<i64>(&mut conn)).await;
        match answer {
            Ok(Ok(0)) => Ok(Reservation::new(Shared {
                inner: Arc::clone(self),
                id,
                counters,
                keys,
                decided: false,
            })),
            Ok(Ok(wait)) => Err(Throttled {
                retry_after_secs: u32::try_from(wait.max(1)).unwrap_or(u32::MAX),
            }),
            Ok(Err(e)) => {
                self.lost(generation, &e.to_string());
                self.fallback(keys, now).await
            }
            Err(_) => {
                self.lost(generation, "no answer within the timeout");
                self.fallback(keys, now).await
            }
        }
    }

    /// Decides an attempt in process (Redis unavailable).
    async fn fallback(
        self: &Arc<Self>,
        keys: AttemptKeys,
        now: NumericDate,
    ) -> Result<Reservation, Throttled> {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        self.spawn_reconnect();
        self.local.reserve(keys, now).await
    }

    /// Runs a decision script on the connection; `false` when Redis did not
    /// take it (then it is marked unavailable).
    async fn decide(self: &Arc<Self>, call: redis::ScriptInvocation<'_>) -> bool {
        let Some((generation, mut conn)) = self.connection() else {
            return false;
        };
        match tokio::time::timeout(self.timeout, call.invoke_async::<i64>(&mut conn)).await {
            Ok(Ok(_)) => true,
            Ok(Err(e)) => {
                self.lost(generation, &e.to_string());
                false
            }
            Err(_) => {
                self.lost(generation, "no answer within the timeout");
                false
            }
        }
    }

    async fn fail(self: &Arc<Self>, r: &Shared, now: NumericDate) {
        let mut call = FAIL_SCRIPT.prepare_invoke();
        for c in &r.counters {
            call.key(&c.fails).key(&c.holds);
        }
        call.arg(now.as_micros())
            .arg(micros(self.settings.window))
            .arg(&r.id);
        for c in &r.counters {
            call.arg(c.limit);
        }
        if !self.decide(call).await {
            // Not lost: counted here instead.
            self.fallbacks.fetch_add(1, Ordering::Relaxed);
            if let Ok(local) = self.local.reserve(r.keys, now).await {
                local.fail(now).await;
            }
        }
    }

    async fn succeed(self: &Arc<Self>, r: &Shared) {
        let mut call = RELEASE_SCRIPT.prepare_invoke();
        for c in &r.counters {
            call.key(&c.holds);
        }
        for c in r.counters.iter().filter(|c| c.user) {
            call.key(&c.fails);
        }
        call.arg(&r.id).arg(r.counters.len());
        // Unavailable: the holds lapse, the failures leave the window.
        let _ = self.decide(call).await;
    }

    /// Releases the holds of an undecided reservation, in the background
    /// (a dropped future cannot wait); without a runtime or a connection,
    /// the holds lapse after `hold`.
    fn release(self: &Arc<Self>, r: &Shared) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let inner = Arc::clone(self);
        let holds: Vec<String> = r.counters.iter().map(|c| c.holds.clone()).collect();
        let id = r.id.clone();
        handle.spawn(async move {
            let mut call = RELEASE_SCRIPT.prepare_invoke();
            for h in &holds {
                call.key(h);
            }
            call.arg(&id).arg(holds.len());
            let _ = inner.decide(call).await;
        });
    }

    /// The connection of `generation` failed: drop it (unless a newer one
    /// replaced it already) and reconnect in the background.
    fn lost(self: &Arc<Self>, generation: u64, why: &str) {
        self.mark_down(Some(generation), why);
        self.spawn_reconnect();
    }

    /// Marks Redis unavailable; logs when that is news.
    fn mark_down(&self, generation: Option<u64>, why: &str) {
        let mut link = lock(&self.link);
        let current = generation.is_none_or(|g| g == link.generation);
        if current && link.conn.is_some() {
            link.conn = None;
        }
        if current && link.down_since.is_none() {
            let now = Instant::now();
            link.down_since = Some(now);
            link.last_reminder = Some(now);
            drop(link);
            self.outages.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                url = %self.url,
                error = why,
                "login throttle: Redis unavailable; failed logins are counted in this process \
                 (per instance) until it answers again"
            );
        }
    }

    /// Reconnects in the background, once at a time.
    fn spawn_reconnect(self: &Arc<Self>) {
        if self.reconnecting.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.reconnecting.store(false, Ordering::Release);
            return;
        };
        handle.spawn(reconnect(Arc::downgrade(self)));
    }

    /// A new connection that answered a `PING`.
    async fn open(&self) -> Result<MultiplexedConnection, String> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.timeout));
        let attempt = async {
            let mut conn = self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map_err(|e| e.to_string())?;
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            Ok(conn)
        };
        match tokio::time::timeout(self.connect_timeout + self.timeout, attempt).await {
            Ok(r) => r,
            Err(_) => Err("no answer within the connect timeout".into()),
        }
    }

    fn install(&self, conn: MultiplexedConnection) {
        let mut link = lock(&self.link);
        link.generation += 1;
        link.conn = Some(conn);
        let was_down = link.down_since.take();
        drop(link);
        match was_down {
            Some(since) => tracing::info!(
                url = %self.url,
                unavailable_for_ms = since.elapsed().as_millis() as u64,
                fallbacks = self.fallbacks.load(Ordering::Relaxed),
                "login throttle: Redis available again; failed logins are counted in Redis"
            ),
            None => tracing::info!(url = %self.url, "login throttle: connected to Redis"),
        }
    }

    /// Logs, at most every [`REMINDER_EVERY`], that Redis is still away.
    fn remind(&self, error: &str) {
        let mut link = lock(&self.link);
        let due = link
            .last_reminder
            .is_none_or(|t| t.elapsed() >= REMINDER_EVERY);
        if !due {
            return;
        }
        link.last_reminder = Some(Instant::now());
        if link.down_since.is_none() {
            link.down_since = Some(Instant::now());
        }
        drop(link);
        tracing::warn!(
            url = %self.url,
            error,
            fallbacks = self.fallbacks.load(Ordering::Relaxed),
            "login throttle: Redis still unavailable; counting failed logins in this process"
        );
    }
}

/// The background reconnection: every `retry_interval` until a connection
/// answers, or the throttle is gone.
async fn reconnect(weak: Weak<Inner>) {
    loop {
        let Some(inner) = weak.upgrade() else {
            return;
        };
        match inner.open().await {
            Ok(conn) => {
                // Cleared first: a connection lost right after the install
                // starts a new task.
                inner.reconnecting.store(false, Ordering::Release);
                inner.install(conn);
                return;
            }
            Err(e) => {
                inner.remind(&e);
                let pause = inner.retry_interval;
                drop(inner);
                tokio::time::sleep(pause).await;
            }
        }
    }
}

/// An attempt admitted by Redis.
struct Shared {
    inner: Arc<Inner>,
    id: String,
    counters: Vec<Counter>,
    keys: AttemptKeys,
    decided: bool,
}

impl Reserved for Shared {
    fn fail(mut self: Box<Self>, now: NumericDate) -> ThrottleFuture<'static, ()> {
        self.decided = true;
        Box::pin(async move {
            let inner = Arc::clone(&self.inner);
            inner.fail(&self, now).await;
        })
    }

    fn succeed(mut self: Box<Self>) -> ThrottleFuture<'static, ()> {
        self.decided = true;
        Box::pin(async move {
            let inner = Arc::clone(&self.inner);
            inner.succeed(&self).await;
        })
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if !self.decided {
            let inner = Arc::clone(&self.inner);
            inner.release(self);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_redacted() {
        for (url, ok) in [
            ("redis://127.0.0.1:6379/0", true),
            ("redis://:s3cret@127.0.0.1:6379", true),
            ("redis+unix:///run/redis.sock", true),
            ("rediss://:s3cret@127.0.0.1:6379", false),
            ("http://:s3cret@127.0.0.1:6379", false),
            ("redis://:s3cret@127.0.0.1:notaport", false),
        ] {
            let r = RedisThrottle::builder(url).build();
            assert_eq!(r.is_ok(), ok, "{url}: {r:?}");
            let shown = match r {
                Ok(t) => format!("{t:?}"),
                Err(e) => e.to_string(),
            };
            assert!(!shown.contains("s3cret"), "{shown}");
        }
        let b = RedisThrottle::builder("redis://:s3cret@h/");
        assert!(!format!("{b:?}").contains("s3cret"));
    }

    #[test]
    fn settings_are_checked() {
        let b = || RedisThrottle::builder("redis://127.0.0.1/");
        assert!(b().timeout(Duration::ZERO).build().is_err());
        assert!(b().hold(Duration::from_millis(10)).build().is_err());
        assert!(b().key_prefix("").build().is_err());
        let window = ThrottleSettings {
            window: Duration::ZERO,
            ..ThrottleSettings::default()
        };
        assert!(b().settings(window).build().is_err());
    }

    #[test]
    fn counters_follow_the_limits_and_never_hold_the_name() {
        let t = RedisThrottle::builder("redis://127.0.0.1/")
            .key_prefix("p:")
            .settings(ThrottleSettings {
                per_address: 0,
                ..ThrottleSettings::default()
            })
            .build()
            .unwrap();
        let keys = AttemptKeys {
            user: Some(glue_auth_token::UserKey::of("Ann@example.com")),
            address: Some("192.0.2.1".parse().unwrap()),
        };
        let c = t.inner.counters(keys);
        assert_eq!(c.len(), 1);
        assert!(c[0].fails.starts_with("p:u:") && c[0].fails.ends_with(":f"));
        assert!(!c[0].fails.to_lowercase().contains("ann"));
        assert_eq!(c[0].limit, 5);
        let ids = (random_id(), random_id());
        assert_ne!(ids.0, ids.1);
        assert_eq!(ids.0.len(), 24);
    }
}
