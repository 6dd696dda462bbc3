//! The gateway service: the three auth layers in front of the demo service or
//! the upstream proxy, with tower-http's header, CORS and timeout layers
//! around them, and the operational endpoints.
//!
//! ```text
//! request ─► metrics/access log ─► sensitive headers ─► security headers ─► CORS ─► timeout
//!         ─► /healthz, /metrics, /.well-known/jwks.json (no auth)
//!         ─► BearerAuthLayer ─► ScopeLayer ─► TokenEndpointLayer ─► demo | proxy
//! ```

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use glue_auth_bearer::{BearerAuthLayer, KeySet, Validator};
use glue_auth_core::Rejection;
use glue_auth_scope::{ScopeLayer, SprykerBackend};
use glue_auth_token::store::WarehouseAssignments;
use glue_auth_token::{ClientAddress, SigningKey, TokenServer};
use http::header::{
    ACCEPT, ACCEPT_LANGUAGE, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, COOKIE, HeaderName,
    PROXY_AUTHORIZATION,
};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body as HttpBody;
use metrics_exporter_prometheus::PrometheusHandle;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceBuilder, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::body::{Body, BoxError, boxed, full};
use crate::config::{ConfigError, Cors, Settings};
use crate::demo::Demo;
use crate::keys::{self, KeyMaterial};
use crate::proxy::Proxy;
use crate::stores::{Stores, WarehouseCache};

type Inner<ReqBody> = BoxCloneSyncService<Request<ReqBody>, Response<Body>, Infallible>;

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

/// Marks answers that came through the router, so that the bare answer of
/// tower-http's `TimeoutLayer` can be told apart (and given Glue's body).
#[derive(Debug, Clone, Copy)]
struct Routed;

/// What the running gateway shares between requests, signals and the server.
pub(crate) struct Shared<ReqBody> {
    settings: Settings,
    keys: KeySet,
    validator: Validator,
    /// `None` in verify-only mode (no private key). A key reload swaps its
    /// signing key in place ([`TokenServer::signer`]).
    token: Option<TokenServer>,
    /// Users, assignments, refresh tokens, access-token log.
    stores: Stores,
    /// Bearer + scope + token endpoint + demo/proxy.
    protected: Inner<ReqBody>,
    metrics: Option<PrometheusHandle>,
    /// The last database ping of `/healthz`.
    health: HealthCache,
}

/// How long a `/healthz` database ping is reused.
const HEALTH_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// `/healthz` pings the database at most once per TTL, however often it is
/// called (one ping at a time; concurrent callers wait for it and share it).
#[derive(Debug)]
struct HealthCache {
    ttl: std::time::Duration,
    last: tokio::sync::Mutex<Option<(Instant, bool)>>,
}

impl HealthCache {
    fn new(ttl: std::time::Duration) -> Self {
        HealthCache {
            ttl,
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// Whether the database answered: the cached answer while it is fresh,
    /// else `ping()`'s.
    async fn database_up<F>(&self, ping: impl FnOnce() -> F) -> bool
    where
        F: std::future::Future<Output = bool>,
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

/// The gateway service, generic over the request body (hyper's `Incoming` in
/// the binary). Cheap to clone.
pub(crate) struct Gateway<ReqBody> {
    shared: Arc<Shared<ReqBody>>,
    outer: Inner<ReqBody>,
}

impl<ReqBody> Clone for Gateway<ReqBody> {
    fn clone(&self) -> Self {
        Gateway {
            shared: Arc::clone(&self.shared),
            outer: self.outer.clone(),
        }
    }
}

impl<ReqBody> std::fmt::Debug for Gateway<ReqBody> {
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

fn build_token_server(
    s: &Settings,
    key: SigningKey,
    stores: &Stores,
) -> Result<TokenServer, ConfigError> {
    let mut b = stores
        .token_server(key)
        .clients(s.client_ids.iter().cloned())
        .compatibility(s.compatibility)
        .lifetimes(s.lifetimes)
        .refresh_grant(s.refresh_grant)
        .body_limit(s.token_body_limit)
        .throttle(s.throttle)
        .hashing(s.hashing);
    if let Some(h) = &s.client_ip_header {
        b = b.client_address(ClientAddress::trusted_header(h.clone()));
    }
    b.build()
        .map_err(|e| ConfigError::new("token endpoint settings", e.to_string()))
}

/// Polls a store future that is known to be ready (in-memory stores).
fn ready_now<T>(fut: glue_auth_token::store::StoreFuture<'_, T>) -> Option<T> {
    let mut fut = fut;
    let mut cx = Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(v)) => Some(v),
        _ => None,
    }
}

/// Label of a path for metrics: a fixed set, never the raw path.
pub(crate) fn route_label(path: &str) -> &'static str {
    let p = path.strip_suffix('/').unwrap_or(path);
    let mut parts = p.split('/').skip(1);
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("token"), None, ..) => "/token",
        (Some("warehouse-tokens"), None, ..) => "/warehouse-tokens",
        (Some("picking-lists"), None, ..) => "/picking-lists",
        (Some("picking-lists"), Some(_), None, _) => "/picking-lists/{id}",
        (Some("picking-lists"), Some(_), Some("start-picking"), None) => {
            "/picking-lists/{id}/start-picking"
        }
        (Some("picking-lists"), Some(_), Some("picking-list-items"), None) => {
            "/picking-lists/{id}/picking-list-items"
        }
        (Some("warehouse-user-assignments"), ..) => "/warehouse-user-assignments",
        (Some("healthz"), None, ..) => "/healthz",
        (Some("metrics"), None, ..) => "/metrics",
        (Some(".well-known"), Some("jwks.json"), None, _) => "/.well-known/jwks.json",
        _ => "other",
    }
}

