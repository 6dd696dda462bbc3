//! Who a token speaks for: a Back Office user or a warehouse.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The principal of a validated token, as Spryker encodes it in the JSON-string
/// `sub` claim.
///
/// Cheap to clone: the only heap data is shared.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// A Back Office user (`{"user_reference":null,"id_user":4,"uuid":"..."}`).
    User(UserPrincipal),
    /// A warehouse (`{"id_warehouse":1}`), from `POST /warehouse-tokens`.
    Warehouse(WarehousePrincipal),
}

/// Marker the bearer layer puts into the extensions of a request that carried
/// no `Authorization` header: the layer ran, and nobody is authenticated.
///
/// Lets extractors tell "anonymous" (401) from "no bearer layer installed"
/// (a wiring bug, 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Anonymous;

/// A Back Office user principal.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UserPrincipal {
    id_user: i64,
    uuid: Arc<str>,
    user_reference: Option<Arc<str>>,
}

/// A warehouse principal.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct WarehousePrincipal {
    id_warehouse: i64,
}

impl UserPrincipal {
    /// A user principal from `spy_user` data.
    pub fn new(
        id_user: i64,
        uuid: impl Into<Arc<str>>,
        user_reference: Option<impl Into<Arc<str>>>,
    ) -> Self {
        UserPrincipal {
            id_user,
            uuid: uuid.into(),
            user_reference: user_reference.map(Into::into),
        }
    }

    /// `spy_user.id_user`.
    pub fn id_user(&self) -> i64 {
        self.id_user
    }

    /// `spy_user.uuid`.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// The user reference (null for Back Office users in Spryker's suite).
    pub fn user_reference(&self) -> Option<&str> {
        self.user_reference.as_deref()
    }
}

impl WarehousePrincipal {
    /// A warehouse principal (`spy_stock.id_stock`).
    pub const fn new(id_warehouse: i64) -> Self {
        WarehousePrincipal { id_warehouse }
    }

    /// `spy_stock.id_stock`.
    pub const fn id_warehouse(&self) -> i64 {
        self.id_warehouse
    }
}

impl fmt::Debug for UserPrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserPrincipal")
            .field("id_user", &self.id_user)
            .field("uuid", &self.uuid)
            .field("user_reference", &self.user_reference)
            .finish()
    }
}

impl fmt::Debug for WarehousePrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WarehousePrincipal")
            .field("id_warehouse", &self.id_warehouse)
            .finish()
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::User(u) => fmt::Debug::fmt(u, f),
            Principal::Warehouse(w) => fmt::Debug::fmt(w, f),
        }
    }
}

/// Why a `sub` claim could not be turned into a [`Principal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectError {
    /// `sub` is not a JSON-encoded object, or its members have the wrong types
    /// (from [`Claims::parse_unverified_payload`](crate::Claims::parse_unverified_payload):
    /// the payload itself is not Spryker's format). Glue answers 401 `001`.
    Malformed,
    /// `sub` is a JSON object with neither `id_user` nor `id_warehouse` (for
    /// example a storefront customer token). Glue answers 400 `001`.
    Unsupported,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubject {
    #[serde(default)]
    id_user: Option<i64>,
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    user_reference: Option<String>,
    #[serde(default)]
    id_warehouse: Option<i64>,
}

#[derive(Serialize)]
struct UserSubjectOut<'a> {
    user_reference: Option<&'a str>,
    id_user: i64,
    uuid: &'a str,
}

#[derive(Serialize)]
struct WarehouseSubjectOut {
    id_warehouse: i64,
}

impl Principal {
    /// Parses Spryker's JSON-encoded `sub` string.
    ///
    /// ```
    /// use glue_auth_core::{Principal, SubjectError};
    ///
    /// let p = Principal::from_subject(r#"{"id_warehouse":1}"#).unwrap();
    /// assert_eq!(p.as_warehouse().unwrap().id_warehouse(), 1);
    /// assert_eq!(Principal::from_subject("4"), Err(SubjectError::Malformed));
    /// assert_eq!(Principal::from_subject(r#"{"customer_reference":"DE--1"}"#), Err(SubjectError::Unsupported));
    /// ```
    pub fn from_subject(sub: &str) -> Result<Principal, SubjectError> {
        let value: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(sub).map_err(|_| SubjectError::Malformed)?;
        if !value.contains_key("id_user") && !value.contains_key("id_warehouse") {
            return Err(SubjectError::Unsupported);
        }
        // Only the keys Spryker writes are allowed next to id_user/id_warehouse;
        // anything else is a token we did not expect to see.
        let raw: RawSubject = serde_json::from_value(serde_json::Value::Object(value))
            .map_err(|_| SubjectError::Malformed)?;
        match (raw.id_user, raw.id_warehouse) {
            (Some(id_user), None) => {
                let uuid = raw.uuid.ok_or(SubjectError::Malformed)?;
                Ok(Principal::User(UserPrincipal::new(
                    id_user,
                    uuid,
                    raw.user_reference,
                )))
            }
            (None, Some(id_warehouse)) if raw.uuid.is_none() && raw.user_reference.is_none() => {
                Ok(Principal::Warehouse(WarehousePrincipal::new(id_warehouse)))
            }
            // Both ids, or null ids: ambiguous, refuse rather than guess.
            _ => Err(SubjectError::Malformed),
        }
    }

