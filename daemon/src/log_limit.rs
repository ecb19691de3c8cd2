//! A bound on how often one source may write a log line.
//!
//! A scanner spewing garbage, or a stream of scans nobody wants, must not
//! fill the journal: each device logs at most [`LogLimit::PER_SECOND`]
//! such lines a second, and the next line it may write says how many were
//! left out. Device1's `DroppedCount` keeps the full count.

use std::time::{Duration, Instant};

/// A per-second budget of log lines.
#[derive(Debug)]
pub struct LogLimit {
    window: Option<Instant>,
    lines: u32,
    per_second: u32,
    suppressed: u64,
}

impl Default for LogLimit {
    fn default() -> Self {
        LogLimit::new()
    }
}

impl LogLimit {
    /// Lines one source may log per second.
    pub const PER_SECOND: u32 = 3;

    /// A fresh budget of [`LogLimit::PER_SECOND`] lines a second.
    pub const fn new() -> LogLimit {
        LogLimit::per_second(Self::PER_SECOND)
    }

    /// A fresh budget of `lines` a second.
    pub const fn per_second(lines: u32) -> LogLimit {
        LogLimit {
            window: None,
            lines: 0,
            per_second: lines,
            suppressed: 0,
        }
    }

    /// Whether a line may be logged at `now`: `Some(n)` with the number of
    /// lines left out since the last one logged, `None` to leave this one
    /// out too.
    pub fn admit(&mut self, now: Instant) -> Option<u64> {
        let fresh = self
            .window
            .is_none_or(|start| now.saturating_duration_since(start) >= Duration::from_secs(1));
        if fresh {
            self.window = Some(now);
            self.lines = 0;
        }
        if self.lines < self.per_second {
            self.lines += 1;
            Some(std::mem::take(&mut self.suppressed))
        } else {
            self.suppressed += 1;
            None
        }
    }
}

/// The tail of a log line that follows suppressed ones: empty, or
/// `" (N similar lines not logged)"`.
pub fn suppressed_note(suppressed: u64) -> String {
    if suppressed == 0 {
        String::new()
    } else {
        format!(" ({suppressed} similar lines not logged)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_logs_a_few_lines_a_second_and_counts_the_rest() {
        let mut limit = LogLimit::new();
        let start = Instant::now();
        let mut logged = Vec::new();
        // 10,000 events over 2.5 s.
        for i in 0..10_000u64 {
            let now = start + Duration::from_micros(i * 250);
            if let Some(n) = limit.admit(now) {
                logged.push(n);
            }
        }
        assert_eq!(logged.len(), 9, "{logged:?}");
        assert_eq!(&logged[..3], &[0, 0, 0]);
        // The first line of each new second carries what was left out.
        assert_eq!(logged[3] + logged[6], 10_000 - 9 - limit.suppressed);
        assert!(logged[3] > 3_000, "{logged:?}");
    }

    #[test]
    fn quiet_sources_log_everything() {
        let mut limit = LogLimit::new();
        let start = Instant::now();
        for i in 0..20u64 {
            assert_eq!(limit.admit(start + Duration::from_millis(i * 400)), Some(0));
        }
        assert_eq!(suppressed_note(0), "");
        assert_eq!(suppressed_note(7), " (7 similar lines not logged)");
    }
}
