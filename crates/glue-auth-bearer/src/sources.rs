//! Key sources: where a [`KeySet`] gets its keys from, kept fresh by a
//! background task (features `watch` and `remote-keys`).
//!
//! - [`KeySource::file`]: a local PEM or JWKS file, polled for changes
//!   (contents compared, so Kubernetes' symlink swaps of a mounted secret
//!   are seen too; no signal needed);
//! - [`KeySource::jwks_url`] (`remote-keys`): a JWK Set over HTTP, such as a
//!   gateway's `/.well-known/jwks.json`;
//! - [`KeySource::oidc_discovery`] (`remote-keys`): an OpenID Connect
//!   issuer, whose `/.well-known/openid-configuration` names the JWKS.
//!
//! **Nothing is fetched on the request path.** The validator reads the key
//! snapshot without a lock ([`KeySet`] is an `arc_swap`); the source's task
//! swaps in new keys. A token whose `kid` is unknown is refused at once (401
//! `001`, reason `unknown_key`) and *signals* the task, which refetches at
//! most once per [`cooldown`](KeySourceBuilder::cooldown), however many
//! requests signalled (single flight: one flag, one task). A later request
//! with that `kid` succeeds once the refetch has landed.
//!
//! **Failures keep the last good keys.** A source that is down, answers an
//! error, times out, or sends a hostile or broken document (see
//! [`parse_jwks`](glue_auth_jwt::parse_jwks)) is logged at `error` level and
//! changes nothing; tokens of known keys keep validating, unknown ones get
//! 401 (never 500). Retries back off from the cooldown to `max_refresh`.
//!
//! **Refresh.** A remote set is refetched when its `Cache-Control: max-age`
//! runs out, bounded by [`min_refresh`](KeySourceBuilder::min_refresh) and
//! [`max_refresh`](KeySourceBuilder::max_refresh) (`no-store`/`no-cache`
//! count as 0, so `min_refresh`); without `max-age`, after
//! [`default_refresh`](KeySourceBuilder::default_refresh). A file is read
//! every [`poll_interval`](KeySourceBuilder::poll_interval).
//!
//! ```
//! use std::time::Duration;
//!
//! use glue_auth_bearer::sources::KeySource;
//! use glue_auth_bearer::{BearerAuthLayer, Validator};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::env::temp_dir().join(format!("glue-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let path = dir.join("public.pem");
//! # std::fs::write(&path, glue_auth_jwt::SigningKey::generate()?.public_key_pem()?)?;
//! // A PEM (or JWKS) file, read now and polled for changes.
//! let source = KeySource::file(&path)
//!     .poll_interval(Duration::from_secs(5))
//!     .spawn()?;
//! let layer = BearerAuthLayer::new(Validator::new(source.key_set()));
//! # let _ = layer;
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use glue_auth_jwt::{JwksLimits, KeySet, ParsedKeys, WeakKeySet};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

/// Default [`KeySourceBuilder::cooldown`]: 10 s.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(10);
/// Default [`KeySourceBuilder::min_refresh`]: 60 s.
pub const DEFAULT_MIN_REFRESH: Duration = Duration::from_secs(60);
/// Default [`KeySourceBuilder::max_refresh`]: 1 h.
pub const DEFAULT_MAX_REFRESH: Duration = Duration::from_secs(3600);
/// Default [`KeySourceBuilder::default_refresh`]: 5 min.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(300);
/// Default [`KeySourceBuilder::poll_interval`] of a file: 5 s.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Default [`KeySourceBuilder::timeout`] of one fetch: 5 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a source could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceError {
    /// No Tokio runtime to run the background task on.
    NoRuntime,
    /// A URL that is not an absolute `http://` URL (https needs TLS, which
    /// this crate does not bring: terminate it in a sidecar, or fetch over
    /// the cluster network).
    Url(String),
    /// The file could not be read or its keys were refused (a file source
    /// loads once before it starts, so a broken file is a start-up error).
    File(String),
    /// A setting out of range (a zero interval, `min_refresh` over
    /// `max_refresh`).
    Setting(&'static str),
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::NoRuntime => f.write_str("a key source needs a Tokio runtime"),
            SourceError::Url(e) => write!(f, "bad key source URL: {e}"),
            SourceError::File(e) => write!(f, "key file: {e}"),
            SourceError::Setting(name) => write!(f, "key source setting {name} is out of range"),
        }
    }
}

