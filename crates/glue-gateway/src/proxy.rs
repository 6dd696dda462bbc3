//! Upstream mode: a streaming reverse proxy to a Glue backend, over http or
//! https (rustls on aws-lc; the system's roots plus an optional CA file).
//!
//! The validated principal travels as headers (names configurable); any such
//! header a client sent is removed first, so an upstream can trust them.
//! Request headers whose names contain `_` are dropped too: CGI-style
//! upstreams (PHP-FPM behind nginx, gunicorn, …) map `_` and `-` to the same
//! variable, so `x_glue_user_id` would reach them as `X-Glue-User-Id`.
//!
//! Plain-http upstreams are reached over connections of each HTTP/1.1
//! downstream connection's own, driven on its task ([`local`]); https
//! upstreams, HTTP/2 streams and CONNECT through hyper-util's pooled
//! client.

mod local;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use glue_auth_core::{Claims, Envelope, GlueError, Principal};
use http::header::{
    CONNECTION, CONTENT_LENGTH, FORWARDED, HOST, HeaderName, PROXY_AUTHORIZATION, TE, TRAILER,
    TRANSFER_ENCODING, UPGRADE, VIA,
};
use http::uri::{PathAndQuery, Scheme};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri, Version};
use http_body::Body as HttpBody;
use http_body_util::Limited;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

use crate::body::{Body, BoxError, boxed, full};
use crate::config::PrincipalHeaders;

pub(crate) use local::Local;
use local::{Checkout, Slot};

/// How long opening an upstream connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Hop-by-hop headers (RFC 9110 §7.6.1) never forwarded either way.
static HOP_BY_HOP: [HeaderName; 8] = [
    CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    PROXY_AUTHORIZATION,
    TE,
    TRAILER,
    TRANSFER_ENCODING,
    UPGRADE,
];

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// The reverse proxy. Cheap to clone (the client pools connections).
#[derive(Clone, Debug)]
pub(crate) struct Proxy {
    client: Client<HttpsConnector<HttpConnector>, Body>,
    scheme: Scheme,
    authority: http::uri::Authority,
    prefix: String,
    headers: PrincipalHeaders,
    body_limit: usize,
    /// A plain-http upstream: reached over the downstream connection's own
    /// connections when the request runs on its task ([`Local::current`]).
    direct: Option<Direct>,
}

/// Where a plain-http upstream is, and how its connections are made.
#[derive(Clone, Debug)]
struct Direct {
    /// Host name or address (without an IPv6 literal's brackets).
    host: String,
    port: u16,
    /// `Host` of the forwarded requests: what the pooled client would set
    /// (the authority's host, and its port unless it is 80).
    host_header: HeaderValue,
    http1: hyper::client::conn::http1::Builder,
}

impl Direct {
    fn new(upstream: &Uri) -> Option<Direct> {
        if upstream.scheme() != Some(&Scheme::HTTP) {
            return None;
        }
        let host = upstream.host()?;
        let port = upstream.port();
        let host_header = match port.as_ref().filter(|p| p.as_u16() != 80) {
            Some(p) => HeaderValue::from_str(&format!("{host}:{}", p.as_str())),
            None => HeaderValue::from_str(host),
        }
        .ok()?;
        Some(Direct {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: port.map_or(80, |p| p.as_u16()),
            host_header,
            http1: hyper::client::conn::http1::Builder::new(),
        })
    }

    /// Opens a connection, hands its driver to `local`'s task and returns
    /// its sender. `slot` counts it among `local`'s connections.
    async fn connect(&self, local: &Local, slot: Slot) -> Result<SendRequest<Body>, BoxError> {
        let connect = tokio::net::TcpStream::connect((self.host.as_str(), self.port));
        let stream = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return Err(format!("connect: {e}").into()),
            Err(_) => return Err("connect: timed out".into()),
        };
        let _ = stream.set_nodelay(true);
        let (sender, conn) = self.http1.handshake(TokioIo::new(stream)).await?;
        local.adopt(conn, slot);
        Ok(sender)
    }
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
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Whether a request's headers need more than `Host` removed: hop-by-hop
/// or underscored names, or the principal headers (one pass over the
/// names; usually there are none, and the removals are skipped).
fn needs_stripping(headers: &HeaderMap, principal: &PrincipalHeaders) -> bool {
    headers.keys().any(|name| {
        HOP_BY_HOP.contains(name) || principal.all().contains(&name) || name.as_str().contains('_')
    })
}

