//! The validated scanners and displays: each one's name, driver and
//! settings, as the devices module starts them.

use std::path::PathBuf;
use std::time::Duration;

use kassa_drivers::camera::CodeFormat;
use kassa_drivers::camera::v4l2::V4l2Config;
use kassa_drivers::lcd::LcdConfig;
use kassa_drivers::serial::ScannerConfig as Framing;
use kassa_drivers::serial::linux::PortSettings;
use kassa_drivers::vfd::VfdConfig;
use kassa_hal::SourceKind;

#[cfg(feature = "usb")]
use super::{HidPosSettings, WedgeSettings};
use crate::web::WebConfig;

/// One scanner.
#[derive(Debug, Clone)]
pub struct ScannerConfig {
    /// Its name: the last element of its D-Bus object path.
    pub name: String,
    /// How to reach it.
    pub driver: ScannerDriver,
}

/// A scanner's driver and its settings.
#[derive(Debug, Clone)]
pub enum ScannerDriver {
    /// A scanner on a serial port.
    Serial {
        /// Device path (`/dev/ttyACM0`, `/dev/serial/by-id/…`).
        path: PathBuf,
        /// Line settings; the read timeout is the idle gap.
        port: PortSettings,
        /// Framing, AIM ids and trigger sequences.
        framing: Framing,
    },
    /// A camera reading codes from the customer's phone (and capturing
    /// faces for `CaptureFace`). A `path` that is a directory of frames
    /// (`.pgm`, `.jpg`) is played back instead, for tests and demos.
    Camera {
        /// Device, size, rate and pixel format.
        capture: V4l2Config,
        /// Symbologies to read.
        formats: Vec<CodeFormat>,
    },
    /// A USB scanner that types like a keyboard, read through evdev.
    #[cfg(feature = "usb")]
    Wedge(WedgeSettings),
    /// A USB scanner in HID POS mode, read through hidraw.
    #[cfg(feature = "usb")]
    HidPos(HidPosSettings),
    /// A simulated scanner: when triggered, it "reads" the next of `codes`
    /// after `delay`, as a customer holding up a phone would.
    Mock {
        /// Codes to read, in turn.
        codes: Vec<String>,
        /// Time from trigger to read.
        delay: Duration,
    },
}

impl ScannerConfig {
    /// The source kind its scans carry.
    pub fn source(&self) -> SourceKind {
        match self.driver {
            ScannerDriver::Serial { .. } => SourceKind::Serial,
            ScannerDriver::Camera { .. } => SourceKind::Camera,
            #[cfg(feature = "usb")]
            ScannerDriver::Wedge(_) => SourceKind::Wedge,
            #[cfg(feature = "usb")]
            ScannerDriver::HidPos(_) => SourceKind::HidPos,
            ScannerDriver::Mock { .. } => SourceKind::Mock,
        }
    }

    /// The driver's name as in the file.
    pub fn driver_name(&self) -> &'static str {
        match self.driver {
            ScannerDriver::Serial { .. } => "serial",
            ScannerDriver::Camera { .. } => "camera",
            #[cfg(feature = "usb")]
            ScannerDriver::Wedge(_) => "wedge",
            #[cfg(feature = "usb")]
            ScannerDriver::HidPos(_) => "hidpos",
            ScannerDriver::Mock { .. } => "mock",
        }
    }

    /// The device path, or empty.
    pub fn path(&self) -> String {
        match &self.driver {
            ScannerDriver::Serial { path, .. } => path.display().to_string(),
            ScannerDriver::Camera { capture, .. } => capture.path.display().to_string(),
            #[cfg(feature = "usb")]
            ScannerDriver::Wedge(w) => w.device.to_string(),
            #[cfg(feature = "usb")]
            ScannerDriver::HidPos(h) => h.device.to_string(),
            ScannerDriver::Mock { .. } => String::new(),
        }
    }
}

/// One customer display.
#[derive(Debug, Clone)]
pub struct DisplayConfig {
    /// Its name.
    pub name: String,
    /// How to reach it.
    pub driver: DisplayDriver,
    /// How long showing one view may take before the display counts as
    /// hung: it is then reported and reconnected, and never holds up the
    /// other displays.
    pub deadline: Duration,
}

/// A display's driver and its settings.
#[derive(Debug, Clone)]
pub enum DisplayDriver {
    /// A pole or LED display on a serial port.
    Vfd {
        /// Device path.
        path: PathBuf,
        /// Line settings.
        port: PortSettings,
        /// Command set, code page, width.
        vfd: VfdConfig,
    },
    /// Draws the customer's screen in a terminal (the demo's display).
    Console {
        /// Where to draw: a file or tty; standard output when absent.
        path: Option<PathBuf>,
        /// Width of the drawing in columns.
        columns: usize,
    },
    /// A character LCD (HD44780) on an I2C bus.
    Lcd {
        /// The I2C bus device, e.g. `/dev/i2c-1`.
        path: PathBuf,
        /// Address, size, glyphs.
        lcd: LcdConfig,
    },
    /// The web second screen, served by kassad.
    Web(WebConfig),
    /// Records views in the log only.
    Mock,
}

impl DisplayConfig {
    /// The driver's name as in the file.
    pub fn driver_name(&self) -> &'static str {
        match self.driver {
            DisplayDriver::Vfd { .. } => "vfd",
            DisplayDriver::Console { .. } => "console",
            DisplayDriver::Lcd { .. } => "lcd",
            DisplayDriver::Web(_) => "web",
            DisplayDriver::Mock => "mock",
        }
    }

    /// The device path, or empty.
    pub fn path(&self) -> String {
        match &self.driver {
            DisplayDriver::Vfd { path, .. } | DisplayDriver::Lcd { path, .. } => {
                path.display().to_string()
            }
            DisplayDriver::Console { path, .. } => path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "stdout".into()),
            DisplayDriver::Web(web) => format!("http://{}/", web.listen),
            DisplayDriver::Mock => String::new(),
        }
    }
}
