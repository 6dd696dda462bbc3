//! Warehouse user assignments as a managed resource: [`AssignmentStore`],
//! its records, and Glue's rules as [`AssignmentRefusal`]s. The token
//! endpoint needs only [`WarehouseAssignments`](super::WarehouseAssignments).

use std::fmt;

use super::{StoreFuture, UserRecord};

/// A warehouse (`spy_stock`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warehouse {
    /// `id_stock`.
    pub id_warehouse: i64,
    /// `uuid` (Spryker's `spy_stock.uuid`): the warehouse as the API names it.
    pub uuid: String,
    /// `name`.
    pub name: String,
    /// `is_active`.
    pub is_active: bool,
}

/// One warehouse user assignment (`spy_warehouse_user_assignment`) with its
/// warehouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// `id_warehouse_user_assignment`.
    pub id: i64,
    /// `uuid`: the assignment as the API names it.
    pub uuid: String,
    /// `user_uuid`.
    pub user_uuid: String,
    /// The warehouse (`fk_warehouse`).
    pub warehouse: Warehouse,
    /// `is_active`.
    pub is_active: bool,
}

/// How a warehouse is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarehouseRef<'a> {
    /// By `id_stock` (the admin commands).
    Id(i64),
    /// By `uuid` (the API).
    Uuid(&'a str),
}

/// The most assignments one [`AssignmentStore::list_assignments`] call
/// returns.
pub const MAX_LISTED_ASSIGNMENTS: u32 = 1000;

/// Which assignments [`AssignmentStore::list_assignments`] returns: every
/// condition given must hold (Glue's `filter[warehouse-user-assignments.*]`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AssignmentFilter {
    /// Only this assignment.
    pub uuid: Option<String>,
    /// Only this user's.
    pub user_uuid: Option<String>,
    /// Only this warehouse's (by `spy_stock.uuid`).
    pub warehouse_uuid: Option<String>,
    /// Only active (`true`) or inactive (`false`) ones.
    pub is_active: Option<bool>,
    /// At most this many, oldest first (default and upper bound
    /// [`MAX_LISTED_ASSIGNMENTS`]).
    pub limit: u32,
}

impl Default for AssignmentFilter {
    fn default() -> Self {
        AssignmentFilter {
            uuid: None,
            user_uuid: None,
            warehouse_uuid: None,
            is_active: None,
            limit: MAX_LISTED_ASSIGNMENTS,
        }
    }
}

impl AssignmentFilter {
    /// Every assignment (up to the limit).
    pub fn all() -> Self {
        Self::default()
    }

    /// Only the assignment with this uuid.
    pub fn uuid(mut self, uuid: impl Into<String>) -> Self {
        self.uuid = Some(uuid.into());
        self
    }

    /// Only this user's assignments.
    pub fn user_uuid(mut self, uuid: impl Into<String>) -> Self {
        self.user_uuid = Some(uuid.into());
        self
    }

    /// Only this warehouse's assignments.
    pub fn warehouse_uuid(mut self, uuid: impl Into<String>) -> Self {
        self.warehouse_uuid = Some(uuid.into());
        self
    }

    /// Only active or only inactive assignments.
    pub fn is_active(mut self, active: bool) -> Self {
        self.is_active = Some(active);
        self
    }

    /// At most `n` (clamped to [`MAX_LISTED_ASSIGNMENTS`]).
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = n.min(MAX_LISTED_ASSIGNMENTS);
        self
    }

    /// Whether `a` passes the filter (for in-memory stores).
    pub fn matches(&self, a: &Assignment) -> bool {
        self.uuid.as_ref().is_none_or(|u| *u == a.uuid)
            && self.user_uuid.as_ref().is_none_or(|u| *u == a.user_uuid)
            && self
                .warehouse_uuid
                .as_ref()
                .is_none_or(|u| *u == a.warehouse.uuid)
            && self.is_active.is_none_or(|v| v == a.is_active)
    }
}

/// An assignment to create with [`AssignmentStore::create_assignment`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewAssignment {
    /// The user (`spy_user.uuid`).
    pub user_uuid: String,
    /// The warehouse.
    pub warehouse_uuid: String,
    /// Whether it is the user's active assignment (the others are then
    /// deactivated). Glue's default: `false`.
    pub is_active: bool,
}

impl NewAssignment {
    /// An inactive assignment of the user to the warehouse.
    pub fn new(user_uuid: impl Into<String>, warehouse_uuid: impl Into<String>) -> Self {
        NewAssignment {
            user_uuid: user_uuid.into(),
            warehouse_uuid: warehouse_uuid.into(),
            is_active: false,
        }
    }

