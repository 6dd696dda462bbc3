//! [`AssignmentStore`] on SQL: Glue's assignment rules, each change in one
//! transaction.
//!
//! Every change of a user's assignments first locks the user's `spy_user`
//! row (`SELECT … FOR UPDATE`; SQLite holds the database's write lock from
//! `BEGIN IMMEDIATE`), so the changes of one user happen one after the
//! other, across any number of gateway instances: the second of two
//! concurrent activations sees the first one committed and deactivates it.
//! This holds on an existing Spryker database too, which has no unique
//! index of ours to fall back on. Should a writer that does not take the
//! lock (another tool) make an insert collide with a unique index anyway,
//! the change is refused (`5206` when the user now has an assignment to
//! that warehouse, else `5205`), never half done.

use glue_auth_token::store::{
    Assignment, AssignmentFilter, AssignmentRefusal, AssignmentResult, AssignmentStore,
    NewAssignment, PasswordHash, StoreError, StoreFuture, UserRecord, Warehouse, WarehouseRef,
    random_uuid, uuid_for,
};

use crate::assign_sql::ListRow;
use crate::error::{Kind, kind, store_error};
use crate::sql::bind;
use crate::store::{SqlStore, parse_status, with_pool};

fn now_us() -> i64 {
    glue_auth_core::NumericDate::now().as_micros()
}

fn assignment(r: ListRow) -> Option<Assignment> {
    let (id, uuid, user_uuid, is_active, id_stock, stock_uuid, name, stock_active) = r;
    Some(Assignment {
        id,
        uuid: uuid?,
        user_uuid,
        warehouse: Warehouse {
            id_warehouse: id_stock,
            uuid: stock_uuid?,
            name,
            is_active: stock_active.unwrap_or(false),
        },
        is_active,
    })
}

type StockRow = (i64, Option<String>, String, Option<bool>);

fn warehouse(r: StockRow) -> Option<Warehouse> {
    let (id_warehouse, uuid, name, is_active) = r;
    Some(Warehouse {
        id_warehouse,
        uuid: uuid?,
        name,
        is_active: is_active.unwrap_or(false),
    })
}

/// `spy_warehouse_user_assignment` rows by uuid, in a transaction or not.
macro_rules! find_assignment {
    ($inner:expr, $exec:expr, $uuid:expr) => {{
        let list = &$inner.assign.list;
        let none: Option<&str> = None;
        let rows: Vec<ListRow> = bind!(
            sqlx::query_as(&list.text),
            list,
            [Some($uuid), none, none, None::<bool>, 1_i64,]
        )
        .fetch_all($exec)
        .await
        .map_err(store_error)?;
        rows.into_iter().next().and_then(assignment)
    }};
}

/// Locks the user's row; `true` when the user exists and is a warehouse
/// user.
macro_rules! lock_warehouse_user {
    ($inner:expr, $tx:expr, $uuid:expr) => {{
        let lock = &$inner.assign.lock_user;
        let user: Option<(i64, Option<bool>)> = bind!(sqlx::query_as(&lock.text), lock, [$uuid])
            .fetch_optional(&mut *$tx)
            .await
            .map_err(store_error)?;
        user.is_some_and(|(_, w)| w.unwrap_or(false))
    }};
}

impl SqlStore {
    async fn user_by_uuid_inner(&self, uuid: &str) -> Result<Option<UserRecord>, StoreError> {
        type Row = (i64, Option<String>, String, String, String, Option<bool>);
        let sql = &self.inner.assign.user_by_uuid;
        let row: Option<Row> = with_pool!(&self.inner.pool, p => bind!(
            sqlx::query_as(&sql.text), sql, [uuid])
            .fetch_optional(p)
            .await
            .map_err(store_error)?);
        let Some((id_user, found, username, password, status, is_warehouse_user)) = row else {
            return Ok(None);
        };
        // Exactly the uuid asked for (MySQL's collations ignore case).
        if found.as_deref() != Some(uuid) {
            return Ok(None);
        }
        let status = parse_status(&status).ok_or_else(|| {
            StoreError::Inconsistent(format!("user {id_user} has an unknown status"))
        })?;
        Ok(Some(UserRecord {
            id_user,
            uuid: uuid.to_owned(),
            username,
            password_hash: PasswordHash::new(password),
            status,
            is_warehouse_user: is_warehouse_user.unwrap_or(false),
            user_reference: None,
        }))
    }

    async fn find_warehouse_inner(
        &self,
        by: WarehouseRef<'_>,
    ) -> Result<Option<Warehouse>, StoreError> {
        let a = &self.inner.assign;
        let row: Option<StockRow> = with_pool!(&self.inner.pool, p => match by {
            WarehouseRef::Id(id) => bind!(
                sqlx::query_as(&a.warehouse_by_id.text), a.warehouse_by_id, [id])
                .fetch_optional(p)
                .await,
            WarehouseRef::Uuid(uuid) => bind!(
                sqlx::query_as(&a.warehouse_by_uuid.text), a.warehouse_by_uuid, [uuid])
                .fetch_optional(p)
                .await,
        }
        .map_err(store_error)?);
        Ok(row.and_then(warehouse).filter(|w| match by {
            WarehouseRef::Uuid(uuid) => w.uuid == uuid,
            WarehouseRef::Id(_) => true,
        }))
    }