    /// The JSON-encoded `sub` string, byte for byte as Spryker writes it.
    ///
    /// ```
    /// use glue_auth_core::{Principal, UserPrincipal};
    ///
    /// let p = Principal::User(UserPrincipal::new(4, "0d743cc3-a772-5145-971e-d4018ee7a489", None::<String>));
    /// assert_eq!(
    ///     p.to_subject(),
    ///     r#"{"user_reference":null,"id_user":4,"uuid":"0d743cc3-a772-5145-971e-d4018ee7a489"}"#
    /// );
    /// ```
    pub fn to_subject(&self) -> String {
        let result = match self {
            Principal::User(u) => serde_json::to_string(&UserSubjectOut {
                user_reference: u.user_reference(),
                id_user: u.id_user,
                uuid: &u.uuid,
            }),
            Principal::Warehouse(w) => serde_json::to_string(&WarehouseSubjectOut {
                id_warehouse: w.id_warehouse,
            }),
        };
        // Serializing these plain structs into a String cannot fail.
        result.unwrap_or_default()
    }

    /// The user, if this is a user principal.
    pub fn as_user(&self) -> Option<&UserPrincipal> {
        match self {
            Principal::User(u) => Some(u),
            Principal::Warehouse(_) => None,
        }
    }

    /// The warehouse, if this is a warehouse principal.
    pub fn as_warehouse(&self) -> Option<&WarehousePrincipal> {
        match self {
            Principal::Warehouse(w) => Some(w),
            Principal::User(_) => None,
        }
    }

    /// `true` for a Back Office user.
    pub fn is_user(&self) -> bool {
        matches!(self, Principal::User(_))
    }

    /// `true` for a warehouse.
    pub fn is_warehouse(&self) -> bool {
        matches!(self, Principal::Warehouse(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spryker_user_subject() {
        let p = Principal::from_subject(
            r#"{"user_reference":null,"id_user":4,"uuid":"0d743cc3-a772-5145-971e-d4018ee7a489"}"#,
        )
        .unwrap();
        let u = p.as_user().unwrap();
        assert_eq!(u.id_user(), 4);
        assert_eq!(u.uuid(), "0d743cc3-a772-5145-971e-d4018ee7a489");
        assert_eq!(u.user_reference(), None);
    }

    #[test]
    fn user_subject_round_trips_byte_for_byte() {
        let s = r#"{"user_reference":"DE--7","id_user":7,"uuid":"u-7"}"#;
        assert_eq!(Principal::from_subject(s).unwrap().to_subject(), s);
        let w = r#"{"id_warehouse":12}"#;
        assert_eq!(Principal::from_subject(w).unwrap().to_subject(), w);
    }

    #[test]
    fn malformed_subjects() {
        for s in [
            "",
            "4",
            "\"4\"",
            "null",
            "[]",
            "{",
            r#"{"id_user":"4","uuid":"x"}"#,
            r#"{"id_user":4}"#,
            r#"{"id_user":null,"uuid":"x"}"#,
            r#"{"id_user":4,"uuid":"x","id_warehouse":1}"#,
            r#"{"id_warehouse":1.5}"#,
            r#"{"id_warehouse":1,"uuid":"x"}"#,
            r#"{"id_user":4,"uuid":"x","is_admin":true}"#,
        ] {
            assert_eq!(
                Principal::from_subject(s),
                Err(SubjectError::Malformed),
                "{s}"
            );
        }
    }

    #[test]
    fn unsupported_subjects() {
        for s in [r#"{}"#, r#"{"customer_reference":"DE--1","id_customer":1}"#] {
            assert_eq!(
                Principal::from_subject(s),
                Err(SubjectError::Unsupported),
                "{s}"
            );
        }
    }
}
