//! The gateway service: the operational endpoints, then the request path
//! composed once at start ([`crate::stack`]), with CORS, the request timeout,
//! Glue's security headers, metrics and the access log around it.
//!
//! ```text
//! request ─► metrics/access log ─► security headers
//!         ─► /healthz, /metrics, /.well-known/jwks.json, /openapi.json (no auth)
//!         ─► CORS ─► request timeout
//!         ─► BearerAuth ─► WarehouseCheck ─► Scope ─► TokenEndpoint ─► demo | proxy
//! ```
//!
//! Nothing is rebuilt per request and nothing on the path takes a lock: a
//! key reload swaps the key handles ([`KeySet::replace`],
//! [`glue_auth_token::Signer::replace`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use glue_auth_bearer::sources::KeySource;
use glue_auth_bearer::{BearerAuthLayer, KeySet, Validator};
use glue_auth_core::Rejection;
use glue_auth_scope::{Policy, ScopeLayer, SprykerBackend};
use glue_auth_token::{ClientAddress, SigningKey, TokenServer};
use http::header::{
    ACCEPT, ACCEPT_LANGUAGE, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, COOKIE,
    PROXY_AUTHORIZATION, RETRY_AFTER,
};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body as HttpBody;
use metrics_exporter_prometheus::PrometheusHandle;
use tower::util::Either;
use tower::{Layer, ServiceExt};
use tower_http::cors::{AllowOrigin, Cors, CorsLayer};

use crate::assignments::Assignments;
use crate::body::{Body, BoxError, boxed, full};
use crate::config::{ConfigError, Settings, Unmatched};
use crate::demo::Demo;
use crate::keys::{self, KeyMaterial};
use crate::observe::{Metrics, route_index};
use crate::proxy::Proxy;
use crate::reads::Reads;
use crate::stack::{Backend, Deadline, Routes, Stack, TimedOut, WarehouseCheck};
use crate::stores::Stores;

/// Glue's security headers (SPEC §8).
pub(crate) const SECURITY_HEADERS: [(&str, &str); 6] = [
    ("x-frame-options", "SAMEORIGIN"),
    ("content-security-policy", "frame-ancestors 'self'"),
    ("x-content-type-options", "nosniff"),
    ("x-xss-protection", "1; mode=block"),
    ("referrer-policy", "same-origin"),
    (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains; preload",
    ),
];

/// [`SECURITY_HEADERS`] as header names and values, made once (an insert
/// by `&str` parses the name every time).
static SECURITY_HEADER_VALUES: std::sync::LazyLock<[(http::HeaderName, HeaderValue); 6]> =
    std::sync::LazyLock::new(|| {
        SECURITY_HEADERS.map(|(name, value)| {
            (
                http::HeaderName::from_static(name),
                HeaderValue::from_static(value),
            )
        })
    });

/// `Retry-After` of the gateway's 503 answers, seconds.
pub(crate) const RETRY_AFTER_SECS: u32 = 5;

/// How long a `/healthz` database ping is reused.
const HEALTH_CACHE_TTL: Duration = Duration::from_secs(1);

/// How long `/healthz` waits for the database.
const HEALTH_PING_TIMEOUT: Duration = Duration::from_secs(2);

/// `/healthz` pings the database at most once per TTL, however often it is
/// called (one ping at a time; concurrent callers wait for it and share it).
#[derive(Debug)]
struct HealthCache {
    ttl: Duration,
    last: tokio::sync::Mutex<Option<(Instant, bool)>>,
}

impl HealthCache {
    fn new(ttl: Duration) -> Self {
        HealthCache {
            ttl,
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// Whether the database answered: the cached answer while it is fresh,
    /// else `ping()`'s.
    async fn database_up<F>(&self, ping: impl FnOnce() -> F) -> bool
    where
        F: Future<Output = bool>,
    {
        let mut last = self.last.lock().await;
        if let Some((at, up)) = *last
            && at.elapsed() < self.ttl
        {
            return up;
        }
        let up = ping().await;
        *last = Some((Instant::now(), up));
        up
    }
}

/// The request path under the request timeout, with CORS around it when
/// configured.
type Outer = Either<Cors<Deadline<Stack>>, Deadline<Stack>>;

/// What the running gateway shares between requests, signals and the server.
struct Shared {
    settings: Settings,
    keys: KeySet,
    /// Verify-only mode following a JWK Set (`jwks_url`): the source that
    /// keeps `keys` fresh.
    key_source: Option<KeySource>,
    validator: Validator,
    /// `None` in verify-only mode (no private key). A key reload swaps its
    /// signing key in place ([`TokenServer::signer`]).
    token: Option<TokenServer>,
    stores: Stores,
    outer: Outer,
    metrics: Metrics,
    prometheus: Option<PrometheusHandle>,
    health: HealthCache,
    /// Lines the non-blocking log writer dropped (its buffer was full).
    dropped_log_lines: Option<crate::logwriter::LogWriter>,
    /// The shared login throttle (`redis_url`), for its metrics.
    #[cfg(feature = "redis")]
    redis: Option<glue_auth_redis::RedisThrottle>,
    /// A plain-http upstream: each downstream connection drives upstream
    /// connections of its own ([`crate::proxy::Local`]).
    direct_upstream: bool,
}

/// The gateway service. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub(crate) struct Gateway {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("keys", &self.shared.keys)
            .field("upstream", &self.shared.settings.upstream)
            .finish_non_exhaustive()
    }
}

