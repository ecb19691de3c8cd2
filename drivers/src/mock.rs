//! A simulated scanner and display behind the same traits as the real ones,
//! both flavours: [`kassa_hal::blocking`] for a device thread, the async
//! [`kassa_hal::Scanner`] and [`kassa_hal::CustomerDisplay`] for a task.
//!
//! The scanner is fed through a [`MockScannerHandle`], or reads from a
//! script ([`scripted`]) as a customer holding up a phone would; the
//! display records every view it is asked to show in a
//! [`MockDisplayHandle`]. Both handles are cheap to clone and can be used
//! from another thread or task while the device itself sits in the code
//! under test.
//!
//! Nothing async here blocks: the scanner's queue is a mutex held for a
//! few instructions, a blocking `poll_scan` waits on a condition variable,
//! and an async `next_scan` parks its task's waker, which every push wakes.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

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

/// What a scripted scanner reads: the next code, `delay` after each
/// trigger.
#[derive(Debug)]
struct Script {
    codes: Vec<Vec<u8>>,
    next: usize,
    delay: Duration,
    /// When the read of the trigger that is on falls due; `None` when the
    /// trigger is off or this trigger has had its read.
    due: Option<Instant>,
}

#[derive(Debug)]
struct ScannerState {
    queue: VecDeque<Result<Scan, MockError>>,
    triggers: Vec<bool>,
    trigger_on: bool,
    script: Option<Script>,
    /// Live handles; a scanner without a script is disconnected at zero.
    handles: usize,
    /// Whether the scanner still exists (pushes to a dropped one fail).
    scanner_alive: bool,
    /// The task waiting in `next_scan`.
    waker: Option<Waker>,
    /// The moment a timer thread is sleeping towards, for `next_scan` on
    /// a scripted scanner.
    timer: Option<Instant>,
}

impl ScannerState {
    /// The next read that is ready at `now`: an injected one, else the
    /// script's when due.
    fn take_ready(&mut self, now: Instant) -> Option<Result<Scan, MockError>> {
        if let Some(item) = self.queue.pop_front() {
            return Some(item);
        }
        let script = self.script.as_mut()?;
        let due = script.due?;
        if now < due {
            return None;
        }
        // One read per trigger: the next waits for the trigger to go off
        // and on again.
        script.due = None;
        let code = script.codes.get(script.next)?.clone();
        script.next = (script.next + 1) % script.codes.len();
        Some(Ok(Scan::new(code, SourceKind::Mock, Timestamp::now())))
    }

    /// Whether nothing more can come: no handle to push and no script.
    fn disconnected(&self) -> bool {
        self.handles == 0 && self.script.is_none() && self.queue.is_empty()
    }

    /// When the script reads next, if it is waiting to.
    fn due(&self) -> Option<Instant> {
        self.script.as_ref().and_then(|s| s.due)
    }

    fn trigger(&mut self, on: bool) -> Result<(), MockError> {
        if self.disconnected() {
            return Err(MockError(ErrorKind::Disconnected));
        }
        self.triggers.push(on);
        let was_on = std::mem::replace(&mut self.trigger_on, on);
        if let Some(script) = self.script.as_mut() {
            if !on {
                script.due = None;
            } else if !was_on {
                script.due = Some(Instant::now() + script.delay);
            }
        }
        Ok(())
    }
}

#[derive(Debug)]
struct ScannerShared {
    state: Mutex<ScannerState>,
    changed: Condvar,
}

