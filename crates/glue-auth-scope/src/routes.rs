//! The route table: method(s) + path pattern → policy.

use std::fmt;
use std::sync::Arc;

use glue_auth_core::{Claims, PercentDecode, Rejection, RequestHead, UnauthenticatedStatus};
use http::{Method, Request};

use crate::{ConfigError, Policy};

/// Which policy guards which route, and what happens to the rest.
///
/// Built once with [`RouteTable::builder`] (or a preset such as
/// [`RouteTable::spryker_backend`]); cheap to clone (an `Arc` inside).
///
/// Matching rules:
///
/// - `OPTIONS` always passes, whatever the route (CORS preflights never carry
///   a token).
/// - Patterns are `/`-separated segments: literals (`picking-lists`),
///   parameters (`{id}`, any non-empty segment) and, as the last segment only,
///   `*`: `/a/*` matches `/a` itself and every path below it.
/// - A trailing slash does not matter: `/picking-lists/` is `/picking-lists`.
/// - Empty path segments are ignored (`/picking-lists//1/` is
///   `/picking-lists/1`), as nginx's `merge_slashes` does, and literals match
///   percent-encoded spellings (`/picking%2Dlists` is `/picking-lists`), as
///   Symfony's router does: a different spelling of a protected path cannot
///   dodge its route. Paths with a `.` or `..` segment (in any spelling) are
///   refused as [deny](Policy::deny) would, whatever the route: they could
///   resolve to a protected route behind us. Comparison is case-sensitive. Where the router behind
///   the layer normalizes paths differently, make unmatched routes
///   [deny](RouteTableBuilder::deny_unmatched).
/// - A route for `GET` also matches `HEAD` (routers run the GET handler for
///   HEAD).
/// - Routes are tried in the order they were added; the first one whose method
///   and pattern match decides. Unmatched requests follow the default policy,
///   [public](Policy::public) unless set otherwise.
/// - gRPC calls are `POST /package.Service/Method`: literal paths, so the same
///   table serves them ([`grpc_method`](RouteTableBuilder::grpc_method),
///   [`grpc_service`](RouteTableBuilder::grpc_service)).
///
/// Patterns are split when the table is built; matching a request allocates
/// nothing.
///
/// ```
/// use glue_auth_scope::{Policy, RouteTable};
/// use http::Method;
///
/// let table = RouteTable::builder()
///     .route(Method::GET, "/picking-lists/{id}", Policy::warehouse_or_user())
///     .grpc_method("fulfillment.v1.Picking", "StartPicking", Policy::user_required())
///     .any_method("/admin/*", Policy::scopes_all(["back-office-user"]))
///     .deny_unmatched()
///     .build()
///     .unwrap();
/// assert!(table.find(&Method::GET, "/picking-lists/42/").is_some());
/// assert!(table.find(&Method::POST, "/fulfillment.v1.Picking/StartPicking").is_some());
/// assert!(table.find(&Method::DELETE, "/admin").is_some());
/// assert!(table.find(&Method::GET, "/picking-lists/42/items").is_none());
/// ```
#[derive(Clone)]
pub struct RouteTable {
    inner: Arc<Table>,
}

struct Table {
    routes: Box<[Route]>,
    default: Policy,
}

struct Route {
    methods: Methods,
    pattern: Pattern,
    policy: Policy,
}

enum Methods {
    Any,
    Only(Box<[Method]>),
}

impl Methods {
    fn matches(&self, method: &Method) -> bool {
        match self {
            Methods::Any => true,
            Methods::Only(list) => list
                .iter()
                .any(|m| m == method || (*method == Method::HEAD && *m == Method::GET)),
        }
    }
}

struct Pattern {
    source: Box<str>,
    segments: Box<[Segment]>,
    prefix: bool,
}

enum Segment {
    Literal(Box<str>),
    Param,
}

fn invalid(pattern: &str, reason: &'static str) -> ConfigError {
    ConfigError::InvalidPattern {
        pattern: pattern.to_owned(),
        reason,
    }
}

