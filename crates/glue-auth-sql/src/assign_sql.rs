//! The SQL of the assignment operations ([`AssignmentStore`]), built once
//! per store like [`Sql`](crate::sql::Sql). The writes reuse `Sql`'s
//! `assignment_deactivate_others`, `assignment_activate` and
//! `assignment_insert`.
//!
//! [`AssignmentStore`]: glue_auth_token::store::AssignmentStore

use crate::sql::{Dialect, Stmt};

/// The assignment statements of one dialect.
#[derive(Debug)]
pub(crate) struct AssignSql {
    /// `$1` uuid: the user as [`find_user`](crate::sql::Sql::find_user)
    /// reads it.
    pub(crate) user_by_uuid: Stmt,
    /// `$1` uuid: `id_user, is_warehouse_user`, the row locked for the
    /// rest of the transaction (SQLite: the whole database is, since
    /// `BEGIN IMMEDIATE`). Every change of a user's assignments takes this
    /// lock first, so they happen one after the other.
    pub(crate) lock_user: Stmt,
    /// `$1` id: `id_stock, uuid, name, is_active`.
    pub(crate) warehouse_by_id: Stmt,
    /// `$1` uuid: same columns.
    pub(crate) warehouse_by_uuid: Stmt,
    /// `$1` assignment uuid, `$2` user uuid, `$3` warehouse uuid,
    /// `$4` is_active (each NULL: any), `$5` limit.
    pub(crate) list: Stmt,
    /// `$1` user uuid, `$2` id_stock: the assignment's id, if any.
    pub(crate) exists: Stmt,
    /// `$1` id_warehouse_user_assignment.
    pub(crate) delete: Stmt,
    /// `$1` uuid, `$2` id_stock.
    pub(crate) stock_set_uuid: Stmt,
    /// Warehouses without a uuid: `id_stock`.
    pub(crate) stock_missing_uuid: Stmt,
    /// `$1` uuid, `$2` id_warehouse_user_assignment.
    pub(crate) assignment_set_uuid: Stmt,
    /// Assignments without a uuid: `id_warehouse_user_assignment`.
    pub(crate) assignment_missing_uuid: Stmt,
}

/// The columns a [`list`](AssignSql::list) row has, in order.
pub(crate) type ListRow = (
    i64,
    Option<String>,
    String,
    bool,
    i64,
    Option<String>,
    String,
    Option<bool>,
);

impl AssignSql {
    pub(crate) fn new(d: Dialect) -> AssignSql {
        let st = |sql: String| Stmt::new(d, sql);
        let int = |e: &str| d.bigint(e);
        let lock = match d {
            // BEGIN IMMEDIATE holds the write lock already.
            Dialect::Sqlite => "",
            Dialect::Postgres | Dialect::Mysql => " FOR UPDATE",
        };
        let stock_cols = format!("{} AS id_stock, uuid, name, is_active", int("id_stock"));
        AssignSql {
            user_by_uuid: st(format!(
                "SELECT {} AS id_user, uuid, username, password, {} AS status, \
                 is_warehouse_user FROM spy_user WHERE uuid = $1",
                int("id_user"),
                d.text("status")
            )),
            lock_user: st(format!(
                "SELECT {} AS id_user, is_warehouse_user FROM spy_user WHERE uuid = $1{lock}",
                int("id_user")
            )),
            warehouse_by_id: st(format!(
                "SELECT {stock_cols} FROM spy_stock WHERE id_stock = $1"
            )),
            warehouse_by_uuid: st(format!(
                "SELECT {stock_cols} FROM spy_stock WHERE uuid = $1"
            )),
            list: st(format!(
                "SELECT {} AS id, a.uuid AS uuid, a.user_uuid AS user_uuid, \
                 a.is_active AS is_active, {} AS id_stock, s.uuid AS stock_uuid, \
                 s.name AS name, s.is_active AS stock_active \
                 FROM spy_warehouse_user_assignment a \
                 JOIN spy_stock s ON s.id_stock = a.fk_warehouse \
                 WHERE a.uuid IS NOT NULL AND s.uuid IS NOT NULL \
                 AND ($1 IS NULL OR a.uuid = $1) AND ($2 IS NULL OR a.user_uuid = $2) \
                 AND ($3 IS NULL OR s.uuid = $3) AND ($4 IS NULL OR a.is_active = $4) \
                 ORDER BY a.id_warehouse_user_assignment LIMIT $5",
                int("a.id_warehouse_user_assignment"),
                int("s.id_stock")
            )),
            exists: st(format!(
                "SELECT {} AS id FROM spy_warehouse_user_assignment \
                 WHERE user_uuid = $1 AND fk_warehouse = $2",
                int("id_warehouse_user_assignment")
            )),
            delete: st(
                "DELETE FROM spy_warehouse_user_assignment WHERE id_warehouse_user_assignment = $1"
                    .to_owned(),
            ),
            stock_set_uuid: st(
                "UPDATE spy_stock SET uuid = $1 WHERE id_stock = $2 AND uuid IS NULL".to_owned(),
            ),
            stock_missing_uuid: st(format!(
                "SELECT {} AS id FROM spy_stock WHERE uuid IS NULL",
                int("id_stock")
            )),
            assignment_set_uuid: st("UPDATE spy_warehouse_user_assignment SET uuid = $1 \
                 WHERE id_warehouse_user_assignment = $2 AND uuid IS NULL"
                .to_owned()),
            assignment_missing_uuid: st(format!(
                "SELECT {} AS id FROM spy_warehouse_user_assignment WHERE uuid IS NULL",
                int("id_warehouse_user_assignment")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_and_placeholders() {
        let pg = AssignSql::new(Dialect::Postgres);
        assert!(
            pg.lock_user.text.ends_with("FOR UPDATE"),
            "{}",
            pg.lock_user.text
        );
        assert_eq!(pg.list.order, [0, 1, 2, 3, 4]);
        let sqlite = AssignSql::new(Dialect::Sqlite);
        assert!(!sqlite.lock_user.text.contains("FOR UPDATE"));
        let my = AssignSql::new(Dialect::Mysql);
        assert!(my.lock_user.text.ends_with("FOR UPDATE"));
        // Each filter value is bound twice (`? IS NULL OR … = ?`).
        assert_eq!(my.list.order, [0, 0, 1, 1, 2, 2, 3, 3, 4]);
        assert!(!my.list.text.contains('$'));
    }
}