fn rejection_labels(r: &Rejection) -> (&'static str, &'static str) {
    match r {
        Rejection::MissingToken { .. } => ("missing_token", "missing_token"),
        Rejection::InvalidToken { reason } => ("invalid_token", reason.as_str()),
        Rejection::UnsupportedSubject => ("unsupported_subject", "unsupported_subject"),
        Rejection::Unauthorized {
            credentials: false, ..
        } => ("unauthorized", "no_credentials"),
        Rejection::Unauthorized { .. } => ("unauthorized", "insufficient_scope"),
        Rejection::AuthorizationFailed { .. } => ("authorization_failed", "authorization_failed"),
        Rejection::Unavailable { .. } => ("unavailable", "unavailable"),
        _ => ("other", "other"),
    }
}

impl<ReqBody> Gateway<ReqBody>
where
    ReqBody: HttpBody<Data = Bytes> + Send + Sync + 'static,
    ReqBody::Error: Into<BoxError>,
{
    /// Builds everything the settings describe. `metrics`: the installed
    /// Prometheus recorder, if any.
    pub(crate) fn new(
        settings: Settings,
        material: KeyMaterial,
        stores: Stores,
        metrics: Option<PrometheusHandle>,
    ) -> Result<Self, ConfigError> {
        let s = settings;
        let keys = KeySet::new(material.verify.clone())
            .map_err(|e| ConfigError::new("public_key_path", e.to_string()))?;
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
        let validator = vb.build().map_err(validator_error)?;

        let token = match material.signing {
            Some(key) => Some(build_token_server(&s, key, &stores)?),
            None => None,
        };

        // The scope layer asks synchronously whether a warehouse exists: the
        // in-memory directory answers at once; a SQL store is asked before the
        // scope layer runs (cached), see `WarehouseCache`.
        let warehouse_cache = stores.sql().cloned().map(WarehouseCache::new);
        let table =
            SprykerBackend::new().unauthenticated_status(s.compatibility.unauthenticated_status);
        let table = match (&stores, &warehouse_cache) {
            (_, Some(cache)) => {
                let cache = cache.clone();
                table.warehouse_exists(move |id| cache.exists(id))
            }
            (Stores::Memory { directory, .. }, None) => {
                let dir = directory.clone();
                table.warehouse_exists(move |id| {
                    ready_now(dir.warehouse_exists(id)).unwrap_or(false)
                })
            }
            (Stores::Sql(_), None) => table,
        };
        let table = table
            .build()
            .map_err(|e| ConfigError::new("unauthenticated_status", e.to_string()))?;

        let app: Inner<ReqBody> = match &s.upstream {
            Some(upstream) => {
                let proxy = Proxy::new(upstream, s.principal_headers.clone(), s.body_limit);
                BoxCloneSyncService::new(tower::service_fn(move |req: Request<ReqBody>| {
                    let proxy = proxy.clone();
                    async move { Ok::<_, Infallible>(proxy.call(req).await) }
                }))
            }
            None => {
                let demo = Demo::new(
                    stores.assignments() as Arc<dyn WarehouseAssignments>,
                    s.body_limit,
                );
                BoxCloneSyncService::new(tower::service_fn(move |req: Request<ReqBody>| {
                    let demo = demo.clone();
                    async move { Ok::<_, Infallible>(demo.call(req).await) }
                }))
            }
        };
        // The token endpoint answers behind the scope layer: the route table
        // decides who may call /warehouse-tokens, the bearer layer has
        // validated the token once.
        let app: Inner<ReqBody> = match &token {
            Some(server) => BoxCloneSyncService::new(
                ServiceBuilder::new()
                    .map_response(|res: Response<_>| res.map(boxed))
                    .layer(server.layer())
                    .service(app),
            ),
            None => app,
        };
        let scoped: Inner<ReqBody> = BoxCloneSyncService::new(
            ServiceBuilder::new()
                .map_response(|res: Response<_>| res.map(boxed))
                .layer(ScopeLayer::new(table))
                .service(app),
        );
        let scoped = match warehouse_cache {
            Some(cache) => {
                BoxCloneSyncService::new(tower::service_fn(move |req: Request<ReqBody>| {
                    let cache = cache.clone();
                    let scoped = scoped.clone();
                    async move {
                        if let Err(e) = cache.prepare(req.extensions().get()).await {
                            tracing::warn!(error = %e, "warehouse look-up failed: store unavailable");
                            return Ok(unavailable());
                        }
                        scoped.oneshot(req).await
                    }
                }))
            }
            None => scoped,
        };
        let protected = ServiceBuilder::new()
            .map_response(|res: Response<_>| res.map(boxed))
            .layer(BearerAuthLayer::new(validator.clone()))
            .service(scoped);
        let protected = BoxCloneSyncService::new(protected);

        let timeout_status = if s.upstream.is_some() {
            StatusCode::GATEWAY_TIMEOUT
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        let cors = match &s.cors {
            Cors::Off => None,
            Cors::Any => Some(AllowOrigin::any()),
            Cors::List(list) => Some(AllowOrigin::list(list.iter().cloned())),
        }
        .map(|origin| {
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
                .allow_credentials(false)
        });
        let shared = Arc::new(Shared {
            settings: s,
            keys,
            validator,
            token,
            stores,
            protected,
            metrics,
            health: HealthCache::new(HEALTH_CACHE_TTL),
        });
        let core_shared = Arc::clone(&shared);
        let core = tower::service_fn(move |req: Request<ReqBody>| {
            let shared = Arc::clone(&core_shared);
            async move {
                let mut res = shared.route(req).await;
                res.extensions_mut().insert(Routed);
                Ok::<_, Infallible>(res)
            }
        });
        let security: Vec<SetResponseHeaderLayer<HeaderValue>> = if shared.settings.security_headers
        {
            SECURITY_HEADERS
                .iter()
                .map(|(k, v)| {
                    SetResponseHeaderLayer::overriding(
                        HeaderName::from_static(k),
                        HeaderValue::from_static(v),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        let timed = ServiceBuilder::new()
            .option_layer(cors)
            .layer(TimeoutLayer::with_status_code(
                timeout_status,
                shared.settings.request_timeout,
            ))
            .service(core);
        let mut outer: Inner<ReqBody> = BoxCloneSyncService::new(timed);
        for layer in security.into_iter().rev() {
            outer = BoxCloneSyncService::new(layer.layer(outer));
        }
        let outer = BoxCloneSyncService::new(
            SetSensitiveRequestHeadersLayer::new([AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE])
                .layer(outer),
        );
        Ok(Gateway { shared, outer })
    }

    /// Whether POST /token is served (a private key is configured).
    pub(crate) fn issues_tokens(&self) -> bool {
        self.shared.token.is_some()
    }

    /// Answers one request: metrics and the access log around the whole stack.
    pub(crate) async fn serve(&self, req: Request<ReqBody>) -> Response<Body> {
        let start = Instant::now();
        let route = route_label(req.uri().path());
        let method = req.method().clone();
        let preflight = method == Method::OPTIONS && self.shared.settings.cors != Cors::Off;
        let mut res = match self.outer.clone().oneshot(req).await {
            Ok(res) => res,
            Err(never) => match never {},
        };
        if preflight && res.status() == StatusCode::OK {
            *res.status_mut() = StatusCode::NO_CONTENT;
        }
        let timed_out = (res.status() == StatusCode::GATEWAY_TIMEOUT
            || res.status() == StatusCode::SERVICE_UNAVAILABLE)
            && res.extensions().get::<Routed>().is_none();
        if timed_out {
            metrics::counter!("glue_gateway_timeouts_total", "route" => route).increment(1);
            // tower-http's timeout answer has no body: give it Glue's.
            let status = res.status();
            let message = if status == StatusCode::GATEWAY_TIMEOUT {
                "Gateway timeout."
            } else {
                "Service temporarily unavailable."
            };
            let glue = glue_auth_core::GlueError::new_static(status, None, message)
                .to_response(glue_auth_core::Envelope::Plain);
            let (parts, _) = res.into_parts();
            let mut fresh = Response::from_parts(parts, full(glue.into_body()));
            fresh
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            if status == StatusCode::SERVICE_UNAVAILABLE {
                // As every other 503 of the gateway.
                fresh.headers_mut().insert(
                    http::header::RETRY_AFTER,
                    HeaderValue::from(RETRY_AFTER_SECS),
                );
            }
            res = fresh;
        }
        let elapsed = start.elapsed();
        let status = res.status();
        let (outcome, kind, reason) = match res.extensions().get::<Rejection>() {
            Some(r) => {
                let (kind, reason) = rejection_labels(r);
                metrics::counter!("glue_gateway_rejections_total", "kind" => kind, "reason" => reason)
                    .increment(1);
                ("rejected", kind, reason)
            }
            None if status.is_server_error() => ("server_error", "", ""),
            None if status.is_client_error() => ("client_error", "", ""),
            None => ("ok", "", ""),
        };
        metrics::counter!(
            "glue_gateway_requests_total",
            "route" => route,
            "outcome" => outcome,
            "status" => status.as_str().to_owned()
        )
        .increment(1);
        metrics::histogram!("glue_gateway_request_duration_seconds", "route" => route)
            .record(elapsed.as_secs_f64());
        if method == Method::POST && (route == "/token" || route == "/warehouse-tokens") {
            metrics::histogram!(
                "glue_gateway_token_endpoint_duration_seconds",
                "endpoint" => route,
                "status" => status.as_str().to_owned()
            )
            .record(elapsed.as_secs_f64());
        }
        tracing::info!(
            target: "glue_gateway::access",
            method = %method,
            route,
            status = status.as_u16(),
            outcome,
            rejection = kind,
            reason,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
        res
    }

    /// SIGHUP: reads the key files again and swaps keys without dropping
    /// connections. On any error the old keys stay.
    pub(crate) fn reload_keys(&self) -> Result<usize, ConfigError> {
        let s = &self.shared;
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

impl<ReqBody> Shared<ReqBody>
where
    ReqBody: HttpBody<Data = Bytes> + Send + Sync + 'static,
    ReqBody::Error: Into<BoxError>,
{
    async fn route(self: Arc<Self>, req: Request<ReqBody>) -> Response<Body> {
        let path = req.uri().path();
        let get = req.method() == Method::GET || req.method() == Method::HEAD;
        if get && path == "/healthz" {
            return self.health().await;
        }
        if get && path == "/.well-known/jwks.json" {
            let body = glue_auth_jwt::jwks_json(&self.keys.keys());
            let mut res = json_response(StatusCode::OK, body, false);
            res.headers_mut().insert(
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            return res;
        }
        if get
            && path == "/metrics"
            && let Some(handle) = &self.metrics
        {
            let stats = self.validator.cache_stats();
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
            let mut res = Response::new(full(handle.render()));
            res.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            return res;
        }
        match self.protected.clone().oneshot(req).await {
            Ok(res) => res,
            Err(never) => match never {},
        }
    }
}

impl<ReqBody> Shared<ReqBody> {
    /// `GET /healthz`: the process serves (always 200: validating tokens needs
    /// no database), and whether the database answers.
    async fn health(&self) -> Response<Body> {
        let kind = self.stores.kind();
        let (status, database) = match self.stores.sql() {
            None => ("ok", "ok"),
            Some(store) => {
                let up = self
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
}

/// How long `/healthz` waits for the database.
const HEALTH_PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// `Retry-After` of the gateway's 503 answers, seconds.
const RETRY_AFTER_SECS: u64 = 5;

/// 503 with `Retry-After` and Glue's body (a store that is down).
fn unavailable() -> Response<Body> {
    let glue = glue_auth_core::GlueError::new_static(
        StatusCode::SERVICE_UNAVAILABLE,
        None,
        "Service temporarily unavailable.",
    )
    .to_response(glue_auth_core::Envelope::Plain);
    let (mut parts, body) = glue.into_parts();
    parts.headers.insert(
        http::header::RETRY_AFTER,
        HeaderValue::from(RETRY_AFTER_SECS),
    );
    Response::from_parts(parts, full(body))
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

/// `Service` impl so hyper (through `TowerToHyperService`) can drive it.
impl<ReqBody> Service<Request<ReqBody>> for Gateway<ReqBody>
where
    ReqBody: HttpBody<Data = Bytes> + Send + Sync + 'static,
    ReqBody::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Response<Body>, Infallible>> + Send>,
    >;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.serve(req).await) })
    }
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
            let cache = HealthCache::new(std::time::Duration::from_millis(200));
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
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            assert!(!cache.database_up(|| ping(false)).await);
            assert_eq!(pings.load(Ordering::SeqCst), 2);
        });
    }

    #[test]
    fn route_labels_are_bounded() {
        assert_eq!(route_label("/token/"), "/token");
        assert_eq!(route_label("/picking-lists/abc"), "/picking-lists/{id}");
        assert_eq!(
            route_label("/picking-lists/abc/picking-list-items"),
            "/picking-lists/{id}/picking-list-items"
        );
        assert_eq!(route_label("/picking-lists/abc/x/y"), "other");
        assert_eq!(route_label("/random/thing"), "other");
        assert_eq!(
            route_label("/.well-known/jwks.json"),
            "/.well-known/jwks.json"
        );
    }
}
