//! Key events as bytes and as text.
//!
//! - [`RecordParser`] splits the byte stream of an evdev device (or of a
//!   FIFO carrying the same records) into `input_event`s: the kernel's
//!   `struct input_event`, a `timeval` (two `long`s) then `__u16 type`,
//!   `__u16 code`, `__s32 value`, in native byte order — 24 bytes on 64-bit
//!   Linux.
//! - [`Recording`] is the text format of the recorded streams under
//!   `tests/data/wedge/` (described in the README there): one key event a
//!   line, `TIME_US KEY_NAME VALUE`, with `#` header lines that name the
//!   layout and the expected scans.

use std::fmt;
use std::time::Duration;

use super::decoder::{KeyAction, KeyEvent};
use super::keys::{self, EV_KEY, EV_MSC, EV_SYN};

/// Bytes of one `struct input_event` on this machine.
pub const RECORD_LEN: usize = 2 * std::mem::size_of::<std::ffi::c_long>() + 8;
const LONG: usize = std::mem::size_of::<std::ffi::c_long>();

/// One `input_event`, of any type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawEvent {
    /// Its timestamp.
    pub time: Duration,
    /// `EV_KEY`, `EV_SYN`, `EV_MSC`, …
    pub kind: u16,
    /// The code within the type.
    pub code: u16,
    /// The value.
    pub value: i32,
}

impl RawEvent {
    /// The key event this is, if it is one the decoder takes.
    pub fn key(&self) -> Option<KeyEvent> {
        if self.kind != EV_KEY {
            return None;
        }
        Some(KeyEvent {
            time: self.time,
            code: self.code,
            action: KeyAction::from_value(self.value)?,
        })
    }

    /// The record's bytes, as the kernel writes them.
    pub fn to_bytes(&self) -> [u8; RECORD_LEN] {
        let mut out = [0u8; RECORD_LEN];
        let secs = std::ffi::c_long::try_from(self.time.as_secs()).unwrap_or(std::ffi::c_long::MAX);
        // c_long is 32 bits on 32-bit Linux, where this can fail.
        #[allow(clippy::unnecessary_fallible_conversions)]
        let micros = std::ffi::c_long::try_from(self.time.subsec_micros()).unwrap_or(0);
        out[..LONG].copy_from_slice(&secs.to_ne_bytes());
        out[LONG..2 * LONG].copy_from_slice(&micros.to_ne_bytes());
        out[2 * LONG..2 * LONG + 2].copy_from_slice(&self.kind.to_ne_bytes());
        out[2 * LONG + 2..2 * LONG + 4].copy_from_slice(&self.code.to_ne_bytes());
        out[2 * LONG + 4..].copy_from_slice(&self.value.to_ne_bytes());
        out
    }

    /// Parses one record.
    pub fn from_bytes(bytes: &[u8; RECORD_LEN]) -> RawEvent {
        let long = |at: usize| {
            let mut b = [0u8; LONG];
            b.copy_from_slice(&bytes[at..at + LONG]);
            std::ffi::c_long::from_ne_bytes(b)
        };
        let secs = u64::try_from(long(0)).unwrap_or(0);
        let micros = u64::try_from(long(LONG)).unwrap_or(0).min(999_999);
        let at = 2 * LONG;
        RawEvent {
            time: Duration::from_secs(secs) + Duration::from_micros(micros),
            kind: u16::from_ne_bytes([bytes[at], bytes[at + 1]]),
            code: u16::from_ne_bytes([bytes[at + 2], bytes[at + 3]]),
            value: i32::from_ne_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]),
        }
    }
}

/// Splits a byte stream into records; a record split across reads is kept
/// until its rest arrives.
#[derive(Debug, Default)]
pub struct RecordParser {
    partial: Vec<u8>,
}

impl RecordParser {
    /// An empty parser.
    pub fn new() -> RecordParser {
        RecordParser::default()
    }

