//! The error pattern every kassa device trait shares.
//!
//! Drivers have their own error types with as much detail as they like; what
//! the rest of kassa needs to decide (retry, report, give up) is the
//! [`ErrorKind`] their [`Error::kind`] returns.

use core::convert::Infallible;
use core::fmt;

/// What went wrong, in the few words callers act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The device is gone: unplugged, port closed, hung up. The caller should
    /// drop the handle and reopen the device when it comes back.
    Disconnected,
    /// The device did not answer within the time it was given.
    Timeout,
    /// The device is held by someone else, or already doing this.
    Busy,
    /// The device sent data that cannot be what it claims to be (an overlong
    /// or malformed frame). The driver has resynchronised: the next read may
    /// succeed.
    InvalidData,
    /// The device cannot do what was asked (a trigger on a scanner without
    /// one, a view the display cannot render at all).
    Unsupported,
    /// Anything else; the driver's own error says more.
    Other,
}

impl ErrorKind {
    /// A short lower-case name, stable for logs and `LastError`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Disconnected => "disconnected",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Busy => "busy",
            ErrorKind::InvalidData => "invalid data",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Other => "other",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A device error: anything with a [`kind`](Error::kind).
pub trait Error: fmt::Debug {
    /// The kind of this error.
    fn kind(&self) -> ErrorKind;
}

impl Error for ErrorKind {
    fn kind(&self) -> ErrorKind {
        *self
    }
}

impl Error for Infallible {
    fn kind(&self) -> ErrorKind {
        match *self {}
    }
}

/// Gives a device its error type.
pub trait ErrorType {
    /// The error every fallible method of the device returns.
    type Error: Error;
}

impl<T: ErrorType + ?Sized> ErrorType for &mut T {
    type Error = T::Error;
}

#[cfg(feature = "std")]
impl std::error::Error for ErrorKind {}