    async fn list_inner(&self, f: &AssignmentFilter) -> Result<Vec<Assignment>, StoreError> {
        let list = &self.inner.assign.list;
        let rows: Vec<ListRow> = with_pool!(&self.inner.pool, p => bind!(
            sqlx::query_as(&list.text), list, [
                f.uuid.as_deref(),
                f.user_uuid.as_deref(),
                f.warehouse_uuid.as_deref(),
                f.is_active,
                i64::from(f.limit),
            ])
            .fetch_all(p)
            .await
            .map_err(store_error)?);
        // Exact matches only (MySQL's collations ignore case).
        Ok(rows
            .into_iter()
            .filter_map(assignment)
            .filter(|a| f.matches(a))
            .collect())
    }

    async fn create_inner(&self, new: &NewAssignment) -> Result<AssignmentResult, StoreError> {
        let inner = &*self.inner;
        let uuid = random_uuid();
        let outcome = with_pool!(&inner.pool, p => {
            let mut tx = p
                .begin_with(inner.dialect.begin_write())
                .await
                .map_err(store_error)?;
            let mut refused = Vec::new();
            if !lock_warehouse_user!(inner, tx, new.user_uuid.as_str()) {
                refused.push(AssignmentRefusal::UserNotFound);
            }
            let by_uuid = &inner.assign.warehouse_by_uuid;
            let stock: Option<StockRow> =
                bind!(sqlx::query_as(&by_uuid.text), by_uuid, [new.warehouse_uuid.as_str()])
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_error)?;
            let stock = stock
                .and_then(warehouse)
                .filter(|w| w.uuid == new.warehouse_uuid);
            match &stock {
                None => refused.push(AssignmentRefusal::WarehouseNotFound),
                Some(w) if refused.is_empty() => {
                    let exists = &inner.assign.exists;
                    let taken: Option<(i64,)> = bind!(sqlx::query_as(&exists.text), exists, [
                        new.user_uuid.as_str(),
                        w.id_warehouse,
                    ])
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_error)?;
                    if taken.is_some() {
                        refused.push(AssignmentRefusal::AlreadyExists);
                    }
                }
                Some(_) => {}
            }
            match stock {
                Some(w) if refused.is_empty() => {
                    let now = now_us();
                    if new.is_active {
                        let others = &inner.sql.assignment_deactivate_others;
                        bind!(sqlx::query(&others.text), others, [
                            new.user_uuid.as_str(), w.id_warehouse, false, true, now])
                            .execute(&mut *tx)
                            .await
                            .map_err(store_error)?;
                    }
                    let insert = &inner.sql.assignment_insert;
                    let inserted = bind!(sqlx::query(&insert.text), insert, [
                        uuid.as_str(), w.id_warehouse, new.user_uuid.as_str(), new.is_active, now])
                        .execute(&mut *tx)
                        .await;
                    match inserted {
                        Ok(_) => {
                            let created = find_assignment!(inner, &mut *tx, uuid.as_str());
                            tx.commit().await.map_err(store_error)?;
                            Ok(created.ok_or_else(|| vec![AssignmentRefusal::NotFound]))
                        }
                        Err(e) if kind(&e) == Kind::Constraint => {
                            tx.rollback().await.map_err(store_error)?;
                            Err(w.id_warehouse)
                        }
                        Err(e) => return Err(store_error(e)),
                    }
                }
                _ => {
                    tx.rollback().await.map_err(store_error)?;
                    Ok(Err(refused))
                }
            }
        });
        match outcome {
            Ok(result) => Ok(result),
            // A writer outside the lock got in between.
            Err(id_warehouse) => {
                let exists = &inner.assign.exists;
                let taken: Option<(i64,)> = with_pool!(&inner.pool, p => bind!(
                    sqlx::query_as(&exists.text), exists, [new.user_uuid.as_str(), id_warehouse])
                    .fetch_optional(p)
                    .await
                    .map_err(store_error)?);
                tracing::warn!(
                    user = %new.user_uuid,
                    "assignment insert collided with a concurrent writer"
                );
                Ok(Err(vec![if taken.is_some() {
                    AssignmentRefusal::AlreadyExists
                } else {
                    AssignmentRefusal::TooManyActive
                }]))
            }
        }
    }

    async fn set_active_inner(
        &self,
        uuid: &str,
        is_active: bool,
    ) -> Result<AssignmentResult, StoreError> {
        let inner = &*self.inner;
        // Whose it is, to lock that user first.
        let Some(before) = with_pool!(&inner.pool, p => find_assignment!(inner, p, uuid)) else {
            return Ok(Err(vec![AssignmentRefusal::NotFound]));
        };
        with_pool!(&inner.pool, p => {
            let mut tx = p
                .begin_with(inner.dialect.begin_write())
                .await
                .map_err(store_error)?;
            let warehouse_user = lock_warehouse_user!(inner, tx, before.user_uuid.as_str());
            // As it is now that the user is locked.
            let Some(row) = find_assignment!(inner, &mut *tx, uuid) else {
                tx.rollback().await.map_err(store_error)?;
                return Ok(Err(vec![AssignmentRefusal::NotFound]));
            };
            if !warehouse_user || row.user_uuid != before.user_uuid {
                tx.rollback().await.map_err(store_error)?;
                return Ok(Err(vec![AssignmentRefusal::UserNotFound]));
            }
            let now = now_us();
            if is_active {
                let others = &inner.sql.assignment_deactivate_others;
                bind!(sqlx::query(&others.text), others, [
                    row.user_uuid.as_str(), row.warehouse.id_warehouse, false, true, now])
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
            }
            let set = &inner.sql.assignment_activate;
            let changed = bind!(sqlx::query(&set.text), set, [
                row.user_uuid.as_str(), row.warehouse.id_warehouse, is_active, now])
                .execute(&mut *tx)
                .await;
            match changed {
                Ok(_) => {
                    let after = find_assignment!(inner, &mut *tx, uuid);
                    tx.commit().await.map_err(store_error)?;
                    Ok(after.ok_or_else(|| vec![AssignmentRefusal::NotFound]))
                }
                Err(e) if kind(&e) == Kind::Constraint => {
                    tx.rollback().await.map_err(store_error)?;
                    tracing::warn!(
                        user = %row.user_uuid,
                        "assignment activation collided with a concurrent writer"
                    );
                    Ok(Err(vec![AssignmentRefusal::TooManyActive]))
                }
                Err(e) => Err(store_error(e)),
            }
        })
    }

    async fn delete_inner(&self, uuid: &str) -> Result<AssignmentResult, StoreError> {
        let inner = &*self.inner;
        with_pool!(&inner.pool, p => {
            let mut tx = p
                .begin_with(inner.dialect.begin_write())
                .await
                .map_err(store_error)?;
            let Some(row) = find_assignment!(inner, &mut *tx, uuid) else {
                tx.rollback().await.map_err(store_error)?;
                return Ok(Err(vec![AssignmentRefusal::NotFound]));
            };
            let delete = &inner.assign.delete;
            bind!(sqlx::query(&delete.text), delete, [row.id])
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
            tx.commit().await.map_err(store_error)?;
            Ok(Ok(row))
        })
    }

    /// Gives warehouses and assignments without a uuid Spryker's uuid for
    /// their id ([`uuid_for`]); own schema only, at connect. Returns how
    /// many rows it changed.
    pub(crate) async fn backfill_uuids(&self) -> Result<u64, StoreError> {
        let inner = &*self.inner;
        let a = &inner.assign;
        let mut changed = 0;
        for (missing, set, table) in [
            (&a.stock_missing_uuid, &a.stock_set_uuid, "spy_stock"),
            (
                &a.assignment_missing_uuid,
                &a.assignment_set_uuid,
                "spy_warehouse_user_assignment",
            ),
        ] {
            let ids: Vec<(i64,)> = with_pool!(&inner.pool, p => sqlx::query_as(&missing.text)
                .fetch_all(p)
                .await
                .map_err(store_error)?);
            for (id,) in ids {
                let uuid = uuid_for(table, id);
                changed += with_pool!(&inner.pool, p => bind!(
                    sqlx::query(&set.text), set, [uuid.as_str(), id])
                    .execute(p)
                    .await
                    .map_err(store_error)?
                    .rows_affected());
            }
        }
        Ok(changed)
    }
}

impl AssignmentStore for SqlStore {
    fn user_by_uuid<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Option<UserRecord>> {
        Box::pin(self.bounded(self.user_by_uuid_inner(uuid)))
    }

    fn find_warehouse<'a>(&'a self, by: WarehouseRef<'a>) -> StoreFuture<'a, Option<Warehouse>> {
        Box::pin(self.bounded(self.find_warehouse_inner(by)))
    }

    fn list_assignments<'a>(
        &'a self,
        filter: &'a AssignmentFilter,
    ) -> StoreFuture<'a, Vec<Assignment>> {
        Box::pin(self.bounded(self.list_inner(filter)))
    }

    fn create_assignment(&self, new: NewAssignment) -> StoreFuture<'_, AssignmentResult> {
        Box::pin(async move { self.bounded(self.create_inner(&new)).await })
    }

    fn set_assignment_active<'a>(
        &'a self,
        uuid: &'a str,
        is_active: bool,
    ) -> StoreFuture<'a, AssignmentResult> {
        Box::pin(self.bounded(self.set_active_inner(uuid, is_active)))
    }

    fn delete_assignment<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, AssignmentResult> {
        Box::pin(self.bounded(self.delete_inner(uuid)))
    }
}
