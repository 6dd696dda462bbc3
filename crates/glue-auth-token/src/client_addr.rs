//! Where the client address for throttling comes from.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::HeaderName;
use http::request::Parts;

type Extract = dyn Fn(&Parts) -> Option<IpAddr> + Send + Sync;

/// How the token endpoint finds the client address it counts failed logins
/// against.
///
/// - [`ClientAddress::peer`] (default): a [`SocketAddr`] or [`IpAddr`] in the
///   request extensions. **Nothing puts one there by itself**: plain hyper
///   never does, and axum stores `ConnectInfo<SocketAddr>`, a type of its own.
/// - [`ClientAddress::trusted_header`]: the **last** address of a header such as
///   `X-Forwarded-For`, the one your own reverse proxy appended; the peer
///   address when the header is absent. Use it only behind a proxy that sets it.
/// - [`ClientAddress::custom`]: any function of the request head.
///
/// Without an address the per-address counter is skipped (the per-username
/// one still applies), and the first such request logs a `warn` once per
/// [`TokenServer`](crate::TokenServer).
///
/// # Supplying the peer address
///
/// **hyper**: the accept loop knows the peer; insert it into each request
/// before the layer, e.g. with `tower::ServiceBuilder::map_request`:
///
/// ```no_run
/// use std::convert::Infallible;
///
/// use bytes::Bytes;
/// use http::{Request, Response};
/// use http_body_util::Full;
/// use hyper::body::Incoming;
/// use hyper_util::rt::TokioIo;
/// use hyper_util::service::TowerToHyperService;
/// use tower::ServiceBuilder;
///
/// # async fn serve(server: glue_auth_token::TokenServer) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// loop {
///     let (stream, remote_addr) = listener.accept().await?;
///     let inner = tower::service_fn(|_req: Request<Incoming>| async {
///         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"inner"))))
///     });
///     let svc = ServiceBuilder::new()
///         .map_request(move |mut req: Request<Incoming>| {
///             req.extensions_mut().insert(remote_addr); // the peer `SocketAddr`
///             req
///         })
///         .layer(server.layer())
///         .service(inner);
///     tokio::spawn(
///         hyper::server::conn::http1::Builder::new()
///             .serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc)),
///     );
/// }
/// # }
/// ```
///
/// **axum**: serve with
/// `app.into_make_service_with_connect_info::<SocketAddr>()` and read axum's
/// `ConnectInfo` with [`ClientAddress::custom`] (this crate does not depend
/// on axum, so it cannot name the type itself):
///
/// ```
/// use std::net::SocketAddr;
/// use axum::extract::ConnectInfo;
/// use glue_auth_token::ClientAddress;
///
/// let source = ClientAddress::custom(|parts| {
///     parts
///         .extensions
///         .get::<ConnectInfo<SocketAddr>>()
///         .map(|ConnectInfo(addr)| addr.ip())
/// });
/// // What axum's connect-info service does for every request:
/// let mut req = http::Request::new(());
/// req.extensions_mut()
///     .insert(ConnectInfo("192.0.2.4:50000".parse::<SocketAddr>().unwrap()));
/// let (parts, ()) = req.into_parts();
/// assert_eq!(source.of(&parts), Some("192.0.2.4".parse().unwrap()));
/// ```
///
/// # Behind a reverse proxy
///
/// ```
/// use glue_auth_token::ClientAddress;
/// use http::Request;
///
/// let xff = ClientAddress::trusted_header(http::HeaderName::from_static("x-forwarded-for"));
/// let (parts, ()) = Request::post("/token")
///     .header("x-forwarded-for", "203.0.113.9, 198.51.100.2")
///     .body(())
///     .unwrap()
///     .into_parts();
/// assert_eq!(xff.of(&parts), Some("198.51.100.2".parse().unwrap()));
/// ```
#[derive(Clone)]
pub struct ClientAddress(Kind);

#[derive(Clone)]
enum Kind {
    Peer,
    Header(HeaderName),
    Custom(Arc<Extract>),
}

impl Default for ClientAddress {
    fn default() -> Self {
        Self::peer()
    }
}

impl ClientAddress {
    /// The connection's peer address from the request extensions.
    pub fn peer() -> Self {
        ClientAddress(Kind::Peer)
    }

    /// The last address in a header set by a trusted reverse proxy.
    pub fn trusted_header(name: HeaderName) -> Self {
        ClientAddress(Kind::Header(name))
    }

    /// A custom extractor.
    pub fn custom(f: impl Fn(&Parts) -> Option<IpAddr> + Send + Sync + 'static) -> Self {
        ClientAddress(Kind::Custom(Arc::new(f)))
    }

    /// The client address of a request, if known.
    pub fn of(&self, parts: &Parts) -> Option<IpAddr> {
        match &self.0 {
            Kind::Peer => peer(parts),
            Kind::Header(name) => {
                let mut values = parts.headers.get_all(name).iter();
                match values.next_back() {
                    Some(v) => v
                        .to_str()
                        .ok()
                        .and_then(|s| s.rsplit(',').next())
                        .and_then(|last| parse_ip(last.trim())),
                    None => peer(parts),
                }
            }
            Kind::Custom(f) => f(parts),
        }
    }
}

fn peer(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<SocketAddr>()
        .map(SocketAddr::ip)
        .or_else(|| parts.extensions.get::<IpAddr>().copied())
}

/// An IP, also in `[v6]:port` / `v4:port` forms some proxies write.
fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

impl fmt::Debug for ClientAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Peer => f.write_str("ClientAddress::Peer"),
            Kind::Header(h) => write!(f, "ClientAddress::TrustedHeader({h})"),
            Kind::Custom(_) => f.write_str("ClientAddress::Custom"),
        }
    }
}

/// A [`ClientAddress`] that says once when it finds no address.
pub(crate) struct AddressSource {
    source: ClientAddress,
    warned: AtomicBool,
}

impl AddressSource {
    pub(crate) fn new(source: ClientAddress) -> Self {
        AddressSource {
            source,
            warned: AtomicBool::new(false),
        }
    }

    /// The client address the throttle counts against. Without one the
    /// per-address counter is silently off: when it is on (`per_address_on`),
    /// say so once per server.
    pub(crate) fn of(&self, parts: &Parts, per_address_on: bool) -> Option<IpAddr> {
        let addr = self.source.of(parts);
        if addr.is_none() && per_address_on && !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                source = ?self.source,
                "token endpoint: no client address in the request, so failed logins are \
                 not throttled per address; insert the peer `SocketAddr` into the request \
                 extensions (see `ClientAddress`)"
            );
        }
        addr
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Request;

    #[test]
    fn peer_and_header_fallback() {
        let mut req = Request::new(());
        req.extensions_mut()
            .insert("192.0.2.1:5555".parse::<SocketAddr>().unwrap());
        let (parts, ()) = req.into_parts();
        assert_eq!(
            ClientAddress::peer().of(&parts),
            Some("192.0.2.1".parse().unwrap())
        );
        let h = ClientAddress::trusted_header(HeaderName::from_static("x-forwarded-for"));
        assert_eq!(h.of(&parts), Some("192.0.2.1".parse().unwrap()));
        let (parts, ()) = Request::builder()
            .header("x-forwarded-for", "[2001:db8::1]:443")
            .body(())
            .unwrap()
            .into_parts();
        assert_eq!(h.of(&parts), Some("2001:db8::1".parse().unwrap()));
        let (parts, ()) = Request::builder()
            .header("x-forwarded-for", "garbage")
            .body(())
            .unwrap()
            .into_parts();
        assert_eq!(h.of(&parts), None);
    }
}