    /// Sets `is_active`.
    pub fn active(mut self, yes: bool) -> Self {
        self.is_active = yes;
        self
    }
}

/// Why a change of assignments was refused, with Glue's code and message
/// (`WarehouseUsersBackendApiConfig`, spryker/warehouse-users-backend-api).
///
/// Stores answer `NotFound`, `UserNotFound`, `WarehouseNotFound`,
/// `TooManyActive` and `AlreadyExists`; `Forbidden` is the API's own answer
/// (a caller who may not see the collection). Glue answers the store's
/// refusals 400 (all of them in one error list), and its own look-up
/// failures 404 `5201` and 403 `5204`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AssignmentRefusal {
    /// `5201` "Warehouse user assignment not found."
    NotFound,
    /// `5202` "User not found." (also: the user is not a warehouse user).
    UserNotFound,
    /// `5203` "Warehouse not found."
    WarehouseNotFound,
    /// `5204` "Operation is forbidden."
    Forbidden,
    /// `5205` "User has too many active warehouse assignments."
    TooManyActive,
    /// `5206` "Warehouse user assignment already exists."
    AlreadyExists,
}

impl AssignmentRefusal {
    /// Glue's error code.
    pub fn code(self) -> &'static str {
        match self {
            AssignmentRefusal::NotFound => "5201",
            AssignmentRefusal::UserNotFound => "5202",
            AssignmentRefusal::WarehouseNotFound => "5203",
            AssignmentRefusal::Forbidden => "5204",
            AssignmentRefusal::TooManyActive => "5205",
            AssignmentRefusal::AlreadyExists => "5206",
        }
    }

    /// Glue's message.
    pub fn message(self) -> &'static str {
        match self {
            AssignmentRefusal::NotFound => "Warehouse user assignment not found.",
            AssignmentRefusal::UserNotFound => "User not found.",
            AssignmentRefusal::WarehouseNotFound => "Warehouse not found.",
            AssignmentRefusal::Forbidden => "Operation is forbidden.",
            AssignmentRefusal::TooManyActive => "User has too many active warehouse assignments.",
            AssignmentRefusal::AlreadyExists => "Warehouse user assignment already exists.",
        }
    }
}

impl fmt::Display for AssignmentRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.message())
    }
}

/// What a change answers: the assignment as it now is (for a deletion: as
/// it was), or every rule it broke, in Glue's order (user, warehouse,
/// active, duplicate); never an empty list.
pub type AssignmentResult = Result<Assignment, Vec<AssignmentRefusal>>;

/// Managing warehouse user assignments (Glue's `/warehouse-user-assignments`,
/// the gateway's admin commands): look-ups, listing, and changes. Object
/// safe, like the other store traits (`Arc<dyn AssignmentStore>`).
///
/// Every implementation keeps Glue's rules, each change in one atomic step
/// (a transaction on SQL):
///
/// - an assignment names a user who exists and is a warehouse user
///   (`spy_user.is_warehouse_user`), else [`AssignmentRefusal::UserNotFound`];
/// - and a warehouse that exists (active or not), else
///   [`AssignmentRefusal::WarehouseNotFound`];
/// - a user has at most one assignment per warehouse
///   ([`AssignmentRefusal::AlreadyExists`]);
/// - a user has at most one **active** assignment: making one active
///   deactivates the user's others in the same step, so concurrent
///   activations leave exactly one active. A store that cannot keep the
///   rule (another writer interfering) refuses with
///   [`AssignmentRefusal::TooManyActive`] rather than break it.
pub trait AssignmentStore: Send + Sync + fmt::Debug {
    /// The user with this `spy_user.uuid`, whatever its status.
    fn user_by_uuid<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Option<UserRecord>>;

    /// The warehouse, active or not.
    fn find_warehouse<'a>(&'a self, by: WarehouseRef<'a>) -> StoreFuture<'a, Option<Warehouse>>;

    /// The assignments passing `filter`, oldest first, at most its limit.
    /// Assignments or warehouses without a uuid (written by other tools)
    /// are left out: the API cannot name them.
    fn list_assignments<'a>(
        &'a self,
        filter: &'a AssignmentFilter,
    ) -> StoreFuture<'a, Vec<Assignment>>;

    /// Creates an assignment (a new uuid); when it is active, the user's
    /// other assignments are deactivated in the same step.
    fn create_assignment(&self, new: NewAssignment) -> StoreFuture<'_, AssignmentResult>;

    /// Activates or deactivates an assignment; activating deactivates the
    /// user's others in the same step. The user must still be a warehouse
    /// user and the warehouse still exist (Glue's update rules).
    fn set_assignment_active<'a>(
        &'a self,
        uuid: &'a str,
        is_active: bool,
    ) -> StoreFuture<'a, AssignmentResult>;

    /// Deletes an assignment; answers it as it was.
    fn delete_assignment<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, AssignmentResult>;
}

