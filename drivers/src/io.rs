//! What transport errors mean to kassa, and what a transport may tell about
//! its timing.

use core::time::Duration;

use embedded_io::ErrorKind as IoKind;
use kassa_hal::ErrorKind;

/// A transport whose reads give up after a known time, failing with an
/// error of kind `TimedOut` when no byte came: a Linux tty with a read
/// timeout, a UART read with a timer.
pub trait ReadTimeout {
    /// How long one read waits for a byte now. Zero if it does not wait
    /// (or the time is not known).
    fn read_timeout(&self) -> Duration;
}

impl<T: ReadTimeout + ?Sized> ReadTimeout for &mut T {
    fn read_timeout(&self) -> Duration {
        T::read_timeout(self)
    }
}

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
