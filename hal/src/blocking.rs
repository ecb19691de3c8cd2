//! The blocking device traits: what a driver offers to a thread that owns
//! its device, as kassad's device workers do.
//!
//! They sit beside the async [`Scanner`](crate::Scanner) and
//! [`CustomerDisplay`](crate::CustomerDisplay), as embedded-hal's traits sit
//! beside embedded-hal-async's: the same names, the same [`ErrorType`] and
//! the same [`ErrorKind`](crate::ErrorKind) family, so that whoever drives a
//! device decides what to do from `kind()` whichever flavour it uses.
//!
//! A driver implements the flavour its transport really supports. A blocking
//! method may block; an async method never does.

use core::time::Duration;

use crate::display::{Capabilities, View};
use crate::error::ErrorType;
use crate::scan::Scan;

/// A device that reads codes, driven from a thread of its own.
pub trait Scanner: ErrorType {
    /// Waits up to about `wait` for the next complete scan: `Ok(None)` when
    /// none arrived. A transport that cannot time out (a bare UART without
    /// a timer) may wait longer; the drivers kassad uses all honour it.
    ///
    /// # Errors
    ///
    /// - `Disconnected`: the device is gone; drop it and open it again.
    /// - `InvalidData`: a garbled or overlong read was dropped; the driver
    ///   has resynchronised and the next call may succeed.
    /// - `Timeout`, `Busy`, `Other`: the device failed otherwise.
    fn poll_scan(&mut self, wait: Duration) -> Result<Option<Scan>, Self::Error>;

    /// Starts (`true`) or stops (`false`) reading on a host-triggered
    /// scanner. A scanner that reads on its own accepts it and does nothing.
    ///
    /// # Errors
    ///
    /// `Disconnected` when the device is gone.
    fn set_trigger(&mut self, on: bool) -> Result<(), Self::Error>;
}

impl<T: Scanner + ?Sized> Scanner for &mut T {
    fn poll_scan(&mut self, wait: Duration) -> Result<Option<Scan>, Self::Error> {
        T::poll_scan(self, wait)
    }

    fn set_trigger(&mut self, on: bool) -> Result<(), Self::Error> {
        T::set_trigger(self, on)
    }
}

/// A customer display, driven from a thread of its own.
pub trait CustomerDisplay: ErrorType {
    /// What this display can show.
    fn capabilities(&self) -> Capabilities;

    /// Replaces what the display shows with `view`, rendered to fit; returns
    /// once the device has taken it.
    ///
    /// # Errors
    ///
    /// `Disconnected` when the display is gone, `Timeout` when it stopped
    /// accepting data, `Other` for anything else. After an error the display
    /// may show part of the view: show it again, or reopen the device.
    fn show(&mut self, view: &View) -> Result<(), Self::Error>;
}

impl<T: CustomerDisplay + ?Sized> CustomerDisplay for &mut T {
    fn capabilities(&self) -> Capabilities {
        T::capabilities(self)
    }

    fn show(&mut self, view: &View) -> Result<(), Self::Error> {
        T::show(self, view)
    }
}
