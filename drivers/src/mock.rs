//! A simulated scanner and display behind the same traits as the real ones.
//!
//! The scanner is fed through a [`MockScannerHandle`]; the display records
//! every view it is asked to show in a [`MockDisplayHandle`]. Both handles
//! are cheap to clone and can be used from another thread or task while the
//! device itself sits in the code under test.

use std::sync::{Arc, Mutex, MutexGuard};

use kassa_hal::{
    Capabilities, Charset, CustomerDisplay, ErrorKind, ErrorType, Scan, Scanner, SourceKind,
    Timestamp, View,
};

/// The error of a mock device: the kind it was told to fail with, or
/// `Disconnected` once its handle is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MockError(pub ErrorKind);

impl kassa_hal::Error for MockError {
    fn kind(&self) -> ErrorKind {
        self.0
    }
}

impl std::fmt::Display for MockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "simulated device error: {}", self.0)
    }
}

impl std::error::Error for MockError {}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not take the other devices down with it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A scanner whose scans come from its [`MockScannerHandle`].
#[derive(Debug)]
pub struct MockScanner {
    scans: async_channel::Receiver<Result<Scan, MockError>>,
    triggers: Arc<Mutex<Vec<bool>>>,
}

/// Feeds a [`MockScanner`].
#[derive(Debug, Clone)]
pub struct MockScannerHandle {
    scans: async_channel::Sender<Result<Scan, MockError>>,
    triggers: Arc<Mutex<Vec<bool>>>,
}

/// A connected mock scanner and its handle. Dropping every handle
/// disconnects the scanner.
pub fn scanner() -> (MockScanner, MockScannerHandle) {
    let (tx, rx) = async_channel::unbounded();
    let triggers = Arc::new(Mutex::new(Vec::new()));
    (
        MockScanner {
            scans: rx,
            triggers: triggers.clone(),
        },
        MockScannerHandle {
            scans: tx,
            triggers,
        },
    )
}

impl MockScannerHandle {
    /// The scanner reads `data` (source `mock`, no symbology). Returns
    /// false if the scanner is gone.
    pub fn scan(&self, data: impl Into<Vec<u8>>) -> bool {
        self.push(Scan::new(data, SourceKind::Mock, Timestamp::now()))
    }

    /// The scanner reads `scan` as given.
    pub fn push(&self, scan: Scan) -> bool {
        self.scans.try_send(Ok(scan)).is_ok()
    }

    /// The scanner's next read fails with `kind`.
    pub fn fail(&self, kind: ErrorKind) -> bool {
        self.scans.try_send(Err(MockError(kind))).is_ok()
    }

    /// Every `trigger(on)` the scanner received, in order.
    pub fn triggers(&self) -> Vec<bool> {
        lock(&self.triggers).clone()
    }
}

impl ErrorType for MockScanner {
    type Error = MockError;
}

impl Scanner for MockScanner {
    async fn next_scan(&mut self) -> Result<Scan, MockError> {
        self.scans
            .recv()
            .await
            .unwrap_or(Err(MockError(ErrorKind::Disconnected)))
    }

    async fn trigger(&mut self, on: bool) -> Result<(), MockError> {
        if self.scans.is_closed() {
            return Err(MockError(ErrorKind::Disconnected));
        }
        lock(&self.triggers).push(on);
        Ok(())
    }
}

#[derive(Debug, Default)]
struct DisplayState {
    views: Vec<View>,
    fail_next: Option<ErrorKind>,
}

/// A display that records what it is asked to show.
#[derive(Debug)]
pub struct MockDisplay {
    capabilities: Capabilities,
    state: Arc<Mutex<DisplayState>>,
}

/// Inspects a [`MockDisplay`].
#[derive(Debug, Clone)]
pub struct MockDisplayHandle {
    state: Arc<Mutex<DisplayState>>,
}

/// A mock display with `capabilities` (see [`web_like`] for a typical
/// second screen) and its handle.
pub fn display(capabilities: Capabilities) -> (MockDisplay, MockDisplayHandle) {
    let state = Arc::new(Mutex::new(DisplayState::default()));
    (
        MockDisplay {
            capabilities,
            state: state.clone(),
        },
        MockDisplayHandle { state },
    )
}

/// Capabilities of a full second screen: many lines, graphics, QR, colour.
pub fn web_like() -> Capabilities {
    Capabilities {
        lines: 24,
        columns: 80,
        graphics: true,
        qr: true,
        colour: true,
        charset: Charset::Unicode,
    }
}

impl MockDisplayHandle {
    /// Every view shown so far, oldest first.
    pub fn views(&self) -> Vec<View> {
        lock(&self.state).views.clone()
    }

    /// The view on screen now.
    pub fn current(&self) -> Option<View> {
        lock(&self.state).views.last().cloned()
    }

    /// The next `show` fails with `kind` and changes nothing.
    pub fn fail_next(&self, kind: ErrorKind) {
        lock(&self.state).fail_next = Some(kind);
    }
}

impl ErrorType for MockDisplay {
    type Error = MockError;
}

impl CustomerDisplay for MockDisplay {
    fn capabilities(&self) -> Capabilities {
        self.capabilities.clone()
    }

    async fn show(&mut self, view: &View) -> Result<(), MockError> {
        let mut state = lock(&self.state);
        if let Some(kind) = state.fail_next.take() {
            return Err(MockError(kind));
        }
        state.views.push(view.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;
    use kassa_hal::Error as _;

    #[test]
    fn scans_pushed_through_the_handle_come_out_in_order() {
        let (mut scanner, handle) = scanner();
        assert!(handle.scan(&b"134567890123456789"[..]));
        assert!(handle.fail(ErrorKind::InvalidData));
        assert!(handle.scan(&b"2"[..]));
        block_on(async {
            scanner.trigger(true).await.unwrap();
            assert_eq!(
                scanner.next_scan().await.unwrap().data,
                b"134567890123456789"
            );
            assert_eq!(
                scanner.next_scan().await.unwrap_err().kind(),
                ErrorKind::InvalidData
            );
            assert_eq!(scanner.next_scan().await.unwrap().source, SourceKind::Mock);
        });
        assert_eq!(handle.triggers(), vec![true]);
        drop(handle);
        let end = block_on(scanner.next_scan()).unwrap_err();
        assert_eq!(end.kind(), ErrorKind::Disconnected);
    }

    #[test]
    fn display_records_views_and_can_fail() {
        let (mut display, handle) = display(web_like());
        block_on(async {
            display.show(&View::Idle).await.unwrap();
            handle.fail_next(ErrorKind::Timeout);
            let text = View::Text(vec!["hello".into()]);
            assert_eq!(
                display.show(&text).await.unwrap_err().kind(),
                ErrorKind::Timeout
            );
            display.show(&text).await.unwrap();
        });
        assert_eq!(
            handle.views(),
            vec![View::Idle, View::Text(vec!["hello".into()])]
        );
        assert_eq!(display.capabilities().columns, 80);
    }
}
