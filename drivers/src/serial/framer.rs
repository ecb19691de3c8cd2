//! Splitting a serial scanner's byte stream into frames.
//!
//! Pure and byte-driven: [`Framer::push`] takes one byte at a time and
//! [`Framer::idle`] says that the line went quiet. Nothing here knows about
//! clocks or ports, so the same framer serves a blocking port, an async one
//! and the fuzzer.

use alloc::vec::Vec;
use core::fmt;

/// How the end of a scan is recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Terminator {
    /// The scanner ends every scan with these bytes (CR, LF, CRLF, TAB, ETX
    /// or anything else it is programmed to send).
    Suffix(Vec<u8>),
    /// The scanner sends no suffix: a scan ends when the line goes quiet for
    /// the idle gap (the port's read timeout).
    IdleGap,
}

impl Terminator {
    /// `\r`, the factory default of most scanners.
    pub fn cr() -> Terminator {
        Terminator::Suffix(b"\r".to_vec())
    }
    /// `\n`.
    pub fn lf() -> Terminator {
        Terminator::Suffix(b"\n".to_vec())
    }
    /// `\r\n`.
    pub fn crlf() -> Terminator {
        Terminator::Suffix(b"\r\n".to_vec())
    }
    /// `\t`.
    pub fn tab() -> Terminator {
        Terminator::Suffix(b"\t".to_vec())
    }
}

/// Framing settings of one scanner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramingConfig {
    /// Bytes the scanner sends before every scan (STX, a programmed prefix);
    /// empty for none.
    pub prefix: Vec<u8>,
    /// How a scan ends.
    pub terminator: Terminator,
    /// Longest scan accepted, in bytes, without prefix and terminator.
    pub max_len: usize,
}

impl FramingConfig {
    /// Default longest scan: room for a large QR payload.
    pub const DEFAULT_MAX_LEN: usize = 4096;
}

impl Default for FramingConfig {
    fn default() -> Self {
        FramingConfig {
            prefix: Vec::new(),
            terminator: Terminator::cr(),
            max_len: Self::DEFAULT_MAX_LEN,
        }
    }
}

/// A frame that could not be a scan. The framer has already resynchronised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// More than `limit` bytes arrived without a terminator; they are
    /// dropped up to the next terminator.
    Overlong {
        /// The configured maximum.
        limit: usize,
    },
    /// A complete frame did not contain the configured prefix.
    MissingPrefix,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Overlong { limit } => {
                write!(
                    f,
                    "scan longer than {limit} bytes dropped (wrong suffix configured?)"
                )
            }
            FrameError::MissingPrefix => f.write_str("frame without the configured prefix dropped"),
        }
    }
}

impl core::error::Error for FrameError {}

/// The framing state machine.
#[derive(Debug, Clone)]
pub struct Framer {
    config: FramingConfig,
    buf: Vec<u8>,
    /// Dropping an overlong frame until the next terminator.
    discarding: bool,
}

impl Framer {
    /// A framer with `config`.
    pub fn new(config: FramingConfig) -> Framer {
        Framer {
            config,
            buf: Vec::new(),
            discarding: false,
        }
    }

    /// The settings.
    pub fn config(&self) -> &FramingConfig {
        &self.config
    }

    /// Takes one byte; returns a frame (its payload, prefix and suffix
    /// removed) or an error when this byte completes or spoils one.
    pub fn push(&mut self, byte: u8) -> Option<Result<Vec<u8>, FrameError>> {
        self.buf.push(byte);
        let suffix: &[u8] = match &self.config.terminator {
            Terminator::Suffix(suffix) if !suffix.is_empty() => suffix,
            _ => return self.check_length(0),
        };
        if self.buf.ends_with(suffix) {
            let end = self.buf.len() - suffix.len();
            self.buf.truncate(end);
            return self.finish();
        }
        self.check_length(suffix.len())
    }

    /// The line went quiet. Ends the frame in idle-gap mode; in suffix mode a
    /// partial frame waits for its suffix.
    pub fn idle(&mut self) -> Option<Result<Vec<u8>, FrameError>> {
        match &self.config.terminator {
            Terminator::Suffix(suffix) if !suffix.is_empty() => None,
            _ => self.finish(),
        }
    }

