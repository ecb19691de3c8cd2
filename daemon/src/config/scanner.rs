//! `[[scanner]]`: the keys every scanner takes, and one table of settings
//! per driver (serial and USB ones in their own modules).

use std::path::PathBuf;

use kassa_drivers::camera::CodeFormat;
use kassa_drivers::camera::v4l2::{PixelFormat, V4l2Config};
use serde::Deserialize;
use toml::Spanned;

use super::ScannerDriver;
use super::keys::{Drivers, Mistake, Table};
use super::serial::{RawPort, RawSerialScanner};
#[cfg(feature = "usb")]
use super::usb::{RawHidPosScanner, RawPassThrough, RawUsbDevice, RawWedgeScanner};
use super::values::ms;

/// The values of `driver`.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub(super) enum ScannerDriverName {
    Serial,
    Camera,
    Wedge,
    Hidpos,
    Mock,
}

/// The keys every scanner takes, whatever its driver.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScannerCommon {
    pub name: String,
    pub driver: Spanned<ScannerDriverName>,
}

/// A scanner's settings as written: one table per driver.
pub(super) enum RawScanner {
    Serial(RawPort, RawSerialScanner),
    Camera(RawCameraScanner),
    #[cfg(feature = "usb")]
    Wedge(RawUsbDevice, RawWedgeScanner, RawPassThrough),
    #[cfg(feature = "usb")]
    HidPos(RawUsbDevice, RawHidPosScanner, RawPassThrough),
    Mock(RawMockScanner),
}

impl Drivers for ScannerDriverName {
    type Raw = RawScanner;

    fn take(self, t: &mut Table<'_>, what: &str) -> Result<RawScanner, Mistake> {
        Ok(match self {
            ScannerDriverName::Serial => RawScanner::Serial(t.take(what)?, t.take(what)?),
            ScannerDriverName::Camera => RawScanner::Camera(t.take(what)?),
            #[cfg(feature = "usb")]
            ScannerDriverName::Wedge => {
                RawScanner::Wedge(t.take(what)?, t.take(what)?, t.take(what)?)
            }
            #[cfg(feature = "usb")]
            ScannerDriverName::Hidpos => {
                RawScanner::HidPos(t.take(what)?, t.take(what)?, t.take(what)?)
            }
            #[cfg(not(feature = "usb"))]
            ScannerDriverName::Wedge | ScannerDriverName::Hidpos => {
                return Err(Mistake {
                    at: None,
                    message: format!(
                        "{what}: USB scanners are not in this build of kassad (built without \
                         cargo feature usb); the Debian package has them"
                    ),
                });
            }
            ScannerDriverName::Mock => RawScanner::Mock(t.take(what)?),
        })
    }

    fn why_not(self, other: Self) -> Option<&'static str> {
        (self == ScannerDriverName::Hidpos && other == ScannerDriverName::Wedge)
            .then_some("HID POS reports carry no keys")
    }
}

impl RawScanner {
    /// Validates the settings.
    pub(super) fn settings(self) -> Result<ScannerDriver, String> {
        match self {
            RawScanner::Serial(port, serial) => serial.settings(port),
            RawScanner::Camera(camera) => camera.settings(),
            #[cfg(feature = "usb")]
            RawScanner::Wedge(device, wedge, pass) => {
                wedge.settings(device, pass).map(ScannerDriver::Wedge)
            }
            #[cfg(feature = "usb")]
            RawScanner::HidPos(device, hidpos, pass) => {
                hidpos.settings(device, pass).map(ScannerDriver::HidPos)
            }
            RawScanner::Mock(mock) => Ok(mock.settings()),
        }
    }
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawPixelFormat {
    Auto,
    Yuyv,
    Mjpeg,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawCodeFormat {
    Qr,
    Code128,
    Datamatrix,
    Pdf417,
}

/// The settings of `driver = "camera"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCameraScanner {
    path: Option<PathBuf>,
    width: Option<u32>,
    height: Option<u32>,
    fps: Option<u32>,
    format: Option<RawPixelFormat>,
    formats: Option<Vec<RawCodeFormat>>,
}

/// Widths a camera may be asked for, in pixels.
const CAMERA_WIDTH: std::ops::RangeInclusive<u32> = 16..=7680;
/// Heights a camera may be asked for, in pixels.
const CAMERA_HEIGHT: std::ops::RangeInclusive<u32> = 16..=4320;
/// Frame rates a camera may be asked for.
const CAMERA_FPS: std::ops::RangeInclusive<u32> = 1..=240;

impl RawCameraScanner {
    fn settings(self) -> Result<ScannerDriver, String> {
        let defaults = V4l2Config::default();
        let path = self.path.ok_or("path is required")?;
        let width = self.width.unwrap_or(defaults.width);
        let height = self.height.unwrap_or(defaults.height);
        if !CAMERA_WIDTH.contains(&width) || !CAMERA_HEIGHT.contains(&height) {
            return Err(format!(
                "{width}x{height} is not a camera resolution ({}x{} to {}x{})",
                CAMERA_WIDTH.start(),
                CAMERA_HEIGHT.start(),
                CAMERA_WIDTH.end(),
                CAMERA_HEIGHT.end()
            ));
        }
        let fps = self.fps.unwrap_or(defaults.fps);
        if !CAMERA_FPS.contains(&fps) {
            return Err(format!(
                "fps must be {} to {}",
                CAMERA_FPS.start(),
                CAMERA_FPS.end()
            ));
        }
        let format = match self.format.unwrap_or(RawPixelFormat::Auto) {
            RawPixelFormat::Auto => PixelFormat::Auto,
            RawPixelFormat::Yuyv => PixelFormat::Yuyv,
            RawPixelFormat::Mjpeg => PixelFormat::Mjpeg,
        };
        let formats: Vec<CodeFormat> = match self.formats {
            None => vec![CodeFormat::Qr, CodeFormat::Code128],
            Some(list) => list
                .iter()
                .map(|f| match f {
                    RawCodeFormat::Qr => CodeFormat::Qr,
                    RawCodeFormat::Code128 => CodeFormat::Code128,
                    RawCodeFormat::Datamatrix => CodeFormat::DataMatrix,
                    RawCodeFormat::Pdf417 => CodeFormat::Pdf417,
                })
                .collect(),
        };
        if formats.is_empty() {
            return Err("formats must name at least one of qr, code128, datamatrix, pdf417".into());
        }
        Ok(ScannerDriver::Camera {
            capture: V4l2Config {
                path,
                width,
                height,
                fps,
                format,
            },
            formats,
        })
    }
}

/// The settings of `driver = "mock"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMockScanner {
    codes: Option<Vec<String>>,
    delay_ms: Option<u64>,
}

impl RawMockScanner {
    fn settings(self) -> ScannerDriver {
        ScannerDriver::Mock {
            codes: self.codes.unwrap_or_default(),
            delay: ms(self.delay_ms.unwrap_or(1000)),
        }
    }
}
