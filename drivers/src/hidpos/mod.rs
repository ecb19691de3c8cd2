//! Scanners in USB HID POS mode (usage page `0x8C`).
//!
//! Such a scanner sends no keystrokes, so there is no layout to get wrong:
//! each scan arrives as one or more input reports holding the AIM symbology
//! identifier and the scanned bytes. [`descriptor::parse`] reads where those
//! are from the device's report descriptor; [`HidPosDecoder`] turns reports
//! into scans. Both are pure and tested with bytes; the Linux side
//! ([`linux`], feature `usb-linux`) reads `/dev/hidrawN`.

pub mod descriptor;
#[cfg(feature = "usb-linux")]
pub mod linux;

use std::fmt;
use std::time::Duration;

use kassa_hal::{Scan, SourceKind, Symbology, Timestamp};

pub use descriptor::{DescriptorError, Field, ReportLayout};

/// A report that did not make a scan. The decoder has resynchronised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportError {
    /// The scan grew past the configured maximum over continued reports;
    /// it is dropped.
    Overlong {
        /// The maximum.
        limit: usize,
    },
    /// A report shorter than the descriptor says.
    Short {
        /// Bytes received.
        len: usize,
        /// Bytes the descriptor lays out.
        expected: usize,
    },
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Overlong { limit } => {
                write!(f, "scan dropped: longer than {limit} bytes")
            }
            ReportError::Short { len, expected } => write!(
                f,
                "report dropped: {len} bytes where the report descriptor lays out {expected}"
            ),
        }
    }
}

impl std::error::Error for ReportError {}

/// The symbology of an AIM identifier as a HID POS scanner reports it:
/// `]`, code character, modifier (some scanners leave the `]` out).
pub fn symbology_of(id: [u8; 3]) -> Symbology {
    match id {
        [b']', code, modifier] => Symbology::from_aim(code, modifier),
        [code, modifier, _] if code.is_ascii_alphabetic() && modifier.is_ascii_alphanumeric() => {
            Symbology::from_aim(code, modifier)
        }
        _ => Symbology::Unknown,
    }
}

/// Turns a scanner's input reports into scans.
#[derive(Debug, Clone)]
pub struct HidPosDecoder {
    layout: ReportLayout,
    max_len: usize,
    data: Vec<u8>,
    symbology: Symbology,
    dropping: bool,
}

impl HidPosDecoder {
    /// Default longest scan.
    pub const DEFAULT_MAX_LEN: usize = 8192;

    /// A decoder for reports laid out as `layout`.
    pub fn new(layout: ReportLayout) -> HidPosDecoder {
        HidPosDecoder {
            layout,
            max_len: Self::DEFAULT_MAX_LEN,
            data: Vec::new(),
            symbology: Symbology::Unknown,
            dropping: false,
        }
    }

    /// Sets the longest scan accepted.
    pub fn with_max_len(mut self, max_len: usize) -> HidPosDecoder {
        self.max_len = max_len;
        self
    }

    /// The layout it decodes.
    pub fn layout(&self) -> &ReportLayout {
        &self.layout
    }

    /// Forgets a scan in flight.
    pub fn reset(&mut self) {
        self.data.clear();
        self.symbology = Symbology::Unknown;
        self.dropping = false;
    }

    /// Takes one report as read from hidraw (with its report ID byte when
    /// the device numbers its reports), received at `time`. Returns a scan
    /// when this report ends one; reports of other IDs are ignored.
    ///
    /// # Errors
    ///
    /// [`ReportError`] for a scan that was dropped.
    pub fn push(&mut self, report: &[u8], time: Duration) -> Option<Result<Scan, ReportError>> {
        let body = match self.layout.report_id {
            Some(id) => match report.split_first() {
                Some((&first, body)) if first == id => body,
                _ => return None,
            },
            None => report,
        };
        // The fields we read must be there; trailing padding may be cut.
        let needed = self
            .layout
            .data
            .iter()
            .chain(self.layout.byte_count.iter())
            .chain(self.layout.symbology.iter().flatten())
            .map(|f| (f.bit + f.bits).div_ceil(8))
            .max()
            .unwrap_or(0);
        if body.len() < needed {
            self.reset();
            return Some(Err(ReportError::Short {
                len: body.len(),
                expected: needed,
            }));
        }
        let mut bytes: Vec<u8> = self
            .layout
            .data
            .iter()
            .map(|f| f.read(body) as u8)
            .collect();
        match self.layout.byte_count {
            Some(count) => bytes.truncate(count.read(body) as usize),
            None => {
                while bytes.last() == Some(&0) {
                    bytes.pop();
                }
            }
        }
        if self.data.is_empty() && !self.dropping {
            let id = self
                .layout
                .symbology
                .map(|f| f.map_or(0, |f| f.read(body) as u8));
            self.symbology = symbology_of(id);
        }
        let continued = self.layout.continued.is_some_and(|f| f.read(body) != 0);
        if !self.dropping {
            if self.data.len() + bytes.len() > self.max_len {
                self.dropping = true;
                self.data.clear();
                if !continued {
                    self.dropping = false;
                }
                return Some(Err(ReportError::Overlong {
                    limit: self.max_len,
                }));
            }
            self.data.extend_from_slice(&bytes);
        }
        if continued {
            return None;
        }
        if std::mem::take(&mut self.dropping) {
            self.data.clear();
            return None;
        }
        let data = std::mem::take(&mut self.data);
        if data.is_empty() {
            return None;
        }
        let mut scan = Scan::new(data, SourceKind::HidPos, Timestamp(time));
        scan.symbology = self.symbology;
        Some(Ok(scan))
    }
}

#[cfg(test)]
mod tests;
