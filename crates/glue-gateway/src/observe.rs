//! Request metrics and the access log, cheap on the hot path: every metric
//! handle is registered once (the first time its label set is seen) and then
//! reused from a lock-free slot; no label string is formatted per request.

use std::sync::OnceLock;
use std::time::Duration;

use glue_auth_core::Rejection;
use http::{Method, StatusCode};
use metrics::{Counter, Histogram};

/// The route labels: a fixed set, never the raw path.
pub(crate) const ROUTES: [&str; 13] = [
    "/token",
    "/authorize",
    "/warehouse-tokens",
    "/picking-lists",
    "/picking-lists/{id}",
    "/picking-lists/{id}/start-picking",
    "/picking-lists/{id}/picking-list-items",
    "/warehouse-user-assignments",
    "/healthz",
    "/metrics",
    "/.well-known/jwks.json",
    "/openapi.json",
    "other",
];

/// Index into [`ROUTES`] of a path.
pub(crate) fn route_index(path: &str) -> usize {
    let p = path.strip_suffix('/').unwrap_or(path);
    let mut parts = p.split('/').skip(1);
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("token"), None, ..) => 0,
        (Some("authorize"), None, ..) => 1,
        (Some("warehouse-tokens"), None, ..) => 2,
        (Some("picking-lists"), None, ..) => 3,
        (Some("picking-lists"), Some(_), None, _) => 4,
        (Some("picking-lists"), Some(_), Some("start-picking"), None) => 5,
        (Some("picking-lists"), Some(_), Some("picking-list-items"), None) => 6,
        (Some("warehouse-user-assignments"), ..) => 7,
        (Some("healthz"), None, ..) => 8,
        (Some("metrics"), None, ..) => 9,
        (Some(".well-known"), Some("jwks.json"), None, _) => 10,
        (Some("openapi.json"), None, ..) => 11,
        _ => 12,
    }
}

/// Label of a path for metrics.
#[cfg(test)]
pub(crate) fn route_label(path: &str) -> &'static str {
    ROUTES[route_index(path)]
}

/// `(kind, reason)` labels of a rejection.
pub(crate) fn rejection_labels(r: &Rejection) -> (&'static str, &'static str) {
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
        Rejection::NoActiveWarehouse => ("forbidden", "no_active_warehouse"),
        Rejection::MissingLayer { .. } => ("misconfigured", "missing_layer"),
        _ => ("other", "other"),
    }
}

const STATUSES: usize = 900; // 100..=999
const OUTCOMES: [&str; 4] = ["ok", "rejected", "client_error", "server_error"];

fn status_slot(status: StatusCode) -> usize {
    usize::from(status.as_u16())
        .saturating_sub(100)
        .min(STATUSES - 1)
}

/// Lazily registered handles for one label dimension of statuses.
struct PerStatus<T>(OnceLock<Box<[OnceLock<T>]>>);

impl<T> PerStatus<T> {
    const fn new() -> Self {
        PerStatus(OnceLock::new())
    }

    fn get(&self, status: StatusCode, register: impl FnOnce() -> T) -> &T {
        let slots = self
            .0
            .get_or_init(|| (0..STATUSES).map(|_| OnceLock::new()).collect());
        slots[status_slot(status)].get_or_init(register)
    }
}

/// Every metric the request path records, registered once.
pub(crate) struct Metrics {
    /// `[route][outcome]`, then per status.
    requests: Box<[PerStatus<Counter>]>,
    durations: Box<[Histogram]>,
    timeouts: Box<[Counter]>,
    /// `/token`, `/warehouse-tokens`, per status.
    token_durations: [PerStatus<Histogram>; 2],
    rejections: moka::sync::Cache<(&'static str, &'static str), Counter>,
}

impl Metrics {
    /// Registers the fixed handles with the installed recorder (a no-op
    /// recorder when metrics are off).
    pub(crate) fn new() -> Self {
        Metrics {
            requests: (0..ROUTES.len() * OUTCOMES.len())
                .map(|_| PerStatus::new())
                .collect(),
            durations: ROUTES
                .iter()
                .map(
                    |r| metrics::histogram!("glue_gateway_request_duration_seconds", "route" => *r),
                )
                .collect(),
            timeouts: ROUTES
                .iter()
                .map(|r| metrics::counter!("glue_gateway_timeouts_total", "route" => *r))
                .collect(),
            token_durations: [PerStatus::new(), PerStatus::new()],
            rejections: moka::sync::Cache::new(64),
        }
    }

    pub(crate) fn timeout(&self, route: usize) {
        self.timeouts[route].increment(1);
    }

    /// Records one answered request; returns the outcome and rejection labels
    /// for the access log.
    pub(crate) fn record(
        &self,
        route: usize,
        method: &Method,
        status: StatusCode,
        rejection: Option<&Rejection>,
        elapsed: Duration,
    ) -> (&'static str, &'static str, &'static str) {
        let (outcome, kind, reason) = match rejection {
            Some(r) => {
                let (kind, reason) = rejection_labels(r);
                self.rejections
                    .get_with((kind, reason), || {
                        metrics::counter!("glue_gateway_rejections_total", "kind" => kind, "reason" => reason)
                    })
                    .increment(1);
                (1, kind, reason)
            }
            None if status.is_server_error() => (3, "", ""),
            None if status.is_client_error() => (2, "", ""),
            None => (0, "", ""),
        };
        self.requests[route * OUTCOMES.len() + outcome]
            .get(status, || {
                metrics::counter!(
                    "glue_gateway_requests_total",
                    "route" => ROUTES[route],
                    "outcome" => OUTCOMES[outcome],
                    "status" => status.as_str().to_owned()
                )
            })
            .increment(1);
        let secs = elapsed.as_secs_f64();
        self.durations[route].record(secs);
        if method == Method::POST && route < 2 {
            self.token_durations[route]
                .get(status, || {
                    metrics::histogram!(
                        "glue_gateway_token_endpoint_duration_seconds",
                        "endpoint" => ROUTES[route],
                        "status" => status.as_str().to_owned()
                    )
                })
                .record(secs);
        }
        (OUTCOMES[outcome], kind, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_labels_are_bounded() {
        assert_eq!(route_label("/token/"), "/token");
        assert_eq!(route_label("/authorize"), "/authorize");
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

    #[test]
    fn status_slots_cover_every_status() {
        assert_eq!(status_slot(StatusCode::CONTINUE), 0);
        assert_eq!(status_slot(StatusCode::OK), 100);
        assert_eq!(status_slot(StatusCode::from_u16(599).unwrap()), 499);
        assert_eq!(status_slot(StatusCode::from_u16(999).unwrap()), 899);
    }
}
