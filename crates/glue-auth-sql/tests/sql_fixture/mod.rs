//! The conformance fixture on [`SqlStore`], through its admin operations.

#![allow(dead_code)]

use glue_auth_sql::{NewWarehouse, SqlStore};
use glue_auth_token::store::{AccessTokenRecord, UserRecord};

use crate::conformance::Fixture;

impl Fixture for SqlStore {
    async fn add_user(&self, user: UserRecord) {
        self.import_user(&user).await.unwrap();
    }
    async fn add_warehouse(&self, id: i64, name: &str, active: bool) {
        self.add_warehouse(NewWarehouse::new(name).id(id).active(active))
            .await
            .unwrap();
    }
    async fn assign(&self, user: &UserRecord, id: i64) {
        self.assign_warehouse(&user.username, id).await.unwrap();
    }
    async fn unassign(&self, user: &UserRecord) {
        self.unassign_warehouses(&user.username).await.unwrap();
    }
    async fn access_rows(&self) -> Vec<AccessTokenRecord> {
        self.recent_access_tokens(10_000).await.unwrap()
    }
}
