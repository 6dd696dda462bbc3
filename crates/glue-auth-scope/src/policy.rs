//! Policies: what a route demands of the caller.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use glue_auth_core::{Claims, Rejection, RequestHead, Scopes, UnauthenticatedStatus};
use http::StatusCode;

use crate::ConfigError;

/// Whether a warehouse exists, asked by [`Policy::warehouse_or_user_checked`]
/// for warehouse tokens.
///
/// Synchronous on purpose: the decision happens inside `Service::call`. Back it
/// with an in-memory snapshot of `spy_stock` (refreshed in the background), not
/// with a database round trip.
pub type WarehouseExists = Arc<dyn Fn(i64) -> bool + Send + Sync>;

type CheckFn =
    Arc<dyn Fn(Option<&Claims>, &RequestHead<'_>) -> Result<(), Rejection> + Send + Sync>;

/// `required_scope` of [`Policy::user_required`] failures.
const SCOPE_USER: &str = "user";
/// `required_scope` of [`Policy::warehouse_required`] failures.
const SCOPE_WAREHOUSE: &str = "warehouse";
/// `required_scope` of [`Policy::user_scope`] failures.
const SCOPE_BACK_OFFICE: &str = "back-office-user";
/// `required_scope` of [`Policy::user_scope_with_warehouse_user`] failures, and of
/// [`Policy::warehouse_or_user`] failures for a user token.
const SCOPE_ANY_USER: &str = "back-office-user warehouse-user";
/// `required_scope` of [`Policy::warehouse_or_user`] failures without a token.
const SCOPE_WAREHOUSE_OR_USER: &str = "back-office-user warehouse-user warehouse";

/// What a route demands of the caller: one decision over the request's
/// [`Claims`] (absent when no `Authorization` header was sent) and its head.
///
/// Build blocks with the constructors and combine them with [`Policy::all`] or
/// [`Policy::and`]; the first failing block answers. A table's policies are
/// checked when the table is built ([`RouteTableBuilder::build`](crate::RouteTableBuilder::build)).
///
/// How blocks answer (rendered by the layer's [`Reject`](glue_auth_core::Reject) responder):
///
/// | block | no token | token that does not fit |
/// |---|---|---|
/// | [`user_required`](Policy::user_required), [`warehouse_required`](Policy::warehouse_required), [`authenticated`](Policy::authenticated), [`user_scope`](Policy::user_scope), [`scopes_all`](Policy::scopes_all), [`scopes_any`](Policy::scopes_any), [`deny`](Policy::deny) | [`Rejection::Unauthorized`] 401 (setting: 403), `credentials: false` | [`Rejection::Unauthorized`] 403, `credentials: true` |
/// | [`warehouse_or_user`](Policy::warehouse_or_user) | [`Rejection::AuthorizationFailed`] 403 | [`Rejection::AuthorizationFailed`] 403 |
///
/// ```
/// use glue_auth_core::{Claims, Principal, RequestHead, Scopes, UserPrincipal};
/// use glue_auth_scope::Policy;
/// use http::Request;
///
/// let policy = Policy::user_required().and(Policy::user_scope());
/// let user = Claims::builder(
///     Principal::User(UserPrincipal::new(4, "0d743cc3-a772-5145-971e-d4018ee7a489", None::<String>)),
///     Scopes::from_iter(["user", "back-office-user"]),
/// )
/// .build();
/// let req = Request::post("/warehouse-tokens").body(()).unwrap();
/// let head = RequestHead::of(&req);
/// assert!(policy.check(Some(&user), &head).is_ok());
/// let no_token = policy.check(None, &head).unwrap_err();
/// assert_eq!(no_token.glue_error().status(), 401);
/// ```
#[derive(Clone)]
pub struct Policy {
    node: Node,
}

#[derive(Clone)]
enum Node {
    Public,
    Deny {
        unauth: Option<UnauthenticatedStatus>,
    },
    Authenticated {
        unauth: Option<UnauthenticatedStatus>,
    },
    User {
        unauth: Option<UnauthenticatedStatus>,
    },
    Warehouse {
        unauth: Option<UnauthenticatedStatus>,
    },
    UserScope {
        warehouse_user: bool,
        unauth: Option<UnauthenticatedStatus>,
    },
    WarehouseOrUser {
        exists: Option<WarehouseExists>,
    },
    Scopes {
        any: bool,
        names: Box<[Box<str>]>,
        required: Cow<'static, str>,
        unauth: Option<UnauthenticatedStatus>,
    },
    Custom(CheckFn),
    All(Box<[Policy]>),
}

impl Policy {
    /// Lets every request through. The default of a table for unmatched routes.
    pub fn public() -> Self {
        Self::from_node(Node::Public)
    }

    /// Refuses every request (except `OPTIONS`, which a table always lets
    /// through): "Unauthorized request.", 401 without a token, 403 with one.
    pub fn deny() -> Self {
        Self::from_node(Node::Deny { unauth: None })
    }

    /// Any valid token, user or warehouse.
    pub fn authenticated() -> Self {
        Self::from_node(Node::Authenticated { unauth: None })
    }

    /// Spryker's "user required" (protected path): a Back Office user
    /// principal. Failure: "Unauthorized request.", code null, 401 without a
    /// token (403 with [`unauthenticated_status`](Policy::unauthenticated_status)),
    /// 403 for a warehouse token. `required_scope`: `user`.
    pub fn user_required() -> Self {
        Self::from_node(Node::User { unauth: None })
    }

    /// A warehouse principal (a token from `POST /warehouse-tokens`).
    /// Failure: "Unauthorized request.", 401 without a token, 403 for a user
    /// token. `required_scope`: `warehouse`.
    pub fn warehouse_required() -> Self {
        Self::from_node(Node::Warehouse { unauth: None })
    }

    /// Spryker's "user scope" for a route that is **not** on the warehouse-user
    /// allowlist: a user principal whose scopes contain `back-office-user`, or
    /// are exactly `["user"]` (tokens issued before February 2024). Failure:
    /// 403 "Unauthorized request." (`required_scope`: `back-office-user`); 401
    /// when no token was sent.
    pub fn user_scope() -> Self {
        Self::from_node(Node::UserScope {
            warehouse_user: false,
            unauth: None,
        })
    }

    /// Spryker's "user scope" for a route+method on the warehouse-user
    /// allowlist: as [`user_scope`](Policy::user_scope), and `warehouse-user`
    /// also passes (`required_scope`: `back-office-user warehouse-user`).
    pub fn user_scope_with_warehouse_user() -> Self {
        Self::from_node(Node::UserScope {
            warehouse_user: true,
            unauth: None,
        })
    }

    /// Spryker's "warehouse or user" strategy (picking lists): a user principal
    /// whose scopes contain `back-office-user` or `warehouse-user`, or a
    /// warehouse principal whose token carries the
    /// `warehouse` scope. Failure, with or without a token: 403
    /// "Authorization failed.", code null ([`Rejection::AuthorizationFailed`]).
    ///
    /// Decisions where Spryker is loose or silent:
    /// - legacy `["user"]` tokens are refused here (SPEC §5.2 names only the
    ///   two current user scopes), unlike in [`user_scope`](Policy::user_scope);
    /// - a warehouse token must carry the `warehouse` scope (deviation: Spryker
    ///   checks only `id_warehouse`).
    ///
    /// `required_scope`: `back-office-user warehouse-user` for a user token,
    /// `warehouse` for a warehouse token, all three without a token.
    pub fn warehouse_or_user() -> Self {
        Self::from_node(Node::WarehouseOrUser { exists: None })
    }

    /// [`warehouse_or_user`](Policy::warehouse_or_user), and a warehouse token
    /// passes only when `exists(id_warehouse)` says its warehouse exists.
    pub fn warehouse_or_user_checked<F>(exists: F) -> Self
    where
        F: Fn(i64) -> bool + Send + Sync + 'static,
    {
        Self::warehouse_or_user_shared(Arc::new(exists))
    }

    /// [`warehouse_or_user_checked`](Policy::warehouse_or_user_checked) with an
    /// already shared predicate.
    pub fn warehouse_or_user_shared(exists: WarehouseExists) -> Self {
        Self::from_node(Node::WarehouseOrUser {
            exists: Some(exists),
        })
    }

    /// A token carrying every one of `scopes`. Failure: "Unauthorized
    /// request.", `required_scope` the names joined by spaces.
    ///
    /// An empty list, or a name that is empty or contains whitespace, `"` or
    /// `\`, is a [`ConfigError`] when the table is built.
    pub fn scopes_all<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::scopes(false, scopes)
    }

    /// A token carrying at least one of `scopes`. As
    /// [`scopes_all`](Policy::scopes_all) otherwise.
    pub fn scopes_any<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::scopes(true, scopes)
    }

    fn scopes<I, S>(any: bool, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let names: Box<[Box<str>]> = scopes.into_iter().map(|s| Box::from(s.as_ref())).collect();
        let required = names.join(" ");
        Self::from_node(Node::Scopes {
            any,
            names,
            required: Cow::Owned(required),
            unauth: None,
        })
    }

    /// A policy of your own: `Ok(())` lets the request through, `Err` answers
    /// with that rejection.
    ///
    /// ```
    /// use glue_auth_core::{Claims, Rejection, RequestHead};
    /// use glue_auth_scope::Policy;
    ///
    /// // Only warehouse 1 may use this route.
    /// let only_warehouse_1 = Policy::from_fn(|claims: Option<&Claims>, _: &RequestHead<'_>| {
    ///     match claims.and_then(|c| c.principal().as_warehouse()) {
    ///         Some(w) if w.id_warehouse() == 1 => Ok(()),
    ///         _ => Err(Rejection::AuthorizationFailed { credentials: true, required_scope: Some("warehouse".into()) }),
    ///     }
    /// });
    /// # let _ = only_warehouse_1;
    /// ```
    pub fn from_fn<F>(f: F) -> Self
    where
        F: Fn(Option<&Claims>, &RequestHead<'_>) -> Result<(), Rejection> + Send + Sync + 'static,
    {
        Self::from_node(Node::Custom(Arc::new(f)))
    }

    /// Every policy of the list, in order; the first failure answers. An empty
    /// list lets everything through.
    pub fn all<I>(policies: I) -> Self
    where
        I: IntoIterator<Item = Policy>,
    {
        let mut list = Vec::new();
        for p in policies {
            match p.node {
                Node::All(inner) => list.extend(inner.into_vec()),
                Node::Public => {}
                node => list.push(Policy { node }),
            }
        }
        match list.len() {
            0 => Self::public(),
            1 => list.pop().unwrap_or_else(Self::public),
            _ => Self::from_node(Node::All(list.into_boxed_slice())),
        }
    }

    /// `self`, then `next`; the first failure answers.
    pub fn and(self, next: Policy) -> Self {
        Self::all([self, next])
    }

    /// Sets the status of "Unauthorized request." answers to requests that
    /// carried no token, in this policy and every block it combines: 401
    /// (default, current Spryker) or 403 (older releases).
    ///
    /// A table's [`RouteTableBuilder::unauthenticated_status`](crate::RouteTableBuilder::unauthenticated_status)
    /// applies to the blocks where this was not set.
    pub fn unauthenticated_status(mut self, status: UnauthenticatedStatus) -> Self {
        self.node.set_unauth(status, true);
        self
    }

    /// `true` for [`Policy::public`] (and an empty [`Policy::all`]).
    pub fn is_public(&self) -> bool {
        matches!(self.node, Node::Public)
    }

    /// The decision: `Ok(())` lets the request through, `Err` is the answer.
    ///
    /// `claims` are the ones the bearer layer put into the request extensions,
    /// `None` when the request carried no `Authorization` header. Allocation
    /// free unless the request is refused with a custom scope list.
    pub fn check(&self, claims: Option<&Claims>, head: &RequestHead<'_>) -> Result<(), Rejection> {
        self.node.check(claims, head)
    }

    /// Fills the unset no-token statuses (used by the table builder).
    pub(crate) fn default_unauthenticated_status(&mut self, status: UnauthenticatedStatus) {
        self.node.set_unauth(status, false);
    }

    /// Build-time checks of this policy.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        self.node.validate()
    }

    fn from_node(node: Node) -> Self {
        Policy { node }
    }
}

