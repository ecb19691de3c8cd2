//! The scanner trait.

use crate::error::ErrorType;
use crate::scan::Scan;

/// A device that reads codes: a serial or USB scanner, a camera.
#[allow(async_fn_in_trait)]
pub trait Scanner: ErrorType {
    /// Waits for the next complete scan.
    ///
    /// # Errors
    ///
    /// `Disconnected` when the device went away (reopen it to go on),
    /// `InvalidData` for a malformed or overlong frame (the driver has
    /// resynchronised; call again), `Other` for anything else.
    async fn next_scan(&mut self) -> Result<Scan, Self::Error>;

    /// Starts (`true`) or stops (`false`) reading on a host-triggered
    /// scanner. Scanners that read on their own accept it and do nothing.
    ///
    /// # Errors
    ///
    /// `Disconnected` when the device is gone.
    async fn trigger(&mut self, on: bool) -> Result<(), Self::Error>;
}

impl<T: Scanner + ?Sized> Scanner for &mut T {
    async fn next_scan(&mut self) -> Result<Scan, Self::Error> {
        T::next_scan(self).await
    }

    async fn trigger(&mut self, on: bool) -> Result<(), Self::Error> {
        T::trigger(self, on).await
    }
}
