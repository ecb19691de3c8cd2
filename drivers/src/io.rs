//! What transport errors mean to kassa.

use embedded_io::ErrorKind as IoKind;
use kassa_hal::ErrorKind;

/// The kassa [`ErrorKind`] of an `embedded_io` error kind: a broken or
/// closed transport is a disconnected device.
pub fn io_kind(kind: IoKind) -> ErrorKind {
    match kind {
        IoKind::BrokenPipe
        | IoKind::NotConnected
        | IoKind::ConnectionReset
        | IoKind::ConnectionAborted
        | IoKind::NotFound => ErrorKind::Disconnected,
        IoKind::TimedOut => ErrorKind::Timeout,
        IoKind::PermissionDenied | IoKind::AddrInUse => ErrorKind::Busy,
        IoKind::InvalidData => ErrorKind::InvalidData,
        IoKind::Unsupported => ErrorKind::Unsupported,
        _ => ErrorKind::Other,
    }
}