impl std::error::Error for SourceError {}

#[derive(Debug, Clone)]
enum Origin {
    File(PathBuf),
    #[cfg(feature = "remote-keys")]
    Jwks(http::Uri),
    #[cfg(feature = "remote-keys")]
    Discovery(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(p) => write!(f, "{}", p.display()),
            #[cfg(feature = "remote-keys")]
            Origin::Jwks(u) => write!(f, "{u}"),
            #[cfg(feature = "remote-keys")]
            Origin::Discovery(i) => write!(f, "{i} (OIDC discovery)"),
        }
    }
}

/// The settings of a key source; see [`KeySource`]. Every duration is
/// checked in [`spawn`](Self::spawn).
#[derive(Debug, Clone)]
#[must_use = "call .spawn() to start the source"]
pub struct KeySourceBuilder {
    origin: Origin,
    cooldown: Duration,
    min_refresh: Duration,
    max_refresh: Duration,
    default_refresh: Duration,
    poll_interval: Duration,
    timeout: Duration,
    limits: JwksLimits,
    kidless_default: bool,
}

impl KeySourceBuilder {
    fn new(origin: Origin) -> Self {
        KeySourceBuilder {
            origin,
            cooldown: DEFAULT_COOLDOWN,
            min_refresh: DEFAULT_MIN_REFRESH,
            max_refresh: DEFAULT_MAX_REFRESH,
            default_refresh: DEFAULT_REFRESH,
            poll_interval: DEFAULT_POLL_INTERVAL,
            timeout: DEFAULT_TIMEOUT,
            limits: JwksLimits::default(),
            kidless_default: false,
        }
    }

    /// Shortest time between two fetches, whatever asks for them (unknown
    /// `kid`s, failures, short `max-age`s); default 10 s.
    pub fn cooldown(mut self, d: Duration) -> Self {
        self.cooldown = d;
        self
    }

    /// Lower bound on the refresh interval taken from `max-age`; default 60 s.
    pub fn min_refresh(mut self, d: Duration) -> Self {
        self.min_refresh = d;
        self
    }

    /// Upper bound on the refresh interval (and on the retry back-off);
    /// default 1 h.
    pub fn max_refresh(mut self, d: Duration) -> Self {
        self.max_refresh = d;
        self
    }

    /// Refresh interval of a response without `max-age`; default 5 min.
    pub fn default_refresh(mut self, d: Duration) -> Self {
        self.default_refresh = d;
        self
    }

    /// How often a file is read for changes; default 5 s.
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d;
        self
    }

    /// Time limit of one fetch (connect, headers and body); default 5 s.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Size and key-count limits of a document (default 1 MiB, 100 keys).
    pub fn limits(mut self, limits: JwksLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Marks the first key of every load as the key for tokens without
    /// `kid` (see [`KeySet`]); by default a set of several keys refuses
    /// kid-less tokens, and a set of one key accepts them.
    pub fn first_key_for_kidless_tokens(mut self) -> Self {
        self.kidless_default = true;
        self
    }

    /// Starts the source: a file is read now (and must be valid); a remote
    /// source starts empty and fetches at once in the background (see
    /// [`KeySource::ready`]). Needs a Tokio runtime.
    pub fn spawn(self) -> Result<KeySource, SourceError> {
        let rt = tokio::runtime::Handle::try_current().map_err(|_| SourceError::NoRuntime)?;
        let zero = Duration::ZERO;
        if self.poll_interval == zero {
            return Err(SourceError::Setting("poll_interval"));
        }
        if self.min_refresh > self.max_refresh || self.max_refresh == zero {
            return Err(SourceError::Setting("min_refresh/max_refresh"));
        }
        if self.timeout == zero {
            return Err(SourceError::Setting("timeout"));
        }
        let shared = Arc::new(Shared {
            pending: AtomicBool::new(false),
            notify: Notify::new(),
            fetches: AtomicU64::new(0),
            loads: watch::channel(0).0,
            last_error: Mutex::new(None),
        });
        let keys = KeySet::empty();
        let mut fetcher = Fetcher::new(&self)?;
        let first = match &self.origin {
            Origin::File(_) => {
                shared.fetches.fetch_add(1, Ordering::Relaxed);
                let parsed = fetcher.read_file(&self).map_err(SourceError::File)?;
                let Some(parsed) = parsed else {
                    return Err(SourceError::File("no keys".into()));
                };
                install(&keys, parsed, &self, &shared).map_err(SourceError::File)?;
                Instant::now() + self.poll_interval
            }
            #[cfg(feature = "remote-keys")]
            _ => Instant::now(),
        };
        let hook = Arc::clone(&shared);
        keys.on_unknown_key(move || hook.request());
        let source = KeySource {
            keys: keys.clone(),
            shared: Arc::clone(&shared),
            origin: Arc::from(self.origin.to_string()),
        };
        rt.spawn(run(keys.downgrade(), shared, fetcher, self, first));
        Ok(source)
    }
}