impl Default for Policy {
    /// [`Policy::public`].
    fn default() -> Self {
        Self::public()
    }
}

fn unauthorized(
    claims: Option<&Claims>,
    unauth: Option<UnauthenticatedStatus>,
    scope: Option<Cow<'static, str>>,
) -> Rejection {
    match claims {
        None => Rejection::Unauthorized {
            status: unauth.unwrap_or_default().status(),
            credentials: false,
            required_scope: scope,
        },
        Some(_) => Rejection::Unauthorized {
            status: StatusCode::FORBIDDEN,
            credentials: true,
            required_scope: scope,
        },
    }
}

fn authorization_failed(scope: &'static str, credentials: bool) -> Rejection {
    Rejection::AuthorizationFailed {
        credentials,
        required_scope: Some(Cow::Borrowed(scope)),
    }
}

/// The user-scope test shared by the user-scope and warehouse-or-user
/// strategies.
fn user_scope_ok(scopes: &Scopes, warehouse_user: bool) -> bool {
    scopes.has_back_office_user()
        || (warehouse_user && scopes.has_warehouse_user())
        || scopes.is_legacy_user()
}

fn valid_scope_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
}

impl Node {
    fn check(&self, claims: Option<&Claims>, head: &RequestHead<'_>) -> Result<(), Rejection> {
        match self {
            Node::Public => Ok(()),
            Node::Deny { unauth } => Err(unauthorized(claims, *unauth, None)),
            Node::Authenticated { unauth } => match claims {
                Some(_) => Ok(()),
                None => Err(unauthorized(None, *unauth, None)),
            },
            Node::User { unauth } => match claims {
                Some(c) if c.principal().is_user() => Ok(()),
                _ => Err(unauthorized(claims, *unauth, Some(SCOPE_USER.into()))),
            },
            Node::Warehouse { unauth } => match claims {
                Some(c) if c.principal().is_warehouse() => Ok(()),
                _ => Err(unauthorized(claims, *unauth, Some(SCOPE_WAREHOUSE.into()))),
            },
            Node::UserScope {
                warehouse_user,
                unauth,
            } => match claims {
                Some(c)
                    if c.principal().is_user() && user_scope_ok(c.scopes(), *warehouse_user) =>
                {
                    Ok(())
                }
                _ => {
                    let scope = if *warehouse_user {
                        SCOPE_ANY_USER
                    } else {
                        SCOPE_BACK_OFFICE
                    };
                    Err(unauthorized(claims, *unauth, Some(scope.into())))
                }
            },
            Node::WarehouseOrUser { exists } => {
                let Some(c) = claims else {
                    return Err(authorization_failed(SCOPE_WAREHOUSE_OR_USER, false));
                };
                let p = c.principal();
                if p.is_user() {
                    let s = c.scopes();
                    if s.has_back_office_user() || s.has_warehouse_user() {
                        return Ok(());
                    }
                    return Err(authorization_failed(SCOPE_ANY_USER, true));
                }
                match p.as_warehouse() {
                    Some(w)
                        if c.scopes().has_warehouse()
                            && exists.as_ref().is_none_or(|f| f(w.id_warehouse())) =>
                    {
                        Ok(())
                    }
                    _ => Err(authorization_failed(SCOPE_WAREHOUSE, true)),
                }
            }
            Node::Scopes {
                any,
                names,
                required,
                unauth,
            } => {
                let ok = claims.is_some_and(|c| {
                    let s = c.scopes();
                    if *any {
                        names.iter().any(|n| s.contains(n))
                    } else {
                        names.iter().all(|n| s.contains(n))
                    }
                });
                if ok {
                    Ok(())
                } else {
                    Err(unauthorized(claims, *unauth, Some(required.clone())))
                }
            }
            Node::Custom(f) => f(claims, head),
            Node::All(list) => list.iter().try_for_each(|p| p.node.check(claims, head)),
        }
    }