impl Pattern {
    fn parse(pattern: &str) -> Result<Pattern, ConfigError> {
        let Some(rest) = pattern.strip_prefix('/') else {
            return Err(invalid(pattern, "must start with '/'"));
        };
        if pattern
            .chars()
            .any(|c| matches!(c, '?' | '#' | '%') || c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                pattern,
                "must be a decoded path without query, fragment, '%', whitespace or control characters",
            ));
        }
        if pattern.contains("//") {
            return Err(invalid(pattern, "empty segment"));
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let mut segments = Vec::new();
        let mut prefix = false;
        if !rest.is_empty() {
            let parts: Vec<&str> = rest.split('/').collect();
            let last = parts.len() - 1;
            for (i, part) in parts.into_iter().enumerate() {
                match part {
                    "" => return Err(invalid(pattern, "empty segment")),
                    "*" if i == last => prefix = true,
                    "*" => return Err(invalid(pattern, "'*' is allowed only as the last segment")),
                    p if p.starts_with('{') && p.ends_with('}') => {
                        let name = &p[1..p.len() - 1];
                        if name.is_empty()
                            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        {
                            return Err(invalid(
                                pattern,
                                "a parameter is '{name}' with an ASCII letter, digit or '_' name",
                            ));
                        }
                        segments.push(Segment::Param);
                    }
                    p if p.contains(['{', '}', '*']) => {
                        return Err(invalid(
                            pattern,
                            "'{', '}' and '*' must make up a whole segment",
                        ));
                    }
                    p => segments.push(Segment::Literal(p.into())),
                }
            }
        }
        Ok(Pattern {
            source: pattern.into(),
            segments: segments.into_boxed_slice(),
            prefix,
        })
    }

    fn matches(&self, path: &str) -> bool {
        let Some(rest) = path.strip_prefix('/') else {
            return false;
        };
        // Empty segments are skipped: a trailing slash or a doubled one cannot
        // dodge a route.
        let mut parts = rest.split('/').filter(|p| !p.is_empty());
        for segment in self.segments.iter() {
            let Some(part) = parts.next() else {
                return false;
            };
            if let Segment::Literal(lit) = segment
                && !eq_percent_decoded(part, lit)
            {
                return false;
            }
        }
        self.prefix || parts.next().is_none()
    }
}

/// A `.` or `..` segment, in any percent-encoded spelling.
fn has_dot_segment(path: &str) -> bool {
    // Fast path: almost no request path has a '.' or a '%' at all.
    if !path.bytes().any(|b| b == b'.' || b == b'%') {
        return false;
    }
    path.split('/')
        .any(|s| eq_percent_decoded(s, ".") || eq_percent_decoded(s, ".."))
}

/// `raw` (a path segment, possibly percent-encoded) equals `literal` once
/// decoded; without allocating. A malformed escape compares as is.
fn eq_percent_decoded(raw: &str, literal: &str) -> bool {
    if raw.len() == literal.len() {
        return raw == literal;
    }
    PercentDecode::path(raw.as_bytes()).eq(literal.bytes())
}

impl RouteTable {
    /// An empty builder: no routes, unmatched requests public.
    pub fn builder() -> RouteTableBuilder {
        RouteTableBuilder::default()
    }

    /// The policy for `method` and `path` (the URI's path, without query):
    /// the first matching route's, or `None` when no route matches (the
    /// default policy then decides). Does not special-case `OPTIONS`.
    pub fn find(&self, method: &Method, path: &str) -> Option<&Policy> {
        self.inner
            .routes
            .iter()
            .find(|r| r.methods.matches(method) && r.pattern.matches(path))
            .map(|r| &r.policy)
    }

    /// The policy unmatched requests follow.
    pub fn default_policy(&self) -> &Policy {
        &self.inner.default
    }

