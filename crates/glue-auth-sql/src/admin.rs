//! Admin operations for the gateway's command line: users, warehouses,
//! assignments, refresh tokens.

use std::fmt;
use std::future::Future;

use glue_auth_core::{NumericDate, Principal, Scopes, UserPrincipal};
use glue_auth_token::store::{AccessTokenRecord, PasswordHash, UserRecord, UserStatus, uuid_for};

use crate::error::{SqlError, Timeout, sql_error};
use crate::sql::{Arg, StatusColumn, bind};
use crate::store::{Layout, RefreshTuple, SqlStore, parse_scopes, with_pool};

/// SPEC §6's demo user.
const DEMO_USER: &str = "sonia@spryker.com";
const DEMO_PASSWORD: &str = "change123";
const DEMO_UUID: &str = "0d743cc3-a772-5145-971e-d4018ee7a489";

/// Width of `spy_user.username` in Spryker's schema.
const USERNAME_MAX: usize = 45;

/// A Back Office user to create with [`SqlStore::add_user`].
///
/// `Debug` never prints the password.
#[derive(Clone)]
#[non_exhaustive]
pub struct NewUser {
    /// `username` (Spryker uses the e-mail address; at most 45 characters).
    pub username: String,
    /// The password in clear; stored as a bcrypt `$2y$` hash.
    pub password: String,
    /// `first_name`.
    pub first_name: String,
    /// `last_name`.
    pub last_name: String,
    /// `is_warehouse_user`: tokens get `warehouse-user` instead of
    /// `back-office-user`.
    pub is_warehouse_user: bool,
    /// `status` (default active).
    pub status: UserStatus,
    /// `id_user`; `None`: the next id of the sequence.
    pub id_user: Option<i64>,
    /// `uuid`; `None`: a random (version 4) UUID.
    pub uuid: Option<String>,
}

impl NewUser {
    /// An active Back Office user with empty names.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        NewUser {
            username: username.into(),
            password: password.into(),
            first_name: String::new(),
            last_name: String::new(),
            is_warehouse_user: false,
            status: UserStatus::Active,
            id_user: None,
            uuid: None,
        }
    }

    /// Sets `first_name` and `last_name`.
    pub fn names(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.first_name = first.into();
        self.last_name = last.into();
        self
    }

    /// Sets `is_warehouse_user`.
    pub fn warehouse_user(mut self, yes: bool) -> Self {
        self.is_warehouse_user = yes;
        self
    }

    /// Sets `status`.
    pub fn status(mut self, status: UserStatus) -> Self {
        self.status = status;
        self
    }

    /// Sets `id_user`.
    pub fn id_user(mut self, id: i64) -> Self {
        self.id_user = Some(id);
        self
    }

    /// Sets `uuid`.
    pub fn uuid(mut self, uuid: impl Into<String>) -> Self {
        self.uuid = Some(uuid.into());
        self
    }
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("is_warehouse_user", &self.is_warehouse_user)
            .field("status", &self.status)
            .field("id_user", &self.id_user)
            .field("uuid", &self.uuid)
            .finish_non_exhaustive()
    }
}

/// Which refresh tokens [`SqlStore::list_refresh_tokens`] lists.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenFilter {
    /// Only this user's tokens (`None`: everybody's, warehouse tokens too).
    pub username: Option<String>,
    /// Also spent, revoked and expired-then-revoked tokens (default: live
    /// and expired ones only).
    pub include_revoked: bool,
    /// At most this many, newest first (default 100).
    pub limit: u32,
}

impl Default for TokenFilter {
    fn default() -> Self {
        TokenFilter {
            username: None,
            include_revoked: false,
            limit: 100,
        }
    }
}

impl TokenFilter {
    /// Every principal's unrevoked tokens, newest 100.
    pub fn all() -> Self {
        Self::default()
    }

