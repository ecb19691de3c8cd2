//! The virtual keyboard a USB scanner's passed-through scans are typed on
//! (`pass_through` in its settings): a thread of its own per scanner, so
//! that typing never holds up the scanner's worker or the core.
//!
//! The core decides what may be typed (`core::pass_through`); this only
//! types it, in the desktop's layout, with the scanner's terminator. The
//! thread and its keyboard are Linux's (uinput) and come with cargo
//! feature `usb`.

#[cfg(test)]
use std::sync::mpsc::{self, Receiver};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::Instant;

use crate::config::PassThroughMode;

/// Scans waiting to be typed, at most: a burst beyond is not typed.
#[cfg(any(test, feature = "usb"))]
const QUEUE: usize = 8;

/// A scan on its way to the desktop.
#[derive(Debug)]
pub struct Typed {
    /// What to type (the terminator is added).
    pub text: String,
    /// When the scan entered the core.
    pub entered: Instant,
}

/// A scanner's grip on its virtual keyboard.
#[derive(Debug)]
pub struct PassThrough {
    /// Which scans are passed through.
    pub mode: PassThroughMode,
    queue: SyncSender<Typed>,
}

impl PassThrough {
    /// A pass-through whose scans land in the returned receiver instead of
    /// a keyboard, for tests of the core.
    #[cfg(test)]
    pub(crate) fn detached(mode: PassThroughMode) -> (PassThrough, Receiver<Typed>) {
        let (queue, scans) = mpsc::sync_channel(QUEUE);
        (PassThrough { mode, queue }, scans)
    }

    /// Hands `text` to the keyboard.
    ///
    /// # Errors
    ///
    /// Why it will not be typed: the keyboard is still typing earlier
    /// scans, or its thread ended.
    pub fn send(&self, text: &str, entered: Instant) -> Result<(), &'static str> {
        let typed = Typed {
            text: text.to_string(),
            entered,
        };
        self.queue.try_send(typed).map_err(|e| match e {
            TrySendError::Full(_) => "the virtual keyboard is still typing earlier scans",
            TrySendError::Disconnected(_) => "the virtual keyboard has stopped",
        })
    }
}

/// The typing thread (uinput and xkbcommon).
#[cfg(feature = "usb")]
mod typing {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    use kassa_drivers::wedge::uinput::VirtualKeyboard;
    use kassa_drivers::wedge::{Keymap, Typist};
    use kassa_hal::mask;
    use tracing::{debug, error, info, warn};

    use super::{PassThrough, QUEUE, Typed};
    use crate::config::PassThroughSettings;

    /// The pause after each key stroke, as a USB keyboard polled at 1 kHz.
    const PACE: Duration = Duration::from_millis(1);
    /// How long a new virtual keyboard is left before it types: the desktop
    /// must have noticed it, or the first keys are lost (and a shorter
    /// number typed, with Enter).
    const SETTLE: Duration = Duration::from_millis(500);
    /// How often the thread looks at the stop flag.
    const TICK: Duration = Duration::from_millis(100);

    impl PassThrough {
        /// Starts the typing thread for the scanner `what` (its virtual
        /// keyboard is made at once, and again at the next scan if that
        /// failed), stopping when `stop` is set.
        pub fn start(
            settings: &PassThroughSettings,
            what: &str,
            stop: &Arc<AtomicBool>,
        ) -> std::io::Result<(PassThrough, JoinHandle<()>)> {
            let (queue, scans) = mpsc::sync_channel(QUEUE);
            let (settings, what, stop) = (settings.clone(), what.to_string(), stop.clone());
            let mode = settings.mode;
            let thread = std::thread::Builder::new()
                .name("kassa-keyboard".into())
                .spawn(move || type_scans(&settings, &what, &scans, &stop))?;
            Ok((PassThrough { mode, queue }, thread))
        }
    }

    /// The virtual keyboard, made now; `None` (said in the log) when it
    /// cannot be.
    fn open(what: &str) -> Option<VirtualKeyboard> {
        match VirtualKeyboard::create() {
            Ok(keyboard) => {
                info!(
                    "{what}: passes scans through on virtual keyboard {:?}",
                    VirtualKeyboard::NAME
                );
                Some(keyboard)
            }
            Err(e) => {
                warn!("{what}: cannot pass scans through: {e}");
                None
            }
        }
    }

    fn type_scans(
        settings: &PassThroughSettings,
        what: &str,
        scans: &Receiver<Typed>,
        stop: &AtomicBool,
    ) {
        // The layout was compiled once when the configuration was read.
        let typist = match Keymap::new(&settings.layout) {
            Ok(keymap) => Typist::new(&keymap),
            Err(e) => {
                warn!("{what}: cannot pass scans through: {e}");
                return;
            }
        };
        let mut keyboard = open(what);
        let mut made = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            let scan = match scans.recv_timeout(TICK) {
                Ok(scan) => scan,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let masked = mask(&scan.text);
            let strokes = match typist.strokes(&scan.text, settings.terminator) {
                Ok(strokes) => strokes,
                Err(e) => {
                    info!("{what}: scan {masked} not passed through: {e}");
                    continue;
                }
            };
            if keyboard.is_none() {
                keyboard = open(what);
                made = Instant::now();
            }
            let Some(board) = keyboard.as_mut() else {
                info!("{what}: scan {masked} not passed through: no virtual keyboard");
                continue;
            };
            std::thread::sleep(SETTLE.saturating_sub(made.elapsed()));
            let started = Instant::now();
            match board.type_strokes(&strokes, PACE) {
                Ok(()) => debug!(
                    "{what}: scan {masked} typed into the desktop, {} ms after it came, {} ms typing",
                    scan.entered.elapsed().as_millis(),
                    started.elapsed().as_millis()
                ),
                Err(e) => {
                    error!("{what}: scan {masked} typed only in part, without its end: {e}");
                    keyboard = None;
                }
            }
        }
    }
}