    /// The decision for one request: `OPTIONS` passes, otherwise the matching
    /// route's policy (or the default) decides over `claims`.
    ///
    /// This is the whole work the layer does per request besides rendering a
    /// refusal, so it is the function to benchmark. It allocates nothing on the
    /// allowed path.
    ///
    /// ```
    /// use glue_auth_core::RequestHead;
    /// use glue_auth_scope::RouteTable;
    /// use http::Request;
    ///
    /// let table = RouteTable::spryker_backend();
    /// let req = Request::get("/picking-lists").body(()).unwrap();
    /// // No token: the picking-list strategy answers 403 "Authorization failed."
    /// let refusal = table.check(&RequestHead::of(&req), None).unwrap_err();
    /// assert_eq!(refusal.glue_error().message(), "Authorization failed.");
    /// ```
    pub fn check(&self, head: &RequestHead<'_>, claims: Option<&Claims>) -> Result<(), Rejection> {
        if *head.method == Method::OPTIONS {
            return Ok(());
        }
        if has_dot_segment(head.uri.path()) {
            // `/x/../picking-lists` matches no route here but may reach one
            // behind us once an upstream resolves it: never let it through.
            return Policy::deny().check(claims, head);
        }
        self.find(head.method, head.uri.path())
            .unwrap_or(&self.inner.default)
            .check(claims, head)
    }

    /// [`check`](RouteTable::check) with the [`Claims`] the bearer layer put
    /// into the request's extensions.
    pub fn check_request<B>(&self, req: &Request<B>) -> Result<(), Rejection> {
        self.check(&RequestHead::of(req), req.extensions().get::<Claims>())
    }
}

impl Default for RouteTable {
    /// No routes; everything public.
    fn default() -> Self {
        RouteTable {
            inner: Arc::new(Table {
                routes: Box::default(),
                default: Policy::public(),
            }),
        }
    }
}

impl fmt::Debug for RouteTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct R<'a>(&'a Route);
        impl fmt::Debug for R<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match &self.0.methods {
                    Methods::Any => f.write_str("*")?,
                    Methods::Only(list) => {
                        for (i, m) in list.iter().enumerate() {
                            if i > 0 {
                                f.write_str(",")?;
                            }
                            f.write_str(m.as_str())?;
                        }
                    }
                }
                write!(f, " {} => {:?}", self.0.pattern.source, self.0.policy)
            }
        }
        f.debug_struct("RouteTable")
            .field(
                "routes",
                &self.inner.routes.iter().map(R).collect::<Vec<_>>(),
            )
            .field("default", &self.inner.default)
            .finish()
    }
}

/// Builds a [`RouteTable`]; every problem is reported by
/// [`build`](RouteTableBuilder::build).
#[derive(Debug, Default)]
pub struct RouteTableBuilder {
    routes: Vec<RouteSpec>,
    default: Option<Policy>,
    unauthenticated_status: Option<UnauthenticatedStatus>,
    error: Option<ConfigError>,
}

#[derive(Debug)]
struct RouteSpec {
    methods: Option<Vec<Method>>,
    pattern: String,
    policy: Policy,
}

fn valid_grpc_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| matches!(c, '/' | '{' | '}' | '*') || c.is_whitespace() || c.is_control())
}

impl RouteTableBuilder {
    /// Guards `method` on `pattern` with `policy`.
    pub fn route(self, method: Method, pattern: impl Into<String>, policy: Policy) -> Self {
        self.push(Some(vec![method]), pattern.into(), policy)
    }

    /// Guards each of `methods` on `pattern` with `policy`. An empty list is a
    /// [`ConfigError`].
    pub fn route_methods<I>(self, methods: I, pattern: impl Into<String>, policy: Policy) -> Self
    where
        I: IntoIterator<Item = Method>,
    {
        self.push(Some(methods.into_iter().collect()), pattern.into(), policy)
    }

    /// Guards every method on `pattern` with `policy`.
    pub fn any_method(self, pattern: impl Into<String>, policy: Policy) -> Self {
        self.push(None, pattern.into(), policy)
    }

    /// Guards the gRPC method `/{service}/{method}` (any HTTP method; gRPC uses
    /// POST), e.g. `grpc_method("fulfillment.v1.Picking", "StartPicking", ...)`.
    /// `service` is the fully qualified name, package included.
    pub fn grpc_method(self, service: &str, method: &str, policy: Policy) -> Self {
        if !valid_grpc_name(service) {
            return self.fail(ConfigError::InvalidGrpcName {
                name: service.to_owned(),
            });
        }
        if !valid_grpc_name(method) {
            return self.fail(ConfigError::InvalidGrpcName {
                name: method.to_owned(),
            });
        }
        self.any_method(format!("/{service}/{method}"), policy)
    }

