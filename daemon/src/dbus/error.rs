//! `org.kassa.Error.*`: the errors kassad answers on the bus, one for each
//! [`CoreError`].

use crate::core::CoreError;

/// Errors on the bus: `org.kassa.Error.*`.
#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.kassa.Error")]
pub enum KassaError {
    /// A transport error inside zbus.
    #[zbus(error)]
    ZBus(zbus::Error),
    /// A deadline passed.
    Timeout(String),
    /// Cancelled.
    Cancelled(String),
    /// A checkout is already running or the scanner is claimed.
    Busy(String),
    /// The order was rejected; the message names the field.
    InvalidOrder(String),
    /// A bad option or argument.
    InvalidArgument(String),
    /// No device can do it.
    NoDevice(String),
    /// The backend failed.
    Backend(String),
    /// The backend bound no order before the deadline.
    NotBound(String),
    /// Not the caller's session or claim.
    AccessDenied(String),
}

impl From<CoreError> for KassaError {
    fn from(e: CoreError) -> KassaError {
        match e {
            CoreError::Timeout(m) => KassaError::Timeout(m),
            CoreError::Cancelled(m) => KassaError::Cancelled(m),
            CoreError::Busy(m) => KassaError::Busy(m),
            CoreError::InvalidOrder(m) => KassaError::InvalidOrder(m),
            CoreError::InvalidArgument(m) => KassaError::InvalidArgument(m),
            CoreError::NoDevice(m) => KassaError::NoDevice(m),
            CoreError::Backend(m) => KassaError::Backend(m),
            CoreError::NotBound(m) => KassaError::NotBound(m),
            CoreError::AccessDenied(m) => KassaError::AccessDenied(m),
        }
    }
}