struct Shared {
    /// Set by the first request that asks for a refetch, cleared when the
    /// fetch starts: one wake-up however many requests ask.
    pending: AtomicBool,
    notify: Notify,
    fetches: AtomicU64,
    loads: watch::Sender<u64>,
    last_error: Mutex<Option<String>>,
}

impl Shared {
    fn request(&self) {
        // A load first: under a storm of unknown kids every request but the
        // first sees `true` without writing the cache line.
        if !self.pending.load(Ordering::Relaxed) && !self.pending.swap(true, Ordering::AcqRel) {
            self.notify.notify_one();
        }
    }

    fn set_error(&self, e: Option<String>) {
        if let Ok(mut slot) = self.last_error.lock() {
            *slot = e;
        }
    }
}

/// A running key source: the [`KeySet`] it keeps fresh, and its state.
///
/// Cheap to clone. The background task ends by itself at its first wake-up
/// (a poll, a refresh) after every handle to the key set (this one,
/// validators) is gone.
#[derive(Clone)]
pub struct KeySource {
    keys: KeySet,
    shared: Arc<Shared>,
    origin: Arc<str>,
}

impl KeySource {
    /// A PEM or JWKS file (JWKS when its first non-blank byte is `{`; PEM may
    /// hold several keys), polled for changes.
    pub fn file(path: impl AsRef<Path>) -> KeySourceBuilder {
        KeySourceBuilder::new(Origin::File(path.as_ref().to_path_buf()))
    }

    /// A JWK Set at an `http://` URL (for example another gateway's
    /// `http://gateway:8080/.well-known/jwks.json`).
    #[cfg(feature = "remote-keys")]
    pub fn jwks_url(url: &str) -> Result<KeySourceBuilder, SourceError> {
        Ok(KeySourceBuilder::new(Origin::Jwks(http_url(url)?)))
    }

    /// An OpenID Connect issuer (`iss`, such as
    /// `http://idp:8080/realms/shop`): `{issuer}/.well-known/openid-configuration`
    /// is read for `jwks_uri`, and its `issuer` must equal `issuer` exactly
    /// (OpenID Connect Discovery §4.3). Discovery is repeated after a failed
    /// JWKS fetch.
    #[cfg(feature = "remote-keys")]
    pub fn oidc_discovery(issuer: &str) -> Result<KeySourceBuilder, SourceError> {
        http_url(&discovery_url(issuer))?;
        Ok(KeySourceBuilder::new(Origin::Discovery(issuer.to_owned())))
    }

    /// The keys, kept fresh: hand it to a [`Validator`](crate::Validator)
    /// or an [`Issuer`](crate::Issuer).
    pub fn key_set(&self) -> KeySet {
        self.keys.clone()
    }

    /// Fetches (or file reads) attempted so far, failed ones included.
    pub fn fetches(&self) -> u64 {
        self.shared.fetches.load(Ordering::Relaxed)
    }

    /// Key sets installed so far.
    pub fn loads(&self) -> u64 {
        *self.shared.loads.borrow()
    }

    /// The last failure, until the next success.
    pub fn last_error(&self) -> Option<String> {
        self.shared.last_error.lock().ok().and_then(|e| e.clone())
    }