impl<T: AssignmentStore + ?Sized> AssignmentStore for std::sync::Arc<T> {
    fn user_by_uuid<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Option<UserRecord>> {
        (**self).user_by_uuid(uuid)
    }
    fn find_warehouse<'a>(&'a self, by: WarehouseRef<'a>) -> StoreFuture<'a, Option<Warehouse>> {
        (**self).find_warehouse(by)
    }
    fn list_assignments<'a>(
        &'a self,
        filter: &'a AssignmentFilter,
    ) -> StoreFuture<'a, Vec<Assignment>> {
        (**self).list_assignments(filter)
    }
    fn create_assignment(&self, new: NewAssignment) -> StoreFuture<'_, AssignmentResult> {
        (**self).create_assignment(new)
    }
    fn set_assignment_active<'a>(
        &'a self,
        uuid: &'a str,
        is_active: bool,
    ) -> StoreFuture<'a, AssignmentResult> {
        (**self).set_assignment_active(uuid, is_active)
    }
    fn delete_assignment<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, AssignmentResult> {
        (**self).delete_assignment(uuid)
    }
}

/// A random version 4 UUID, lowercase: new assignments' `uuid`.
pub fn random_uuid() -> String {
    let mut b: [u8; 16] = crate::crypto::bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    format_uuid(&b)
}

/// Spryker's uuid of a row without one (its `Uuid` Propel behavior): the
/// version 5 UUID of `"{table}.{key}"` in the OID namespace. Warehouse 1 of
/// the demo data is `uuid_for("spy_stock", 1)`,
/// `834b3731-02d4-5d6f-9a61-d63ae5e70517`.
pub fn uuid_for(table: &str, key: impl fmt::Display) -> String {
    // RFC 9562's OID namespace, 6ba7b812-9dad-11d1-80b4-00c04fd430c8.
    const OID: [u8; 16] = [
        0x6b, 0xa7, 0xb8, 0x12, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30,
        0xc8,
    ];
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(&OID);
    ctx.update(format!("{table}.{key}").as_bytes());
    let d = ctx.finish();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    format_uuid(&b)
}

fn format_uuid(b: &[u8; 16]) -> String {
    let h = crate::crypto::hex(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_messages_are_glues() {
        let all = [
            (AssignmentRefusal::NotFound, "5201"),
            (AssignmentRefusal::UserNotFound, "5202"),
            (AssignmentRefusal::WarehouseNotFound, "5203"),
            (AssignmentRefusal::Forbidden, "5204"),
            (AssignmentRefusal::TooManyActive, "5205"),
            (AssignmentRefusal::AlreadyExists, "5206"),
        ];
        for (r, code) in all {
            assert_eq!(r.code(), code);
            assert!(r.message().ends_with('.'), "{r}");
        }
        assert_eq!(
            AssignmentRefusal::TooManyActive.message(),
            "User has too many active warehouse assignments."
        );
    }

    #[test]
    fn filters_and_uuids() {
        let a = Assignment {
            id: 1,
            uuid: "a".into(),
            user_uuid: "u".into(),
            warehouse: Warehouse {
                id_warehouse: 1,
                uuid: "w".into(),
                name: "W".into(),
                is_active: true,
            },
            is_active: false,
        };
        assert!(AssignmentFilter::all().matches(&a));
        assert!(
            AssignmentFilter::all()
                .user_uuid("u")
                .warehouse_uuid("w")
                .matches(&a)
        );
        assert!(!AssignmentFilter::all().is_active(true).matches(&a));
        assert!(!AssignmentFilter::all().uuid("b").matches(&a));
        assert_eq!(
            AssignmentFilter::all().limit(5000).limit,
            MAX_LISTED_ASSIGNMENTS
        );
        let u = random_uuid();
        assert_eq!((u.len(), &u[14..15]), (36, "4"));
        assert_ne!(u, random_uuid());
        // Python: uuid.uuid5(uuid.NAMESPACE_OID, "spy_stock.1")
        assert_eq!(
            uuid_for("spy_stock", 1),
            "834b3731-02d4-5d6f-9a61-d63ae5e70517"
        );
        assert_eq!(
            uuid_for("spy_stock", 2),
            "3899fb51-7419-5df6-9257-4599c9b857a5"
        );
    }
}
