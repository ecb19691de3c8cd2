//! The commands that work on this machine's devices without kassad:
//! `discover` (what is plugged in) and `detect-layout` (which layout a
//! keyboard-mode scanner types in).

use std::path::{Path, PathBuf};
use std::time::Duration;

use kassa_drivers::usb::linux::{DeviceMatch, input_nodes, select_input};
use kassa_drivers::wedge::detect::{CANDIDATES, TEST_TEXT, layouts_typing};
use kassa_drivers::wedge::linux::WedgeDevice;
use kassa_hal::{Error as _, ErrorKind};
use serde_json::json;

use crate::commands::Printer;
use crate::discover;
use crate::output::{Failure, note};

/// `kassactl discover`.
pub(crate) fn discover(printer: Printer) {
    let found = discover::discover(Path::new("/sys"));
    printer.print(discover::text(&found), discover::json(&found));
}

/// Without a terminator, a scan ends after this long without keys.
const QUIET: Duration = Duration::from_millis(300);

/// The test code as a QR code in the terminal, light modules drawn, so
/// that it reads dark on light in a terminal with a dark background.
fn test_code() -> String {
    use qrcode::render::unicode::Dense1x2;
    match qrcode::QrCode::new(TEST_TEXT) {
        Ok(code) => code
            .render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

/// `kassactl detect-layout [PATH]`.
pub(crate) fn detect_layout(
    path: Option<&PathBuf>,
    timeout: Duration,
    printer: Printer,
) -> Result<u8, Failure> {
    let node = match path {
        Some(path) => path.clone(),
        None => select_input(&input_nodes(Path::new("/sys")), &DeviceMatch::Known)
            .map(|n| n.devnode.clone())
            .ok_or_else(|| {
                Failure::new(
                    7,
                    "no keyboard-mode scanner kassa knows is plugged in: give its event node \
                     (kassactl discover lists them)",
                )
            })?,
    };
    let mut device = WedgeDevice::open(&node, true).map_err(|e| match e.kind() {
        ErrorKind::Busy => Failure::new(
            5,
            format!(
                "{e}: kassad holds it; stop kassad while detecting (sudo systemctl stop kassad), \
                 then start it again"
            ),
        ),
        ErrorKind::Disconnected => Failure::new(7, e.to_string()),
        _ => Failure::new(1, e.to_string()),
    })?;
    if !printer.json {
        note(&test_code());
        note(&format!(
            "kassactl: scan the code above with the scanner on {} (it reads {TEST_TEXT}; \
             at most {} s)",
            node.display(),
            timeout.as_secs()
        ));
    }
    let keys = device
        .scan_keys(timeout, QUIET)
        .map_err(|e| Failure::new(1, format!("reading {}: {e}", node.display())))?
        .ok_or_else(|| Failure::new(3, "no scan came: scan the code above with the scanner"))?;
    drop(device);
    let found = layouts_typing(&keys, TEST_TEXT, CANDIDATES);
    let Some(first) = found.first() else {
        return Err(Failure::new(
            1,
            "the scan reads as the test code in none of the layouts tried: was it the code \
             above? A scanner that adds a prefix or suffix, or types Alt+numpad codes for \
             every character, must have those off while detecting",
        ));
    };
    let names: Vec<String> = found.iter().map(ToString::to_string).collect();
    let also = if names.len() > 1 {
        format!(" (these type it the same: {})", names[1..].join(", "))
    } else {
        String::new()
    };
    printer.print(
        format!(
            "the scanner types in layout {first}{also}\nin kassa.toml: layout = \"{}\"",
            first.layout
        ),
        json!({"layout": first.layout, "same": names}),
    );
    Ok(0)
}
