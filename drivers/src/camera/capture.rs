//! The capture thread: pulls frames from a [`FrameSource`] as fast as the
//! camera delivers them and keeps only the newest in a slot.
//!
//! Whoever consumes frames (decoding, face detection) takes the newest
//! frame when it is ready for one; frames that arrived meanwhile are
//! dropped, never queued, so a slow consumer never falls behind the
//! customer's hand.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use super::Frame;
use super::source::{CaptureError, FrameSource};

/// Counts of what the capture thread did, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Frames the source delivered.
    pub captured: u64,
    /// Frames replaced in the slot before anyone took them.
    pub dropped: u64,
}

#[derive(Debug, Default)]
struct SlotState {
    frame: Option<Frame>,
    error: Option<CaptureError>,
    stats: CaptureStats,
}

#[derive(Debug, Default)]
struct Slot {
    state: Mutex<SlotState>,
    changed: Condvar,
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running capture: the source is streaming on its own thread.
#[derive(Debug)]
pub struct Capture<S: FrameSource + 'static> {
    slot: Arc<Slot>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Option<S>>>,
}

impl<S: FrameSource + 'static> Capture<S> {
    /// Starts `source` on a capture thread.
    ///
    /// # Errors
    ///
    /// The source's start error (the device could not be opened), with the
    /// source handed back so that it can be retried later.
    pub fn start(mut source: S) -> Result<Capture<S>, (S, CaptureError)> {
        if let Err(e) = source.start() {
            source.stop();
            return Err((source, e));
        }
        let slot = Arc::new(Slot::default());
        let stop = Arc::new(AtomicBool::new(false));
        // The source is handed over through a cell, so that it comes back
        // to the caller if the thread cannot be spawned.
        let handover = Arc::new(Mutex::new(Some(source)));
        let thread = {
            let (slot, stop, handover) = (slot.clone(), stop.clone(), handover.clone());
            std::thread::Builder::new()
                .name("camera-capture".into())
                .spawn(move || {
                    let source = handover.lock().unwrap_or_else(|p| p.into_inner()).take();
                    source.map(|source| run(source, &slot, &stop))
                })
        };
        match thread {
            Ok(thread) => Ok(Capture {
                slot,
                stop,
                thread: Some(thread),
            }),
            Err(e) => {
                let source = handover.lock().unwrap_or_else(|p| p.into_inner()).take();
                match source {
                    Some(mut source) => {
                        let name = source.name();
                        source.stop();
                        Err((
                            source,
                            CaptureError::Stream {
                                path: name.into(),
                                source: e,
                            },
                        ))
                    }
                    // A thread that was never spawned never took it.
                    None => unreachable!("camera source taken by a thread that did not start"),
                }
            }
        }
    }

    /// The newest frame not taken yet, waiting up to `timeout` for one.
    ///
    /// # Errors
    ///
    /// The error that stopped the stream; the thread has ended and
    /// [`Capture::stop`] gives the source back.
    pub fn newest(&self, timeout: Duration) -> Result<Option<Frame>, CaptureError> {
        let guard = self.slot.lock();
        let (mut guard, _) = self
            .slot
            .changed
            .wait_timeout_while(guard, timeout, |s| s.frame.is_none() && s.error.is_none())
            .unwrap_or_else(|p| p.into_inner());
        if let Some(frame) = guard.frame.take() {
            return Ok(Some(frame));
        }
        match guard.error.take() {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    /// What the capture thread has done so far.
    pub fn stats(&self) -> CaptureStats {
        self.slot.lock().stats
    }

    /// Stops streaming, closes the device and gives the source back.
    ///
    /// # Errors
    ///
    /// `None` if the capture thread panicked (the source is lost with it).
    pub fn stop(mut self) -> Option<S> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().and_then(|t| t.join().ok().flatten())
    }
}

impl<S: FrameSource + 'static> Drop for Capture<S> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run<S: FrameSource>(mut source: S, slot: &Slot, stop: &AtomicBool) -> S {
    while !stop.load(Ordering::Relaxed) {
        match source.next_frame() {
            Ok(Some(frame)) => {
                let mut state = slot.lock();
                state.stats.captured += 1;
                if state.frame.replace(frame).is_some() {
                    state.stats.dropped += 1;
                }
                slot.changed.notify_all();
            }
            Ok(None) => {}
            Err(e) => {
                slot.lock().error = Some(e);
                slot.changed.notify_all();
                break;
            }
        }
    }
    source.stop();
    source
}