/// `Via` entry the gateway adds (RFC 9110 §7.6.3).
const VIA_ENTRY: &str = "1.1 glue-gateway";

/// Appends `value` to every prior line of `name`, as one comma-separated
/// line (all lines, not only the first: a list header split over several
/// lines is one list).
fn append(headers: &mut HeaderMap, name: &HeaderName, value: String) {
    if !headers.contains_key(name) {
        if let Some(v) = header_value(value) {
            headers.insert(name.clone(), v);
        }
        return;
    }
    let prior: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    let joined = if prior.is_empty() {
        value
    } else {
        format!("{}, {value}", prior.join(", "))
    };
    if let Some(v) = header_value(joined) {
        headers.insert(name.clone(), v);
    }
}

/// A decimal header value in one allocation (`HeaderValue::from(i64)`
/// makes two: a `BytesMut`, then a capacity record when it freezes).
fn integer_value(n: i64) -> HeaderValue {
    let mut digits = itoa::Buffer::new();
    HeaderValue::from_str(digits.format(n)).unwrap_or_else(|_| HeaderValue::from(n))
}

/// A header value that takes over `text`'s buffer. The buffer is first
/// shrunk to its length: `Bytes` takes a `Vec` with spare capacity only by
/// allocating a record of that capacity, while a shrink is mostly done in
/// place.
fn header_value(mut text: String) -> Option<HeaderValue> {
    text.shrink_to_fit();
    HeaderValue::from_maybe_shared(Bytes::from(text)).ok()
}

/// Writes an address as `Display` does, without the formatting machinery
/// for IPv4.
fn push_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                if octet >= 100 {
                    out.push(char::from(b'0' + octet / 100));
                }
                if octet >= 10 {
                    out.push(char::from(b'0' + octet / 10 % 10));
                }
                out.push(char::from(b'0' + octet % 10));
            }
        }
        IpAddr::V6(v6) => {
            use std::fmt::Write as _;
            let _ = write!(out, "{v6}");
        }
    }
}

