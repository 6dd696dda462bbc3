//! The assignment rules ([`AssignmentStore`]) on every store: Glue's
//! refusals, one active assignment per user, and that under 16 concurrent
//! activations.

use std::sync::Arc;

use glue_auth_token::store::{
    AssignmentFilter, AssignmentRefusal, AssignmentStore, NewAssignment, UserRecord, UserStatus,
    WarehouseAssignments, WarehouseRef, uuid_for,
};

use super::{Fixture, user};

fn warehouse_user(id: i64, name: &str) -> UserRecord {
    UserRecord {
        is_warehouse_user: true,
        ..user(id, name, UserStatus::Active)
    }
}

fn wh(id: i64) -> String {
    uuid_for("spy_stock", id)
}

/// Glue's rules, refusal by refusal.
pub async fn assignment_rules<S: Fixture>(s: S) {
    let ann = warehouse_user(301, "ann@assign.test");
    let bob = user(302, "bob@assign.test", UserStatus::Active);
    s.add_user(ann.clone()).await;
    s.add_user(bob.clone()).await;
    s.add_warehouse(311, "Assign 311", true).await;
    s.add_warehouse(312, "Assign 312", true).await;
    s.add_warehouse(313, "Assign 313", false).await;

    // A Back Office user is no warehouse user: "User not found." (Glue).
    let r = s
        .create_assignment(NewAssignment::new(&bob.uuid, wh(311)))
        .await
        .unwrap();
    assert_eq!(r.unwrap_err(), [AssignmentRefusal::UserNotFound]);
    let r = s
        .create_assignment(NewAssignment::new("no-such-user", "no-such-warehouse"))
        .await
        .unwrap();
    assert_eq!(
        r.unwrap_err(),
        [
            AssignmentRefusal::UserNotFound,
            AssignmentRefusal::WarehouseNotFound
        ]
    );

    let a1 = s
        .create_assignment(NewAssignment::new(&ann.uuid, wh(311)).active(true))
        .await
        .unwrap()
        .unwrap();
    assert!(a1.is_active);
    assert_eq!(a1.user_uuid, ann.uuid);
    assert_eq!(
        (
            a1.warehouse.id_warehouse,
            a1.warehouse.uuid.as_str(),
            a1.warehouse.name.as_str(),
            a1.warehouse.is_active
        ),
        (311, wh(311).as_str(), "Assign 311", true)
    );
    assert_eq!(a1.uuid.len(), 36);
    assert_eq!(s.active_warehouse(&ann.uuid).await.unwrap(), Some(311));

    let dup = s
        .create_assignment(NewAssignment::new(&ann.uuid, wh(311)))
        .await
        .unwrap();
    assert_eq!(dup.unwrap_err(), [AssignmentRefusal::AlreadyExists]);

    // A new active one deactivates the old one.
    let a2 = s
        .create_assignment(NewAssignment::new(&ann.uuid, wh(312)).active(true))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.active_warehouse(&ann.uuid).await.unwrap(), Some(312));
    // An inactive warehouse may be assigned (Glue checks existence only).
    let a3 = s
        .create_assignment(NewAssignment::new(&ann.uuid, wh(313)))
        .await
        .unwrap()
        .unwrap();
    assert!(!a3.is_active && !a3.warehouse.is_active);

    let mine = AssignmentFilter::all().user_uuid(&ann.uuid);
    let all = s.list_assignments(&mine).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|a| (&a.uuid, a.is_active))
            .collect::<Vec<_>>(),
        [(&a1.uuid, false), (&a2.uuid, true), (&a3.uuid, false)]
    );

    // Activating one deactivates the others, in one step.
    let back = s
        .set_assignment_active(&a1.uuid, true)
        .await
        .unwrap()
        .unwrap();
    assert!(back.is_active);
    assert_eq!(s.active_warehouse(&ann.uuid).await.unwrap(), Some(311));
    let active = s
        .list_assignments(&mine.clone().is_active(true))
        .await
        .unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].uuid, a1.uuid);
    let by_warehouse = AssignmentFilter::all().warehouse_uuid(wh(312));
    assert_eq!(s.list_assignments(&by_warehouse).await.unwrap().len(), 1);
    let by_uuid = AssignmentFilter::all().uuid(&a3.uuid);
    assert_eq!(
        s.list_assignments(&by_uuid).await.unwrap(),
        std::slice::from_ref(&a3)
    );
    assert_eq!(
        s.list_assignments(&mine.clone().limit(2))
            .await
            .unwrap()
            .len(),
        2
    );

    // Deactivating: no warehouse token any more.
    s.set_assignment_active(&a1.uuid, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.active_warehouse(&ann.uuid).await.unwrap(), None);

    assert_eq!(
        s.set_assignment_active("no-such-assignment", true)
            .await
            .unwrap()
            .unwrap_err(),
        [AssignmentRefusal::NotFound]
    );
    let gone = s.delete_assignment(&a2.uuid).await.unwrap().unwrap();
    assert_eq!(gone.uuid, a2.uuid);
    assert_eq!(
        s.delete_assignment(&a2.uuid).await.unwrap().unwrap_err(),
        [AssignmentRefusal::NotFound]
    );
    assert_eq!(s.list_assignments(&mine).await.unwrap().len(), 2);

    assert_eq!(
        s.find_warehouse(WarehouseRef::Id(313))
            .await
            .unwrap()
            .map(|w| w.uuid),
        Some(wh(313))
    );
    assert_eq!(
        s.find_warehouse(WarehouseRef::Uuid(&wh(312)))
            .await
            .unwrap()
            .map(|w| w.id_warehouse),
        Some(312)
    );
    assert!(
        s.find_warehouse(WarehouseRef::Uuid("nope"))
            .await
            .unwrap()
            .is_none()
    );
    let found = s.user_by_uuid(&ann.uuid).await.unwrap().unwrap();
    assert_eq!((found.id_user, found.is_warehouse_user), (301, true));
    assert!(s.user_by_uuid("nope").await.unwrap().is_none());
}