    /// Asks for a refetch (within the cooldown), as an unknown `kid` does.
    pub fn refresh(&self) {
        self.shared.request();
    }

    /// Waits until at least one key set is installed (or `timeout` passes):
    /// returns whether keys are there.
    pub async fn ready(&self, timeout: Duration) -> bool {
        let mut rx = self.shared.loads.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|n| *n > 0))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Waits until more than `loads` key sets were installed, or `timeout`.
    pub async fn wait_for_load(&self, loads: u64, timeout: Duration) -> bool {
        let mut rx = self.shared.loads.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|n| *n > loads))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySource")
            .field("origin", &self.origin)
            .field("keys", &self.keys)
            .field("fetches", &self.fetches())
            .field("loads", &self.loads())
            .finish()
    }
}

/// Swaps the parsed keys in; logs what was left out.
fn install(
    keys: &KeySet,
    parsed: ParsedKeys,
    b: &KeySourceBuilder,
    shared: &Shared,
) -> Result<(), String> {
    for skipped in &parsed.skipped {
        tracing::debug!(source = %b.origin, skipped, "key left out of the key set");
    }
    let mut list = parsed.keys;
    if b.kidless_default
        && let Some(first) = list.first_mut()
    {
        *first = first.clone().kidless_default();
    }
    let n = list.len();
    keys.replace(list).map_err(|e| e.to_string())?;
    shared.set_error(None);
    shared.loads.send_modify(|n| *n += 1);
    tracing::info!(source = %b.origin, keys = n, "key set loaded");
    Ok(())
}

/// What one fetch brought: new keys, or "unchanged" (a file with the same
/// bytes), and the response's `max-age`.
struct Fetched {
    keys: Option<ParsedKeys>,
    max_age: Option<Duration>,
}

struct Fetcher {
    last_file: Option<Vec<u8>>,
    #[cfg(feature = "remote-keys")]
    http: Option<remote::Client>,
    #[cfg(feature = "remote-keys")]
    jwks_uri: Option<http::Uri>,
}

impl Fetcher {
    fn new(b: &KeySourceBuilder) -> Result<Self, SourceError> {
        Ok(Fetcher {
            last_file: None,
            #[cfg(feature = "remote-keys")]
            http: match b.origin {
                Origin::File(_) => None,
                _ => Some(remote::Client::new(b.timeout)),
            },
            #[cfg(feature = "remote-keys")]
            jwks_uri: match &b.origin {
                Origin::Jwks(u) => Some(u.clone()),
                _ => None,
            },
        })
    }

    /// Reads the file; `None` when its bytes did not change.
    fn read_file(&mut self, b: &KeySourceBuilder) -> Result<Option<ParsedKeys>, String> {
        let Origin::File(path) = &b.origin else {
            return Ok(None);
        };
        let bytes = read_bounded(path, b.limits.max_bytes)?;
        if self.last_file.as_deref() == Some(&bytes[..]) {
            return Ok(None);
        }
        // Remember even a broken file: it is retried when it changes again
        // (a half-written file), not logged again every poll.
        let parsed = glue_auth_jwt::parse_key_file(&bytes, &b.limits);
        self.last_file = Some(bytes);
        parsed.map(Some).map_err(|e| e.to_string())
    }

    async fn fetch(&mut self, b: &KeySourceBuilder) -> Result<Fetched, String> {
        match &b.origin {
            Origin::File(_) => {
                // Key files are small (bounded by `max_bytes`): a plain read
                // on the source's task, never on a request's path.
                let keys = self.read_file(b)?;
                Ok(Fetched {
                    keys,
                    max_age: None,
                })
            }
            #[cfg(feature = "remote-keys")]
            Origin::Jwks(_) | Origin::Discovery(_) => {
                let Some(client) = &self.http else {
                    return Err("no HTTP client".into());
                };
                if self.jwks_uri.is_none()
                    && let Origin::Discovery(issuer) = &b.origin
                {
                    self.jwks_uri = Some(remote::discover(client, issuer, b).await?);
                }
                let Some(uri) = self.jwks_uri.clone() else {
                    return Err("no JWKS URL".into());
                };
                let res = client.get(&uri, b.limits.max_bytes).await;
                let (body, max_age) = match res {
                    Ok(r) => r,
                    Err(e) => {
                        if matches!(b.origin, Origin::Discovery(_)) {
                            // The provider may have moved its JWKS.
                            self.jwks_uri = None;
                        }
                        return Err(e);
                    }
                };
                let parsed =
                    glue_auth_jwt::parse_jwks(&body, &b.limits).map_err(|e| e.to_string())?;
                Ok(Fetched {
                    keys: Some(parsed),
                    max_age,
                })
            }
        }
    }
}

