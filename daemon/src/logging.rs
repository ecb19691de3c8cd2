//! kassad's log: one line per event on stderr, whatever the event holds.
//!
//! Log lines carry text from outside: a scan's last four characters, a
//! device's error, a backend's answer. A newline in any of them would start
//! a line of the caller's making ("INFO forged line"), and under systemd
//! each stderr line is a journal entry of its own. So every event is
//! written as exactly one line: control characters, bidirectional
//! overrides and line separators in it are escaped (`\n`, `\u{202e}`).
//! Under systemd the line starts with its syslog priority (`<4>`), which
//! journald reads as the entry's level.

use std::io::{self, Write};
use std::sync::{Mutex, OnceLock};

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Registry, reload};

/// The longest filter [`set_filter`] takes.
pub const MAX_FILTER: usize = 256;

/// The live filter and its text, once [`init`] ran.
static FILTER: OnceLock<(reload::Handle<EnvFilter, Registry>, Mutex<String>)> = OnceLock::new();

/// Sets up logging: `KASSA_LOG` (an `EnvFilter` directive such as `debug`
/// or `kassa_daemon::core=debug`) chooses what is logged, `info` by
/// default (or when it does not parse); [`set_filter`] changes it while
/// kassad runs.
pub fn init() {
    let wanted = std::env::var("KASSA_LOG").unwrap_or_default();
    let (filter, directive) = match EnvFilter::try_new(&wanted) {
        Ok(filter) if !wanted.is_empty() => (filter, wanted),
        _ => (EnvFilter::new("info"), "info".to_string()),
    };
    let (filter, handle) = reload::Layer::new(filter);
    let _ = FILTER.set((handle, Mutex::new(directive)));
    let journal = std::env::var_os("JOURNAL_STREAM").is_some();
    let writer = OneLine {
        priority_prefix: journal,
        open: io::stderr,
    };
    let lines = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(false)
        .with_writer(writer);
    let registry = tracing_subscriber::registry().with(filter);
    // The journal stamps each entry itself.
    if journal {
        registry.with(lines.without_time()).init();
    } else {
        registry.with(lines).init();
    }
}

/// What is logged now, as an `EnvFilter` directive; `None` where [`init`]
/// did not run (kassad inside a test).
pub fn filter() -> Option<String> {
    FILTER.get().map(|(_, text)| {
        text.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    })
}

/// Logs what `directive` chooses from now on (`debug`, `warn`,
/// `info,kassa_daemon::core=debug`, …).
///
/// # Errors
///
/// A message when the directive is longer than [`MAX_FILTER`], holds
/// anything but printable ASCII, does not parse, or logging was not set up
/// by [`init`].
pub fn set_filter(directive: &str) -> Result<(), String> {
    if directive.is_empty()
        || directive.len() > MAX_FILTER
        || !directive.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(format!(
            "a log filter is 1 to {MAX_FILTER} printable ASCII characters, such as debug or \
             info,kassa_daemon::core=debug"
        ));
    }
    let filter = EnvFilter::try_new(directive)
        .map_err(|e| format!("not a log filter: {e} (try debug, info, warn or error)"))?;
    let (handle, text) = FILTER
        .get()
        .ok_or("kassad's log is not set up in this process")?;
    handle
        .reload(filter)
        .map_err(|e| format!("the log filter cannot be changed: {e}"))?;
    *text
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = directive.to_string();
    Ok(())
}

/// Makes a writer per event that escapes it to one line.
#[derive(Clone)]
pub struct OneLine<F> {
    /// Start each line with `<N>`, the syslog priority of its level.
    pub priority_prefix: bool,
    /// Opens the underlying stream.
    pub open: F,
}

impl<'a, F, W> MakeWriter<'a> for OneLine<F>
where
    F: Fn() -> W + 'a,
    W: Write,
{
    type Writer = EventWriter<W>;

    fn make_writer(&'a self) -> Self::Writer {
        EventWriter::new((self.open)(), None)
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        let priority = self.priority_prefix.then(|| priority(*meta.level()));
        EventWriter::new((self.open)(), priority)
    }
}

/// The syslog priority of a level.
fn priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// Collects one event and writes it, escaped, when dropped.
pub struct EventWriter<W: Write> {
    out: W,
    priority: Option<u8>,
    event: Vec<u8>,
}

impl<W: Write> EventWriter<W> {
    fn new(out: W, priority: Option<u8>) -> Self {
        EventWriter {
            out,
            priority,
            event: Vec::new(),
        }
    }
}

impl<W: Write> Write for EventWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.event.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for EventWriter<W> {
    fn drop(&mut self) {
        if self.event.is_empty() {
            return;
        }
        let line = one_line(&String::from_utf8_lossy(&self.event), self.priority);
        // Nowhere to report a failed write of the log itself.
        let _ = self.out.write_all(line.as_bytes());
        let _ = self.out.flush();
    }
}

/// `event` as one line ending in `\n`, with what could break or disguise
/// the line escaped.
pub fn one_line(event: &str, priority: Option<u8>) -> String {
    let body = event.strip_suffix('\n').unwrap_or(event);
    let mut line = String::with_capacity(body.len() + 8);
    if let Some(p) = priority {
        line.push_str(&format!("<{p}>"));
    }
    for c in body.chars() {
        if kassa_hal::order::is_forbidden_char(c) {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_filter_from_a_caller_is_bounded_and_must_parse() {
        let bounds = "a log filter is 1 to 256 printable ASCII characters";
        for bad in ["", "débug", "debug\n", "info warn"] {
            assert!(set_filter(bad).unwrap_err().starts_with(bounds), "{bad:?}");
        }
        assert!(
            set_filter(&"a".repeat(MAX_FILTER + 1))
                .unwrap_err()
                .starts_with(bounds)
        );
        assert!(
            set_filter("kassa=[[[")
                .unwrap_err()
                .starts_with("not a log filter")
        );
        // A good one, where init() did not run (a test): said, not a panic.
        assert_eq!(
            set_filter("debug").unwrap_err(),
            "kassad's log is not set up in this process"
        );
        assert_eq!(filter(), None);
    }

    #[test]
    fn an_event_is_one_line_whatever_its_fields_hold() {
        let sink = Sink::default();
        let out = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .with_writer(OneLine {
                priority_prefix: true,
                open: move || out.clone(),
            })
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let message = "paid\nINFO forged line\r\u{1b}[2J\u{202e}";
            tracing::warn!("checkout 1 ended: {message}");
            tracing::info!(field = "a\nb", "second");
        });
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("<4>"), "{text}");
        assert!(
            lines[0].contains(r"checkout 1 ended: paid\nINFO forged line\r"),
            "{text}"
        );
        assert!(lines[0].ends_with(r"\u{202e}"), "{text}");
        assert!(
            !lines
                .iter()
                .any(|l| l.chars().any(kassa_hal::order::is_forbidden_char)),
            "{text}"
        );
        assert!(
            lines[1].starts_with("<6>") && lines[1].contains("second"),
            "{text}"
        );
    }

    #[test]
    fn plain_lines_pass_unchanged() {
        assert_eq!(one_line("INFO ready 拿铁\n", None), "INFO ready 拿铁\n");
        assert_eq!(one_line("tab\there", Some(7)), "<7>tab\\there\n");
    }
}
