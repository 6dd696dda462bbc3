//! The SQL text of every operation, built once per store from two
//! dialect-specific fragments (timestamps and ids) and the table layout.
//!
//! Everything else is the same text on SQLite and PostgreSQL: `$n`
//! placeholders (SQLite accepts them), `CAST(… AS BIGINT)` / `CAST(… AS TEXT)`
//! so that both drivers decode the same Rust types, booleans bound as
//! parameters.

/// Which database the pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// How `spy_user.status` is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusColumn {
    /// Propel's ENUM: the index in `active,blocked,deleted` (the default).
    Index,
    /// The name itself (Propel's `real-enum` behavior, or a VARCHAR column).
    Name,
}

impl Dialect {
    /// A bound microsecond count as the column's timestamp type.
    fn ts(self, param: &str) -> String {
        match self {
            Dialect::Sqlite => param.to_owned(),
            // TIMESTAMP without time zone, in UTC, exact to the microsecond
            // and independent of the session's TimeZone.
            Dialect::Postgres => {
                format!("(TIMESTAMP 'epoch' + CAST({param} AS BIGINT) * INTERVAL '1 microsecond')")
            }
        }
    }

    /// A timestamp column as microseconds since the epoch (BIGINT).
    fn us(self, col: &str) -> String {
        match self {
            Dialect::Sqlite => col.to_owned(),
            Dialect::Postgres => {
                format!("CAST(ROUND(EXTRACT(EPOCH FROM {col}) * 1000000) AS BIGINT)")
            }
        }
    }

    /// The id of a new row: Propel calls `nextval` on Spryker's sequence
    /// itself, so the column may have no default.
    fn next_id(self, seq: &str) -> String {
        match self {
            Dialect::Sqlite => "NULL".to_owned(),
            Dialect::Postgres => format!("nextval('{seq}')"),
        }
    }

    /// Moves a sequence past ids inserted explicitly (never backwards).
    fn sync_seq(self, seq: &str, table: &str, col: &str) -> Option<String> {
        match self {
            Dialect::Sqlite => None,
            // Never backwards: another writer may hold ids it drew already.
            Dialect::Postgres => Some(format!(
                "SELECT setval('{seq}', GREATEST((SELECT COALESCE(MAX({col}), 0) FROM {table}), \
                 (SELECT last_value FROM {seq}), 1))"
            )),
        }
    }

    /// Starts a transaction that will write (every write transaction of the
    /// crate: rotations and the admin operations): SQLite takes the write
    /// lock at once, waiting for it under the busy timeout, so that
    /// concurrent writers queue. A deferred `BEGIN` would first read, and in
    /// WAL mode upgrading that read to a write fails with SQLITE_BUSY at
    /// once, without waiting, when another writer got in between.
    pub(crate) fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }
}

/// The SQL of every operation for one dialect and layout.
#[derive(Debug)]
pub(crate) struct Sql {
    pub(crate) find_user: String,
    pub(crate) active_warehouse: String,
    pub(crate) warehouse_exists: String,
    pub(crate) refresh_insert: String,
    pub(crate) refresh_find: String,
    /// `$1` identifier, `$2` now, `$3`/`$4` the family condition.
    pub(crate) refresh_spend: String,
    pub(crate) revoke_family: String,
    pub(crate) revoke_by_subject: String,
    pub(crate) live_subjects: String,
    pub(crate) access_insert: String,
    // admin
    pub(crate) user_insert: String,
    pub(crate) user_sync_seq: Option<String>,
    pub(crate) user_set_status: String,
    pub(crate) user_set_password: String,
    pub(crate) stock_insert: String,
    pub(crate) stock_sync_seq: Option<String>,
    pub(crate) stock_by_id: String,
    pub(crate) assignment_deactivate_others: String,
    pub(crate) assignment_activate: String,
    pub(crate) assignment_insert: String,
    pub(crate) client_exists: String,
    pub(crate) client_insert: String,
    pub(crate) refresh_list: String,
    pub(crate) access_list: String,
    pub(crate) users_count: String,
}