    fn set_unauth(&mut self, status: UnauthenticatedStatus, overwrite: bool) {
        match self {
            Node::Deny { unauth }
            | Node::Authenticated { unauth }
            | Node::User { unauth }
            | Node::Warehouse { unauth }
            | Node::UserScope { unauth, .. }
            | Node::Scopes { unauth, .. } => {
                if overwrite || unauth.is_none() {
                    *unauth = Some(status);
                }
            }
            Node::All(list) => {
                for p in list.iter_mut() {
                    p.node.set_unauth(status, overwrite);
                }
            }
            Node::Public | Node::WarehouseOrUser { .. } | Node::Custom(_) => {}
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Node::Scopes { names, .. } => {
                if names.is_empty() {
                    return Err(ConfigError::InvalidScopes {
                        reason: "empty scope list",
                    });
                }
                if !names.iter().all(|n| valid_scope_name(n)) {
                    return Err(ConfigError::InvalidScopes {
                        reason: "a scope name is empty or contains whitespace, '\"' or '\\'",
                    });
                }
                Ok(())
            }
            Node::All(list) => list.iter().try_for_each(|p| p.node.validate()),
            Node::Public
            | Node::Deny { .. }
            | Node::Authenticated { .. }
            | Node::User { .. }
            | Node::Warehouse { .. }
            | Node::UserScope { .. }
            | Node::WarehouseOrUser { .. }
            | Node::Custom(_) => Ok(()),
        }
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.node, f)
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn st(s: &Option<UnauthenticatedStatus>) -> u16 {
            s.unwrap_or_default().status().as_u16()
        }
        match self {
            Node::Public => f.write_str("Public"),
            Node::Deny { unauth } => write!(f, "Deny({})", st(unauth)),
            Node::Authenticated { unauth } => write!(f, "Authenticated({})", st(unauth)),
            Node::User { unauth } => write!(f, "UserRequired({})", st(unauth)),
            Node::Warehouse { unauth } => write!(f, "WarehouseRequired({})", st(unauth)),
            Node::UserScope {
                warehouse_user,
                unauth,
            } => f
                .debug_struct("UserScope")
                .field("warehouse_user", warehouse_user)
                .field("unauthenticated_status", &st(unauth))
                .finish(),
            Node::WarehouseOrUser { exists } => f
                .debug_struct("WarehouseOrUser")
                .field("warehouse_exists_check", &exists.is_some())
                .finish(),
            Node::Scopes { any, names, .. } => {
                f.write_str(if *any { "ScopesAny" } else { "ScopesAll" })?;
                f.debug_list().entries(names.iter()).finish()
            }
            Node::Custom(_) => f.write_str("Custom(..)"),
            Node::All(list) => {
                f.write_str("All")?;
                f.debug_list().entries(list.iter()).finish()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glue_auth_core::{Principal, UserPrincipal, WarehousePrincipal};
    use http::Request;

    fn user(scopes: &[&str]) -> Claims {
        Claims::builder(
            Principal::User(UserPrincipal::new(4, "u-4", None::<String>)),
            Scopes::from_iter(scopes),
        )
        .build()
    }

    fn warehouse(id: i64, scopes: &[&str]) -> Claims {
        Claims::builder(
            Principal::Warehouse(WarehousePrincipal::new(id)),
            Scopes::from_iter(scopes),
        )
        .build()
    }

    fn check(p: &Policy, c: Option<&Claims>) -> Result<(), Rejection> {
        let req = Request::get("/x").body(()).unwrap();
        p.check(c, &RequestHead::of(&req))
    }

    fn unauthorized_status(r: Result<(), Rejection>) -> (u16, bool) {
        match r {
            Err(Rejection::Unauthorized {
                status,
                credentials,
                ..
            }) => (status.as_u16(), credentials),
            other => panic!("expected Unauthorized, got {other:?}"),
        }
    }

    #[test]
    fn user_required() {
        let p = Policy::user_required();
        assert!(check(&p, Some(&user(&["whatever"]))).is_ok());
        assert_eq!(unauthorized_status(check(&p, None)), (401, false));
        assert_eq!(
            unauthorized_status(check(&p, Some(&warehouse(1, &["warehouse"])))),
            (403, true)
        );
        let old = Policy::user_required().unauthenticated_status(UnauthenticatedStatus::Forbidden);
        assert_eq!(unauthorized_status(check(&old, None)), (403, false));
    }

    #[test]
    fn warehouse_required() {
        let p = Policy::warehouse_required();
        assert!(check(&p, Some(&warehouse(1, &[]))).is_ok());
        assert_eq!(unauthorized_status(check(&p, None)), (401, false));
        assert_eq!(
            unauthorized_status(check(&p, Some(&user(&["user"])))),
            (403, true)
        );
    }

    #[test]
    fn user_scope_variants() {
        let strict = Policy::user_scope();
        let wu = Policy::user_scope_with_warehouse_user();
        let bou = user(&["user", "back-office-user"]);
        let whu = user(&["user", "warehouse-user"]);
        let legacy = user(&["user"]);
        let twice = user(&["user", "user"]);
        for p in [&strict, &wu] {
            assert!(check(p, Some(&bou)).is_ok());
            assert!(check(p, Some(&legacy)).is_ok());
            assert_eq!(unauthorized_status(check(p, Some(&twice))), (403, true));
            assert_eq!(
                unauthorized_status(check(p, Some(&warehouse(1, &["back-office-user"])))),
                (403, true)
            );
            assert_eq!(unauthorized_status(check(p, None)), (401, false));
        }
        assert_eq!(unauthorized_status(check(&strict, Some(&whu))), (403, true));
        assert!(check(&wu, Some(&whu)).is_ok());
        match check(&strict, Some(&whu)) {
            Err(Rejection::Unauthorized { required_scope, .. }) => {
                assert_eq!(required_scope.as_deref(), Some("back-office-user"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn warehouse_or_user() {
        let p = Policy::warehouse_or_user();
        for s in [
            &["user", "back-office-user"][..],
            &["user", "warehouse-user"],
        ] {
            assert!(check(&p, Some(&user(s))).is_ok(), "{s:?}");
        }
        assert!(check(&p, Some(&warehouse(7, &["warehouse"]))).is_ok());
        let failed = |r: Result<(), Rejection>| match r {
            Err(Rejection::AuthorizationFailed { required_scope, .. }) => required_scope,
            other => panic!("{other:?}"),
        };
        // Legacy ["user"] tokens are not enough for picking lists (SPEC §5.2).
        assert_eq!(
            failed(check(&p, Some(&user(&["user"])))).as_deref(),
            Some("back-office-user warehouse-user")
        );
        assert_eq!(
            failed(check(&p, Some(&warehouse(7, &[])))).as_deref(),
            Some("warehouse")
        );
        assert_eq!(
            failed(check(&p, Some(&user(&["user", "other"])))).as_deref(),
            Some("back-office-user warehouse-user")
        );
        assert_eq!(
            failed(check(&p, None)).as_deref(),
            Some("back-office-user warehouse-user warehouse")
        );
        let checked = Policy::warehouse_or_user_checked(|id| id == 1);
        assert!(check(&checked, Some(&warehouse(1, &["warehouse"]))).is_ok());
        failed(check(&checked, Some(&warehouse(2, &["warehouse"]))));
        // The existence check is for warehouses only.
        assert!(check(&checked, Some(&user(&["user", "back-office-user"]))).is_ok());
    }

    #[test]
    fn scopes_and_combinations() {
        let all = Policy::scopes_all(["a", "b"]);
        let any = Policy::scopes_any(["a", "b"]);
        assert!(check(&all, Some(&user(&["b", "a"]))).is_ok());
        assert_eq!(
            unauthorized_status(check(&all, Some(&user(&["a"])))),
            (403, true)
        );
        assert!(check(&any, Some(&user(&["a"]))).is_ok());
        assert_eq!(
            unauthorized_status(check(&any, Some(&user(&["c"])))),
            (403, true)
        );
        assert_eq!(unauthorized_status(check(&any, None)), (401, false));
        match check(&all, Some(&user(&[]))) {
            Err(Rejection::Unauthorized { required_scope, .. }) => {
                assert_eq!(required_scope.as_deref(), Some("a b"))
            }
            other => panic!("{other:?}"),
        }

        // First failure answers.
        let combo = Policy::all([
            Policy::from_fn(|_, _| Err(Rejection::Unavailable { retry_after: 3 })),
            Policy::deny(),
        ]);
        assert_eq!(
            check(&combo, None),
            Err(Rejection::Unavailable { retry_after: 3 })
        );
        assert!(Policy::all([]).is_public());
        assert!(Policy::all([Policy::public(), Policy::public()]).is_public());
        assert!(check(&Policy::authenticated(), Some(&warehouse(1, &[]))).is_ok());
        assert_eq!(
            unauthorized_status(check(&Policy::deny(), Some(&user(&["user"])))),
            (403, true)
        );
    }

    #[test]
    fn unauthenticated_status_reaches_nested_blocks_and_table_default_fills_gaps() {
        let mut p = Policy::user_required()
            .and(Policy::user_scope().unauthenticated_status(UnauthenticatedStatus::Unauthorized));
        p.default_unauthenticated_status(UnauthenticatedStatus::Forbidden);
        assert_eq!(unauthorized_status(check(&p, None)), (403, false));
        let p = Policy::user_scope().and(Policy::user_required());
        let mut q = p.clone();
        q.default_unauthenticated_status(UnauthenticatedStatus::Forbidden);
        assert_eq!(unauthorized_status(check(&q, None)), (403, false));
        let p = p.unauthenticated_status(UnauthenticatedStatus::Forbidden);
        assert_eq!(unauthorized_status(check(&p, None)), (403, false));
    }

    #[test]
    fn validation() {
        assert!(Policy::scopes_all(Vec::<&str>::new()).validate().is_err());
        assert!(Policy::scopes_any(["a b"]).validate().is_err());
        assert!(Policy::scopes_any([""]).validate().is_err());
        assert!(Policy::scopes_any(["x"]).validate().is_ok());
        let dbg = format!(
            "{:?}",
            Policy::user_required().and(Policy::scopes_any(["x"]))
        );
        assert_eq!(dbg, r#"All[UserRequired(401), ScopesAny["x"]]"#);
    }
}
