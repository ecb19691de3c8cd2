//! Finding the barcode report in a HID report descriptor.
//!
//! A HID POS scanner describes its reports in its report descriptor (HID
//! 1.11, §6.2.2): items that set the usage page, sizes and counts, then
//! `Input` items that lay out the fields. Makers order and size the fields
//! differently, so the layout is read from the descriptor, never assumed.
//! The fields that matter are on the Bar Code Scanner page (HID Usage
//! Tables, usage page `0x8C`): Symbology Identifier 1–3 (`0xFB`–`0xFD`),
//! Decoded Data (`0xFE`) and Decode Data Continued (`0xFF`), plus Generic
//! Desktop's Byte Count (`0x01:0x3B`), which some scanners put in front.

use std::fmt;

/// The Bar Code Scanner usage page.
pub const PAGE_BARCODE: u16 = 0x8C;
const PAGE_GENERIC_DESKTOP: u16 = 0x01;
const USAGE_BYTE_COUNT: u16 = 0x3B;
const USAGE_SYMBOLOGY_1: u16 = 0xFB;
const USAGE_DECODED_DATA: u16 = 0xFE;
const USAGE_DATA_CONTINUED: u16 = 0xFF;

/// Where a field sits in a report, after the report ID byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Offset in bits.
    pub bit: usize,
    /// Size in bits.
    pub bits: usize,
}

impl Field {
    /// Reads the field's value from `body` (little-endian, as HID is);
    /// 0 where the report is too short.
    pub fn read(&self, body: &[u8]) -> u32 {
        let mut value = 0u32;
        for i in 0..self.bits.min(32) {
            let bit = self.bit + i;
            let set = body.get(bit / 8).is_some_and(|b| b >> (bit % 8) & 1 == 1);
            if set {
                value |= 1 << i;
            }
        }
        value
    }
}

/// The layout of a scanner's barcode input report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportLayout {
    /// The report ID that starts the report, if the device numbers its
    /// reports.
    pub report_id: Option<u8>,
    /// Length of the report body in bytes (without the ID byte).
    pub body_len: usize,
    /// Byte Count: how many bytes of decoded data this report carries.
    pub byte_count: Option<Field>,
    /// Symbology Identifier 1, 2 and 3: the AIM identifier's bytes.
    pub symbology: [Option<Field>; 3],
    /// The Decoded Data bytes, in order.
    pub data: Vec<Field>,
    /// The Decode Data Continued flag.
    pub continued: Option<Field>,
}

/// A descriptor kassa cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DescriptorError {
    /// An item runs past the end of the descriptor.
    Truncated {
        /// Byte offset of the item.
        at: usize,
    },
    /// No input report has Decoded Data (`0x8C:0xFE`): the device is not a
    /// HID POS scanner, or not in HID POS mode.
    NotAScanner,
    /// A report longer than any HID device sends (64 KiB).
    TooLarge,
    /// The Decoded Data field is not made of bytes.
    OddDataSize {
        /// Its report size in bits.
        bits: usize,
    },
}

impl fmt::Display for DescriptorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DescriptorError::Truncated { at } => {
                write!(f, "report descriptor ends inside the item at byte {at}")
            }
            DescriptorError::NotAScanner => f.write_str(
                "report descriptor has no Decoded Data (usage page 0x8C): not a scanner in HID POS mode",
            ),
            DescriptorError::TooLarge => f.write_str("report descriptor lays out a report over 64 KiB"),
            DescriptorError::OddDataSize { bits } => {
                write!(f, "Decoded Data fields are {bits} bits, not bytes")
            }
        }
    }
}

impl std::error::Error for DescriptorError {}

#[derive(Debug, Clone, Copy, Default)]
struct Globals {
    usage_page: u16,
    report_size: usize,
    report_count: usize,
    report_id: Option<u8>,
}

/// One input report being laid out.
#[derive(Debug, Default)]
struct Report {
    id: Option<u8>,
    bits: usize,
    layout: ReportLayout,
    has_data: bool,
}

fn unsigned(data: &[u8]) -> u32 {
    data.iter()
        .rev()
        .fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
}