fn read_bounded(path: &Path, max: usize) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() > max {
        return Err(format!("{}: larger than {max} bytes", path.display()));
    }
    Ok(bytes)
}

async fn run(
    weak: WeakKeySet,
    shared: Arc<Shared>,
    mut fetcher: Fetcher,
    b: KeySourceBuilder,
    mut next: Instant,
) {
    let mut last: Option<Instant> = None;
    let mut failures: u32 = 0;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(next) => {}
            () = shared.notify.notified() => {}
        }
        if let Some(last) = last {
            tokio::time::sleep_until(last + b.cooldown).await;
        }
        // Nobody holds the keys any more: the source is done.
        let Some(keys) = weak.upgrade() else {
            return;
        };
        shared.pending.store(false, Ordering::Release);
        let started = Instant::now();
        last = Some(started);
        shared.fetches.fetch_add(1, Ordering::Relaxed);
        let result = match fetcher.fetch(&b).await {
            Ok(Fetched { keys: None, .. }) => Ok(None),
            Ok(Fetched {
                keys: Some(parsed),
                max_age,
            }) => install(&keys, parsed, &b, &shared).map(|()| Some(max_age)),
            Err(e) => Err(e),
        };
        drop(keys);
        match result {
            Ok(loaded) => {
                failures = 0;
                shared.set_error(None);
                next = started
                    + if matches!(b.origin, Origin::File(_)) {
                        b.poll_interval
                    } else {
                        refresh_after(&b, loaded.flatten())
                    };
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::error!(
                    source = %b.origin,
                    error = %e,
                    failures,
                    "key source failed; the previous keys stay in use"
                );
                shared.set_error(Some(e));
                next = started
                    + match &b.origin {
                        Origin::File(_) => b.poll_interval,
                        #[cfg(feature = "remote-keys")]
                        _ => backoff(&b, failures),
                    };
            }
        }
    }
}

/// The refresh interval of a fetched set: `max-age` within the bounds, or
/// the default.
fn refresh_after(b: &KeySourceBuilder, max_age: Option<Duration>) -> Duration {
    match max_age {
        Some(age) => age.clamp(b.min_refresh, b.max_refresh),
        None => b.default_refresh.clamp(b.min_refresh, b.max_refresh),
    }
}

/// Retry delay after `failures` failures in a row: the cooldown (at least
/// one second), doubled per failure, at most `max_refresh`.
#[cfg(feature = "remote-keys")]
fn backoff(b: &KeySourceBuilder, failures: u32) -> Duration {
    let base = b.cooldown.max(Duration::from_secs(1));
    base.saturating_mul(1 << failures.min(16).saturating_sub(1))
        .min(b.max_refresh)
}

#[cfg(feature = "remote-keys")]
fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

#[cfg(feature = "remote-keys")]
fn http_url(url: &str) -> Result<http::Uri, SourceError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| SourceError::Url(format!("{url:?}: {e}")))?;
    match uri.scheme_str() {
        Some("http") if uri.authority().is_some() => Ok(uri),
        Some("https") => Err(SourceError::Url(format!(
            "{url:?}: https is not supported (no TLS in this crate): use http:// on a trusted network"
        ))),
        _ => Err(SourceError::Url(format!(
            "{url:?} is not an absolute http:// URL"
        ))),
    }
}

#[cfg(feature = "remote-keys")]
mod remote {
    //! The HTTP side: hyper-util's client, bounded in time and size.

    use std::time::Duration;

    use bytes::Bytes;
    use http::header::{ACCEPT, CACHE_CONTROL, CONTENT_LENGTH, USER_AGENT};
    use http::{Request, StatusCode, Uri};
    use http_body_util::{BodyExt as _, Empty, Limited};
    use hyper_util::client::legacy::Client as Hyper;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    use super::KeySourceBuilder;

