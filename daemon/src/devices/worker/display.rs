//! The display worker: keeps one display open and shows it the newest
//! view from its [`ViewSlot`], with a watchdog that reports a driver call
//! that outlasts the display's deadline.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kassa_hal::blocking::CustomerDisplay;
use kassa_hal::{Error as _, ErrorKind, View};
use tokio::sync::watch;

use super::{Action, Backoff, Link, Open, POLL, Pause, lost, sleep_unless_stopped};

/// The newest view for a display, and a generation number that says
/// whether the worker has shown it.
#[derive(Debug, Default)]
pub struct ViewSlot {
    state: Mutex<(u64, Option<View>)>,
    changed: Condvar,
}

impl ViewSlot {
    fn lock(&self) -> MutexGuard<'_, (u64, Option<View>)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the view to show.
    pub fn set(&self, view: View) {
        let mut state = self.lock();
        state.0 += 1;
        state.1 = Some(view);
        self.changed.notify_all();
    }

    /// The view to show now, if any.
    pub fn current(&self) -> Option<View> {
        self.lock().1.clone()
    }

    /// Wakes the worker (to see the stop flag).
    pub fn wake(&self) {
        self.changed.notify_all();
    }

    /// Waits up to `timeout` for a view newer than `seen`.
    fn wait_newer(&self, seen: u64, timeout: Duration) -> Option<(u64, View)> {
        let guard = self.lock();
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |(generation, _)| *generation == seen)
            .unwrap_or_else(|p| p.into_inner());
        match &guard.1 {
            Some(view) if guard.0 != seen => Some((guard.0, view.clone())),
            _ => None,
        }
    }
}

/// Since when a display worker has been inside its driver, for the
/// deadline watchdog; and whether the watchdog gave up on it.
#[derive(Debug)]
pub struct Busy {
    since: watch::Sender<Option<Instant>>,
    timed_out: Arc<AtomicBool>,
}

impl Default for Busy {
    fn default() -> Self {
        Busy {
            since: watch::Sender::new(None),
            timed_out: Arc::default(),
        }
    }
}

impl Busy {
    /// Runs `f` as one call into the driver. Returns its result and whether
    /// the watchdog declared the display hung meanwhile.
    fn run<T>(&self, f: impl FnOnce() -> T) -> (T, bool) {
        self.since.send_replace(Some(Instant::now()));
        let out = f();
        self.since.send_replace(None);
        (out, self.timed_out.swap(false, Ordering::Relaxed))
    }

    /// Starts the watchdog of this display on the current tokio runtime:
    /// it reports a driver call that outlasts `deadline`. It does not keep
    /// the `Busy` itself alive, so it ends with the display's worker.
    pub fn watch(&self, deadline: Duration, link: &Link) -> tokio::task::JoinHandle<()> {
        tokio::spawn(watch_deadline(
            (self.since.subscribe(), self.timed_out.clone()),
            deadline,
            link.clone(),
        ))
    }
}

/// Reports a display whose driver call outlasts its deadline. A hung
/// driver call cannot be interrupted, but it holds up only its own worker:
/// the others take their views from their own slots. Sleeps between
/// calls and until a call's deadline (no polling); ends when the display's
/// worker has ended.
async fn watch_deadline(
    (mut since, timed_out): (watch::Receiver<Option<Instant>>, Arc<AtomicBool>),
    deadline: Duration,
    link: Link,
) {
    loop {
        let Some(started) = *since.borrow_and_update() else {
            if since.changed().await.is_err() {
                return;
            }
            continue;
        };
        let late = tokio::select! {
            () = tokio::time::sleep_until((started + deadline).into()) => true,
            changed = since.changed() => {
                if changed.is_err() {
                    return;
                }
                false
            }
        };
        // Still the same call: it is late.
        if late && *since.borrow() == Some(started) {
            if !timed_out.swap(true, Ordering::Relaxed) {
                link.report(
                    false,
                    Some(format!(
                        "timed out: the display took no data for {} ms",
                        deadline.as_millis()
                    )),
                );
            }
            // Wait for it to return (or the worker to end).
            if since.changed().await.is_err() {
                return;
            }
        }
    }
}

/// Keeps one display open and shows it the newest view until kassad
/// stops.
pub struct DisplayWorker<O> {
    /// Identity, status, stop.
    pub link: Link,
    /// How to open it.
    pub opener: O,
    /// Where its views come from.
    pub slot: Arc<ViewSlot>,
    /// Tells the watchdog when a driver call began.
    pub busy: Busy,
}

impl<O> DisplayWorker<O>
where
    O: Open,
    O::Device: CustomerDisplay,
{
    /// Runs until kassad stops.
    pub fn run(mut self) {
        let mut backoff = Backoff::new();
        let mut device: Option<O::Device> = None;
        let mut shown = 0u64;
        while !self.link.stopped() {
            let Some(display) = device.as_mut() else {
                let (opened, _) = self.busy.run(|| self.opener.open());
                match opened {
                    Ok(d) => {
                        device = Some(d);
                        backoff = Backoff::new();
                        self.link.report(true, None);
                        shown = 0; // show the current view again on the fresh device
                    }
                    Err(e) => {
                        let absent = e.kind() == ErrorKind::Disconnected;
                        self.link.report(false, Some(e.to_string()));
                        let why = if absent { Pause::Absent } else { Pause::Failed };
                        if !self.opener.pause(why, &mut backoff, &self.link.stop) {
                            return;
                        }
                    }
                }
                continue;
            };
            let Some((generation, view)) = self.slot.wait_newer(shown, Duration::from_millis(500))
            else {
                continue;
            };
            let (result, hung) = self.busy.run(|| display.show(&view));
            match result {
                // A display that hung and came back is opened afresh, and
                // shown the newest view whole.
                Ok(()) if hung => device = None,
                Ok(()) => shown = generation,
                Err(e) => match Action::for_kind(e.kind()) {
                    Action::Reopen => {
                        device = None;
                        self.link.report(false, Some(lost(&e, e.kind())));
                    }
                    // This view cannot be shown here; the next one may.
                    Action::Skip => {
                        shown = generation;
                        self.link
                            .report(true, Some(format!("cannot show this view: {e}")));
                    }
                    Action::Retry => {
                        self.link.report(true, Some(e.to_string()));
                        sleep_unless_stopped(&self.link.stop, POLL);
                    }
                },
            }
        }
    }
}

/// Starts the worker of a display on a thread of its own, and its
/// deadline watchdog on the current tokio runtime. `make` builds the
/// opener on the worker's thread.
///
/// # Errors
///
/// The thread could not be started.
pub fn spawn_display<O, F>(
    name: &str,
    link: Link,
    slot: Arc<ViewSlot>,
    deadline: Duration,
    make: F,
) -> std::io::Result<std::thread::JoinHandle<()>>
where
    F: FnOnce() -> O + Send + 'static,
    O: Open,
    O::Device: CustomerDisplay,
{
    let busy = Busy::default();
    busy.watch(deadline, &link);
    std::thread::Builder::new()
        .name(format!("display-{name}"))
        .spawn(move || {
            DisplayWorker {
                link,
                opener: make(),
                slot,
                busy,
            }
            .run();
        })
}
