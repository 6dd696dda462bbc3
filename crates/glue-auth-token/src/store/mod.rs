//! What the token endpoints read and write: users, warehouse assignments,
//! refresh tokens, authorization codes and the access-token log (SPEC §6,
//! §2a); and the management of
//! assignments ([`AssignmentStore`]).
//!
//! Every method returns a boxed [`StoreFuture`], so each trait is object safe
//! and a gateway can pick an implementation at run time
//! (`Arc<dyn UserDirectory>`). One allocation per store call is noise next to
//! a bcrypt verification or a database round trip.
//!
//! [`StoreError`] of any kind is answered 503 with `Retry-After`, never 500.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use glue_auth_core::{NumericDate, Principal, Scopes};

mod assignments;
mod codes;
pub mod memory;

pub use assignments::{
    Assignment, AssignmentFilter, AssignmentRefusal, AssignmentResult, AssignmentStore,
    MAX_LISTED_ASSIGNMENTS, NewAssignment, Warehouse, WarehouseRef, random_uuid, uuid_for,
};
pub use codes::{
    AuthorizationCodeHash, AuthorizationCodeRecord, AuthorizationCodes, CodeChallengeMethod,
};

/// The future every store method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A boxed error from a store's driver.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why a store could not answer. Every variant is answered 503 with
/// `Retry-After`; the details go to the logs only.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The store is down or timed out (connection refused, pool exhausted, …).
    Unavailable(BoxError),
    /// The store answered with data that breaks its own invariants (for
    /// example two active assignments for one user, or an insert that collides).
    Inconsistent(String),
}

impl StoreError {
    /// A [`StoreError::Unavailable`] from any driver error.
    pub fn unavailable(e: impl Into<BoxError>) -> Self {
        StoreError::Unavailable(e.into())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unavailable(e) => write!(f, "store unavailable: {e}"),
            StoreError::Inconsistent(what) => write!(f, "store inconsistent: {what}"),
        }
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            StoreError::Unavailable(e) => Some(&**e),
            StoreError::Inconsistent(_) => None,
        }
    }
}

/// A bcrypt password hash (`spy_user.password`, PHP's `$2y$` or `$2b$`).
///
/// Never printed: `Debug` shows only the algorithm prefix and cost.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(Arc<str>);

impl PasswordHash {
    /// Wraps a stored hash.
    pub fn new(hash: impl Into<Arc<str>>) -> Self {
        PasswordHash(hash.into())
    }

    /// The hash string, for the verifier.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The bcrypt cost parsed from `$2y$10$…`, if the hash is well formed.
    pub fn cost(&self) -> Option<u32> {
        let mut parts = self.0.split('$');
        let (_, _, cost) = (parts.next()?, parts.next()?, parts.next()?);
        cost.parse().ok()
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHash")
            .field("cost", &self.cost())
            .finish_non_exhaustive()
    }
}

/// `spy_user.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserStatus {
    /// May log in.
    Active,
    /// May not log in.
    Blocked,
    /// May not log in.
    Deleted,
}

impl UserStatus {
    /// Parses Spryker's column value (`active`, `blocked`, `deleted`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(UserStatus::Active),
            "blocked" => Some(UserStatus::Blocked),
            "deleted" => Some(UserStatus::Deleted),
            _ => None,
        }
    }

    /// Spryker's column value.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Blocked => "blocked",
            UserStatus::Deleted => "deleted",
        }
    }
}

/// A Back Office user as the password grant needs it (`spy_user`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// `id_user`.
    pub id_user: i64,
    /// `uuid`.
    pub uuid: String,
    /// `username` (unique; Spryker uses the e-mail address).
    pub username: String,
    /// `password`: a bcrypt hash.
    pub password_hash: PasswordHash,
    /// `status`: only `active` users may log in.
    pub status: UserStatus,
    /// `is_warehouse_user`: the token gets `warehouse-user` instead of
    /// `back-office-user`.
    pub is_warehouse_user: bool,
    /// The user reference written into `sub` (null in Spryker's suite).
    pub user_reference: Option<String>,
}

