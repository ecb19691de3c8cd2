//! Serial devices: the line settings that serial scanners and VFDs share,
//! and the settings of `[[scanner]] driver = "serial"`.

use std::path::PathBuf;

use kassa_drivers::serial::linux::{DataBits, FlowControl, Parity, PortSettings, StopBits};
use kassa_drivers::serial::{FramingConfig, ScannerConfig as Framing, Terminator};
use serde::Deserialize;

use super::ScannerDriver;
use super::values::{bytes, idle_gap, max_length, ms};

/// Serial speeds accepted, in baud.
const BAUD: std::ops::RangeInclusive<u32> = 50..=4_000_000;

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawParity {
    None,
    Odd,
    Even,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawFlow {
    None,
    Software,
    Hardware,
}

/// The device and line settings of anything on a serial port: the keys
/// `[[scanner]] driver = "serial"` and `[[display]] driver = "vfd"` share.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPort {
    path: Option<PathBuf>,
    baud: Option<u32>,
    data_bits: Option<u8>,
    parity: Option<RawParity>,
    stop_bits: Option<u8>,
    flow_control: Option<RawFlow>,
}

impl RawPort {
    /// The device path and line settings.
    pub(super) fn settings(self) -> Result<(PathBuf, PortSettings), String> {
        let path = self.path.ok_or("path is required")?;
        let mut port = PortSettings::default();
        if let Some(baud) = self.baud {
            if !BAUD.contains(&baud) {
                return Err(format!("baud {baud} is not a serial speed"));
            }
            port.baud = baud;
        }
        if let Some(bits) = self.data_bits {
            port.data_bits = match bits {
                5 => DataBits::Five,
                6 => DataBits::Six,
                7 => DataBits::Seven,
                8 => DataBits::Eight,
                _ => return Err("data_bits must be 5, 6, 7 or 8".into()),
            };
        }
        if let Some(parity) = self.parity {
            port.parity = match parity {
                RawParity::None => Parity::None,
                RawParity::Odd => Parity::Odd,
                RawParity::Even => Parity::Even,
            };
        }
        if let Some(stop) = self.stop_bits {
            port.stop_bits = match stop {
                1 => StopBits::One,
                2 => StopBits::Two,
                _ => return Err("stop_bits must be 1 or 2".into()),
            };
        }
        if let Some(flow) = self.flow_control {
            port.flow_control = match flow {
                RawFlow::None => FlowControl::None,
                RawFlow::Software => FlowControl::Software,
                RawFlow::Hardware => FlowControl::Hardware,
            };
        }
        Ok((path, port))
    }
}

/// The settings of `[[scanner]] driver = "serial"` besides the port.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSerialScanner {
    suffix: Option<String>,
    prefix: Option<String>,
    idle_gap_ms: Option<u64>,
    aim_ids: Option<bool>,
    max_length: Option<usize>,
    trigger_on: Option<String>,
    trigger_off: Option<String>,
}

impl RawSerialScanner {
    /// Validates the settings.
    pub(super) fn settings(self, port: RawPort) -> Result<ScannerDriver, String> {
        let (path, mut port) = port.settings()?;
        let suffix = bytes("suffix", self.suffix.as_deref().unwrap_or("\r"))?;
        let gap = idle_gap(self.idle_gap_ms.unwrap_or(50))?;
        // With a suffix the read timeout only paces trigger and shutdown
        // checks; without one it is the gap that ends a scan.
        port.read_timeout = if suffix.is_empty() { gap } else { ms(100) };
        let framing = Framing {
            framing: FramingConfig {
                prefix: bytes("prefix", self.prefix.as_deref().unwrap_or(""))?,
                terminator: if suffix.is_empty() {
                    Terminator::IdleGap
                } else {
                    Terminator::Suffix(suffix)
                },
                max_len: max_length(self.max_length, FramingConfig::DEFAULT_MAX_LEN)?,
            },
            aim_ids: self.aim_ids.unwrap_or(false),
            trigger_on: bytes("trigger_on", self.trigger_on.as_deref().unwrap_or(""))?,
            trigger_off: bytes("trigger_off", self.trigger_off.as_deref().unwrap_or(""))?,
        };
        Ok(ScannerDriver::Serial {
            path,
            port,
            framing,
        })
    }
}