fn validator_error(e: glue_auth_bearer::ConfigError) -> ConfigError {
    use glue_auth_bearer::ConfigError as E;
    let setting = match e {
        E::MaxTokenLen(_) => "max_token_size",
        E::Leeway(_) => "leeway",
        E::EmptyAudienceList => "audiences",
        E::CacheCapacity => "token_cache_capacity",
        _ => "validator",
    };
    ConfigError::new(setting, e.to_string())
}

/// The shared login throttle `redis_url` names (not connected yet), with
/// the throttle settings.
#[cfg(feature = "redis")]
pub(crate) fn redis_throttle(
    s: &Settings,
    r: &crate::config::RedisSettings,
) -> Result<glue_auth_redis::RedisThrottle, ConfigError> {
    let mut b = glue_auth_redis::RedisThrottle::builder(r.url.clone())
        .settings(s.throttle)
        .timeout(r.timeout);
    if let Some(p) = &r.key_prefix {
        b = b.key_prefix(p.clone());
    }
    b.build()
        .map_err(|e| ConfigError::new("redis_url", e.to_string()))
}

/// The demo page's redirect URIs, registered in demo mode when none are
/// configured.
const DEMO_REDIRECT_URIS: [&str; 3] = [
    "http://127.0.0.1/demo/",
    "http://localhost/demo/",
    "http://[::1]/demo/",
];

fn build_token_server(
    s: &Settings,
    key: SigningKey,
    stores: &Stores,
    #[cfg(feature = "redis")] redis: Option<&glue_auth_redis::RedisThrottle>,
) -> Result<TokenServer, ConfigError> {
    let mut b = stores
        .token_server(key)
        .clients(s.client_ids.iter().cloned())
        .compatibility(s.compatibility)
        .lifetimes(s.lifetimes)
        .refresh_grant(s.refresh_grant)
        .body_limit(s.token_body_limit)
        .throttle(s.throttle)
        .hashing(s.hashing)
        .plain_pkce(s.plain_pkce);
    for (client, uri) in &s.redirect_uris {
        b = b.redirect_uris(client, [uri]);
    }
    // Demo mode without configured redirect URIs: the demo page's, on any
    // loopback origin and port (`/demo/` here, or a second origin).
    if s.upstream.is_none() && s.redirect_uris.is_empty() {
        b = b.redirect_uris(&s.client_ids[0], DEMO_REDIRECT_URIS);
    }
    if let Some(h) = &s.client_ip_header {
        b = b.client_address(ClientAddress::trusted_header(h.clone()));
    }
    #[cfg(feature = "redis")]
    if let Some(t) = redis {
        b = b.login_throttle(t.clone());
    }
    b.build()
        .map_err(|e| ConfigError::new("token endpoint settings", e.to_string()))
}

fn build_validator(s: &Settings, keys: &KeySet) -> Result<Validator, ConfigError> {
    let mut vb = Validator::builder(keys.clone())
        .leeway(s.leeway)
        .max_token_len(s.max_token_size)
        .missing_token_status(s.compatibility.unauthenticated_status);
    if !s.audiences.is_empty() {
        vb = vb.audiences(s.audiences.iter().cloned());
    }
    vb = if s.token_cache_capacity == 0 {
        vb.no_cache()
    } else {
        vb.cache_capacity(s.token_cache_capacity)
    };
    vb.build().map_err(validator_error)
}