/// Whether a user's earlier tokens still speak for the user: read by
/// `POST /warehouse-tokens` and the refresh grant (not on every request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserStanding {
    /// `spy_user.status`: only `active` users' tokens exchange or refresh.
    pub status: UserStatus,
    /// Tokens issued before this instant no longer exchange or refresh: the
    /// user's password (or status) changed then. `None`: the store does not
    /// know (an existing Spryker database, whose Back Office changes
    /// passwords without telling).
    pub revoked_before: Option<NumericDate>,
}

impl UserStanding {
    /// An active user with no revocation date.
    pub fn active() -> Self {
        UserStanding {
            status: UserStatus::Active,
            revoked_before: None,
        }
    }

    /// Whether a token of this user issued at `issued_at` (its `iat`, or
    /// the start of a refresh chain) still speaks for the user. A token
    /// without a date is refused once the user has a revocation date.
    pub fn allows(&self, issued_at: Option<NumericDate>) -> bool {
        self.status == UserStatus::Active
            && match self.revoked_before {
                None => true,
                Some(limit) => issued_at.is_some_and(|at| at >= limit),
            }
    }
}

/// Looks users up (`spy_user`).
pub trait UserDirectory: Send + Sync + fmt::Debug {
    /// The user with exactly this username, whatever its status.
    fn find_by_username<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRecord>>;

    /// The standing of the user with this `uuid`; `None` when there is no
    /// such user (deleted rows). Read when a user token is exchanged for a
    /// warehouse token and when a user's refresh token is used, so that
    /// blocking, deleting or a new password ends them.
    fn standing<'a>(&'a self, user_uuid: &'a str) -> StoreFuture<'a, Option<UserStanding>>;
}

/// Warehouse assignments (`spy_warehouse_user_assignment`) and warehouses
/// (`spy_stock`).
pub trait WarehouseAssignments: Send + Sync + fmt::Debug {
    /// The warehouse of the user's **active** assignment, if any (at most one
    /// is active per user), provided that warehouse exists.
    fn active_warehouse<'a>(&'a self, user_uuid: &'a str) -> StoreFuture<'a, Option<i64>>;

    /// Whether the warehouse exists (and is active).
    fn warehouse_exists(&self, id_warehouse: i64) -> StoreFuture<'_, bool>;
}

/// The SHA-256 of an opaque refresh token: the only form in which it is
/// stored (`spy_oauth_refresh_token.identifier`, as lowercase hex).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefreshTokenHash(pub [u8; 32]);

impl RefreshTokenHash {
    /// Hashes a refresh token as presented by a client.
    pub fn of(token: &str) -> Self {
        RefreshTokenHash(crate::crypto::sha256(token.as_bytes()))
    }

    /// Lowercase hex, for SQL stores.
    pub fn to_hex(&self) -> String {
        crate::crypto::hex(&self.0)
    }
}

/// Prints only a short prefix: enough to correlate logs, useless to an attacker.
impl fmt::Debug for RefreshTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RefreshTokenHash({}…)", crate::crypto::hex(&self.0[..4]))
    }
}

/// The rotation chain a refresh token belongs to: all tokens descending from
/// one login share it, and reuse of a spent token revokes them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefreshFamily(pub [u8; 16]);

impl RefreshFamily {
    /// A new random family id.
    pub fn random() -> Self {
        RefreshFamily(crate::crypto::bytes())
    }

    /// Lowercase hex, for SQL stores.
    pub fn to_hex(&self) -> String {
        crate::crypto::hex(&self.0)
    }
}

/// A stored refresh token (`spy_oauth_refresh_token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// SHA-256 of the token.
    pub hash: RefreshTokenHash,
    /// The rotation chain.
    pub family: RefreshFamily,
    /// Whom the token speaks for (`user_identifier`).
    pub principal: Principal,
    /// The scopes of the access tokens it may mint (`scopes`).
    pub scopes: Scopes,
    /// The OAuth client it was issued to (`fk_oauth_client`).
    pub client_id: String,
    /// `expires_at`.
    pub expires_at: NumericDate,
    /// `revoked_at`: set when the token is used (rotated) or its family revoked.
    pub revoked_at: Option<NumericDate>,
}

