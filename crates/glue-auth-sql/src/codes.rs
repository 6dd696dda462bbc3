//! [`AuthorizationCodes`] on SQL (SPEC §2a): our own table
//! `glue_oauth_authorization_code` (own schema only), and the redirect URIs
//! of `spy_oauth_client` (both layouts).

use glue_auth_core::{NumericDate, Principal};
use glue_auth_token::store::{
    AuthorizationCodeHash, AuthorizationCodeRecord, AuthorizationCodes, CodeChallengeMethod,
    StoreError, StoreFuture,
};

use crate::error::{SqlError, store_error};
use crate::sql::{Dialect, Stmt, bind};
use crate::store::{Layout, SqlStore, decode_hex, parse_scopes, scopes_json, with_pool};

/// The statements of the code store, one dialect.
#[derive(Debug)]
pub(crate) struct CodeSql {
    /// `$1` identifier … `$8` expires_at µs.
    insert: Stmt,
    /// `$1` now µs: expired codes.
    purge: Stmt,
    /// `$1` identifier.
    find: Stmt,
    /// `$1` identifier: the single-use step (the affected-row count decides).
    delete: Stmt,
    /// `identifier, redirect_uri` of every client with one.
    redirect_uris: Stmt,
}

impl CodeSql {
    pub(crate) fn new(d: Dialect) -> CodeSql {
        let st = |sql: &str| Stmt::new(d, sql.to_owned());
        let int = d.bigint("expires_at");
        CodeSql {
            insert: st(
                "INSERT INTO glue_oauth_authorization_code (identifier, fk_oauth_client, \
                 redirect_uri, user_identifier, scopes, code_challenge, code_challenge_method, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            ),
            purge: st("DELETE FROM glue_oauth_authorization_code WHERE expires_at <= $1"),
            find: Stmt::new(
                d,
                format!(
                    "SELECT identifier, fk_oauth_client, redirect_uri, user_identifier, scopes, \
                     code_challenge, code_challenge_method, {int} AS expires_at \
                     FROM glue_oauth_authorization_code WHERE identifier = $1"
                ),
            ),
            delete: st("DELETE FROM glue_oauth_authorization_code WHERE identifier = $1"),
            redirect_uris: st("SELECT identifier, redirect_uri FROM spy_oauth_client \
                 WHERE redirect_uri IS NOT NULL"),
        }
    }
}

type CodeTuple = (String, String, String, String, String, String, String, i64);

fn record_of(t: CodeTuple) -> Result<AuthorizationCodeRecord, StoreError> {
    let (identifier, client, redirect, subject, scopes, challenge, method, expires_at) = t;
    let bad = |what: &str| StoreError::Inconsistent(format!("authorization code row: {what}"));
    Ok(AuthorizationCodeRecord {
        hash: AuthorizationCodeHash(
            decode_hex::<32>(identifier.trim()).ok_or_else(|| bad("identifier"))?,
        ),
        client_id: client,
        redirect_uri: redirect,
        principal: Principal::from_subject(&subject).map_err(|_| bad("user_identifier"))?,
        scopes: parse_scopes(Some(&scopes)).ok_or_else(|| bad("scopes"))?,
        challenge,
        challenge_method: CodeChallengeMethod::parse(method.trim())
            .ok_or_else(|| bad("code_challenge_method"))?,
        expires_at: NumericDate::from_micros(expires_at),
    })
}

/// The code store needs our own table, which an existing Spryker database
/// does not have (and this crate never creates there).
fn no_table() -> StoreError {
    StoreError::Inconsistent(
        "authorization codes need the own schema (glue_oauth_authorization_code); \
         on an existing Spryker database keep them in memory"
            .to_owned(),
    )
}

impl SqlStore {
    /// Whether this store holds authorization codes
    /// ([`AuthorizationCodes`]): on our own schema (table
    /// `glue_oauth_authorization_code`), not on an existing Spryker
    /// database ([`Layout::Spryker`]), whose `spy_oauth_code_flow_auth_code`
    /// has no columns for a code's redirect URI and PKCE challenge; there
    /// every call answers [`StoreError::Inconsistent`].
    pub fn holds_authorization_codes(&self) -> bool {
        self.inner.layout == Layout::OwnSchema
    }

