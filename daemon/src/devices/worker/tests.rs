//! The workers' tests: the error policy, the backoff, and scanner and
//! display workers driven by scripted devices.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use kassa_hal::blocking::{CustomerDisplay, Scanner};
use kassa_hal::{Capabilities, ErrorKind, ErrorType, Scan, View};
use tokio::sync::watch;

use super::*;

#[test]
fn the_kind_decides_what_a_worker_does() {
    assert_eq!(Action::for_kind(ErrorKind::Disconnected), Action::Reopen);
    assert_eq!(Action::for_kind(ErrorKind::Timeout), Action::Reopen);
    assert_eq!(Action::for_kind(ErrorKind::Other), Action::Reopen);
    assert_eq!(Action::for_kind(ErrorKind::InvalidData), Action::Skip);
    assert_eq!(Action::for_kind(ErrorKind::Unsupported), Action::Skip);
    assert_eq!(Action::for_kind(ErrorKind::Busy), Action::Retry);
}

#[test]
fn backoff_doubles_to_its_cap() {
    let mut b = Backoff::new();
    let waits: Vec<_> = (0..7).map(|_| b.next_wait().as_millis()).collect();
    assert_eq!(waits, [250, 500, 1000, 2000, 4000, 4000, 4000]);
}

/// A display whose first `show` blocks until released, as a driver
/// with no timeout of its own would on a hung device.
struct Stuck {
    released: Arc<(Mutex<bool>, Condvar)>,
    shown: Arc<Mutex<Vec<View>>>,
}

impl ErrorType for Stuck {
    type Error = ErrorKind;
}

impl CustomerDisplay for Stuck {
    fn capabilities(&self) -> Capabilities {
        kassa_drivers::mock::web_like()
    }

    fn show(&mut self, view: &View) -> Result<(), ErrorKind> {
        let (lock, cvar) = &*self.released;
        let guard = lock.lock().unwrap();
        drop(cvar.wait_while(guard, |released| !*released).unwrap());
        self.shown.lock().unwrap().push(view.clone());
        Ok(())
    }
}

struct OpenStuck {
    released: Arc<(Mutex<bool>, Condvar)>,
    shown: Arc<Mutex<Vec<View>>>,
    opens: Arc<AtomicUsize>,
}

impl Open for OpenStuck {
    type Device = Stuck;
    type Error = ErrorKind;