fn cors_layer(s: &Settings) -> Option<CorsLayer> {
    let origin = match &s.cors {
        crate::config::Cors::Off => return None,
        crate::config::Cors::Any => AllowOrigin::any(),
        crate::config::Cors::List(list) => AllowOrigin::list(list.iter().cloned()),
    };
    Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PATCH,
                Method::PUT,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers([AUTHORIZATION, CONTENT_TYPE, ACCEPT, ACCEPT_LANGUAGE])
            // A browser page shows a 429's wait (SPEC §2a): without this it
            // cannot read the header cross-origin.
            .expose_headers([RETRY_AFTER])
            .allow_credentials(false),
    )
}

impl Gateway {
    /// Builds everything the settings describe, once. `prometheus`: the
    /// installed recorder, if any; `dropped_log_lines`: the log writer's
    /// drop counter.
    pub(crate) fn new(
        settings: Settings,
        material: KeyMaterial,
        stores: Stores,
        #[cfg(feature = "redis")] redis: Option<glue_auth_redis::RedisThrottle>,
        prometheus: Option<PrometheusHandle>,
        dropped_log_lines: Option<crate::logwriter::LogWriter>,
    ) -> Result<Self, ConfigError> {
        let s = settings;
        let (keys, key_source) = match &s.jwks {
            Some(j) => {
                let source = KeySource::jwks_url(&j.url)
                    .map_err(|e| ConfigError::new("jwks_url", e.to_string()))?
                    .cooldown(j.cooldown)
                    .min_refresh(j.min_refresh)
                    .max_refresh(j.max_refresh)
                    .spawn()
                    .map_err(|e| ConfigError::new("jwks_url", e.to_string()))?;
                (source.key_set(), Some(source))
            }
            None => (
                KeySet::new(material.verify.clone())
                    .map_err(|e| ConfigError::new("public_key_path", e.to_string()))?,
                None,
            ),
        };
        let validator = build_validator(&s, &keys)?;
        let token = match material.signing {
            Some(key) => Some(build_token_server(
                &s,
                key,
                &stores,
                #[cfg(feature = "redis")]
                redis.as_ref(),
            )?),
            None => None,
        };

        // The scope layer asks synchronously whether a warehouse exists;
        // `WarehouseCheck` has made sure the cache knows (SPEC §5.2).
        let reads = Arc::new(Reads::new(stores.assignments()));
        let known = Arc::clone(&reads);
        let unmatched = match s.unmatched_routes {
            Unmatched::Deny => Policy::deny(),
            Unmatched::Authenticated => Policy::authenticated(),
            Unmatched::Public => Policy::public(),
        };
        let table = SprykerBackend::new()
            .unauthenticated_status(s.compatibility.unauthenticated_status)
            .warehouse_exists(move |id| known.warehouse_known(id))
            .into_builder()
            .default_policy(unmatched)
            .build()
            .map_err(|e| ConfigError::new("unauthenticated_status", e.to_string()))?;

        let backend = match &s.upstream {
            Some(upstream) => Backend::Proxy(Arc::new(
                Proxy::new(
                    upstream,
                    s.principal_headers.clone(),
                    s.body_limit,
                    s.upstream_ca_file.as_deref(),
                )
                .map_err(|e| ConfigError::new("upstream_ca_file", e))?,
            )),
            None => Backend::Demo(Demo::new(
                Arc::clone(&reads),
                Assignments::new(stores.assignment_store(), Some(Arc::clone(&reads))),
                s.body_limit,
            )),
        };
        let direct_upstream = matches!(&backend, Backend::Proxy(p) if p.is_direct());
        // The token endpoint answers behind the scope layer: the route table
        // decides who may call /warehouse-tokens; the bearer layer has
        // validated the token once.
        let routes = match &token {
            Some(server) => Routes::Issuing(server.layer().layer(backend)),
            None => Routes::VerifyOnly(backend),
        };
        let stack: Stack = BearerAuthLayer::new(validator.clone()).layer(WarehouseCheck::new(
            ScopeLayer::new(table).layer(routes),
            reads,
        ));
        let timed = Deadline::new(stack, s.request_timeout, s.upstream.is_some());
        let outer = match cors_layer(&s) {
            Some(cors) => Either::Left(cors.layer(timed)),
            None => Either::Right(timed),
        };
        Ok(Gateway {
            shared: Arc::new(Shared {
                settings: s,
                keys,
                key_source,
                validator,
                token,
                stores,
                outer,
                metrics: Metrics::new(),
                prometheus,
                health: HealthCache::new(HEALTH_CACHE_TTL),
                dropped_log_lines,
                #[cfg(feature = "redis")]
                redis,
                direct_upstream,
            }),
        })
    }

    /// Whether each downstream connection drives upstream connections of
    /// its own ([`crate::proxy::Local`]: a plain-http upstream).
    pub(crate) fn direct_upstream(&self) -> bool {
        self.shared.direct_upstream
    }