impl Sql {
    pub(crate) fn new(d: Dialect, spryker: bool) -> Sql {
        let ts = |p: &str| d.ts(p);
        let us = |c: &str| d.us(c);
        // The rotation family: our own column, or (existing Spryker database)
        // the principal and client of the token.
        let (family_col, family_cond) = if spryker {
            ("NULL", "user_identifier = $3 AND fk_oauth_client = $4")
        } else {
            ("glue_family", "glue_family = $3")
        };
        let refresh_cols = format!(
            "identifier, {family_col} AS glue_family, user_identifier, scopes, fk_oauth_client, \
             {} AS expires_at, {} AS revoked_at",
            us("expires_at"),
            us("revoked_at")
        );
        Sql {
            find_user: "SELECT CAST(id_user AS BIGINT) AS id_user, uuid, username, password, \
                        CAST(status AS TEXT) AS status, is_warehouse_user \
                        FROM spy_user WHERE username = $1"
                .to_owned(),
            active_warehouse: "SELECT CAST(a.fk_warehouse AS BIGINT) AS id_warehouse \
                 FROM spy_warehouse_user_assignment a \
                 JOIN spy_stock s ON s.id_stock = a.fk_warehouse \
                 WHERE a.user_uuid = $1 AND a.is_active = $2 AND s.is_active = $2 \
                 ORDER BY a.id_warehouse_user_assignment LIMIT 2"
                .to_owned(),
            warehouse_exists: "SELECT CAST(id_stock AS BIGINT) AS id_stock FROM spy_stock \
                               WHERE id_stock = $1 AND is_active = $2"
                .to_owned(),
            refresh_insert: if spryker {
                format!(
                    "INSERT INTO spy_oauth_refresh_token (id_oauth_refresh_token, identifier, scopes, \
                     customer_reference, user_identifier, fk_oauth_client, expires_at, revoked_at, \
                     created_at, updated_at) \
                     VALUES ({}, $1, $2, NULL, $3, $4, {}, {}, {}, {})",
                    d.next_id("spy_oauth_refresh_token_pk_seq"),
                    ts("$5"),
                    ts("$6"),
                    ts("$7"),
                    ts("$7")
                )
            } else {
                format!(
                    "INSERT INTO spy_oauth_refresh_token (id_oauth_refresh_token, identifier, scopes, \
                     customer_reference, user_identifier, fk_oauth_client, expires_at, revoked_at, \
                     created_at, updated_at, glue_family) \
                     VALUES ({}, $1, $2, NULL, $3, $4, {}, {}, {}, {}, $8)",
                    d.next_id("spy_oauth_refresh_token_pk_seq"),
                    ts("$5"),
                    ts("$6"),
                    ts("$7"),
                    ts("$7")
                )
            },
            refresh_find: format!(
                "SELECT {refresh_cols} FROM spy_oauth_refresh_token WHERE identifier = $1 \
                 ORDER BY id_oauth_refresh_token LIMIT 1"
            ),
            refresh_spend: format!(
                "UPDATE spy_oauth_refresh_token SET revoked_at = {now}, updated_at = {now} \
                 WHERE identifier = $1 AND revoked_at IS NULL AND expires_at > {now} \
                 AND {family_cond}",
                now = ts("$2")
            ),
            revoke_family: if spryker {
                format!(
                    "UPDATE spy_oauth_refresh_token SET revoked_at = {now}, updated_at = {now} \
                     WHERE user_identifier = $1 AND fk_oauth_client = $3 AND revoked_at IS NULL \
                     AND LENGTH(identifier) = 64",
                    now = ts("$2")
                )
            } else {
                format!(
                    "UPDATE spy_oauth_refresh_token SET revoked_at = {now}, updated_at = {now} \
                     WHERE glue_family = $1 AND revoked_at IS NULL",
                    now = ts("$2")
                )
            },
            revoke_by_subject: format!(
                "UPDATE spy_oauth_refresh_token SET revoked_at = {now}, updated_at = {now} \
                 WHERE revoked_at IS NULL AND (user_identifier = $1 \
                 OR user_identifier LIKE $3 OR user_identifier LIKE $4)",
                now = ts("$2")
            ),
            live_subjects: "SELECT DISTINCT user_identifier, fk_oauth_client \
                            FROM spy_oauth_refresh_token \
                            WHERE revoked_at IS NULL AND LENGTH(identifier) = 64"
                .to_owned(),
            access_insert: format!(
                "INSERT INTO spy_oauth_access_token (id_oauth_access_token, identifier, scopes, \
                 user_identifier, fk_oauth_client, expirity_date, created_at, updated_at) \
                 VALUES ({}, $1, $2, $3, $4, {}, {}, {})",
                d.next_id("spy_oauth_access_token_pk_seq"),
                ts("$5"),
                ts("$6"),
                ts("$6")
            ),
            user_insert: format!(
                "INSERT INTO spy_user (id_user, first_name, last_name, username, password, status, \
                 is_warehouse_user, uuid, created_at, updated_at) \
                 VALUES (COALESCE($1, {}), $2, $3, $4, $5, $6, $7, $8, {now}, {now}) \
                 RETURNING CAST(id_user AS BIGINT) AS id_user",
                d.next_id("spy_user_pk_seq"),
                now = ts("$9")
            ),
            user_sync_seq: d.sync_seq("spy_user_pk_seq", "spy_user", "id_user"),
            user_set_status: format!(
                "UPDATE spy_user SET status = $2, updated_at = {} WHERE username = $1",
                ts("$3")
            ),
            user_set_password: format!(
                "UPDATE spy_user SET password = $2, updated_at = {} WHERE username = $1",
                ts("$3")
            ),
            stock_insert: format!(
                "INSERT INTO spy_stock (id_stock, name, is_active, uuid) \
                 VALUES (COALESCE($1, {}), $2, $3, $4) RETURNING CAST(id_stock AS BIGINT) AS id_stock",
                d.next_id("spy_stock_pk_seq")
            ),
            stock_sync_seq: d.sync_seq("spy_stock_pk_seq", "spy_stock", "id_stock"),
            stock_by_id: "SELECT CAST(id_stock AS BIGINT) AS id_stock, name, is_active \
                          FROM spy_stock WHERE id_stock = $1"
                .to_owned(),
            assignment_deactivate_others: format!(
                "UPDATE spy_warehouse_user_assignment SET is_active = $3, updated_at = {} \
                 WHERE user_uuid = $1 AND fk_warehouse <> $2 AND is_active = $4",
                ts("$5")
            ),
            assignment_activate: format!(
                "UPDATE spy_warehouse_user_assignment SET is_active = $3, updated_at = {} \
                 WHERE user_uuid = $1 AND fk_warehouse = $2",
                ts("$4")
            ),
            assignment_insert: format!(
                "INSERT INTO spy_warehouse_user_assignment (id_warehouse_user_assignment, uuid, \
                 fk_warehouse, user_uuid, is_active, created_at, updated_at) \
                 VALUES ({}, $1, $2, $3, $4, {now}, {now})",
                d.next_id("spy_warehouse_user_assignment_pk_seq"),
                now = ts("$5")
            ),
            client_exists: "SELECT identifier FROM spy_oauth_client WHERE identifier = $1"
                .to_owned(),
            client_insert: format!(
                "INSERT INTO spy_oauth_client (id_oauth_client, identifier, name, is_confidential) \
                 VALUES ({}, $1, $2, $3)",
                d.next_id("spy_oauth_client_pk_seq")
            ),
            refresh_list: format!(
                "SELECT CAST(id_oauth_refresh_token AS BIGINT) AS id, {refresh_cols}, \
                 {} AS created_at FROM spy_oauth_refresh_token \
                 WHERE LENGTH(identifier) = 64 \
                 AND ($1 IS NULL OR user_identifier = $1 OR user_identifier LIKE $2 \
                 OR user_identifier LIKE $3) \
                 AND ($4 OR revoked_at IS NULL) \
                 ORDER BY id_oauth_refresh_token DESC LIMIT $5",
                us("created_at")
            ),
            access_list: format!(
                "SELECT identifier, scopes, user_identifier, fk_oauth_client, \
                 {} AS expirity_date FROM spy_oauth_access_token \
                 ORDER BY id_oauth_access_token DESC LIMIT $1",
                us("expirity_date")
            ),
            users_count: "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM spy_user".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_contiguous() {
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            for spryker in [false, true] {
                let sql = Sql::new(d, spryker);
                assert!(sql.refresh_spend.contains("$4") == spryker);
                assert!(sql.refresh_insert.contains("$8") != spryker);
            }
        }
    }
}