    /// Feeds `bytes`, calling `each` for every complete record.
    pub fn feed(&mut self, mut bytes: &[u8], mut each: impl FnMut(RawEvent)) {
        if !self.partial.is_empty() {
            let need = RECORD_LEN - self.partial.len();
            let take = need.min(bytes.len());
            self.partial.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if let Ok(record) = <&[u8; RECORD_LEN]>::try_from(self.partial.as_slice()) {
                each(RawEvent::from_bytes(record));
                self.partial.clear();
            }
        }
        let mut chunks = bytes.chunks_exact(RECORD_LEN);
        for chunk in &mut chunks {
            if let Ok(record) = <&[u8; RECORD_LEN]>::try_from(chunk) {
                each(RawEvent::from_bytes(record));
            }
        }
        self.partial.extend_from_slice(chunks.remainder());
    }

    /// Drops a partial record (the device was reopened).
    pub fn reset(&mut self) {
        self.partial.clear();
    }
}

/// What a recording expects its stream to decode to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// A scan with exactly these bytes (`# expect: TEXT`, with `\t`, `\\`
    /// and `\xHH` escapes).
    Scan(Vec<u8>),
    /// A dropped scan of this kind (`# expect-error: unmapped-key`).
    Error(String),
}

/// A recorded event stream in the text format of `tests/data/wedge/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// `# layout: fr` (and `# variant: …`).
    pub layout: String,
    /// The variant; empty for the default.
    pub variant: String,
    /// `# terminator: enter | tab | none`.
    pub terminator: String,
    /// `# aim-ids: yes`.
    pub aim_ids: bool,
    /// `# symbology: qr` — the symbology every scan must carry, if given.
    pub symbology: Option<String>,
    /// What the stream decodes to, in order.
    pub expected: Vec<Expected>,
    /// The key events.
    pub events: Vec<KeyEvent>,
}

/// A line of a recording that is not in the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RecordingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for RecordingError {}

fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('\\') => out.push(b'\\'),
            Some('t') => out.push(b'\t'),
            Some('r') => out.push(b'\r'),
            Some('s') => out.push(b' '),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let byte =
                    u8::from_str_radix(&hex, 16).map_err(|_| format!("bad \\x escape {hex:?}"))?;
                out.push(byte);
            }
            other => return Err(format!("unknown escape \\{}", other.unwrap_or(' '))),
        }
    }
    Ok(out)
}

