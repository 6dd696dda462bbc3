//! OAuth scopes as Spryker writes them in the `scopes` claim.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The `scopes` claim: an ordered list of scope names.
///
/// Cheap to clone. The scopes the Glue layers decide on (`user`,
/// `back-office-user`, `warehouse-user`, `warehouse`) are pre-computed, so
/// checks do not compare strings on the hot path.
///
/// ```
/// use glue_auth_core::Scopes;
///
/// let s = Scopes::from_iter(["user", "back-office-user"]);
/// assert!(s.contains("back-office-user"));
/// assert!(s.has_back_office_user());
/// assert!(!s.is_legacy_user());
/// assert_eq!(s.to_string(), "user back-office-user");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Scopes {
    names: Arc<[Box<str>]>,
    known: u8,
}

const USER: u8 = 1;
const BACK_OFFICE_USER: u8 = 2;
const WAREHOUSE_USER: u8 = 4;
const WAREHOUSE: u8 = 8;
const OTHER: u8 = 16;

impl Scopes {
    /// The scope name of a user token (`user`).
    pub const USER: &'static str = "user";
    /// The scope name of a Back Office user (`back-office-user`).
    pub const BACK_OFFICE_USER: &'static str = "back-office-user";
    /// The scope name of a warehouse user (`warehouse-user`).
    pub const WAREHOUSE_USER: &'static str = "warehouse-user";
    /// The scope name of a warehouse token (`warehouse`).
    pub const WAREHOUSE: &'static str = "warehouse";

    fn flag(name: &str) -> u8 {
        match name {
            Self::USER => USER,
            Self::BACK_OFFICE_USER => BACK_OFFICE_USER,
            Self::WAREHOUSE_USER => WAREHOUSE_USER,
            Self::WAREHOUSE => WAREHOUSE,
            _ => OTHER,
        }
    }

    /// The scope names in token order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.names.iter().map(|s| &**s)
    }

    /// Number of scopes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// `true` when the token carries no scope.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// `true` when `name` is one of the scopes.
    pub fn contains(&self, name: &str) -> bool {
        match Self::flag(name) {
            OTHER => self.names.iter().any(|s| &**s == name),
            f => self.known & f != 0,
        }
    }

    /// Contains `back-office-user`.
    pub fn has_back_office_user(&self) -> bool {
        self.known & BACK_OFFICE_USER != 0
    }

    /// Contains `warehouse-user`.
    pub fn has_warehouse_user(&self) -> bool {
        self.known & WAREHOUSE_USER != 0
    }

    /// Contains `warehouse`.
    pub fn has_warehouse(&self) -> bool {
        self.known & WAREHOUSE != 0
    }

    /// Exactly `["user"]`: a user token issued before February 2024.
    pub fn is_legacy_user(&self) -> bool {
        self.names.len() == 1 && self.known == USER
    }
}

impl<S: AsRef<str>> FromIterator<S> for Scopes {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let names: Arc<[Box<str>]> = iter.into_iter().map(|s| Box::from(s.as_ref())).collect();
        let known = names.iter().fold(0, |acc, s| acc | Self::flag(s));
        Scopes { names, known }
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Space-separated, as in OAuth's `scope` parameter.
impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
        }
        Ok(())
    }
}

impl Serialize for Scopes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names: Vec<String> = Vec::deserialize(deserializer)?;
        Ok(Scopes::from_iter(names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_flags() {
        let s: Scopes = serde_json::from_str(r#"["user","warehouse-user"]"#).unwrap();
        assert!(s.has_warehouse_user() && !s.has_back_office_user() && !s.is_legacy_user());
        assert!(Scopes::from_iter(["user"]).is_legacy_user());
        assert!(!Scopes::from_iter(["user", "user"]).is_legacy_user());
        assert!(!Scopes::from_iter(["user", "x"]).is_legacy_user());
        assert!(Scopes::from_iter(["x", "warehouse"]).has_warehouse());
        assert!(Scopes::from_iter(["x"]).contains("x"));
        assert!(!Scopes::from_iter(["x"]).contains("y"));
    }

    #[test]
    fn serializes_in_order() {
        let s = Scopes::from_iter(["user", "back-office-user"]);
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"["user","back-office-user"]"#
        );
    }
}
