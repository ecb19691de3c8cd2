//! What the caps turned away, reported at most once a minute.

use std::io;
use std::time::Instant;

use tracing::warn;

use super::{MAX_CONNECTIONS, REPORT_INTERVAL, Site};

/// Counts what the caps turned away, for one warning a minute at most.
pub(super) struct Pressure {
    evicted: u64,
    dropped: u64,
    accept_errors: u64,
    last_report: Option<Instant>,
}

impl Pressure {
    pub(super) fn new() -> Pressure {
        Pressure {
            evicted: 0,
            dropped: 0,
            accept_errors: 0,
            last_report: None,
        }
    }

    pub(super) fn over_cap(&mut self, site: &Site, made_room: bool) {
        if made_room {
            self.evicted += 1;
        } else {
            self.dropped += 1;
        }
        self.report(site, None);
    }

    pub(super) fn accept_failed(&mut self, site: &Site, error: &io::Error) {
        self.accept_errors += 1;
        self.report(site, Some(error));
    }

    fn report(&mut self, site: &Site, error: Option<&io::Error>) {
        let first = self.last_report.is_none();
        if self
            .last_report
            .is_some_and(|last| last.elapsed() < REPORT_INTERVAL)
        {
            return;
        }
        self.last_report = Some(Instant::now());
        let cause = error.map_or(String::new(), |e| format!(": {e}"));
        if first {
            // At once, so that the log says when it started; then a
            // summary a minute at most.
            match error {
                Some(_) => warn!(
                    "web screen on {}: accepting a connection failed{cause}",
                    site.listen
                ),
                None => warn!(
                    "web screen on {}: {MAX_CONNECTIONS} connections open, its cap; the oldest \
                     are closed to make room (is a program on this machine flooding the screen?)",
                    site.listen
                ),
            }
        } else {
            warn!(
                "web screen on {} in the last minute or more: {} connections over the cap of \
                 {MAX_CONNECTIONS} made room by closing older ones, {} found no room and were \
                 closed, {} accepts failed{cause}",
                site.listen, self.evicted, self.dropped, self.accept_errors
            );
        }
        self.evicted = 0;
        self.dropped = 0;
        self.accept_errors = 0;
    }
}