    /// The redirect URIs registered in `spy_oauth_client.redirect_uri`, per
    /// client identifier, for
    /// [`TokenServerBuilder::redirect_uris`](glue_auth_token::TokenServerBuilder::redirect_uris).
    /// A column holding several URIs separated by commas or whitespace gives
    /// each of them.
    pub async fn redirect_uris(&self) -> Result<Vec<(String, Vec<String>)>, SqlError> {
        let sql = &self.inner.codes.redirect_uris;
        let rows: Vec<(String, Option<String>)> = self
            .bounded(async {
                with_pool!(&self.inner.pool, p => bind!(sqlx::query_as(&sql.text), sql, [])
                    .fetch_all(p)
                    .await
                    .map_err(store_error))
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|(client, uris)| {
                let uris = uris
                    .unwrap_or_default()
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|u| !u.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>();
                (client, uris)
            })
            .filter(|(_, uris)| !uris.is_empty())
            .collect())
    }

    async fn code_insert(&self, r: AuthorizationCodeRecord) -> Result<(), StoreError> {
        if !self.holds_authorization_codes() {
            return Err(no_table());
        }
        let sql = &self.inner.codes;
        let hex = r.hash.to_hex();
        let subject = r.principal.to_subject();
        let scopes = scopes_json(&r.scopes);
        let now = NumericDate::now().as_micros();
        with_pool!(&self.inner.pool, p => {
            bind!(sqlx::query(&sql.purge.text), sql.purge, [now])
                .execute(p)
                .await
                .map_err(store_error)?;
            bind!(sqlx::query(&sql.insert.text), sql.insert, [
                &hex,
                &r.client_id,
                &r.redirect_uri,
                &subject,
                &scopes,
                &r.challenge,
                r.challenge_method.as_str(),
                r.expires_at.as_micros(),
            ])
            .execute(p)
            .await
            .map_err(store_error)?;
        });
        Ok(())
    }

    /// Read, then delete: whoever's `DELETE` removes the row has the code.
    /// Concurrent takers of one code read the same row, but only one delete
    /// affects it.
    async fn code_take(
        &self,
        hash: AuthorizationCodeHash,
        now: NumericDate,
    ) -> Result<Option<AuthorizationCodeRecord>, StoreError> {
        if !self.holds_authorization_codes() {
            return Err(no_table());
        }
        let sql = &self.inner.codes;
        let hex = hash.to_hex();
        let row: Option<CodeTuple> = with_pool!(&self.inner.pool, p => bind!(
            sqlx::query_as(&sql.find.text), sql.find, [&hex])
            .fetch_optional(p)
            .await
            .map_err(store_error)?);
        let Some(row) = row else {
            return Ok(None);
        };
        let deleted = with_pool!(&self.inner.pool, p => bind!(
            sqlx::query(&sql.delete.text), sql.delete, [&hex])
            .execute(p)
            .await
            .map_err(store_error)?
            .rows_affected());
        if deleted != 1 {
            return Ok(None);
        }
        let record = record_of(row)?;
        Ok((record.expires_at > now).then_some(record))
    }
}

impl AuthorizationCodes for SqlStore {
    fn insert(&self, record: AuthorizationCodeRecord) -> StoreFuture<'_, ()> {
        Box::pin(self.bounded(self.code_insert(record)))
    }

    fn take(
        &self,
        hash: AuthorizationCodeHash,
        now: NumericDate,
    ) -> StoreFuture<'_, Option<AuthorizationCodeRecord>> {
        Box::pin(self.bounded(self.code_take(hash, now)))
    }
}