    /// One user's unrevoked tokens.
    pub fn user(username: impl Into<String>) -> Self {
        TokenFilter {
            username: Some(username.into()),
            ..Self::default()
        }
    }

    /// Includes revoked tokens.
    pub fn include_revoked(mut self, yes: bool) -> Self {
        self.include_revoked = yes;
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = n;
        self
    }
}

/// A stored refresh token, without anything that would let one use it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshTokenInfo {
    /// `id_oauth_refresh_token`.
    pub id: i64,
    /// The first 8 hex digits of the token's SHA-256 (to correlate with logs).
    pub hash_prefix: String,
    /// The rotation family, hex (derived from principal and client in an
    /// existing Spryker database).
    pub family: String,
    /// Whom the token speaks for.
    pub principal: Principal,
    /// The scopes of the access tokens it mints.
    pub scopes: Scopes,
    /// The OAuth client.
    pub client_id: String,
    /// `created_at`, when set.
    pub created_at: Option<NumericDate>,
    /// `expires_at`.
    pub expires_at: NumericDate,
    /// `revoked_at`: spent by a rotation, or revoked.
    pub revoked_at: Option<NumericDate>,
}

/// A warehouse to create with [`SqlStore::add_warehouse`] (`spy_stock`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewWarehouse {
    /// `id_stock`; `None`: the next id of the sequence.
    pub id: Option<i64>,
    /// `name` (unique).
    pub name: String,
    /// `is_active`.
    pub is_active: bool,
    /// `uuid`; `None`: Spryker's uuid for the new id
    /// ([`uuid_for`](glue_auth_token::store::uuid_for)`("spy_stock", id)`).
    pub uuid: Option<String>,
}

impl NewWarehouse {
    /// An active warehouse.
    pub fn new(name: impl Into<String>) -> Self {
        NewWarehouse {
            id: None,
            name: name.into(),
            is_active: true,
            uuid: None,
        }
    }

    /// Sets `uuid`.
    pub fn uuid(mut self, uuid: impl Into<String>) -> Self {
        self.uuid = Some(uuid.into());
        self
    }

    /// Sets `id_stock`.
    pub fn id(mut self, id: i64) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets `is_active`.
    pub fn active(mut self, yes: bool) -> Self {
        self.is_active = yes;
        self
    }
}

fn now_us() -> i64 {
    NumericDate::now().as_micros()
}

