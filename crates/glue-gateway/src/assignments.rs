//! Warehouse user assignments: the one code path of the HTTP resource
//! (`/warehouse-user-assignments`, [`crate::demo`]) and the admin commands
//! (`glue-gateway warehouse …`, [`crate::admin`]).
//!
//! The store applies Glue's data rules atomically
//! ([`AssignmentStore`]); this module adds who may do what
//! (Spryker's `WarehouseUsersBackendApi`):
//!
//! - an operator (the admin commands) may do everything;
//! - a user who is a warehouse user (flagged `is_warehouse_user` now, or
//!   holding a `warehouse-user` token) sees and changes only their own
//!   assignments: anything else is "not found" (404 `5201`), as in Glue;
//! - any other user (Back Office) sees and changes every assignment;
//! - a user the store does not know: the collection is 403 `5204`, anything
//!   else 404 `5201`.
//!
//! After every change, the gateway's cached reads of the user's active
//! warehouse are forgotten ([`Reads::invalidate_user`]): this instance's
//! picking lists follow at once; other instances within
//! [`FRESH_FOR`](crate::reads::FRESH_FOR). `POST /warehouse-tokens` reads
//! the store itself, so the next exchange after a deactivation is refused
//! (403 `5101`) everywhere; warehouse tokens already issued stay valid until
//! they expire, as in Glue.

use std::sync::Arc;

use glue_auth_core::Claims;
use glue_auth_token::store::{
    Assignment, AssignmentFilter, AssignmentRefusal, AssignmentStore, NewAssignment, StoreError,
};

use crate::reads::Reads;

/// Who asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Caller {
    /// The operator, through the admin commands: no restriction.
    Operator,
    /// A user through the API.
    User {
        /// `spy_user.uuid`.
        uuid: String,
        /// Restricted to their own assignments.
        warehouse_user: bool,
    },
    /// A user principal the store does not know (deleted since the token
    /// was issued).
    Unknown,
}

impl Caller {
    fn may_touch(&self, user_uuid: &str) -> bool {
        match self {
            Caller::Operator => true,
            Caller::User {
                uuid,
                warehouse_user,
            } => !warehouse_user || uuid == user_uuid,
            Caller::Unknown => false,
        }
    }
}

/// Why an operation failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// 404 `5201`: no such assignment, or not the caller's.
    NotFound,
    /// 403 `5204`: the caller may not list assignments.
    Forbidden,
    /// 400: the store's refusals (`5202`, `5203`, `5205`, `5206`, and `5201`
    /// for an assignment deleted meanwhile), in Glue's order.
    Refused(Vec<AssignmentRefusal>),
    /// 503: the store is unavailable.
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

/// The assignments of one store, with the cache to keep current.
#[derive(Clone)]
pub(crate) struct Assignments {
    store: Arc<dyn AssignmentStore>,
    reads: Option<Arc<Reads>>,
}