    fn open(&mut self) -> Result<Stuck, ErrorKind> {
        self.opens.fetch_add(1, Ordering::Relaxed);
        Ok(Stuck {
            released: self.released.clone(),
            shown: self.shown.clone(),
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_driver_is_reported_at_its_deadline_and_reopened_when_it_returns() {
    let released = Arc::new((Mutex::new(false), Condvar::new()));
    let shown = Arc::new(Mutex::new(Vec::new()));
    let opens = Arc::new(AtomicUsize::new(0));
    let (status, mut status_rx) = watch::channel(DeviceStatus::default());
    let link = Link {
        what: "display \"stuck\"".into(),
        status,
        stop: Arc::new(AtomicBool::new(false)),
    };
    let slot = Arc::new(ViewSlot::default());
    let busy = Busy::default();
    let watchdog = busy.watch(Duration::from_millis(200), &link);
    let worker = DisplayWorker {
        link: link.clone(),
        opener: OpenStuck {
            released: released.clone(),
            shown: shown.clone(),
            opens: opens.clone(),
        },
        slot: slot.clone(),
        busy,
    };
    let thread = std::thread::spawn(move || worker.run());

    slot.set(View::Text(vec!["first".into()]));
    let hung = tokio::time::timeout(
        Duration::from_secs(5),
        status_rx.wait_for(|s| !s.connected && s.last_error.contains("timed out")),
    )
    .await
    .map(|s| s.map(|s| s.last_error.clone()).unwrap_or_default());
    assert!(
        hung.as_ref()
            .is_ok_and(|e| e.contains("took no data for 200 ms")),
        "no timeout reported: {hung:?}"
    );

    // Meanwhile a newer view; then the device answers again.
    slot.set(View::Text(vec!["second".into()]));
    {
        let (lock, cvar) = &*released;
        *lock.lock().unwrap() = true;
        cvar.notify_all();
    }
    let back = tokio::time::timeout(Duration::from_secs(5), status_rx.wait_for(|s| s.connected))
        .await
        .is_ok();
    assert!(back, "not reconnected");
    let deadline = Instant::now() + Duration::from_secs(5);
    while shown.lock().unwrap().last() != Some(&View::Text(vec!["second".into()])) {
        assert!(
            Instant::now() < deadline,
            "shown: {:?}",
            shown.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Opened at start and again after the hang.
    assert_eq!(opens.load(Ordering::Relaxed), 2);
    link.stop.store(true, Ordering::Relaxed);
    slot.wake();
    thread.join().unwrap();
    // The watchdog ends with its worker.
    let ended = tokio::time::timeout(Duration::from_secs(5), watchdog).await;
    assert!(ended.is_ok(), "the watchdog outlived its worker");
}

/// A scanner reading from a shared script; records its triggers.
#[derive(Clone, Default)]
struct Script {
    reads: Arc<Mutex<std::collections::VecDeque<Result<Scan, ErrorKind>>>>,
    triggers: Arc<Mutex<Vec<bool>>>,
    opens: Arc<Mutex<Vec<Pause>>>,
    open_errors: Arc<Mutex<std::collections::VecDeque<ErrorKind>>>,
}

struct Scripted(Script);

impl ErrorType for Scripted {
    type Error = ErrorKind;
}

impl Scanner for Scripted {
    fn poll_scan(&mut self, wait: Duration) -> Result<Option<Scan>, ErrorKind> {
        let next = self.0.reads.lock().unwrap().pop_front();
        match next {
            Some(read) => read.map(Some),
            None => {
                std::thread::sleep(wait.min(Duration::from_millis(5)));
                Ok(None)
            }
        }
    }

    fn set_trigger(&mut self, on: bool) -> Result<(), ErrorKind> {
        self.0.triggers.lock().unwrap().push(on);
        Ok(())
    }
}

impl Open for Script {
    type Device = Scripted;
    type Error = ErrorKind;

    fn open(&mut self) -> Result<Scripted, ErrorKind> {
        match self.open_errors.lock().unwrap().pop_front() {
            Some(kind) => Err(kind),
            None => Ok(Scripted(self.clone())),
        }
    }

    fn pause(&mut self, why: Pause, _: &mut Backoff, stop: &AtomicBool) -> bool {
        self.opens.lock().unwrap().push(why);
        sleep_unless_stopped(stop, Duration::from_millis(5))
    }
}

fn scan(text: &str) -> Scan {
    Scan::new(
        text.as_bytes(),
        kassa_hal::SourceKind::Mock,
        kassa_hal::Timestamp::now(),
    )
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

struct Running {
    link: Link,
    status: watch::Receiver<DeviceStatus>,
    trigger: watch::Sender<bool>,
    scans: Arc<Mutex<Vec<String>>>,
    thread: std::thread::JoinHandle<()>,
}

fn run_scanner(script: &Script) -> Running {
    let (status, status_rx) = watch::channel(DeviceStatus::default());
    let link = Link {
        what: "scanner \"test\"".into(),
        status,
        stop: Arc::new(AtomicBool::new(false)),
    };
    let (trigger, trigger_rx) = watch::channel(false);
    let scans = Arc::new(Mutex::new(Vec::new()));
    let sink: ScanSink = {
        let scans = scans.clone();
        Arc::new(move |routed: RoutedScan| {
            scans.lock().unwrap().push(routed.scan.text().into_owned());
        })
    };
    let opener = script.clone();
    let thread = spawn_scanner("test".into(), link.clone(), trigger_rx, sink, move || {
        opener
    })
    .unwrap();
    Running {
        link,
        status: status_rx,
        trigger,
        scans,
        thread,
    }
}

impl Running {
    fn stop(self) {
        self.link.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
    }
}

#[test]
fn a_garbled_read_is_counted_and_the_next_scan_still_arrives() {
    let script = Script::default();
    script
        .reads
        .lock()
        .unwrap()
        .extend([Err(ErrorKind::InvalidData), Ok(scan("after the garble"))]);
    let running = run_scanner(&script);
    wait_until("the good scan", || {
        !running.scans.lock().unwrap().is_empty()
    });
    let status = running.status.borrow().clone();
    assert!(status.connected);
    assert_eq!(status.dropped_count, 1);
    assert_eq!(status.last_error, "invalid data");
    // Not reopened for it.
    assert!(script.opens.lock().unwrap().is_empty());
    running.stop();
}

#[test]
fn a_device_that_goes_away_is_reported_and_reopened() {
    let script = Script::default();
    script.reads.lock().unwrap().extend([
        Ok(scan("one")),
        Err(ErrorKind::Disconnected),
        Ok(scan("two")),
    ]);
    let running = run_scanner(&script);
    wait_until("both scans", || running.scans.lock().unwrap().len() == 2);
    assert_eq!(*running.scans.lock().unwrap(), ["one", "two"]);
    assert_eq!(*script.opens.lock().unwrap(), [Pause::Lost]);
    let status = running.status.borrow().clone();
    assert!(status.connected);
    assert_eq!(status.last_error, "disconnected");
    running.stop();
}

#[test]
fn an_absent_device_pauses_as_absent_and_a_failing_one_as_failed() {
    let script = Script::default();
    script
        .open_errors
        .lock()
        .unwrap()
        .extend([ErrorKind::Disconnected, ErrorKind::Busy]);
    let mut status = None;
    let running = run_scanner(&script);
    wait_until("the open", || {
        status = Some(running.status.borrow().clone());
        status.as_ref().is_some_and(|s| s.connected)
    });
    assert_eq!(
        *script.opens.lock().unwrap(),
        [Pause::Absent, Pause::Failed]
    );
    // The last error stays after it connects.
    assert_eq!(status.unwrap().last_error, "busy");
    running.stop();
}

#[test]
fn the_trigger_is_set_at_open_followed_and_turned_off_at_stop() {
    let script = Script::default();
    let running = run_scanner(&script);
    wait_until("the open", || script.triggers.lock().unwrap().len() == 1);
    running.trigger.send_replace(true);
    wait_until("trigger on", || {
        script.triggers.lock().unwrap().last() == Some(&true)
    });
    running.trigger.send_replace(false);
    wait_until("trigger off", || script.triggers.lock().unwrap().len() == 3);
    running.trigger.send_replace(true);
    wait_until("trigger on again", || {
        script.triggers.lock().unwrap().len() == 4
    });
    running.stop();
    // At open (the known state), on, off, on, and off at the stop.
    assert_eq!(
        *script.triggers.lock().unwrap(),
        [false, true, false, true, false]
    );
}

/// A display that fails as scripted, and records what it showed.
#[derive(Clone, Default)]
struct Screen {
    fails: Arc<Mutex<std::collections::VecDeque<ErrorKind>>>,
    shown: Arc<Mutex<Vec<View>>>,
    opens: Arc<AtomicUsize>,
}

impl ErrorType for Screen {
    type Error = ErrorKind;
}

impl CustomerDisplay for Screen {
    fn capabilities(&self) -> Capabilities {
        kassa_drivers::mock::web_like()
    }

    fn show(&mut self, view: &View) -> Result<(), ErrorKind> {
        if let Some(kind) = self.fails.lock().unwrap().pop_front() {
            return Err(kind);
        }
        self.shown.lock().unwrap().push(view.clone());
        Ok(())
    }
}

impl Open for Screen {
    type Device = Screen;
    type Error = ErrorKind;

    fn open(&mut self) -> Result<Screen, ErrorKind> {
        self.opens.fetch_add(1, Ordering::Relaxed);
        Ok(self.clone())
    }

    fn pause(&mut self, _: Pause, _: &mut Backoff, stop: &AtomicBool) -> bool {
        sleep_unless_stopped(stop, Duration::from_millis(5))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_the_display_refuses_is_skipped_and_a_lost_display_gets_the_newest_view() {
    let screen = Screen::default();
    let (status, status_rx) = watch::channel(DeviceStatus::default());
    let link = Link {
        what: "display \"test\"".into(),
        status,
        stop: Arc::new(AtomicBool::new(false)),
    };
    let slot = Arc::new(ViewSlot::default());
    let opener = screen.clone();
    let thread = spawn_display(
        "test",
        link.clone(),
        slot.clone(),
        Duration::from_secs(5),
        move || opener,
    )
    .unwrap();
    let text = |t: &str| View::Text(vec![t.into()]);

    // Refused: skipped, the device kept.
    screen
        .fails
        .lock()
        .unwrap()
        .push_back(ErrorKind::Unsupported);
    slot.set(text("refused"));
    wait_until("the refusal", || {
        status_rx
            .borrow()
            .last_error
            .contains("cannot show this view")
    });
    slot.set(text("fine"));
    wait_until("the next view", || screen.shown.lock().unwrap().len() == 1);
    assert_eq!(screen.opens.load(Ordering::Relaxed), 1);

    // Gone: reopened, and shown the view it failed on.
    screen
        .fails
        .lock()
        .unwrap()
        .push_back(ErrorKind::Disconnected);
    slot.set(text("after the loss"));
    wait_until("the reshow", || screen.shown.lock().unwrap().len() == 2);
    assert_eq!(screen.opens.load(Ordering::Relaxed), 2);
    assert_eq!(
        *screen.shown.lock().unwrap(),
        [text("fine"), text("after the loss")]
    );
    assert!(status_rx.borrow().connected);

    link.stop.store(true, Ordering::Relaxed);
    slot.wake();
    thread.join().unwrap();
}
