//! The one status setting every layer shares: what Glue answers when no
//! usable credentials were sent.

use std::fmt;

use http::StatusCode;

/// The status of Glue's answers to a request without usable credentials
/// (`002` "Missing access token.", and "Unauthorized request." when no token
/// was sent): **401** in current Spryker releases (the default), **403** in
/// older ones.
///
/// One type for the bearer layer, the scope layer and the token endpoint, so
/// that an impossible status cannot be configured anywhere: the only
/// fallible step is [`TryFrom`] a number (configuration files).
///
/// ```
/// use glue_auth_core::UnauthenticatedStatus;
/// use http::StatusCode;
///
/// assert_eq!(UnauthenticatedStatus::default().status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(UnauthenticatedStatus::try_from(403), Ok(UnauthenticatedStatus::Forbidden));
/// assert!(UnauthenticatedStatus::try_from(418).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UnauthenticatedStatus {
    /// 401 Unauthorized: current Spryker (default).
    #[default]
    Unauthorized,
    /// 403 Forbidden: Spryker releases before 2023.
    Forbidden,
}

impl UnauthenticatedStatus {
    /// The HTTP status.
    pub const fn status(self) -> StatusCode {
        match self {
            UnauthenticatedStatus::Unauthorized => StatusCode::UNAUTHORIZED,
            UnauthenticatedStatus::Forbidden => StatusCode::FORBIDDEN,
        }
    }
}

impl From<UnauthenticatedStatus> for StatusCode {
    fn from(s: UnauthenticatedStatus) -> StatusCode {
        s.status()
    }
}

/// A status other than 401 or 403 was given for [`UnauthenticatedStatus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidUnauthenticatedStatus(pub u16);

impl fmt::Display for InvalidUnauthenticatedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "status {} for requests without credentials: use 401 (current Glue) or 403 (older releases)",
            self.0
        )
    }
}

impl std::error::Error for InvalidUnauthenticatedStatus {}

impl TryFrom<u16> for UnauthenticatedStatus {
    type Error = InvalidUnauthenticatedStatus;

    fn try_from(status: u16) -> Result<Self, Self::Error> {
        match status {
            401 => Ok(UnauthenticatedStatus::Unauthorized),
            403 => Ok(UnauthenticatedStatus::Forbidden),
            other => Err(InvalidUnauthenticatedStatus(other)),
        }
    }
}

impl TryFrom<StatusCode> for UnauthenticatedStatus {
    type Error = InvalidUnauthenticatedStatus;

    fn try_from(status: StatusCode) -> Result<Self, Self::Error> {
        Self::try_from(status.as_u16())
    }
}
