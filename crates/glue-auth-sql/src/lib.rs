//! The store traits of [`glue_auth_token`] on SQL: [`SqlStore`] implements
//! [`UserDirectory`], [`WarehouseAssignments`], [`AssignmentStore`],
//! [`RefreshTokens`], [`AuthorizationCodes`] and [`AccessTokenLog`] on **SQLite** (a file, the embedded default),
//! **PostgreSQL** and **MariaDB/MySQL** (Spryker's two engines, for
//! deployments with several gateway instances), through one code path, on
//! Spryker's own tables (SPEC §6):
//! `spy_user`, `spy_stock`, `spy_warehouse_user_assignment`,
//! `spy_oauth_client`, `spy_oauth_refresh_token`, `spy_oauth_access_token`.
//!
//! ```
//! use glue_auth_core::{NumericDate, Principal, Scopes, WarehousePrincipal};
//! use glue_auth_sql::SqlStore;
//! use glue_auth_token::store::{
//!     RefreshFamily, RefreshTokenHash, RefreshTokenRecord, RefreshTokens, Rotation, UserDirectory,
//!     UserStatus,
//! };
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A SQLite database is created, migrated and seeded with the demo data on
//! // first connect (a file path works the same way: "sqlite:glue.db").
//! let store = SqlStore::connect("sqlite::memory:").await?;
//!
//! let sonia = store.find_by_username("sonia@spryker.com").await?.unwrap();
//! assert_eq!((sonia.id_user, sonia.status), (4, UserStatus::Active));
//! assert!(sonia.password_hash.expose().starts_with("$2y$10$"));
//! assert!(store.find_by_username("nobody@spryker.com").await?.is_none());
//!
//! // Refresh tokens rotate once: the second use of a spent token is a replay.
//! let token = |secret: &str| RefreshTokenRecord {
//!     hash: RefreshTokenHash::of(secret),
//!     family: RefreshFamily([7; 16]),
//!     principal: Principal::Warehouse(WarehousePrincipal::new(1)),
//!     scopes: Scopes::from_iter(["warehouse"]),
//!     client_id: "frontend".into(),
//!     expires_at: NumericDate::now().saturating_add(std::time::Duration::from_secs(3600)),
//!     revoked_at: None,
//! };
//! store.insert(token("first")).await?;
//! let now = NumericDate::now();
//! assert_eq!(store.rotate(RefreshTokenHash::of("first"), token("second"), now).await?, Rotation::Rotated);
//! assert_eq!(store.rotate(RefreshTokenHash::of("first"), token("third"), now).await?, Rotation::Reused);
//! assert_eq!(store.revoke_family(RefreshFamily([7; 16]), now).await?, 1);
//!
//! // Admin operations, for the gateway's command line.
//! store.block_user("sonia@spryker.com").await?;
//! let sonia = store.find_by_username("sonia@spryker.com").await?.unwrap();
//! assert_eq!(sonia.status, UserStatus::Blocked);
//! # Ok(())
//! # }
//! ```
//!
//! # Choosing the database
//!
//! | URL | what you get |
//! |---|---|
//! | `sqlite:path/to/glue.db`, or a plain path | a file, created, migrated and seeded with the demo data (user `sonia@spryker.com` / `change123`) when empty; one gateway instance |
//! | `sqlite::memory:` | the same, in memory (tests, examples) |
//! | `postgres://user:pw@host/db` | our own schema, migrated on connect (under an advisory lock); several gateway instances share users, assignments and refresh tokens |
//! | `postgres://…` + [`Layout::Spryker`] | an existing Spryker database: nothing is created; see below |
//! | `mysql://user:pw@host:3306/db` (or `mariadb://…`) | MariaDB or MySQL, our own schema, migrated on connect (under a named lock); several gateway instances |
//! | `mysql://…` + [`Layout::Spryker`] | an existing Spryker database on MariaDB/MySQL: nothing is created; see below |
//!
//! `mariadb://` is rewritten to `mysql://` for sqlx; both reach MariaDB and
//! MySQL. The tests run on MariaDB (Debian's 10.11); MySQL 8 takes the same
//! statements and its own session variables (below), but is not tested here.
//!
//! Where a URL is shown (logs, errors, `Debug`), it goes through
//! [`redact_url`]: passwords, in the userinfo or in a `password` /
//! `sslpassword` query parameter, become `***`.
//!
//! # One code path
//!
//! The store holds a `SqlitePool`, a `PgPool` or a `MySqlPool`, and every
//! operation is written once, in a macro arm that the compiler instantiates
//! for each of the three drivers (rather than sqlx's `Any` driver): each
//! keeps its native types (PostgreSQL `TIMESTAMP`, `SMALLINT`, `BOOLEAN`;
//! MySQL `DATETIME(6)`, `TINYINT`; SQLite integers), its own connect options
//! (SQLite WAL and busy timeout, PostgreSQL `statement_timeout`, MySQL's
//! session settings below), and its own error codes. The SQL text is shared,
//! written with `$n` placeholders; a few fragments differ by dialect (how a
//! microsecond timestamp is written and read, the integer and text casts,
//! and how a new id is drawn: Spryker's sequences `spy_*_pk_seq` on
//! PostgreSQL, the rowid on SQLite, `AUTO_INCREMENT` on MySQL). No query is
//! checked against a live database at compile time.
//!
//! # MariaDB/MySQL specifics
//!
//! - **Placeholders**: MySQL's `?` are positional, so each statement's `$n`
//!   become `?` once, at connect, with the list of which argument each takes;
//!   a value a statement uses twice is bound twice.
//! - **New ids**: no `RETURNING`; `LAST_INSERT_ID()` on the connection that
//!   inserted (or the explicit id). `AUTO_INCREMENT` moves past explicit ids
//!   by itself.
//! - **Timestamps**: `DATETIME(6)` in UTC, written as
//!   `TIMESTAMP'1970-01-01 00:00:00' + INTERVAL n MICROSECOND` and read with
//!   `TIMESTAMPDIFF(MICROSECOND, …)`: exact to the microsecond, and no time
//!   zone enters (the session is set to `time_zone = '+00:00'` all the same,
//!   whatever the URL or the server say, for `TIMESTAMP` columns).
//! - **Sessions**: every connection gets the operation timeout as MariaDB's
//!   `max_statement_time` (every statement) or MySQL's `max_execution_time`
//!   (SELECTs only; writes are bounded by the lock wait and the store's own
//!   deadline), as `innodb_lock_wait_timeout` (whole seconds), and READ
//!   COMMITTED isolation.
//! - **Usernames** are compared exactly: MySQL's usual collations ignore
//!   case and trailing spaces, so the row found is checked against the name
//!   asked for (`SONIA@spryker.com` is not `sonia@spryker.com`, here as on
//!   PostgreSQL; Spryker itself would log it in).
//! - **Own schema**: `utf8mb4`; the unique index on
//!   `spy_oauth_client.identifier` and the indexes on the long
//!   `user_identifier`/`fk_oauth_client` columns cover their first 255
//!   characters (InnoDB's key length); one active assignment per user is a
//!   unique index on a generated column (MySQL has no partial indexes).
//! - **Migrations** run under a named lock (`GET_LOCK`) of our own, checked,
//!   per database.
//!
//! # Refresh-token rotation
//!
//! [`RefreshTokens::rotate`] is one transaction: a conditional
//! `UPDATE … SET revoked_at = now WHERE identifier = $1 AND revoked_at IS NULL
//! AND expires_at > now AND <same family>` whose affected-row count decides,
//! followed by the insert of the successor. On PostgreSQL and MariaDB/MySQL
//! (InnoDB, READ COMMITTED) the row lock makes every concurrent rotation of
//! one token but the first wait, re-read the committed row and see it
//! revoked, so two gateway instances never both accept one refresh token;
//! on SQLite the transaction takes the write lock first (`BEGIN IMMEDIATE`).
//!
//! # Authorization codes (SPEC §2a)
//!
//! [`AuthorizationCodes`] keeps the codes of `POST /authorize` in a table of
//! our own, `glue_oauth_authorization_code` (migration 2 of the own schema):
//! the SHA-256 of the code (64 hex digits; the code itself is never stored),
//! the client, the redirect URI, `user_identifier` and `scopes` as JSON, the
//! PKCE challenge and method, and the expiry as integer microseconds.
//! Redeeming is a read then a `DELETE` whose affected-row count decides, so
//! of concurrent redemptions of one code (on any number of instances)
//! exactly one wins; each insert first deletes the expired codes. Spryker's
//! own `spy_oauth_code_flow_auth_code` has no columns for the redirect URI
//! and the challenge, so on an existing Spryker database ([`Layout::Spryker`],
//! where nothing is created) the store does not hold codes
//! ([`SqlStore::holds_authorization_codes`] is false; keep them in memory).
//! [`SqlStore::redirect_uris`] reads the redirect URIs registered in
//! `spy_oauth_client.redirect_uri`, on both layouts.
//!
//! # Warehouse user assignments
//!
//! [`AssignmentStore`] keeps Glue's rules (only warehouse users, existing
//! warehouses, one assignment per user and warehouse, at most one active per
//! user) in one transaction per change. Each change first locks the user's
//! `spy_user` row (`SELECT … FOR UPDATE` on PostgreSQL and MariaDB/MySQL;
//! SQLite's `BEGIN IMMEDIATE` holds the write lock already), so the changes
//! of one user run one after the other across any number of gateway
//! instances, and the second of two concurrent activations deactivates the
//! first: exactly one stays active, on our schema and on an existing Spryker
//! database alike (which has no unique index to fall back on). Warehouses
//! and assignments written without a `uuid` get Spryker's (uuid5 of
//! `"<table>.<id>"`) at connect (own schema).
//!
//! # Failures
//!
//! The pool is bounded (default 10 connections); a call waits at most 2 s
//! for a connection and 5 s as a whole (both settings, see
//! [`SqlStoreBuilder`]). A database that is down, slow or refusing
//! connections answers [`StoreError::Unavailable`], which the token layer
//! turns into 503 with `Retry-After`; nothing panics and nothing hangs. The
//! pool drops broken connections and opens new ones when the database is
//! back. Constraint and decoding failures are [`StoreError::Inconsistent`].
//!
//! One exception to the 5 s: a rotation's deadline ends when its COMMIT is
//! sent. The COMMIT's answer is awaited with a budget of its own (the
//! operation timeout again, plus 1 s; PostgreSQL also bounds it with
//! `statement_timeout`), because a rotation that commits must not answer
//! 503: the client would retry a token the database has spent, and that
//! retry would count as a replay and revoke the family. A COMMIT that fails
//! or gets no answer in its budget (a frozen server) is checked against the
//! database (the successor's row exists or not).
//!
//! # Own schema
//!
//! Spryker's table, column and sequence names and (on PostgreSQL) Spryker's
//! column types; `spy_user.status` is Propel's ENUM index (0 active,
//! 1 blocked, 2 deleted). Our additions: the column
//! `spy_oauth_refresh_token.glue_family` (the rotation family, hex), a unique
//! index on `spy_oauth_refresh_token.identifier`, a partial unique index
//! allowing one active assignment per user, and no foreign key from
//! `fk_oauth_client` (call [`SqlStore::ensure_oauth_client`] for the clients
//! you configure, as the demo seed does for `frontend`). SQLite stores
//! timestamps as integer microseconds since the epoch, PostgreSQL as
//! `TIMESTAMP` (UTC), MariaDB/MySQL as `DATETIME(6)` (UTC); MySQL's
//! differences are listed above.
//!
//! # An existing Spryker database ([`Layout::Spryker`], PostgreSQL or MariaDB/MySQL)
//!
//! Nothing is created or altered. Connecting checks that these columns exist
//! and fails naming the table otherwise:
//!
//! - `spy_user`: `id_user`, `uuid`, `username`, `password`, `status`,
//!   `is_warehouse_user`, `first_name`, `last_name`, `created_at`,
//!   `updated_at` (`uuid` and `is_warehouse_user` come with Spryker's
//!   WarehouseUser module). `status` may be Propel's integer ENUM (the
//!   default) or a text column (the `real-enum` behavior): detected.
//!   `password` is returned as stored, so Spryker's `$2y$` hashes log in.
//! - `spy_stock`: `id_stock`, `name`, `is_active`, `uuid`.
//! - `spy_warehouse_user_assignment`: `id_warehouse_user_assignment`, `uuid`,
//!   `fk_warehouse`, `user_uuid`, `is_active`, `created_at`, `updated_at`.
//! - `spy_oauth_refresh_token`: `id_oauth_refresh_token`, `identifier`,
//!   `scopes`, `customer_reference`, `user_identifier`, `fk_oauth_client`,
//!   `expires_at`, `revoked_at`, `created_at`, `updated_at`.
//! - `spy_oauth_access_token`: `id_oauth_access_token`, `identifier`,
//!   `scopes`, `user_identifier`, `fk_oauth_client`, `expirity_date`,
//!   `created_at`, `updated_at`.
//! - `spy_oauth_client`: `identifier` (Spryker's foreign keys from the token
//!   tables point at it: the configured client ids must exist).
//! - PostgreSQL: the sequences `spy_*_pk_seq` (new ids are drawn with
//!   `nextval`, as Propel does). MariaDB/MySQL: the ids of `spy_user`,
//!   `spy_stock`, `spy_warehouse_user_assignment`,
//!   `spy_oauth_refresh_token` and `spy_oauth_access_token` must be
//!   `AUTO_INCREMENT` (as Propel declares them there), checked at connect.
//!   `status` may also be a native `ENUM('active','blocked','deleted')`.
//!   Propel's MySQL timestamps are `DATETIME` (whole seconds): when the token
//!   tables' timestamps have no six fractional digits, every timestamp is
//!   written truncated to the second (an expiry is never stored later than
//!   asked; a token expires up to a second early).
//!
//! Rows are written as Spryker writes them: `identifier` (our refresh
//! tokens: the SHA-256 of the token, 64 hex digits; access tokens: the
//! `jti`), `scopes` and `user_identifier` as JSON text, `customer_reference`
//! NULL, timestamps in UTC. Spryker's table has no column for a rotation
//! family, so there the family of a refresh token is its principal and
//! client: reusing a spent token revokes every refresh token of that user
//! for that client (stricter, never looser). Spryker's own refresh tokens
//! (other identifier lengths) are never touched by family revocation.
//!
//! [`UserDirectory`]: glue_auth_token::store::UserDirectory
//! [`WarehouseAssignments`]: glue_auth_token::store::WarehouseAssignments
//! [`AssignmentStore`]: glue_auth_token::store::AssignmentStore
//! [`RefreshTokens`]: glue_auth_token::store::RefreshTokens
//! [`RefreshTokens::rotate`]: glue_auth_token::store::RefreshTokens::rotate
//! [`AccessTokenLog`]: glue_auth_token::store::AccessTokenLog
//! [`AuthorizationCodes`]: glue_auth_token::store::AuthorizationCodes
//! [`StoreError::Unavailable`]: glue_auth_token::store::StoreError::Unavailable
//! [`StoreError::Inconsistent`]: glue_auth_token::store::StoreError::Inconsistent

#![forbid(unsafe_code)]

// The README's example, compiled and run as a doc test (crates.io shows the
// README, so it must stay true).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod admin;
mod assign_sql;
mod assignments;
mod codes;
mod error;
mod migrate;
mod redact;
mod sql;
mod sqlite_file;
mod store;

pub use admin::{NewUser, NewWarehouse, RefreshTokenInfo, TokenFilter};
pub use error::SqlError;
pub use redact::redact_url;
pub use store::{DatabaseKind, Layout, SqlStore, SqlStoreBuilder};