/// A random version 4 UUID, lowercase.
pub(crate) fn random_uuid() -> String {
    let mut b = [0u8; 16];
    // The system RNG does not fail on supported platforms; a zero UUID
    // would be caught by the unique index anyway.
    let _ = aws_lc_rs::rand::fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Hashes a password as Spryker stores it: bcrypt, PHP's `$2y$` prefix.
pub(crate) async fn hash_password(password: String, cost: u32) -> Result<String, SqlError> {
    check_password(&password)?;
    tokio::task::spawn_blocking(move || {
        bcrypt::hash_with_result(password.as_bytes(), cost)
            .map(|h| h.format_for_version(bcrypt::Version::TwoY))
    })
    .await
    .map_err(|e| SqlError::Invalid(format!("password hashing failed: {e}")))?
    .map_err(|e| SqlError::Invalid(format!("password hashing failed: {e}")))
}

/// The token endpoint refuses passwords over 72 bytes or with NUL (bcrypt
/// would ignore the rest), so such a password could never log in.
fn check_password(password: &str) -> Result<(), SqlError> {
    if password.is_empty() || password.len() > 72 || password.contains('\0') {
        return Err(SqlError::Invalid(
            "a password must have 1 to 72 bytes and no NUL".into(),
        ));
    }
    Ok(())
}

fn conflict_or(e: sqlx::Error, what: &str) -> SqlError {
    match sql_error(e) {
        SqlError::Conflict(_) => SqlError::Conflict(what.to_owned()),
        other => other,
    }
}

impl SqlStore {
    async fn admin<T>(
        &self,
        fut: impl Future<Output = Result<T, SqlError>>,
    ) -> Result<T, SqlError> {
        match tokio::time::timeout(self.inner.op_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(SqlError::Unavailable(Box::new(Timeout))),
        }
    }

    /// Creates a Back Office user, hashing the password with bcrypt (`$2y$`,
    /// the store's password cost); returns it as the token endpoint sees it.
    pub async fn add_user(&self, user: NewUser) -> Result<UserRecord, SqlError> {
        let hash = hash_password(user.password.clone(), self.password_cost()).await?;
        let record = UserRecord {
            id_user: user.id_user.unwrap_or(0),
            uuid: user.uuid.clone().unwrap_or_else(random_uuid),
            username: user.username.clone(),
            password_hash: PasswordHash::new(hash),
            status: user.status,
            is_warehouse_user: user.is_warehouse_user,
            user_reference: None,
        };
        let id = self
            .admin(self.insert_user(&record, user.id_user, &user.first_name, &user.last_name))
            .await?;
        Ok(UserRecord {
            id_user: id,
            ..record
        })
    }

    /// Stores a user exactly as given (its id, uuid and password hash, for
    /// example from a Spryker export or a users JSON file); names are left
    /// empty. Returns `id_user`.
    pub async fn import_user(&self, user: &UserRecord) -> Result<i64, SqlError> {
        self.admin(self.insert_user(user, Some(user.id_user), "", ""))
            .await
    }

    async fn insert_user(
        &self,
        u: &UserRecord,
        id: Option<i64>,
        first: &str,
        last: &str,
    ) -> Result<i64, SqlError> {
        if u.username.is_empty() || u.username.chars().count() > USERNAME_MAX {
            return Err(SqlError::Invalid(format!(
                "a username must have 1 to {USERNAME_MAX} characters"
            )));
        }
        let inner = &*self.inner;
        let (status_index, status_name) = status_values(u.status);
        let explicit = id;
        let status = match inner.status {
            StatusColumn::Index => Arg::Small(status_index),
            StatusColumn::Name => Arg::Text(status_name),
        };
        let now = now_us();
        let sql = &inner.sql;
        let insert = &sql.user_insert;
        let id = with_pool!(&inner.pool, p => {
            let mut tx = p
                .begin_with(inner.dialect.begin_write())
                .await
                .map_err(sql_error)?;
            let args = [
                Arg::from(id),
                Arg::from(first),
                Arg::from(last),
                Arg::from(&u.username),
                Arg::from(u.password_hash.expose()),
                status,
                Arg::from(u.is_warehouse_user),
                Arg::from(&u.uuid),
                Arg::from(now),
            ];
            let taken = |e| conflict_or(e, "username or uuid already taken");
            let id = if sql.returning {
                bind!(sqlx::query_as::<_, (i64,)>(&insert.text), insert, args)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(taken)?
                    .0
            } else {
                bind!(sqlx::query(&insert.text), insert, args)
                    .execute(&mut *tx)
                    .await
                    .map_err(taken)?;
                match explicit {
                    Some(id) => id,
                    None => {
                        sqlx::query_as::<_, (i64,)>(&sql.last_insert_id.text)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(sql_error)?
                            .0
                    }
                }
            };
            if let (Some(_), Some(sync)) = (explicit, &sql.user_sync_seq) {
                sqlx::query(&sync.text).execute(&mut *tx).await.map_err(sql_error)?;
            }
            tx.commit().await.map_err(sql_error)?;
            id
        });
        Ok(id)
    }

    /// The user with this username, whatever its status.
    pub async fn user(&self, username: &str) -> Result<Option<UserRecord>, SqlError> {
        use glue_auth_token::store::UserDirectory;
        Ok(self.find_by_username(username).await?)
    }

    /// Sets `spy_user.status`.
    pub async fn set_user_status(
        &self,
        username: &str,
        status: UserStatus,
    ) -> Result<(), SqlError> {
        let inner = &*self.inner;
        let (index, name) = status_values(status);
        let n = self
            .admin(async {
                let status = match inner.status {
                    StatusColumn::Index => Arg::Small(index),
                    StatusColumn::Name => Arg::Text(name),
                };
                let sql = &inner.sql.user_set_status;
                let now = now_us();
                Ok(with_pool!(&inner.pool, p => {
                    bind!(sqlx::query(&sql.text), sql, [username, status, now])
                        .execute(p)
                        .await
                        .map_err(sql_error)?
                        .rows_affected()
                }))
            })
            .await?;
        if n == 0 {
            return Err(SqlError::NotFound(format!("user {username}")));
        }
        Ok(())
    }

    /// Blocks a user: the password grant refuses it from now on. Tokens
    /// already issued stay valid until they expire; revoke the user's refresh
    /// tokens too ([`revoke_user_refresh_tokens`](Self::revoke_user_refresh_tokens))
    /// to stop refreshes.
    pub async fn block_user(&self, username: &str) -> Result<(), SqlError> {
        self.set_user_status(username, UserStatus::Blocked).await
    }

    /// Makes a user active again.
    pub async fn unblock_user(&self, username: &str) -> Result<(), SqlError> {
        self.set_user_status(username, UserStatus::Active).await
    }

    /// Replaces a user's password (bcrypt `$2y$`).
    pub async fn set_password(&self, username: &str, password: &str) -> Result<(), SqlError> {
        let hash = hash_password(password.to_owned(), self.password_cost()).await?;
        let inner = &*self.inner;
        let n = self
            .admin(async {
                let sql = &inner.sql.user_set_password;
                let now = now_us();
                Ok(with_pool!(&inner.pool, p => bind!(
                        sqlx::query(&sql.text), sql, [username, &hash, now])
                    .execute(p)
                    .await
                    .map_err(sql_error)?
                    .rows_affected()))
            })
            .await?;
        if n == 0 {
            return Err(SqlError::NotFound(format!("user {username}")));
        }
        Ok(())
    }

    /// Creates a warehouse (`spy_stock`); returns `id_stock`.
    pub async fn add_warehouse(&self, warehouse: NewWarehouse) -> Result<i64, SqlError> {
        let inner = &*self.inner;
        self.admin(async {
            let sql = &inner.sql;
            let insert = &sql.stock_insert;
            let uuid = warehouse
                .uuid
                .clone()
                .or_else(|| warehouse.id.map(|id| uuid_for("spy_stock", id)));
            Ok(with_pool!(&inner.pool, p => {
                let mut tx = p
                    .begin_with(inner.dialect.begin_write())
                    .await
                    .map_err(sql_error)?;
                let args = [
                    Arg::from(warehouse.id),
                    Arg::from(&warehouse.name),
                    Arg::from(warehouse.is_active),
                    Arg::from(uuid.as_deref()),
                ];
                let taken = |e| conflict_or(e, "warehouse id or name already taken");
                let id = if sql.returning {
                    bind!(sqlx::query_as::<_, (i64,)>(&insert.text), insert, args)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(taken)?
                        .0
                } else {
                    bind!(sqlx::query(&insert.text), insert, args)
                        .execute(&mut *tx)
                        .await
                        .map_err(taken)?;
                    match warehouse.id {
                        Some(id) => id,
                        None => {
                            sqlx::query_as::<_, (i64,)>(&sql.last_insert_id.text)
                                .fetch_one(&mut *tx)
                                .await
                                .map_err(sql_error)?
                                .0
                        }
                    }
                };
                if let (Some(_), Some(sync)) = (warehouse.id, &sql.stock_sync_seq) {
                    sqlx::query(&sync.text).execute(&mut *tx).await.map_err(sql_error)?;
                }
                if uuid.is_none() {
                    let set = &inner.assign.stock_set_uuid;
                    let spryker = uuid_for("spy_stock", id);
                    bind!(sqlx::query(&set.text), set, [spryker.as_str(), id])
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| conflict_or(e, "warehouse uuid already taken"))?;
                }
                tx.commit().await.map_err(sql_error)?;
                id
            }))
        })
        .await
    }

    async fn user_uuid(&self, username: &str) -> Result<(i64, String), SqlError> {
        let user = self
            .user(username)
            .await?
            .ok_or_else(|| SqlError::NotFound(format!("user {username}")))?;
        Ok((user.id_user, user.uuid))
    }

    /// Makes `id_warehouse` the user's one active warehouse assignment,
    /// deactivating the others (in one transaction).
    pub async fn assign_warehouse(
        &self,
        username: &str,
        id_warehouse: i64,
    ) -> Result<(), SqlError> {
        let (_, uuid) = self.user_uuid(username).await?;
        let inner = &*self.inner;
        self.admin(async {
            with_pool!(&inner.pool, p => {
                let mut tx = p
                    .begin_with(inner.dialect.begin_write())
                    .await
                    .map_err(sql_error)?;
                let by_id = &inner.sql.stock_by_id;
                let found: Option<(i64, String, Option<bool>)> =
                    bind!(sqlx::query_as(&by_id.text), by_id, [id_warehouse])
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(sql_error)?;
                if found.is_none() {
                    return Err(SqlError::NotFound(format!("warehouse {id_warehouse}")));
                }
                let now = now_us();
                let others = &inner.sql.assignment_deactivate_others;
                bind!(sqlx::query(&others.text), others, [&uuid, id_warehouse, false, true, now])
                    .execute(&mut *tx)
                    .await
                    .map_err(sql_error)?;
                let activate = &inner.sql.assignment_activate;
                let n = bind!(sqlx::query(&activate.text), activate, [&uuid, id_warehouse, true, now])
                    .execute(&mut *tx)
                    .await
                    .map_err(sql_error)?
                    .rows_affected();
                if n == 0 {
                    let insert = &inner.sql.assignment_insert;
                    let id = random_uuid();
                    bind!(sqlx::query(&insert.text), insert, [&id, id_warehouse, &uuid, true, now])
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| conflict_or(e, "assignment changed concurrently"))?;
                }
                tx.commit().await.map_err(sql_error)?;
            });
            Ok(())
        })
        .await
    }

    /// Deactivates every warehouse assignment of the user (no more warehouse
    /// tokens); returns how many were active.
    pub async fn unassign_warehouses(&self, username: &str) -> Result<u64, SqlError> {
        let (_, uuid) = self.user_uuid(username).await?;
        let inner = &*self.inner;
        self.admin(async {
            // "every warehouse but none": no warehouse has a negative id.
            let sql = &inner.sql.assignment_deactivate_others;
            let now = now_us();
            Ok(with_pool!(&inner.pool, p => bind!(
                    sqlx::query(&sql.text), sql, [&uuid, -1_i64, false, true, now])
                .execute(p)
                .await
                .map_err(sql_error)?
                .rows_affected()))
        })
        .await
    }

    /// Lists refresh tokens (newest first) without their secrets.
    pub async fn list_refresh_tokens(
        &self,
        filter: &TokenFilter,
    ) -> Result<Vec<RefreshTokenInfo>, SqlError> {
        let (subject, like1, like2) = match &filter.username {
            Some(name) => {
                let (id, uuid) = self.user_uuid(name).await?;
                let (s, a, b) = subject_patterns(id, &uuid);
                (Some(s), a, b)
            }
            None => (None, String::new(), String::new()),
        };
        type Row = (
            i64,
            String,
            Option<String>,
            String,
            Option<String>,
            String,
            i64,
            Option<i64>,
            Option<i64>,
        );
        let inner = &*self.inner;
        let rows: Vec<Row> = self
            .admin(async {
                let sql = &inner.sql.refresh_list;
                Ok(
                    with_pool!(&inner.pool, p => bind!(sqlx::query_as(&sql.text), sql, [
                        subject.as_deref(),
                        &like1,
                        &like2,
                        filter.include_revoked,
                        i64::from(filter.limit),
                    ])
                    .fetch_all(p)
                    .await
                    .map_err(sql_error)?),
                )
            })
            .await?;
        rows.into_iter()
            .map(
                |(id, identifier, family, subj, scopes, client, exp, rev, created)| {
                    let t: RefreshTuple = (identifier, family, subj, scopes, client, exp, rev);
                    let r = self.record_of(t)?;
                    Ok(RefreshTokenInfo {
                        id,
                        hash_prefix: r.hash.to_hex()[..8].to_owned(),
                        family: r.family.to_hex(),
                        principal: r.principal,
                        scopes: r.scopes,
                        client_id: r.client_id,
                        created_at: created.map(NumericDate::from_micros),
                        expires_at: r.expires_at,
                        revoked_at: r.revoked_at,
                    })
                },
            )
            .collect()
    }

    /// Revokes every unrevoked refresh token of the user (all families, all
    /// clients); returns how many.
    pub async fn revoke_user_refresh_tokens(&self, username: &str) -> Result<u64, SqlError> {
        let (id, uuid) = self.user_uuid(username).await?;
        let (subject, like1, like2) = subject_patterns(id, &uuid);
        let inner = &*self.inner;
        self.admin(async {
            let sql = &inner.sql.revoke_by_subject;
            let now = now_us();
            Ok(with_pool!(&inner.pool, p => bind!(
                    sqlx::query(&sql.text), sql, [&subject, now, &like1, &like2])
                .execute(p)
                .await
                .map_err(sql_error)?
                .rows_affected()))
        })
        .await
    }

    /// The newest rows of the access-token log (`spy_oauth_access_token`).
    pub async fn recent_access_tokens(
        &self,
        limit: u32,
    ) -> Result<Vec<AccessTokenRecord>, SqlError> {
        let inner = &*self.inner;
        let rows: Vec<(String, Option<String>, String, String, i64)> = self
            .admin(async {
                let sql = &inner.sql.access_list;
                Ok(with_pool!(&inner.pool, p => bind!(
                        sqlx::query_as(&sql.text), sql, [i64::from(limit)])
                    .fetch_all(p)
                    .await
                    .map_err(sql_error)?))
            })
            .await?;
        rows.into_iter()
            .map(|(jti, scopes, subject, client_id, exp)| {
                let bad = |w: &str| SqlError::Database(format!("access token row: {w}").into());
                Ok(AccessTokenRecord {
                    jti,
                    principal: Principal::from_subject(&subject)
                        .map_err(|_| bad("user_identifier"))?,
                    scopes: parse_scopes(scopes.as_deref()).ok_or_else(|| bad("scopes"))?,
                    client_id,
                    expires_at: NumericDate::from_micros(exp),
                })
            })
            .collect()
    }

    /// Makes sure `spy_oauth_client` has a row for this client id (Spryker
    /// references it from the token tables); returns `true` when it was
    /// created.
    pub async fn ensure_oauth_client(&self, identifier: &str) -> Result<bool, SqlError> {
        let inner = &*self.inner;
        self.admin(async {
            with_pool!(&inner.pool, p => {
                let exists = &inner.sql.client_exists;
                let found: Option<(String,)> =
                    bind!(sqlx::query_as(&exists.text), exists, [identifier])
                    .fetch_optional(p)
                    .await
                    .map_err(sql_error)?;
                if found.is_some() {
                    return Ok(false);
                }
                let insert = &inner.sql.client_insert;
                match bind!(sqlx::query(&insert.text), insert, [identifier, identifier, false])
                    .execute(p)
                    .await
                {
                    Ok(_) => Ok(true),
                    // Created concurrently by another instance.
                    Err(e) if matches!(sql_error_kind(&e), crate::error::Kind::Constraint) => {
                        Ok(false)
                    }
                    Err(e) => Err(sql_error(e)),
                }
            })
        })
        .await
    }

    /// Seeds SPEC §6's demo data when `spy_user` is empty (own schema only).
    /// Returns `true` when it did.
    pub async fn seed_demo_if_empty(&self) -> Result<bool, SqlError> {
        if self.inner.layout == Layout::Spryker {
            return Ok(false);
        }
        let inner = &*self.inner;
        let (n,): (i64,) = self
            .admin(async {
                Ok(
                    with_pool!(&inner.pool, p => sqlx::query_as(&inner.sql.users_count.text)
                    .fetch_one(p)
                    .await
                    .map_err(sql_error)?),
                )
            })
            .await?;
        if n > 0 {
            return Ok(false);
        }
        let seeded = async {
            self.ensure_oauth_client("frontend").await?;
            self.add_warehouse(NewWarehouse::new("Warehouse1").id(1))
                .await?;
            self.add_warehouse(NewWarehouse::new("Warehouse2").id(2))
                .await?;
            // Hashed here, once, at Spryker's cost 10.
            let hash = hash_password(DEMO_PASSWORD.to_owned(), 10).await?;
            self.admin(self.insert_user(
                &UserRecord {
                    id_user: 4,
                    uuid: DEMO_UUID.to_owned(),
                    username: DEMO_USER.to_owned(),
                    password_hash: PasswordHash::new(hash),
                    status: UserStatus::Active,
                    is_warehouse_user: false,
                    user_reference: None,
                },
                Some(4),
                "Sonia",
                "Wagner",
            ))
            .await?;
            self.assign_warehouse(DEMO_USER, 1).await
        };
        match seeded.await {
            Ok(()) => {
                tracing::info!("glue-auth-sql: demo data seeded ({DEMO_USER})");
                Ok(true)
            }
            // Another instance seeded at the same moment.
            Err(SqlError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

fn sql_error_kind(e: &sqlx::Error) -> crate::error::Kind {
    crate::error::kind(e)
}

/// The `user_identifier` of a user's tokens as we write it, and two `LIKE`
/// patterns that also catch the spellings of other writers.
fn subject_patterns(id_user: i64, uuid: &str) -> (String, String, String) {
    let subject = Principal::User(UserPrincipal::new(id_user, uuid, None::<String>)).to_subject();
    (
        subject,
        format!("%\"id_user\":{id_user},%"),
        format!("%\"id_user\":{id_user}}}%"),
    )
}

fn status_values(status: UserStatus) -> (i16, &'static str) {
    let index = match status {
        UserStatus::Active => 0,
        UserStatus::Blocked => 1,
        UserStatus::Deleted => 2,
    };
    (index, status.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4() {
        let u = random_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(u, random_uuid());
    }

    #[test]
    fn passwords_bcrypt_can_verify_only() {
        assert!(check_password("change123").is_ok());
        assert!(check_password("").is_err());
        assert!(check_password(&"x".repeat(73)).is_err());
        assert!(check_password("a\0b").is_err());
    }

    #[test]
    fn subject_patterns_match_spryker_spellings() {
        let (s, a, b) = subject_patterns(4, "u");
        assert_eq!(s, r#"{"user_reference":null,"id_user":4,"uuid":"u"}"#);
        assert_eq!(a, r#"%"id_user":4,%"#);
        assert_eq!(b, r#"%"id_user":4}%"#);
    }

    #[test]
    fn new_user_debug_hides_the_password() {
        let u = NewUser::new("ann@example.com", "s3cret");
        assert!(!format!("{u:?}").contains("s3cret"));
    }
}