    /// Drops whatever partial frame is buffered (after a reconnect, say).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.discarding = false;
    }

    fn check_length(&mut self, suffix_len: usize) -> Option<Result<Vec<u8>, FrameError>> {
        if self.discarding {
            // Keep only what could be the start of a terminator.
            let keep = suffix_len.saturating_sub(1);
            let drop = self.buf.len().saturating_sub(keep);
            self.buf.drain(..drop);
            return None;
        }
        let limit = self.config.max_len + self.config.prefix.len() + suffix_len.saturating_sub(1);
        if self.buf.len() > limit {
            self.discarding = true;
            let keep = suffix_len.saturating_sub(1);
            let drop = self.buf.len().saturating_sub(keep);
            self.buf.drain(..drop);
            return Some(Err(FrameError::Overlong {
                limit: self.config.max_len,
            }));
        }
        None
    }

    fn finish(&mut self) -> Option<Result<Vec<u8>, FrameError>> {
        let frame = core::mem::take(&mut self.buf);
        if core::mem::take(&mut self.discarding) || frame.is_empty() {
            return None;
        }
        let prefix = &self.config.prefix;
        if prefix.is_empty() {
            return Some(Ok(frame));
        }
        // Line noise before the prefix is dropped with it.
        match frame
            .windows(prefix.len())
            .position(|w| w == prefix.as_slice())
        {
            Some(at) => Some(Ok(frame[at + prefix.len()..].to_vec())),
            None => Some(Err(FrameError::MissingPrefix)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Constants written again here so the tests do not trust the driver.
    const CR: u8 = 0x0D;
    const LF: u8 = 0x0A;
    const TAB: u8 = 0x09;
    const STX: u8 = 0x02;
    const ETX: u8 = 0x03;

    fn frames(config: FramingConfig, input: &[u8]) -> Vec<Result<Vec<u8>, FrameError>> {
        let mut framer = Framer::new(config);
        input.iter().filter_map(|&b| framer.push(b)).collect()
    }

    fn suffix(bytes: &[u8]) -> FramingConfig {
        FramingConfig {
            terminator: Terminator::Suffix(bytes.to_vec()),
            ..FramingConfig::default()
        }
    }

    #[test]
    fn each_suffix_ends_a_scan() {
        for (term, sfx) in [
            (Terminator::cr(), vec![CR]),
            (Terminator::lf(), vec![LF]),
            (Terminator::crlf(), vec![CR, LF]),
            (Terminator::tab(), vec![TAB]),
            (Terminator::Suffix(vec![ETX]), vec![ETX]),
        ] {
            let mut input = b"134567890123456789".to_vec();
            input.extend(&sfx);
            input.extend(b"ABC");
            input.extend(&sfx);
            let config = FramingConfig {
                terminator: term,
                ..FramingConfig::default()
            };
            assert_eq!(
                frames(config, &input),
                vec![Ok(b"134567890123456789".to_vec()), Ok(b"ABC".to_vec())],
                "suffix {sfx:?}"
            );
        }
    }

    #[test]
    fn crlf_needs_both_bytes() {
        let out = frames(suffix(&[CR, LF]), b"A\rB\r\n");
        assert_eq!(out, vec![Ok(b"A\rB".to_vec())]);
    }

    #[test]
    fn empty_frames_are_skipped() {
        assert_eq!(
            frames(suffix(&[CR]), b"\r\r12\r\r"),
            vec![Ok(b"12".to_vec())]
        );
    }

    #[test]
    fn prefix_is_stripped_and_noise_before_it_dropped() {
        let config = FramingConfig {
            prefix: vec![STX],
            terminator: Terminator::Suffix(vec![ETX]),
            ..FramingConfig::default()
        };
        let out = frames(config, b"\x02123\x03zz\x02456\x03nope\x03");
        assert_eq!(
            out,
            vec![
                Ok(b"123".to_vec()),
                Ok(b"456".to_vec()),
                Err(FrameError::MissingPrefix)
            ]
        );
    }

    #[test]
    fn overlong_scan_is_an_error_and_the_next_scan_survives() {
        let config = FramingConfig {
            max_len: 8,
            ..suffix(&[CR, LF])
        };
        let mut input = vec![b'9'; 50];
        input.extend(b"\r\n12345678\r\n");
        assert_eq!(
            frames(config, &input),
            vec![
                Err(FrameError::Overlong { limit: 8 }),
                Ok(b"12345678".to_vec())
            ]
        );
    }

    #[test]
    fn a_scan_of_exactly_max_len_is_accepted() {
        let config = FramingConfig {
            max_len: 4,
            prefix: vec![STX],
            ..suffix(&[CR, LF])
        };
        assert_eq!(frames(config, b"\x021234\r\n"), vec![Ok(b"1234".to_vec())]);
    }

    #[test]
    fn idle_gap_ends_scans_without_suffix() {
        let mut framer = Framer::new(FramingConfig {
            terminator: Terminator::IdleGap,
            max_len: 4,
            ..FramingConfig::default()
        });
        for &b in b"12\r3" {
            assert_eq!(framer.push(b), None);
        }
        assert_eq!(framer.idle(), Some(Ok(b"12\r3".to_vec())));
        assert_eq!(framer.idle(), None);
        assert_eq!(framer.push(b'5'), None);
        let over: Vec<_> = b"6789".iter().filter_map(|&b| framer.push(b)).collect();
        assert_eq!(over, vec![Err(FrameError::Overlong { limit: 4 })]);
        assert_eq!(framer.idle(), None, "the overlong scan ends at the gap");
        assert_eq!(framer.push(b'1'), None);
        assert_eq!(framer.idle(), Some(Ok(b"1".to_vec())));
    }

    #[test]
    fn idle_does_not_cut_a_suffixed_scan() {
        let mut framer = Framer::new(suffix(&[CR]));
        framer.push(b'1');
        assert_eq!(framer.idle(), None);
        assert_eq!(framer.push(CR), Some(Ok(b"1".to_vec())));
    }

    #[test]
    fn non_utf8_bytes_pass_through() {
        assert_eq!(
            frames(suffix(&[CR]), &[0xC4, 0xE3, 0xFF, CR]),
            vec![Ok(vec![0xC4, 0xE3, 0xFF])]
        );
    }
}