    pub(super) struct Client {
        inner: Hyper<HttpConnector, Empty<Bytes>>,
        timeout: Duration,
    }

    impl Client {
        pub(super) fn new(timeout: Duration) -> Self {
            let mut connector = HttpConnector::new();
            connector.set_connect_timeout(Some(timeout));
            connector.set_nodelay(true);
            let inner = Hyper::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(1)
                .build(connector);
            Client { inner, timeout }
        }

        /// GET `uri`: the body (at most `max` bytes) and `max-age`.
        pub(super) async fn get(
            &self,
            uri: &Uri,
            max: usize,
        ) -> Result<(Bytes, Option<Duration>), String> {
            let req = Request::get(uri.clone())
                .header(ACCEPT, "application/json")
                .header(USER_AGENT, "glue-auth-bearer")
                .body(Empty::new())
                .map_err(|e| e.to_string())?;
            let work = async {
                let res = self.inner.request(req).await.map_err(|e| {
                    let mut msg = e.to_string();
                    let mut src = std::error::Error::source(&e);
                    while let Some(s) = src {
                        msg.push_str(": ");
                        msg.push_str(&s.to_string());
                        src = s.source();
                    }
                    msg
                })?;
                if res.status() != StatusCode::OK {
                    return Err(format!("answered {}", res.status()));
                }
                if let Some(len) = res
                    .headers()
                    .get(CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    && len > max as u64
                {
                    return Err(format!("response of {len} bytes, over {max}"));
                }
                let max_age = max_age(res.headers().get_all(CACHE_CONTROL));
                let body = Limited::new(res.into_body(), max)
                    .collect()
                    .await
                    .map_err(|e| format!("reading the body: {e}"))?
                    .to_bytes();
                Ok((body, max_age))
            };
            tokio::time::timeout(self.timeout, work)
                .await
                .map_err(|_| format!("no answer within {:?}", self.timeout))?
        }
    }

    /// `max-age` of `Cache-Control` (`no-store`/`no-cache`: zero).
    fn max_age(values: http::header::GetAll<'_, http::HeaderValue>) -> Option<Duration> {
        let mut age = None;
        for v in values.iter().filter_map(|v| v.to_str().ok()) {
            for d in v.split(',').map(str::trim) {
                let lower = d.to_ascii_lowercase();
                if lower == "no-store" || lower == "no-cache" {
                    return Some(Duration::ZERO);
                }
                if let Some(n) = lower.strip_prefix("max-age=") {
                    age = n.trim_matches('"').parse().ok().map(Duration::from_secs);
                }
            }
        }
        age
    }

    /// Reads `jwks_uri` from the issuer's discovery document.
    pub(super) async fn discover(
        client: &Client,
        issuer: &str,
        b: &KeySourceBuilder,
    ) -> Result<Uri, String> {
        #[derive(serde::Deserialize)]
        struct Doc {
            issuer: String,
            jwks_uri: String,
        }
        let url = super::discovery_url(issuer);
        let uri: Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
        let (body, _) = client.get(&uri, b.limits.max_bytes).await?;
        let doc: Doc = serde_json::from_slice(&body)
            .map_err(|e| format!("{url}: not a discovery document: {e}"))?;
        if doc.issuer != issuer {
            return Err(format!(
                "{url}: names the issuer {:?}, not {issuer:?}",
                doc.issuer
            ));
        }
        super::http_url(&doc.jwks_uri).map_err(|e| format!("{url}: jwks_uri: {e}"))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn cache_control() {
            let mut h = http::HeaderMap::new();
            assert_eq!(max_age(h.get_all(CACHE_CONTROL)), None);
            h.insert(CACHE_CONTROL, "public, max-age=300".parse().unwrap());
            assert_eq!(
                max_age(h.get_all(CACHE_CONTROL)),
                Some(Duration::from_secs(300))
            );
            h.insert(CACHE_CONTROL, "no-store".parse().unwrap());
            assert_eq!(max_age(h.get_all(CACHE_CONTROL)), Some(Duration::ZERO));
        }
    }
}