/// 16 concurrent activations of 16 different assignments of one user: all
/// succeed, one after the other, and exactly one assignment is active
/// afterwards (the last one to commit).
pub async fn concurrent_activations_leave_one_active<S: Fixture>(s: S) {
    const N: i64 = 16;
    let ann = warehouse_user(401, "ann@concurrent.test");
    s.add_user(ann.clone()).await;
    let mut uuids = Vec::new();
    for i in 0..N {
        let id = 411 + i;
        s.add_warehouse(id, &format!("Concurrent {id}"), true).await;
        let a = s
            .create_assignment(NewAssignment::new(&ann.uuid, wh(id)))
            .await
            .unwrap()
            .unwrap();
        uuids.push(a.uuid);
    }
    let s = Arc::new(s);
    let barrier = Arc::new(tokio::sync::Barrier::new(N as usize));
    let tasks: Vec<_> = uuids
        .iter()
        .cloned()
        .map(|uuid| {
            let (s, barrier) = (Arc::clone(&s), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                s.set_assignment_active(&uuid, true).await
            })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap();
        assert!(matches!(r, Ok(Ok(ref a)) if a.is_active), "{r:?}");
    }
    let active = s
        .list_assignments(&AssignmentFilter::all().user_uuid(&ann.uuid).is_active(true))
        .await
        .unwrap();
    assert_eq!(active.len(), 1, "{active:?}");
    assert_eq!(
        s.active_warehouse(&ann.uuid).await.unwrap(),
        Some(active[0].warehouse.id_warehouse)
    );

    // And 16 concurrent creations of active assignments to new warehouses.
    let mut tasks = Vec::new();
    for i in 0..N {
        let id = 451 + i;
        s.add_warehouse(id, &format!("Concurrent {id}"), true).await;
        let (s, barrier, user) = (Arc::clone(&s), Arc::clone(&barrier), ann.uuid.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            s.create_assignment(NewAssignment::new(user, wh(id)).active(true))
                .await
        }));
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert!(matches!(r, Ok(Ok(_))), "{r:?}");
    }
    let active = s
        .list_assignments(&AssignmentFilter::all().user_uuid(&ann.uuid).is_active(true))
        .await
        .unwrap();
    assert_eq!(active.len(), 1, "{active:?}");
    let all = s
        .list_assignments(&AssignmentFilter::all().user_uuid(&ann.uuid))
        .await
        .unwrap();
    assert_eq!(all.len(), 2 * N as usize);
}