/// The outcome of [`RefreshTokens::rotate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live: it is now revoked and its successor stored.
    Rotated,
    /// No such token.
    NotFound,
    /// The token had expired; nothing changed.
    Expired,
    /// The token had already been used or revoked: a replay. Nothing changed;
    /// the caller revokes the family.
    Reused,
}

/// Refresh token storage (`spy_oauth_refresh_token`).
pub trait RefreshTokens: Send + Sync + fmt::Debug {
    /// Stores a new token.
    fn insert(&self, record: RefreshTokenRecord) -> StoreFuture<'_, ()>;

    /// The token with this hash, live or not.
    fn find(&self, hash: RefreshTokenHash) -> StoreFuture<'_, Option<RefreshTokenRecord>>;

    /// Atomically: if `used` is live at `now` (not revoked, not expired), set
    /// its `revoked_at` to `now` and insert `next`. Of any number of concurrent
    /// rotations of one token, exactly one returns [`Rotation::Rotated`].
    fn rotate(
        &self,
        used: RefreshTokenHash,
        next: RefreshTokenRecord,
        now: NumericDate,
    ) -> StoreFuture<'_, Rotation>;

    /// Revokes every live token of the family at `now`; returns how many.
    fn revoke_family(&self, family: RefreshFamily, now: NumericDate) -> StoreFuture<'_, u64>;
}

/// One issued access token (`spy_oauth_access_token`). Spryker writes a row per
/// token and never reads it while validating.
///
/// `Debug` omits the `jti`, as [`Claims`](glue_auth_core::Claims) does.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessTokenRecord {
    /// `identifier` (= `jti`). Not a secret by itself: the token is the secret.
    pub jti: String,
    /// `user_identifier`.
    pub principal: Principal,
    /// `scopes`.
    pub scopes: Scopes,
    /// `fk_oauth_client`.
    pub client_id: String,
    /// `expirity_date` (sic).
    pub expires_at: NumericDate,
}

impl fmt::Debug for AccessTokenRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenRecord")
            .field("principal", &self.principal)
            .field("scopes", &self.scopes)
            .field("client_id", &self.client_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Optional log of issued access tokens (`spy_oauth_access_token`).
pub trait AccessTokenLog: Send + Sync + fmt::Debug {
    /// Records one issued token.
    fn record(&self, record: AccessTokenRecord) -> StoreFuture<'_, ()>;
}

macro_rules! forward_arc {
    ($($t:ident),*) => {$(
        impl<T: $t + ?Sized> $t for Arc<T> {
            forward_arc!(@body $t);
        }
    )*};
    (@body UserDirectory) => {
        fn find_by_username<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRecord>> {
            (**self).find_by_username(username)
        }
        fn standing<'a>(&'a self, user_uuid: &'a str) -> StoreFuture<'a, Option<UserStanding>> {
            (**self).standing(user_uuid)
        }
    };
    (@body WarehouseAssignments) => {
        fn active_warehouse<'a>(&'a self, user_uuid: &'a str) -> StoreFuture<'a, Option<i64>> {
            (**self).active_warehouse(user_uuid)
        }
        fn warehouse_exists(&self, id_warehouse: i64) -> StoreFuture<'_, bool> {
            (**self).warehouse_exists(id_warehouse)
        }
    };
    (@body RefreshTokens) => {
        fn insert(&self, record: RefreshTokenRecord) -> StoreFuture<'_, ()> {
            (**self).insert(record)
        }
        fn find(&self, hash: RefreshTokenHash) -> StoreFuture<'_, Option<RefreshTokenRecord>> {
            (**self).find(hash)
        }
        fn rotate(&self, used: RefreshTokenHash, next: RefreshTokenRecord, now: NumericDate) -> StoreFuture<'_, Rotation> {
            (**self).rotate(used, next, now)
        }
        fn revoke_family(&self, family: RefreshFamily, now: NumericDate) -> StoreFuture<'_, u64> {
            (**self).revoke_family(family, now)
        }
    };
    (@body AccessTokenLog) => {
        fn record(&self, record: AccessTokenRecord) -> StoreFuture<'_, ()> {
            (**self).record(record)
        }
    };
}

forward_arc!(
    UserDirectory,
    WarehouseAssignments,
    RefreshTokens,
    AccessTokenLog
);