impl std::fmt::Debug for Assignments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assignments")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Assignments {
    /// `reads`: the running gateway's cache (none for the admin commands,
    /// which run in their own process).
    pub(crate) fn new(store: Arc<dyn AssignmentStore>, reads: Option<Arc<Reads>>) -> Self {
        Assignments { store, reads }
    }

    /// The store.
    pub(crate) fn store(&self) -> &dyn AssignmentStore {
        &*self.store
    }

    /// The caller behind a user token: restricted when the store says the
    /// user is a warehouse user (Glue's rule) or the token says so.
    pub(crate) async fn caller(&self, claims: &Claims) -> Result<Caller, StoreError> {
        let Some(user) = claims.principal().as_user() else {
            return Ok(Caller::Unknown);
        };
        Ok(match self.store.user_by_uuid(user.uuid()).await? {
            None => Caller::Unknown,
            Some(record) => Caller::User {
                uuid: record.uuid,
                warehouse_user: record.is_warehouse_user || claims.scopes().has_warehouse_user(),
            },
        })
    }

    /// `GET /warehouse-user-assignments`: a warehouse user's own only.
    pub(crate) async fn list(
        &self,
        caller: &Caller,
        mut filter: AssignmentFilter,
    ) -> Result<Vec<Assignment>, Failure> {
        match caller {
            Caller::Unknown => return Err(Failure::Forbidden),
            Caller::User {
                uuid,
                warehouse_user: true,
            } => {
                if filter.user_uuid.as_ref().is_some_and(|u| u != uuid) {
                    return Ok(Vec::new());
                }
                filter.user_uuid = Some(uuid.clone());
            }
            Caller::User { .. } | Caller::Operator => {}
        }
        Ok(self.store.list_assignments(&filter).await?)
    }

    /// `GET /warehouse-user-assignments/{uuid}`.
    pub(crate) async fn get(&self, caller: &Caller, uuid: &str) -> Result<Assignment, Failure> {
        let found = self
            .store
            .list_assignments(&AssignmentFilter::all().uuid(uuid).limit(1))
            .await?;
        match found.into_iter().next() {
            Some(a) if caller.may_touch(&a.user_uuid) => Ok(a),
            _ => Err(Failure::NotFound),
        }
    }

    /// `POST /warehouse-user-assignments`.
    pub(crate) async fn create(
        &self,
        caller: &Caller,
        new: NewAssignment,
    ) -> Result<Assignment, Failure> {
        if !caller.may_touch(&new.user_uuid) {
            return Err(Failure::NotFound);
        }
        let created = self
            .store
            .create_assignment(new)
            .await?
            .map_err(Failure::Refused)?;
        self.changed(&created);
        Ok(created)
    }

    /// `PATCH /warehouse-user-assignments/{uuid}` (`isActive`).
    pub(crate) async fn set_active(
        &self,
        caller: &Caller,
        uuid: &str,
        is_active: bool,
    ) -> Result<Assignment, Failure> {
        self.get(caller, uuid).await?;
        let changed = self
            .store
            .set_assignment_active(uuid, is_active)
            .await?
            .map_err(Failure::Refused)?;
        self.changed(&changed);
        Ok(changed)
    }

    /// `DELETE /warehouse-user-assignments/{uuid}`.
    pub(crate) async fn delete(&self, caller: &Caller, uuid: &str) -> Result<Assignment, Failure> {
        self.get(caller, uuid).await?;
        let deleted = self
            .store
            .delete_assignment(uuid)
            .await?
            .map_err(Failure::Refused)?;
        self.changed(&deleted);
        Ok(deleted)
    }

    /// Forgets what this process cached about the user's assignments.
    fn changed(&self, a: &Assignment) {
        if let Some(reads) = &self.reads {
            reads.invalidate_user(&a.user_uuid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glue_auth_core::{NumericDate, Principal, Scopes, UserPrincipal};
    use glue_auth_token::MemoryDirectory;
    use glue_auth_token::store::{
        PasswordHash, UserRecord, UserStatus, WarehouseAssignments, uuid_for,
    };

    const SONIA: &str = "0d743cc3-a772-5145-971e-d4018ee7a489";

    fn claims(uuid: &str, scopes: &[&str]) -> Claims {
        Claims::builder(
            Principal::User(UserPrincipal::new(7, uuid, None::<String>)),
            Scopes::from_iter(scopes.iter().copied()),
        )
        .expires_at(NumericDate::from_micros(i64::MAX / 2))
        .build()
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn warehouse_users_see_and_change_only_their_own() {
        rt().block_on(async {
            let dir = MemoryDirectory::demo();
            for (uuid, name) in [("wu-1", "one@example.com"), ("wu-2", "two@example.com")] {
                dir.insert_user(UserRecord {
                    id_user: 10,
                    uuid: uuid.into(),
                    username: name.into(),
                    password_hash: PasswordHash::new("x"),
                    status: UserStatus::Active,
                    is_warehouse_user: true,
                    user_reference: None,
                });
            }
            let reads = Arc::new(Reads::new(Arc::new(dir.clone())));
            let a = Assignments::new(Arc::new(dir.clone()), Some(Arc::clone(&reads)));
            let admin = a
                .caller(&claims(SONIA, &["user", "back-office-user"]))
                .await
                .unwrap();
            let one = a
                .caller(&claims("wu-1", &["user", "warehouse-user"]))
                .await
                .unwrap();
            assert_eq!(
                one,
                Caller::User {
                    uuid: "wu-1".into(),
                    warehouse_user: true
                }
            );
            let w1 = uuid_for("spy_stock", 1);
            // Cached before the write: the write makes the cache forget it.
            assert_eq!(reads.active_warehouse("wu-1").await.unwrap(), None);
            let mine = a
                .create(&admin, NewAssignment::new("wu-1", &w1).active(true))
                .await
                .unwrap();
            let theirs = a
                .create(&admin, NewAssignment::new("wu-2", &w1))
                .await
                .unwrap();
            assert_eq!(reads.active_warehouse("wu-1").await.unwrap(), Some(1));
            let listed = a.list(&one, AssignmentFilter::all()).await.unwrap();
            assert_eq!(listed, std::slice::from_ref(&mine));
            let none = AssignmentFilter::all().user_uuid("wu-2");
            assert!(a.list(&one, none).await.unwrap().is_empty());
            assert_eq!(
                a.list(&admin, AssignmentFilter::all()).await.unwrap().len(),
                3
            );
            assert!(matches!(
                a.get(&one, &theirs.uuid).await,
                Err(Failure::NotFound)
            ));
            assert!(matches!(
                a.set_active(&one, &theirs.uuid, true).await,
                Err(Failure::NotFound)
            ));
            assert!(matches!(
                a.create(&one, NewAssignment::new("wu-2", &w1)).await,
                Err(Failure::NotFound)
            ));
            a.set_active(&one, &mine.uuid, false).await.unwrap();
            assert_eq!(reads.active_warehouse("wu-1").await.unwrap(), None);
            assert_eq!(dir.active_warehouse("wu-1").await.unwrap(), None);
            let gone = a.caller(&claims("nobody", &["user"])).await.unwrap();
            assert!(matches!(
                a.list(&gone, AssignmentFilter::all()).await,
                Err(Failure::Forbidden)
            ));
            assert!(matches!(
                a.delete(&gone, &mine.uuid).await,
                Err(Failure::NotFound)
            ));
            a.delete(&Caller::Operator, &mine.uuid).await.unwrap();
        });
    }
}