impl Recording {
    /// Parses the text format.
    ///
    /// # Errors
    ///
    /// [`RecordingError`] naming the first bad line.
    pub fn parse(text: &str) -> Result<Recording, RecordingError> {
        let mut rec = Recording {
            layout: "us".into(),
            variant: String::new(),
            terminator: "enter".into(),
            aim_ids: false,
            symbology: None,
            expected: Vec::new(),
            events: Vec::new(),
        };
        for (i, line) in text.lines().enumerate() {
            let fail = |message: String| RecordingError {
                line: i + 1,
                message,
            };
            let line = line.trim_end();
            if let Some(header) = line.strip_prefix('#') {
                let Some((key, value)) = header.split_once(':') else {
                    continue; // a comment
                };
                let value = value.strip_prefix(' ').unwrap_or(value);
                match key.trim() {
                    "layout" => rec.layout = value.trim().into(),
                    "variant" => rec.variant = value.trim().into(),
                    "terminator" => rec.terminator = value.trim().into(),
                    "aim-ids" => rec.aim_ids = value.trim() == "yes",
                    "symbology" => rec.symbology = Some(value.trim().into()),
                    "expect" => rec
                        .expected
                        .push(Expected::Scan(unescape(value).map_err(fail)?)),
                    "expect-error" => rec.expected.push(Expected::Error(value.trim().into())),
                    _ => {} // free-form notes: "# source: …"
                }
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [time, key, value] = fields[..] else {
                return Err(fail(format!(
                    "expected TIME_US KEY_NAME VALUE, found {line:?}"
                )));
            };
            let time: u64 = time
                .parse()
                .map_err(|_| fail(format!("time {time:?} is not microseconds")))?;
            let code = keys::code_of(key).ok_or_else(|| fail(format!("unknown key {key:?}")))?;
            let action = value
                .parse()
                .ok()
                .and_then(KeyAction::from_value)
                .ok_or_else(|| fail(format!("value {value:?} is not 0, 1 or 2")))?;
            let time = Duration::from_micros(time);
            if rec.events.last().is_some_and(|e| e.time > time) {
                return Err(fail("time goes backwards".into()));
            }
            rec.events.push(KeyEvent { time, code, action });
        }
        Ok(rec)
    }

    /// The events as an evdev device sends them: `EV_MSC`/`MSC_SCAN` before
    /// each key (as a USB keyboard does), `EV_SYN` after, all as raw bytes.
    pub fn to_input_events(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.events.len() * 3 * RECORD_LEN);
        for e in &self.events {
            for raw in [
                RawEvent {
                    time: e.time,
                    kind: EV_MSC,
                    code: 4, // MSC_SCAN
                    value: 0x70000 + i32::from(e.code),
                },
                RawEvent {
                    time: e.time,
                    kind: EV_KEY,
                    code: e.code,
                    value: e.action.value(),
                },
                RawEvent {
                    time: e.time,
                    kind: EV_SYN,
                    code: 0,
                    value: 0,
                },
            ] {
                out.extend_from_slice(&raw.to_bytes());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_survive_any_split() {
        let events = [
            RawEvent {
                time: Duration::new(1_700_000_000, 123_456_000),
                kind: EV_KEY,
                code: 30,
                value: 1,
            },
            RawEvent {
                time: Duration::new(1_700_000_000, 124_000_000),
                kind: EV_SYN,
                code: 0,
                value: 0,
            },
            RawEvent {
                time: Duration::new(1_700_000_001, 0),
                kind: EV_KEY,
                code: 30,
                value: 0,
            },
        ];
        let bytes: Vec<u8> = events.iter().flat_map(|e| e.to_bytes()).collect();
        assert_eq!(bytes.len(), 3 * RECORD_LEN);
        #[cfg(target_pointer_width = "64")]
        assert_eq!(RECORD_LEN, 24, "struct input_event on 64-bit Linux");
        for split in [1, 5, 23, 24, 25, 47, 71] {
            let mut parser = RecordParser::new();
            let mut got = Vec::new();
            for chunk in bytes.chunks(split) {
                parser.feed(chunk, |e| got.push(e));
            }
            assert_eq!(got, events, "split {split}");
        }
        assert_eq!(
            events[0].key(),
            Some(KeyEvent {
                time: Duration::new(1_700_000_000, 123_456_000),
                code: 30,
                action: KeyAction::Press,
            })
        );
        assert_eq!(events[1].key(), None);
    }

    #[test]
    fn the_text_format_parses_and_names_bad_lines() {
        let rec = Recording::parse(
            "# layout: fr\n# terminator: none\n# expect: 12\\t\\x1d3\n# a note\n\n\
             0 KEY_LEFTSHIFT 1\n10 KEY_1 1\n20 KEY_1 0\n30 42 0\n",
        )
        .unwrap();
        assert_eq!(rec.layout, "fr");
        assert_eq!(rec.terminator, "none");
        assert_eq!(rec.expected, [Expected::Scan(b"12\t\x1d3".to_vec())]);
        assert_eq!(rec.events.len(), 4);
        assert_eq!(rec.events[3].code, 42);
        assert_eq!(rec.events[1].time, Duration::from_micros(10));
        let e = Recording::parse("0 KEY_A 1\n5 KEY_NOPE 1\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(Recording::parse("0 KEY_A 3\n").is_err());
        assert!(Recording::parse("5 KEY_A 1\n4 KEY_A 0\n").is_err());
        assert!(Recording::parse("5 KEY_A\n").is_err());
        let bytes = rec.to_input_events();
        let mut keys = Vec::new();
        RecordParser::new().feed(&bytes, |e| keys.extend(e.key()));
        assert_eq!(keys, rec.events);
    }
}