/// `X-Forwarded-For` and `Forwarded` (RFC 7239) with the client's address
/// appended to what earlier proxies wrote.
fn append_forwarding(headers: &mut HeaderMap, ip: IpAddr, host: Option<&HeaderValue>) {
    let mut xff = String::with_capacity(16);
    push_ip(&mut xff, ip);
    let host = host
        .and_then(|h| h.to_str().ok())
        // A quoted-string: no quote or backslash may pass through.
        .filter(|h| !h.contains(['"', '\\']));
    let mut element = String::with_capacity(32 + host.map_or(0, str::len));
    element.push_str("for=");
    match ip {
        IpAddr::V4(_) => element.push_str(&xff),
        IpAddr::V6(_) => {
            element.push_str("\"[");
            element.push_str(&xff);
            element.push_str("]\"");
        }
    }
    element.push_str(";proto=http");
    if let Some(host) = host {
        element.push_str(";host=\"");
        element.push_str(host);
        element.push('"');
    }
    append(headers, &X_FORWARDED_FOR, xff);
    append(headers, &FORWARDED, element);
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
            direct: Direct::new(upstream),
        })
    }

    /// Whether requests carrying a [`Local`] go over it (a plain-http
    /// upstream).
    pub(crate) fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// The upstream's path and query for a request to `original`.
    fn path_and_query(&self, original: &Uri) -> Option<PathAndQuery> {
        let pq = original.path_and_query();
        if self.prefix.is_empty() {
            return Some(
                pq.cloned()
                    .unwrap_or_else(|| PathAndQuery::from_static("/")),
            );
        }
        let pq = pq.map_or("/", PathAndQuery::as_str);
        format!("{}{}", self.prefix, pq).parse().ok()
    }

    /// The absolute URI the pooled client is given.
    fn absolute(&self, pq: PathAndQuery) -> Option<Uri> {
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(pq)
            .build()
            .ok()
    }

    #[cfg(test)]
    fn target(&self, original: &Uri) -> Option<Uri> {
        self.absolute(self.path_and_query(original)?)
    }

    /// Sends `req` (origin-form URI, `Host` set) over one of `local`'s
    /// connections: an idle one, else a new one, else (all busy, at the
    /// limit) through the pooled client. A request that a reused
    /// connection refused before writing it (the upstream closed it
    /// meanwhile) is sent again, as the pooled client does.
    async fn send_direct(
        &self,
        direct: &Direct,
        local: &Local,
        mut req: Request<Body>,
    ) -> Result<Response<Incoming>, BoxError> {
        for _ in 0..=local::MAX_PER_CONNECTION {
            let (mut sender, reused) = match local.checkout() {
                Checkout::Ready(sender) => (sender, true),
                // Boxed: once per connection, and a large future.
                Checkout::Connect(slot) => (Box::pin(direct.connect(local, slot)).await?, false),
                Checkout::Unavailable => break,
            };
            match sender.try_send_request(req).await {
                Ok(res) => {
                    local.checkin(sender);
                    return Ok(res);
                }
                Err(mut e) => match e.take_message() {
                    Some(unsent) if reused => {
                        tracing::debug!(error = %e.error(), "idle upstream connection closed; sending again");
                        req = unsent;
                    }
                    _ => return Err(e.into_error().into()),
                },
            }
        }
        let pq = req
            .uri()
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        *req.uri_mut() = self.absolute(pq).ok_or("invalid upstream URI")?;
        Ok(self.client.request(req).await?)
    }

    /// Forwards one request.
    pub(crate) async fn call<B>(&self, req: Request<B>) -> Response<Body>
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        // The downstream connection's own upstream connections, when this
        // runs on its task (HTTP/1.1; an HTTP/2 stream runs on a task of
        // its own and uses the pool).
        let local = match &self.direct {
            Some(_) if req.method() != Method::CONNECT => Local::current(),
            // CONNECT goes to the pooled client (authority-form).
            _ => None,
        };
        let upstream_req = match self.prepare(req, local.is_some()) {
            Ok(req) => req,
            Err(res) => return res,
        };
        let sent = match (&self.direct, local) {
            (Some(direct), Some(local)) => self.send_direct(direct, &local, upstream_req).await,
            _ => self
                .client
                .request(upstream_req)
                .await
                .map_err(BoxError::from),
        };
        match sent {
            Ok(res) => {
                let (mut parts, body) = res.into_parts();
                if parts.headers.keys().any(|name| HOP_BY_HOP.contains(name)) {
                    strip_hop_by_hop(&mut parts.headers);
                }
                parts.version = Version::default();
                Response::from_parts(parts, boxed(body))
            }
            Err(e) => {
                tracing::warn!(error = %e, upstream = %self.authority, "upstream request failed");
                metrics::counter!("glue_gateway_upstream_errors_total").increment(1);
                bad_gateway()
            }
        }
    }

    /// The request to send upstream: headers stripped and added, the body
    /// limited, the URI absolute (for the pooled client) or origin-form with
    /// `Host` set (`direct`); or the answer when there is nothing to send.
    // The answer is returned as it is, at once: no need to box it.
    #[allow(clippy::result_large_err)]
    fn prepare<B>(&self, req: Request<B>, direct: bool) -> Result<Request<Body>, Response<Body>>
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
            return Err(GlueError::new_static(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                "Request body is too large.",
            )
            .to_response(envelope)
            .map(full));
        }
        let (mut parts, body) = req.into_parts();
        let Some(pq) = self.path_and_query(&parts.uri) else {
            return Err(bad_gateway());
        };
        let original_host = parts.headers.get(HOST).cloned().or_else(|| {
            parts
                .uri
                .authority()
                .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        });
        let headers = &mut parts.headers;
        if needs_stripping(headers, &self.headers) {
            strip_hop_by_hop(headers);
            strip_underscored(headers);
            headers.remove(HOST);
            for name in self.headers.all() {
                headers.remove(name);
            }
        } else {
            headers.remove(HOST);
        }
        if let Some(host) = &original_host {
            headers.insert(X_FORWARDED_HOST.clone(), host.clone());
        }
        headers.insert(X_FORWARDED_PROTO.clone(), HeaderValue::from_static("http"));
        if let Some(peer) = parts.extensions.get::<SocketAddr>() {
            append_forwarding(headers, peer.ip(), original_host.as_ref());
        }
        if headers.contains_key(VIA) {
            append(headers, &VIA, VIA_ENTRY.to_owned());
        } else {
            headers.insert(VIA, HeaderValue::from_static(VIA_ENTRY));
        }
        match parts.extensions.get::<Principal>() {
            Some(Principal::User(u)) => {
                if let Ok(v) = HeaderValue::from_str(u.uuid()) {
                    headers.insert(self.headers.user_uuid.clone(), v);
                }
                headers.insert(self.headers.user_id.clone(), integer_value(u.id_user()));
            }
            Some(Principal::Warehouse(w)) => {
                headers.insert(
                    self.headers.warehouse_id.clone(),
                    integer_value(w.id_warehouse()),
                );
            }
            None => {}
        }
        if let Some(claims) = parts.extensions.get::<Claims>() {
            let scopes = claims.scopes();
            let mut joined = String::with_capacity(scopes.iter().map(|s| s.len() + 1).sum());
            for (i, scope) in scopes.iter().enumerate() {
                if i > 0 {
                    joined.push(' ');
                }
                joined.push_str(scope);
            }
            if let Some(v) = header_value(joined) {
                headers.insert(self.headers.scopes.clone(), v);
            }
        }
        parts.version = Version::HTTP_11;
        match (&self.direct, direct) {
            (Some(d), true) => {
                parts.uri = Uri::from(pq);
                // Last, as the pooled client adds it.
                parts.headers.insert(HOST, d.host_header.clone());
            }
            _ => parts.uri = self.absolute(pq).ok_or_else(bad_gateway)?,
        }
        let body = boxed(Limited::new(body, self.body_limit));
        Ok(Request::from_parts(parts, body))
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
    fn direct_upstreams_get_the_host_header_of_the_pooled_client() {
        let d = |url: &str| Direct::new(&url.parse().unwrap());
        let v6 = d("http://[::1]:8080/backend").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 8080));
        assert_eq!(v6.host_header, "[::1]:8080");
        let named = d("http://backend/").unwrap();
        assert_eq!((named.host.as_str(), named.port), ("backend", 80));
        assert_eq!(named.host_header, "backend");
        // The default port is left out, as the pooled client does.
        assert_eq!(d("http://backend:80").unwrap().host_header, "backend");
        assert_eq!(
            d("http://10.0.0.1:9000").unwrap().host_header,
            "10.0.0.1:9000"
        );
        // https stays with the pooled client (TLS).
        assert!(d("https://backend/").is_none());
    }

    #[test]
    fn forwarding_values_match_display() {
        for ip in [
            "192.0.2.1",
            "10.0.0.255",
            "0.0.0.0",
            "255.255.255.255",
            "2001:db8::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut out = String::new();
            push_ip(&mut out, ip);
            assert_eq!(out, ip.to_string());
        }
        let mut h = HeaderMap::new();
        append_forwarding(&mut h, "2001:db8::1".parse().unwrap(), None);
        assert_eq!(h["x-forwarded-for"], "2001:db8::1");
        assert_eq!(h["forwarded"], "for=\"[2001:db8::1]\";proto=http");
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("192.0.2.9"));
        let host = HeaderValue::from_static("gw.example");
        append_forwarding(&mut h, "192.0.2.1".parse().unwrap(), Some(&host));
        assert_eq!(h["x-forwarded-for"], "192.0.2.9, 192.0.2.1");
        assert_eq!(
            h["forwarded"],
            "for=192.0.2.1;proto=http;host=\"gw.example\""
        );
        // A host with a quote is left out of the quoted-string.
        let mut h = HeaderMap::new();
        let host = HeaderValue::from_static("a\"b");
        append_forwarding(&mut h, "192.0.2.1".parse().unwrap(), Some(&host));
        assert_eq!(h["forwarded"], "for=192.0.2.1;proto=http");
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
