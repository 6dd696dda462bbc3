//! Upstream mode: a streaming reverse proxy to a Glue backend, over http or
//! https (rustls on aws-lc; the system's roots plus an optional CA file).
//!
//! The validated principal travels as headers (names configurable); any such
//! header a client sent is removed first, so an upstream can trust them.
//! Request headers whose names contain `_` are dropped too: CGI-style
//! upstreams (PHP-FPM behind nginx, gunicorn, …) map `_` and `-` to the same
//! variable, so `x_glue_user_id` would reach them as `X-Glue-User-Id`.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use glue_auth_core::{Claims, Envelope, GlueError, Principal};
use http::header::{
    CONNECTION, CONTENT_LENGTH, FORWARDED, HOST, HeaderName, TRANSFER_ENCODING, VIA,
};
use http::uri::{PathAndQuery, Scheme};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, Uri, Version};
use http_body::Body as HttpBody;
use http_body_util::{BodyExt, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::body::{Body, BoxError, boxed, full};
use crate::config::PrincipalHeaders;

/// Hop-by-hop headers (RFC 9110 §7.6.1) never forwarded either way.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The reverse proxy. Cheap to clone (the client pools connections).
#[derive(Clone, Debug)]
pub(crate) struct Proxy {
    client: Client<HttpsConnector<HttpConnector>, Body>,
    scheme: Scheme,
    authority: http::uri::Authority,
    prefix: String,
    headers: PrincipalHeaders,
    body_limit: usize,
}

/// The upstream is unreachable or broke the exchange: 502, plain envelope.
pub(crate) fn bad_gateway() -> Response<Body> {
    GlueError::new_static(StatusCode::BAD_GATEWAY, None, "Bad gateway.")
        .to_response(Envelope::Plain)
        .map(full)
}

/// Drops every header whose name contains `_` (see the module docs), as
/// nginx does by default (`underscores_in_headers off`).
fn strip_underscored(headers: &mut HeaderMap) {
    let names: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().contains('_'))
        .cloned()
        .collect();
    for name in names {
        headers.remove(name);
    }
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length, and the body
    // was decoded by it. A Content-Length left next to it would frame the
    // forwarded message wrongly once Transfer-Encoding is dropped below.
    if headers.contains_key(TRANSFER_ENCODING) {
        headers.remove(CONTENT_LENGTH);
    }
    let listed: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// `Via` entry the gateway adds (RFC 9110 §7.6.3).
const VIA_ENTRY: &str = "1.1 glue-gateway";

/// Appends `value` to every prior line of `name`, as one comma-separated
/// line (all lines, not only the first: a list header split over several
/// lines is one list).
fn append(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    let prior: Vec<&str> = headers
        .get_all(&name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    let joined = if prior.is_empty() {
        value.to_owned()
    } else {
        format!("{}, {value}", prior.join(", "))
    };
    if let Ok(v) = HeaderValue::from_str(&joined) {
        headers.insert(name, v);
    }
}

/// `X-Forwarded-For` and `Forwarded` (RFC 7239) with the client's address
/// appended to what earlier proxies wrote.
fn append_forwarding(headers: &mut HeaderMap, ip: IpAddr, host: Option<&HeaderValue>) {
    append(
        headers,
        HeaderName::from_static("x-forwarded-for"),
        &ip.to_string(),
    );
    let node = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("\"[{v6}]\""),
    };
    let mut element = format!("for={node};proto=http");
    if let Some(host) = host.and_then(|h| h.to_str().ok()) {
        // A quoted-string: no quote or backslash may pass through.
        if !host.contains(['"', '\\']) {
            element.push_str(&format!(";host=\"{host}\""));
        }
    }
    append(headers, FORWARDED, &element);
}

/// The TLS client configuration of https upstreams: the system's roots,
/// plus the certificates of `ca_file`.
fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject as _;
        let certs =
            CertificateDer::pem_file_iter(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut added = 0;
        for cert in certs {
            let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            added += 1;
        }
        if added == 0 {
            return Err(format!("{}: no certificate in the file", path.display()));
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl Proxy {
    /// A proxy to `upstream` (`http://` or `https://`); `ca_file`: PEM
    /// certificates trusted for an https upstream beside the system's roots.
    pub(crate) fn new(
        upstream: &Uri,
        headers: PrincipalHeaders,
        body_limit: usize,
        ca_file: Option<&Path>,
    ) -> Result<Self, String> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        connector.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(ca_file)?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        let prefix = upstream.path().trim_end_matches('/').to_owned();
        Ok(Proxy {
            client,
            scheme: upstream.scheme().cloned().unwrap_or(Scheme::HTTP),
            // Checked by the configuration.
            authority: upstream
                .authority()
                .cloned()
                .unwrap_or_else(|| http::uri::Authority::from_static("localhost")),
            prefix,
            headers,
            body_limit,
        })
    }

    fn target(&self, original: &Uri) -> Option<Uri> {
        let pq = original.path_and_query().map_or("/", PathAndQuery::as_str);
        let pq: PathAndQuery = format!("{}{}", self.prefix, pq).parse().ok()?;
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(pq)
            .build()
            .ok()
    }

    /// Forwards one request.
    pub(crate) async fn call<B>(&self, req: Request<B>) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.body_limit as u64) {
            let envelope = Envelope::for_request(req.method(), req.headers());
            return GlueError::new_static(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                "Request body is too large.",
            )
            .to_response(envelope)
            .map(full);
        }
        let (mut parts, body) = req.into_parts();
        let Some(uri) = self.target(&parts.uri) else {
            return bad_gateway();
        };
        let original_host = parts.headers.get(HOST).cloned().or_else(|| {
            parts
                .uri
                .authority()
                .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        });
        let headers = &mut parts.headers;
        strip_hop_by_hop(headers);
        strip_underscored(headers);
        headers.remove(HOST);
        for name in self.headers.all() {
            headers.remove(name);
        }
        if let Some(host) = &original_host {
            headers.insert("x-forwarded-host", host.clone());
        }
        headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
        if let Some(peer) = parts.extensions.get::<SocketAddr>() {
            append_forwarding(headers, peer.ip(), original_host.as_ref());
        }
        append(headers, VIA, VIA_ENTRY);
        match parts.extensions.get::<Principal>() {
            Some(Principal::User(u)) => {
                if let Ok(v) = HeaderValue::from_str(u.uuid()) {
                    headers.insert(self.headers.user_uuid.clone(), v);
                }
                headers.insert(self.headers.user_id.clone(), HeaderValue::from(u.id_user()));
            }
            Some(Principal::Warehouse(w)) => {
                headers.insert(
                    self.headers.warehouse_id.clone(),
                    HeaderValue::from(w.id_warehouse()),
                );
            }
            None => {}
        }
        if let Some(claims) = parts.extensions.get::<Claims>() {
            let scopes = claims.scopes().iter().collect::<Vec<_>>().join(" ");
            if let Ok(v) = HeaderValue::from_str(&scopes) {
                headers.insert(self.headers.scopes.clone(), v);
            }
        }
        parts.uri = uri;
        parts.version = Version::HTTP_11;
        let body = boxed(Limited::new(body, self.body_limit));
        let upstream_req = Request::from_parts(parts, body);
        match self.client.request(upstream_req).await {
            Ok(res) => {
                let (mut parts, body) = res.into_parts();
                strip_hop_by_hop(&mut parts.headers);
                parts.version = Version::default();
                Response::from_parts(parts, boxed(body.map_err(BoxError::from)))
            }
            Err(e) => {
                tracing::warn!(error = %e, upstream = %self.authority, "upstream request failed");
                metrics::counter!("glue_gateway_upstream_errors_total").increment(1);
                bad_gateway()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_keeps_prefix_and_query() {
        let p = Proxy::new(
            &"http://127.0.0.1:9000/backend/".parse().unwrap(),
            crate::config::PrincipalHeaders {
                user_uuid: HeaderName::from_static("a"),
                user_id: HeaderName::from_static("b"),
                warehouse_id: HeaderName::from_static("c"),
                scopes: HeaderName::from_static("d"),
            },
            10,
            None,
        )
        .unwrap();
        let t = p
            .target(&"/picking-lists?include=x".parse().unwrap())
            .unwrap();
        assert_eq!(
            t.to_string(),
            "http://127.0.0.1:9000/backend/picking-lists?include=x"
        );
    }

    #[test]
    fn underscored_header_names_go() {
        let mut h = HeaderMap::new();
        h.insert("x_glue_user_id", HeaderValue::from_static("1"));
        h.append("x_glue_user_id", HeaderValue::from_static("2"));
        h.insert("x_forwarded_for", HeaderValue::from_static("10.0.0.1"));
        h.insert("accept", HeaderValue::from_static("*/*"));
        strip_underscored(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("accept"));
    }

    #[test]
    fn hop_by_hop_and_connection_listed_headers_go() {
        let mut h = HeaderMap::new();
        h.insert(CONNECTION, HeaderValue::from_static("close, x-secret"));
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("te", HeaderValue::from_static("trailers"));
        h.insert("accept", HeaderValue::from_static("*/*"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn content_length_goes_with_transfer_encoding() {
        let mut h = HeaderMap::new();
        h.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        h.insert(CONTENT_LENGTH, HeaderValue::from_static("5"));
        strip_hop_by_hop(&mut h);
        assert!(h.is_empty(), "{h:?}");
        let mut h = HeaderMap::new();
        h.insert(CONTENT_LENGTH, HeaderValue::from_static("5"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
    }
}