impl ScannerShared {
    fn lock(&self) -> MutexGuard<'_, ScannerState> {
        lock(&self.state)
    }

    /// Wakes whoever waits for a read, on either flavour.
    fn notify(&self, mut state: MutexGuard<'_, ScannerState>) {
        let waker = state.waker.take();
        drop(state);
        self.changed.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A scanner whose scans come from its [`MockScannerHandle`] or its script.
///
/// Implements the blocking [`kassa_hal::blocking::Scanner`] and the async
/// [`kassa_hal::Scanner`]; the async one never blocks.
#[derive(Debug)]
pub struct MockScanner {
    shared: Arc<ScannerShared>,
}

/// Feeds a [`MockScanner`] and shows what it was asked to do.
#[derive(Debug)]
pub struct MockScannerHandle {
    shared: Arc<ScannerShared>,
}

fn new_scanner(script: Option<Script>) -> (MockScanner, MockScannerHandle) {
    let shared = Arc::new(ScannerShared {
        state: Mutex::new(ScannerState {
            queue: VecDeque::new(),
            triggers: Vec::new(),
            trigger_on: false,
            script,
            handles: 1,
            scanner_alive: true,
            waker: None,
            timer: None,
        }),
        changed: Condvar::new(),
    });
    (
        MockScanner {
            shared: shared.clone(),
        },
        MockScannerHandle { shared },
    )
}

/// A connected mock scanner and its handle. Dropping every handle
/// disconnects the scanner (once it has handed out what was pushed).
pub fn scanner() -> (MockScanner, MockScannerHandle) {
    new_scanner(None)
}

/// A simulated scanner for the demo: on every trigger, after `delay`, it
/// reads the next of `codes` (cycling; source `mock`), as a customer
/// holding up a phone would. One read per trigger: it reads again only
/// after the trigger went off and on. A trigger that goes off before
/// `delay` has passed reads nothing. With no codes it never reads.
///
/// It has no handle, so it never disconnects; [`scripted_with_handle`]
/// gives one.
pub fn scripted<C: Into<Vec<u8>>>(
    codes: impl IntoIterator<Item = C>,
    delay: Duration,
) -> MockScanner {
    scripted_with_handle(codes, delay).0
}

/// A [`scripted`] scanner and a handle that injects scans and failures
/// between the scripted reads and records the triggers. Dropping the
/// handle does not disconnect it: the script goes on.
pub fn scripted_with_handle<C: Into<Vec<u8>>>(
    codes: impl IntoIterator<Item = C>,
    delay: Duration,
) -> (MockScanner, MockScannerHandle) {
    new_scanner(Some(Script {
        codes: codes.into_iter().map(Into::into).collect(),
        next: 0,
        delay,
        due: None,
    }))
}

impl Clone for MockScannerHandle {
    fn clone(&self) -> Self {
        self.shared.lock().handles += 1;
        MockScannerHandle {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for MockScannerHandle {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.handles = state.handles.saturating_sub(1);
        if state.handles == 0 {
            self.shared.notify(state);
        }
    }
}

impl MockScannerHandle {
    /// The scanner reads `data` (source `mock`, no symbology). Returns
    /// false if the scanner is gone.
    pub fn scan(&self, data: impl Into<Vec<u8>>) -> bool {
        self.push(Scan::new(data, SourceKind::Mock, Timestamp::now()))
    }

    /// The scanner reads `scan` as given.
    pub fn push(&self, scan: Scan) -> bool {
        self.send(Ok(scan))
    }

    /// The scanner's next read fails with `kind`.
    pub fn fail(&self, kind: ErrorKind) -> bool {
        self.send(Err(MockError(kind)))
    }

    fn send(&self, item: Result<Scan, MockError>) -> bool {
        let mut state = self.shared.lock();
        if !state.scanner_alive {
            return false;
        }
        state.queue.push_back(item);
        self.shared.notify(state);
        true
    }

    /// Every trigger the scanner received (`set_trigger` or `trigger`), in
    /// order.
    pub fn triggers(&self) -> Vec<bool> {
        self.shared.lock().triggers.clone()
    }
}

impl Drop for MockScanner {
    fn drop(&mut self) {
        self.shared.lock().scanner_alive = false;
    }
}

impl MockScanner {
    /// Starts a thread that wakes the waiting task at `due`, unless one
    /// already sleeps towards it.
    fn wake_at(&self, state: &mut ScannerState, due: Instant) -> Result<(), MockError> {
        if state.timer == Some(due) {
            return Ok(());
        }
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name("mock-scanner-timer".into())
            .spawn(move || {
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                let mut state = shared.lock();
                if state.timer == Some(due) {
                    state.timer = None;
                }
                shared.notify(state);
            })
            .map_err(|_| MockError(ErrorKind::Other))?;
        state.timer = Some(due);
        Ok(())
    }
}

impl ErrorType for MockScanner {
    type Error = MockError;
}

impl kassa_hal::blocking::Scanner for MockScanner {
    fn poll_scan(&mut self, wait: Duration) -> Result<Option<Scan>, MockError> {
        let deadline = Instant::now() + wait;
        let mut state = self.shared.lock();
        loop {
            let now = Instant::now();
            if let Some(item) = state.take_ready(now) {
                return item.map(Some);
            }
            if state.disconnected() {
                return Err(MockError(ErrorKind::Disconnected));
            }
            if now >= deadline {
                return Ok(None);
            }
            let until = state.due().map_or(deadline, |due| due.min(deadline));
            state = self
                .shared
                .changed
                .wait_timeout(state, until.saturating_duration_since(now))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    fn set_trigger(&mut self, on: bool) -> Result<(), MockError> {
        self.shared.lock().trigger(on)
    }
}

impl Scanner for MockScanner {
    /// Pending until a read is ready; never blocks the thread. A scripted
    /// read that falls due is woken by a short-lived timer thread.
    async fn next_scan(&mut self) -> Result<Scan, MockError> {
        core::future::poll_fn(|cx| {
            let mut state = self.shared.lock();
            if let Some(item) = state.take_ready(Instant::now()) {
                return Poll::Ready(item);
            }
            if state.disconnected() {
                return Poll::Ready(Err(MockError(ErrorKind::Disconnected)));
            }
            state.waker = Some(cx.waker().clone());
            if let Some(due) = state.due() {
                if let Err(e) = self.wake_at(&mut state, due) {
                    return Poll::Ready(Err(e));
                }
            }
            Poll::Pending
        })
        .await
    }

    async fn trigger(&mut self, on: bool) -> Result<(), MockError> {
        self.shared.lock().trigger(on)
    }
}

#[derive(Debug, Default)]
struct DisplayState {
    views: Vec<View>,
    fail_next: Option<ErrorKind>,
}

impl DisplayState {
    fn show(&mut self, view: &View) -> Result<(), MockError> {
        if let Some(kind) = self.fail_next.take() {
            return Err(MockError(kind));
        }
        self.views.push(view.clone());
        Ok(())
    }
}

/// A display that records what it is asked to show.
///
/// Implements the blocking [`kassa_hal::blocking::CustomerDisplay`] and the
/// async [`kassa_hal::CustomerDisplay`] alike.
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

impl kassa_hal::blocking::CustomerDisplay for MockDisplay {
    fn capabilities(&self) -> Capabilities {
        self.capabilities.clone()
    }

    fn show(&mut self, view: &View) -> Result<(), MockError> {
        lock(&self.state).show(view)
    }
}

impl CustomerDisplay for MockDisplay {
    fn capabilities(&self) -> Capabilities {
        self.capabilities.clone()
    }

    async fn show(&mut self, view: &View) -> Result<(), MockError> {
        lock(&self.state).show(view)
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::Context;

    use super::*;
    use futures_executor::block_on;
    use kassa_hal::Error as _;
    use kassa_hal::blocking::Scanner as _;

    const SHORT: Duration = Duration::from_millis(60);

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
    fn the_blocking_flavour_reads_the_same_queue() {
        let (mut scanner, handle) = scanner();
        assert!(handle.scan(&b"1"[..]));
        assert!(handle.fail(ErrorKind::Timeout));
        scanner.set_trigger(true).unwrap();
        assert_eq!(scanner.poll_scan(SHORT).unwrap().unwrap().data, b"1");
        assert_eq!(
            scanner.poll_scan(SHORT).unwrap_err().kind(),
            ErrorKind::Timeout
        );
        // Nothing queued: it waits about the wait, then says so.
        let asked = Instant::now();
        assert_eq!(scanner.poll_scan(SHORT).unwrap(), None);
        let waited = asked.elapsed();
        assert!(
            waited >= SHORT && waited < SHORT * 10,
            "waited {waited:?} for {SHORT:?}"
        );
        scanner.set_trigger(false).unwrap();
        assert_eq!(handle.triggers(), vec![true, false]);
        // A scanner that is gone refuses pushes.
        drop(scanner);
        assert!(!handle.scan(&b"3"[..]));
    }

    #[test]
    fn a_blocking_poll_wakes_for_a_push_or_the_last_handle_going() {
        let (mut scanner, handle) = scanner();
        let pusher = handle.clone();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(SHORT);
            assert!(pusher.scan(&b"42"[..]));
        });
        let asked = Instant::now();
        let scan = scanner.poll_scan(Duration::from_secs(10)).unwrap();
        assert_eq!(scan.unwrap().data, b"42");
        assert!(asked.elapsed() < Duration::from_secs(5));
        thread.join().unwrap();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(SHORT);
            drop(handle);
        });
        let asked = Instant::now();
        let end = scanner.poll_scan(Duration::from_secs(10)).unwrap_err();
        assert_eq!(end.kind(), ErrorKind::Disconnected);
        assert!(asked.elapsed() < Duration::from_secs(5));
        assert_eq!(
            scanner.set_trigger(true).unwrap_err().kind(),
            ErrorKind::Disconnected
        );
        thread.join().unwrap();
    }

    #[test]
    fn the_async_next_scan_is_pending_until_a_push_and_never_blocks() {
        let (mut scanner, handle) = scanner();
        let mut next = pin!(scanner.next_scan());
        let mut cx = Context::from_waker(Waker::noop());
        let polled = Instant::now();
        assert!(next.as_mut().poll(&mut cx).is_pending());
        assert!(next.as_mut().poll(&mut cx).is_pending());
        assert!(polled.elapsed() < SHORT, "a poll must not wait");
        let thread = std::thread::spawn(move || {
            std::thread::sleep(SHORT);
            assert!(handle.scan(&b"7"[..]));
            handle
        });
        // block_on parks until the push wakes the task.
        assert_eq!(block_on(next).unwrap().data, b"7");
        let handle = thread.join().unwrap();
        assert!(handle.triggers().is_empty());
    }

    #[test]
    fn a_scripted_scanner_reads_once_per_trigger_after_the_delay() {
        let delay = Duration::from_millis(80);
        let (mut scanner, handle) = scripted_with_handle(["first", "second"], delay);
        // Off: nothing, however long.
        assert_eq!(scanner.poll_scan(SHORT).unwrap(), None);
        scanner.set_trigger(true).unwrap();
        let on = Instant::now();
        assert_eq!(scanner.poll_scan(Duration::ZERO).unwrap(), None);
        let scan = scanner.poll_scan(Duration::from_secs(5)).unwrap().unwrap();
        assert!(on.elapsed() >= delay, "read after {:?}", on.elapsed());
        assert!(on.elapsed() < Duration::from_secs(2));
        assert_eq!(
            (scan.data.as_slice(), scan.source),
            (&b"first"[..], SourceKind::Mock)
        );
        // One read per trigger: held on, it reads nothing more; a second
        // `on` without an `off` is no new trigger.
        scanner.set_trigger(true).unwrap();
        assert_eq!(scanner.poll_scan(delay * 2).unwrap(), None);
        // Off before the delay: no read.
        scanner.set_trigger(false).unwrap();
        scanner.set_trigger(true).unwrap();
        scanner.set_trigger(false).unwrap();
        assert_eq!(scanner.poll_scan(delay * 2).unwrap(), None);
        // The next trigger reads the next code, then the list starts over.
        for expected in [&b"second"[..], b"first"] {
            scanner.set_trigger(true).unwrap();
            let scan = scanner.poll_scan(Duration::from_secs(5)).unwrap().unwrap();
            assert_eq!(scan.data, expected);
            scanner.set_trigger(false).unwrap();
        }
        // Injected failures and scans come first.
        assert!(handle.fail(ErrorKind::InvalidData));
        assert!(handle.scan(&b"typed"[..]));
        scanner.set_trigger(true).unwrap();
        assert_eq!(
            scanner.poll_scan(SHORT).unwrap_err().kind(),
            ErrorKind::InvalidData
        );
        assert_eq!(scanner.poll_scan(SHORT).unwrap().unwrap().data, b"typed");
        assert_eq!(
            scanner
                .poll_scan(Duration::from_secs(5))
                .unwrap()
                .unwrap()
                .data,
            b"second"
        );
        assert_eq!(handle.triggers().len(), 10);
        // Without its handle the script goes on.
        drop(handle);
        scanner.set_trigger(false).unwrap();
        scanner.set_trigger(true).unwrap();
        assert_eq!(
            scanner
                .poll_scan(Duration::from_secs(5))
                .unwrap()
                .unwrap()
                .data,
            b"first"
        );
    }

    #[test]
    fn a_scripted_scanner_wakes_an_async_reader_when_its_read_falls_due() {
        let delay = Duration::from_millis(80);
        let mut scanner = scripted(vec![String::from("code")], delay);
        block_on(scanner.trigger(true)).unwrap();
        let on = Instant::now();
        {
            let mut next = pin!(scanner.next_scan());
            let mut cx = Context::from_waker(Waker::noop());
            assert!(next.as_mut().poll(&mut cx).is_pending());
            assert_eq!(block_on(next).unwrap().data, b"code");
        }
        assert!(on.elapsed() >= delay);
        // No trigger, no read.
        let mut next = pin!(scanner.next_scan());
        let mut cx = Context::from_waker(Waker::noop());
        std::thread::sleep(delay * 2);
        assert!(next.as_mut().poll(&mut cx).is_pending());
    }

    #[test]
    fn an_empty_script_never_reads() {
        let mut scanner = scripted(Vec::<Vec<u8>>::new(), Duration::ZERO);
        scanner.set_trigger(true).unwrap();
        assert_eq!(scanner.poll_scan(SHORT).unwrap(), None);
    }

    #[test]
    fn display_records_views_and_can_fail() {
        let (mut display, handle) = display(web_like());
        block_on(async {
            CustomerDisplay::show(&mut display, &View::Idle)
                .await
                .unwrap();
            handle.fail_next(ErrorKind::Timeout);
            let text = View::Text(vec!["hello".into()]);
            assert_eq!(
                CustomerDisplay::show(&mut display, &text)
                    .await
                    .unwrap_err()
                    .kind(),
                ErrorKind::Timeout
            );
            CustomerDisplay::show(&mut display, &text).await.unwrap();
        });
        assert_eq!(
            handle.views(),
            vec![View::Idle, View::Text(vec!["hello".into()])]
        );
        assert_eq!(CustomerDisplay::capabilities(&display).columns, 80);
    }

    #[test]
    fn the_blocking_display_records_views_and_can_fail() {
        use kassa_hal::blocking::CustomerDisplay as Blocking;
        let (mut display, handle) = display(web_like());
        Blocking::show(&mut display, &View::Idle).unwrap();
        handle.fail_next(ErrorKind::Disconnected);
        let text = View::Text(vec!["hello".into()]);
        assert_eq!(
            Blocking::show(&mut display, &text).unwrap_err().kind(),
            ErrorKind::Disconnected
        );
        assert_eq!(handle.current(), Some(View::Idle));
        Blocking::show(&mut display, &text).unwrap();
        assert_eq!(handle.current(), Some(text));
        assert_eq!(handle.views().len(), 2);
        assert!(Blocking::capabilities(&display).qr);
    }
}
