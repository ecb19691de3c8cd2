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

impl std::error::Error for CoreError {}

impl From<BackendError> for CoreError {
    fn from(e: BackendError) -> CoreError {
        match e {
            BackendError::NotBound(_) => CoreError::NotBound(e.to_string()),
            other => CoreError::Backend(other.to_string()),
        }
    }
}
