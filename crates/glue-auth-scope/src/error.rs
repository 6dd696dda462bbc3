//! Configuration errors, reported once when a table is built.

use std::error::Error;
use std::fmt;

/// A route table or policy that cannot work, found by
/// [`RouteTableBuilder::build`](crate::RouteTableBuilder::build).
///
/// Every check happens once, at build time; a table that builds never fails
/// per request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A path pattern is malformed.
    InvalidPattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A gRPC service or method name is empty or contains `/`, `{`, `}`, `*`,
    /// whitespace or control characters.
    InvalidGrpcName {
        /// The name as given.
        name: String,
    },
    /// A route was given an empty list of methods.
    NoMethods {
        /// The route's pattern.
        pattern: String,
    },
    /// A scope policy was given no scope, or a scope name that is empty or
    /// contains whitespace, `"` or `\`.
    InvalidScopes {
        /// What is wrong.
        reason: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::InvalidPattern { pattern, reason } => {
                write!(f, "invalid route pattern {pattern:?}: {reason}")
            }
            ConfigError::InvalidGrpcName { name } => {
                write!(f, "invalid gRPC service or method name {name:?}")
            }
            ConfigError::NoMethods { pattern } => {
                write!(f, "route {pattern:?} has an empty method list")
            }
            ConfigError::InvalidScopes { reason } => write!(f, "invalid scope policy: {reason}"),
        }
    }
}

impl Error for ConfigError {}
