//! The waits between attempts to open a device, and a sleep that a stop
//! cuts short.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Waits between attempts to open a device: 250 ms, doubling to 4 s.
#[derive(Debug, Clone, Copy)]
pub struct Backoff(Duration);

impl Backoff {
    const FIRST: Duration = Duration::from_millis(250);
    const MAX: Duration = Duration::from_secs(4);

    /// A fresh backoff.
    pub fn new() -> Backoff {
        Backoff(Self::FIRST)
    }

    /// The next wait.
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.0;
        self.0 = (self.0 * 2).min(Self::MAX);
        wait
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

/// Sleeps `total` in short steps, returning early (false) when asked to stop.
pub fn sleep_unless_stopped(stop: &AtomicBool, total: Duration) -> bool {
    let step = Duration::from_millis(50);
    let mut left = total;
    while !left.is_zero() {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = left.min(step);
        std::thread::sleep(now);
        left -= now;
    }
    !stop.load(Ordering::Relaxed)
}
