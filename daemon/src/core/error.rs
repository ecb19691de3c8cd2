//! Failures, by the names of the D-Bus contract.

use std::fmt;

use crate::backend::BackendError;

/// A failure, by the names of the D-Bus contract (`org.kassa.Error.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreError {
    /// A deadline passed.
    Timeout(String),
    /// The operation was cancelled.
    Cancelled(String),
    /// A checkout is already running, or the scanner is claimed.
    Busy(String),
    /// An order document was rejected; the message names the field.
    InvalidOrder(String),
    /// An option or argument was wrong.
    InvalidArgument(String),
    /// No device can do it.
    NoDevice(String),
    /// The backend failed.
    Backend(String),
    /// The backend bound no order before the deadline.
    NotBound(String),
    /// The caller does not own the session or claim.
    AccessDenied(String),
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, message) = match self {
            CoreError::Timeout(m) => ("timeout", m),
            CoreError::Cancelled(m) => ("cancelled", m),
            CoreError::Busy(m) => ("busy", m),
            CoreError::InvalidOrder(m) => ("invalid order", m),
            CoreError::InvalidArgument(m) => ("invalid argument", m),
            CoreError::NoDevice(m) => ("no device", m),
            CoreError::Backend(m) => ("backend", m),
            CoreError::NotBound(m) => ("not bound", m),
            CoreError::AccessDenied(m) => ("access denied", m),
        };
        write!(f, "{name}: {message}")
    }
}

impl CoreError {
    /// The error's name in the contract, the same on D-Bus and the POS
    /// API, such as `org.kassa.Error.Busy`.
    pub fn name(&self) -> &'static str {
        match self {
            CoreError::Timeout(_) => "org.kassa.Error.Timeout",
            CoreError::Cancelled(_) => "org.kassa.Error.Cancelled",
            CoreError::Busy(_) => "org.kassa.Error.Busy",
            CoreError::InvalidOrder(_) => "org.kassa.Error.InvalidOrder",
            CoreError::InvalidArgument(_) => "org.kassa.Error.InvalidArgument",
            CoreError::NoDevice(_) => "org.kassa.Error.NoDevice",
            CoreError::Backend(_) => "org.kassa.Error.Backend",
            CoreError::NotBound(_) => "org.kassa.Error.NotBound",
            CoreError::AccessDenied(_) => "org.kassa.Error.AccessDenied",
        }
    }

    /// What went wrong, for the caller.
    pub fn message(&self) -> &str {
        match self {
            CoreError::Timeout(m)
            | CoreError::Cancelled(m)
            | CoreError::Busy(m)
            | CoreError::InvalidOrder(m)
            | CoreError::InvalidArgument(m)
            | CoreError::NoDevice(m)
            | CoreError::Backend(m)
            | CoreError::NotBound(m)
            | CoreError::AccessDenied(m) => m,
        }
    }
}

impl std::error::Error for CoreError {}

impl From<BackendError> for CoreError {
    fn from(e: BackendError) -> CoreError {
        match e {
            BackendError::NotBound(_) => CoreError::NotBound(e.to_string()),
            other => CoreError::Backend(other.to_string()),
        }
    }
}