    /// Guards every method of the gRPC service `service` (`/{service}/*`).
    pub fn grpc_service(self, service: &str, policy: Policy) -> Self {
        if !valid_grpc_name(service) {
            return self.fail(ConfigError::InvalidGrpcName {
                name: service.to_owned(),
            });
        }
        self.any_method(format!("/{service}/*"), policy)
    }

    /// The policy for requests no route matches (default: [`Policy::public`]).
    pub fn default_policy(mut self, policy: Policy) -> Self {
        self.default = Some(policy);
        self
    }

    /// Unmatched requests are refused ([`Policy::deny`]): "Unauthorized
    /// request.", 401 without a token, 403 with one. `OPTIONS` still passes.
    pub fn deny_unmatched(self) -> Self {
        self.default_policy(Policy::deny())
    }

    /// The status of "Unauthorized request." for requests without a token, for
    /// every policy of the table that does not set its own: 401 (default,
    /// current Spryker) or 403 (older releases).
    pub fn unauthenticated_status(mut self, status: UnauthenticatedStatus) -> Self {
        self.unauthenticated_status = Some(status);
        self
    }

    /// Checks every pattern and policy and builds the table.
    pub fn build(self) -> Result<RouteTable, ConfigError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let fill = |mut policy: Policy| -> Result<Policy, ConfigError> {
            if let Some(status) = self.unauthenticated_status {
                policy.default_unauthenticated_status(status);
            }
            policy.validate()?;
            Ok(policy)
        };
        let mut routes = Vec::with_capacity(self.routes.len());
        for spec in self.routes {
            let methods = match spec.methods {
                None => Methods::Any,
                Some(list) if list.is_empty() => {
                    return Err(ConfigError::NoMethods {
                        pattern: spec.pattern,
                    });
                }
                Some(list) => Methods::Only(list.into_boxed_slice()),
            };
            routes.push(Route {
                methods,
                pattern: Pattern::parse(&spec.pattern)?,
                policy: fill(spec.policy)?,
            });
        }
        let default = fill(self.default.unwrap_or_default())?;
        Ok(RouteTable {
            inner: Arc::new(Table {
                routes: routes.into_boxed_slice(),
                default,
            }),
        })
    }

    fn push(mut self, methods: Option<Vec<Method>>, pattern: String, policy: Policy) -> Self {
        self.routes.push(RouteSpec {
            methods,
            pattern,
            policy,
        });
        self
    }

    fn fail(mut self, error: ConfigError) -> Self {
        self.error.get_or_insert(error);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap()
    }

    #[test]
    fn literal_and_param_segments() {
        let pat = p("/picking-lists/{id}/start-picking");
        assert!(pat.matches("/picking-lists/abc/start-picking"));
        assert!(pat.matches("/picking-lists/abc/start-picking/"));
        assert!(!pat.matches("/picking-lists//start-picking"));
        assert!(!pat.matches("/picking-lists/abc"));
        assert!(!pat.matches("/picking-lists/abc/start-picking/x"));
        assert!(!pat.matches("/Picking-lists/abc/start-picking"));
        assert!(!pat.matches("picking-lists/abc/start-picking"));
        // Doubled slashes and percent-encoded spellings do not dodge the route.
        assert!(pat.matches("/picking-lists/abc/start-picking//"));
        assert!(pat.matches("//picking-lists///abc/start-picking"));
        assert!(pat.matches("/picking%2Dlists/abc/start%2dpicking"));
        assert!(pat.matches("/%70icking-lists/a%20c/start-picking"));
        assert!(!pat.matches("/picking%2Flists/abc/start-picking"));
        assert!(!pat.matches("/picking%2-lists/abc/start-picking"));
        assert!(!pat.matches("/picking-lists%2/abc/start-picking"));
    }

    #[test]
    fn percent_decoded_comparison() {
        assert!(eq_percent_decoded("token", "token"));
        assert!(eq_percent_decoded("%74oken", "token"));
        assert!(eq_percent_decoded("toke%6E", "token"));
        assert!(!eq_percent_decoded("toke%6", "token"));
        assert!(!eq_percent_decoded("toke%6E%", "token"));
        assert!(!eq_percent_decoded("%74oke", "token"));
        assert!(!eq_percent_decoded("tokens", "token"));
        assert!(eq_percent_decoded("%", "%"));
        assert!(!eq_percent_decoded("%zz", "token"));
    }

    #[test]
    fn trailing_slash_in_pattern_and_path() {
        for pat in [p("/token"), p("/token/")] {
            assert!(pat.matches("/token"));
            assert!(pat.matches("/token/"));
            assert!(!pat.matches("/tokens"));
            assert!(!pat.matches("/"));
        }
    }

    #[test]
    fn root_and_prefix() {
        let root = p("/");
        assert!(root.matches("/"));
        assert!(!root.matches("/a"));
        let all = p("/*");
        assert!(all.matches("/"));
        assert!(all.matches("/a/b"));
        let under = p("/a/*");
        assert!(under.matches("/a"));
        assert!(under.matches("/a/"));
        assert!(under.matches("/a/b/c"));
        assert!(!under.matches("/ab"));
        assert!(!under.matches("/"));
        let grpc = p("/pkg.Svc/*");
        assert!(grpc.matches("/pkg.Svc/Method"));
        assert!(!grpc.matches("/pkg.Svc2/Method"));
    }

    #[test]
    fn malformed_patterns() {
        for bad in [
            "", "token", "//", "/a//b", "/a/*/b", "/a/{}", "/a/{id", "/a/x{id}", "/a/{i-d}", "/a*",
            "/a?b=1", "/a b",
        ] {
            assert!(
                matches!(Pattern::parse(bad), Err(ConfigError::InvalidPattern { .. })),
                "{bad:?}"
            );
        }
        let e = RouteTable::builder()
            .route(Method::GET, "/a/{id", Policy::public())
            .build()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"invalid route pattern "/a/{id": '{', '}' and '*' must make up a whole segment"#
        );
    }

    #[test]
    fn builder_errors() {
        assert!(matches!(
            RouteTable::builder()
                .grpc_method("pkg.Svc", "a/b", Policy::public())
                .build(),
            Err(ConfigError::InvalidGrpcName { .. })
        ));
        assert!(matches!(
            RouteTable::builder()
                .grpc_service("", Policy::public())
                .build(),
            Err(ConfigError::InvalidGrpcName { .. })
        ));
        assert!(matches!(
            RouteTable::builder()
                .route_methods([], "/a", Policy::public())
                .build(),
            Err(ConfigError::NoMethods { .. })
        ));
        assert!(matches!(
            RouteTable::builder()
                .default_policy(Policy::scopes_any(Vec::<String>::new()))
                .build(),
            Err(ConfigError::InvalidScopes { .. })
        ));
    }

    #[test]
    fn first_match_wins_and_get_covers_head() {
        let t = RouteTable::builder()
            .route_methods([Method::GET, Method::PATCH], "/x/{id}", Policy::public())
            .any_method("/x/{id}", Policy::deny())
            .build()
            .unwrap();
        assert!(t.find(&Method::GET, "/x/1").unwrap().is_public());
        assert!(t.find(&Method::HEAD, "/x/1").unwrap().is_public());
        assert!(t.find(&Method::PATCH, "/x/1/").unwrap().is_public());
        assert!(!t.find(&Method::DELETE, "/x/1").unwrap().is_public());
        assert!(t.find(&Method::GET, "/x").is_none());
        let dbg = format!("{t:?}");
        assert!(dbg.contains("GET,PATCH /x/{id} => Public"), "{dbg}");
    }

    #[test]
    fn options_and_default() {
        let t = RouteTable::builder()
            .any_method("/*", Policy::deny())
            .build()
            .unwrap();
        let opt = Request::options("/anything").body(()).unwrap();
        assert_eq!(t.check_request(&opt), Ok(()));
        let get = Request::get("/anything").body(()).unwrap();
        assert!(t.check_request(&get).is_err());

        let deny = RouteTable::builder()
            .unauthenticated_status(UnauthenticatedStatus::Forbidden)
            .deny_unmatched()
            .build()
            .unwrap();
        assert_eq!(
            deny.check_request(&get),
            Err(Rejection::Unauthorized {
                status: http::StatusCode::FORBIDDEN,
                credentials: false,
                required_scope: None
            })
        );
        assert_eq!(RouteTable::default().check_request(&get), Ok(()));
    }
}