    /// Whether POST /token is served (a private key is configured).
    pub(crate) fn issues_tokens(&self) -> bool {
        self.shared.token.is_some()
    }

    /// Answers one request: metrics and the access log around the whole
    /// path.
    pub(crate) async fn serve<B>(&self, mut req: Request<B>) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let s = &*self.shared;
        let start = Instant::now();
        let route = route_index(req.uri().path());
        let method = req.method().clone();
        // Credentials never reach a log or a `Debug` print of the request.
        for name in [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE] {
            if let http::header::Entry::Occupied(mut e) = req.headers_mut().entry(name) {
                e.iter_mut().for_each(|v| v.set_sensitive(true));
            }
        }
        let mut res = match self.operational(&req).await {
            Some(res) => res,
            None => match crate::screen::screen(&mut req) {
                Ok(()) => self.protected(req, route).await,
                Err(refused) => refused.answer(&req),
            },
        };
        if s.settings.security_headers {
            let h = res.headers_mut();
            for (name, value) in SECURITY_HEADER_VALUES.iter() {
                h.insert(name.clone(), value.clone());
            }
        }
        let status = res.status();
        let elapsed = start.elapsed();
        let (outcome, kind, reason) = s.metrics.record(
            route,
            &method,
            status,
            res.extensions().get::<Rejection>(),
            elapsed,
        );
        crate::logformat::Access {
            method: &method,
            route: crate::observe::ROUTES[route],
            status: status.as_u16(),
            outcome,
            rejection: kind,
            reason,
            elapsed_us: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        }
        .log();
        res
    }

    /// The request path: CORS, the request timeout, the auth layers, the
    /// backend.
    async fn protected<B>(&self, req: Request<B>, route: usize) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let s = &*self.shared;
        let preflight =
            req.method() == Method::OPTIONS && s.settings.cors != crate::config::Cors::Off;
        let mut res = match s.outer.clone().oneshot(req).await {
            Ok(res) => res,
            Err(never) => match never {},
        };
        if preflight && res.status() == StatusCode::OK {
            *res.status_mut() = StatusCode::NO_CONTENT;
        }
        if res.extensions().get::<TimedOut>().is_some() {
            s.metrics.timeout(route);
        }
        res.map(boxed)
    }

    /// `/healthz`, `/metrics`, `/.well-known/jwks.json`, `/openapi.json`: no
    /// authentication.
    async fn operational<B>(&self, req: &Request<B>) -> Option<Response<Body>> {
        let s = &*self.shared;
        let get = req.method() == Method::GET || req.method() == Method::HEAD;
        if !get {
            // The gateway's own resources: another method is 405 with
            // `Allow`, not a 404 from the demo or a trip to the upstream.
            // OPTIONS goes on (CORS preflights).
            let path = req.uri().path();
            let own = matches!(
                path,
                "/healthz" | "/.well-known/jwks.json" | crate::openapi::PATH
            ) || (path == "/metrics" && s.prometheus.is_some());
            if own && req.method() != Method::OPTIONS {
                let envelope = glue_auth_core::Envelope::for_request(req.method(), req.headers());
                let mut res = glue_auth_core::GlueError::new_static(
                    StatusCode::METHOD_NOT_ALLOWED,
                    None,
                    "Method not allowed.",
                )
                .to_response(envelope)
                .map(full);
                res.headers_mut()
                    .insert(http::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
                return Some(res);
            }
            return None;
        }
        match req.uri().path() {
            "/healthz" => Some(self.health().await),
            "/.well-known/jwks.json" => {
                let body = glue_auth_jwt::jwks_json(&s.keys.keys());
                let mut res = json_response(StatusCode::OK, body, false);
                res.headers_mut().insert(
                    CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=300"),
                );
                Some(res)
            }
            crate::openapi::PATH => {
                let mut res = Response::new(full(crate::openapi::DOCUMENT));
                res.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static(crate::openapi::CONTENT_TYPE),
                );
                Some(res)
            }
            "/metrics" => s
                .prometheus
                .as_ref()
                .map(|handle| self.render_metrics(handle)),
            _ => None,
        }
    }

    fn render_metrics(&self, handle: &PrometheusHandle) -> Response<Body> {
        let s = &*self.shared;
        let stats = s.validator.cache_stats();
        metrics::counter!("glue_gateway_token_cache_hits_total").absolute(stats.hits);
        metrics::counter!("glue_gateway_token_cache_misses_total").absolute(stats.misses);
        metrics::gauge!("glue_gateway_token_cache_entries").set(stats.entries as f64);
        let lookups = stats.hits + stats.misses;
        let ratio = if lookups == 0 {
            0.0
        } else {
            stats.hits as f64 / lookups as f64
        };
        metrics::gauge!("glue_gateway_token_cache_hit_ratio").set(ratio);
        if let Some(dropped) = &s.dropped_log_lines {
            metrics::counter!("glue_gateway_log_lines_dropped_total")
                .absolute(dropped.dropped_lines());
        }
        #[cfg(feature = "redis")]
        if let Some(redis) = &s.redis {
            let stats = redis.stats();
            metrics::counter!("glue_gateway_login_throttle_fallbacks_total")
                .absolute(stats.fallbacks);
            metrics::counter!("glue_gateway_login_throttle_redis_outages_total")
                .absolute(stats.outages);
            metrics::gauge!("glue_gateway_login_throttle_redis_up").set(if stats.available {
                1.0
            } else {
                0.0
            });
        }
        let mut res = Response::new(full(handle.render()));
        res.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        res
    }

    /// `GET /healthz`: the process serves (always 200: validating tokens needs
    /// no database), and whether the database answers.
    async fn health(&self) -> Response<Body> {
        let s = &*self.shared;
        let kind = s.stores.kind();
        let (status, database) = match s.stores.sql() {
            None => ("ok", "ok"),
            Some(store) => {
                let up = s
                    .health
                    .database_up(|| async {
                        match tokio::time::timeout(HEALTH_PING_TIMEOUT, store.ping()).await {
                            Ok(Ok(())) => true,
                            Ok(Err(e)) => {
                                tracing::warn!(error = %e, "health check: database unavailable");
                                false
                            }
                            Err(_) => {
                                tracing::warn!("health check: database did not answer in time");
                                false
                            }
                        }
                    })
                    .await;
                if up {
                    ("ok", "ok")
                } else {
                    ("degraded", "unavailable")
                }
            }
        };
        metrics::gauge!("glue_gateway_database_up").set(if database == "ok" { 1.0 } else { 0.0 });
        let body = serde_json::json!({
            "status": status,
            "database": database,
            "store": kind,
        });
        json_response(StatusCode::OK, body.to_string(), true)
    }

    /// Verify-only with `jwks_url`: waits until the first key set arrived
    /// (or `timeout`); `true` without a JWKS URL.
    pub(crate) async fn keys_ready(&self, timeout: Duration) -> bool {
        match &self.shared.key_source {
            Some(source) => source.ready(timeout).await,
            None => true,
        }
    }

    /// SIGHUP (or a changed key file): reads the key files again and swaps
    /// keys without dropping connections or rebuilding anything. On any
    /// error the old keys stay. With `jwks_url`: asks for a refetch.
    pub(crate) fn reload_keys(&self) -> Result<usize, ConfigError> {
        let s = &self.shared;
        if let Some(source) = &s.key_source {
            source.refresh();
            return Ok(s.keys.keys().len());
        }
        let material = keys::load(&s.settings)?;
        let new_key = match (&s.token, material.signing) {
            (Some(_), Some(key)) => Some(key),
            (None, None) => None,
            _ => {
                return Err(ConfigError::new(
                    "private_key_path",
                    "a reload cannot switch between signing and verify-only mode; restart instead",
                ));
            }
        };
        let count = material.verify.len();
        s.keys
            .replace(material.verify)
            .map_err(|e| ConfigError::new("public_key_path", e.to_string()))?;
        // The same server keeps its throttle counters, hashing pool and
        // requests in flight; only the key changes.
        if let (Some(server), Some(key)) = (&s.token, new_key) {
            server.signer().replace(key);
        }
        Ok(count)
    }
}

fn json_response(status: StatusCode, body: String, no_store: bool) -> Response<Body> {
    let mut res = Response::new(full(body));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if no_store {
        res.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_pings_are_cached_for_the_ttl() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let cache = HealthCache::new(Duration::from_millis(200));
            let pings = AtomicU32::new(0);
            let ping = |up: bool| {
                pings.fetch_add(1, Ordering::SeqCst);
                async move { up }
            };
            assert!(cache.database_up(|| ping(true)).await);
            for _ in 0..20 {
                // Fresh: the cached answer, no ping.
                assert!(cache.database_up(|| ping(false)).await);
            }
            assert_eq!(pings.load(Ordering::SeqCst), 1);
            tokio::time::sleep(Duration::from_millis(250)).await;
            assert!(!cache.database_up(|| ping(false)).await);
            assert_eq!(pings.load(Ordering::SeqCst), 2);
        });
    }
}