/// Reads the descriptor and returns the layout of the first input report
/// that carries Decoded Data.
///
/// # Errors
///
/// [`DescriptorError`] for a malformed descriptor or one without a barcode
/// report.
pub fn parse(descriptor: &[u8]) -> Result<ReportLayout, DescriptorError> {
    let mut globals = Globals::default();
    let mut stack: Vec<Globals> = Vec::new();
    let mut usages: Vec<(u16, u16)> = Vec::new();
    let mut usage_range: Option<(u32, u32)> = None;
    let mut reports: Vec<Report> = Vec::new();
    let mut at = 0;
    while at < descriptor.len() {
        let prefix = descriptor[at];
        if prefix == 0xFE {
            // A long item: size, tag, data. None are defined; skip it.
            let size = usize::from(
                *descriptor
                    .get(at + 1)
                    .ok_or(DescriptorError::Truncated { at })?,
            );
            at += 3 + size;
            continue;
        }
        let size = match prefix & 3 {
            3 => 4,
            n => usize::from(n),
        };
        let data = descriptor
            .get(at + 1..at + 1 + size)
            .ok_or(DescriptorError::Truncated { at })?;
        let value = unsigned(data);
        let kind = (prefix >> 2) & 3;
        let tag = prefix >> 4;
        match (kind, tag) {
            // Main: Input.
            (0, 0x8) => {
                let constant = value & 1 == 1;
                let variable = value & 2 == 2;
                let id = globals.report_id;
                let index = match reports.iter().position(|r| r.id == id) {
                    Some(i) => i,
                    None => {
                        reports.push(Report {
                            id,
                            ..Report::default()
                        });
                        reports.len() - 1
                    }
                };
                let report = &mut reports[index];
                const MAX_BITS: usize = 65536 * 8;
                let adds = globals.report_size.saturating_mul(globals.report_count);
                if report.bits.saturating_add(adds) > MAX_BITS || globals.report_count > MAX_BITS {
                    return Err(DescriptorError::TooLarge);
                }
                let mut list = usages.clone();
                if let Some((min, max)) = usage_range {
                    for u in min..=max.min(min.saturating_add(1024)) {
                        let page = if u > 0xFFFF {
                            (u >> 16) as u16
                        } else {
                            globals.usage_page
                        };
                        list.push((page, (u & 0xFFFF) as u16));
                    }
                }
                for i in 0..globals.report_count {
                    let field = Field {
                        bit: report.bits,
                        bits: globals.report_size,
                    };
                    report.bits += globals.report_size;
                    if constant {
                        continue;
                    }
                    // Variable items take usages in turn, the last one
                    // repeating; an array (or buffered bytes) field is one
                    // usage throughout.
                    let usage = if variable {
                        list.get(i).or(list.last())
                    } else {
                        list.first()
                    };
                    let Some(&(page, id)) = usage else { continue };
                    let l = &mut report.layout;
                    match (page, id) {
                        (PAGE_BARCODE, USAGE_DECODED_DATA) => {
                            if globals.report_size != 8 {
                                return Err(DescriptorError::OddDataSize {
                                    bits: globals.report_size,
                                });
                            }
                            l.data.push(field);
                            report.has_data = true;
                        }
                        (PAGE_BARCODE, USAGE_DATA_CONTINUED) => l.continued = Some(field),
                        (PAGE_BARCODE, s @ USAGE_SYMBOLOGY_1..=0xFD) => {
                            l.symbology[usize::from(s - USAGE_SYMBOLOGY_1)] = Some(field);
                        }
                        (PAGE_GENERIC_DESKTOP, USAGE_BYTE_COUNT) => l.byte_count = Some(field),
                        _ => {}
                    }
                }
                usages.clear();
                usage_range = None;
            }
            // Main: Output, Feature, Collection, End Collection clear locals.
            (0, _) => {
                usages.clear();
                usage_range = None;
            }
            // Globals.
            (1, 0x0) => globals.usage_page = value as u16,
            (1, 0x7) => globals.report_size = value as usize,
            (1, 0x8) => globals.report_id = Some(value as u8),
            (1, 0x9) => globals.report_count = value as usize,
            (1, 0xA) => stack.push(globals),
            (1, 0xB) => globals = stack.pop().unwrap_or(globals),
            (1, _) => {}
            // Locals: Usage, Usage Minimum, Usage Maximum. A 4-byte usage
            // carries its own page.
            (2, 0x0) => {
                let page = if size == 4 {
                    (value >> 16) as u16
                } else {
                    globals.usage_page
                };
                usages.push((page, (value & 0xFFFF) as u16));
            }
            (2, 0x1) => usage_range = Some((value, usage_range.map_or(value, |r| r.1))),
            (2, 0x2) => usage_range = Some((usage_range.map_or(value, |r| r.0), value)),
            _ => {}
        }
        at += 1 + size;
    }
    let report = reports
        .into_iter()
        .find(|r| r.has_data)
        .ok_or(DescriptorError::NotAScanner)?;
    let mut layout = report.layout;
    layout.report_id = report.id;
    layout.body_len = report.bits.div_ceil(8);
    Ok(layout)
}
