//! [`ConfigError`]: why a [`TokenServerBuilder`](crate::TokenServerBuilder)
//! refused its settings.

use std::fmt;

/// Why a [`TokenServerBuilder`](crate::TokenServerBuilder) refused its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A route path must start with `/`, be longer than `/`, and contain no
    /// trailing slash, query or fragment.
    InvalidPath(String),
    /// `/token`, `/authorize` and `/warehouse-tokens` must differ.
    SamePath,
    /// A redirect URI is registered for a client that is not configured.
    UnknownClient(String),
    /// A redirect URI must be absolute (a scheme), without fragment,
    /// whitespace or control characters.
    InvalidRedirectUri(String),
    /// At least one OAuth client id is required, and none may be empty.
    NoClient,
    /// A TTL or the throttling window is shorter than one second.
    ZeroDuration(&'static str),
    /// A limit that must be positive is zero.
    ZeroLimit(&'static str),
    /// bcrypt costs run from 4 to 31.
    InvalidCost(u32),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::InvalidPath(p) => write!(
                f,
                "invalid route path {p:?}: it must start with '/', not end with '/', and have no query"
            ),
            ConfigError::SamePath => {
                f.write_str("two of the token, authorize and warehouse-token paths are equal")
            }
            ConfigError::UnknownClient(c) => {
                write!(
                    f,
                    "redirect URIs given for {c:?}, which is not a configured client"
                )
            }
            ConfigError::InvalidRedirectUri(u) => write!(
                f,
                "invalid redirect URI {u:?}: it must be absolute, without fragment or whitespace"
            ),
            ConfigError::NoClient => {
                f.write_str("at least one non-empty OAuth client id is required")
            }
            ConfigError::ZeroDuration(what) => write!(f, "{what} must be at least one second"),
            ConfigError::ZeroLimit(what) => write!(f, "{what} must be positive"),
            ConfigError::InvalidCost(c) => write!(f, "bcrypt cost {c} is outside 4..=31"),
        }
    }
}

impl std::error::Error for ConfigError {}
