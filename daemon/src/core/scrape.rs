//! What a scrape of the metrics sees of the terminal: its counters, and
//! each device's own counts as its worker reports them.

use super::Terminal;
use crate::metrics::DeviceSample;

impl Terminal {
    /// The metrics exposition, as of now.
    pub fn metrics_text(&self) -> String {
        let devices = &self.shared.devices;
        let scanners = devices
            .scanners
            .iter()
            .map(|s| (&s.device, Some(s.source.as_str())));
        let displays = devices.displays.iter().map(|d| (&d.device, None));
        let samples: Vec<DeviceSample<'_>> = scanners
            .chain(displays)
            .map(|(device, source)| {
                let status = device.status.borrow();
                DeviceSample {
                    name: &device.info.name,
                    role: device.info.role.as_str(),
                    driver: device.info.driver,
                    source,
                    connected: status.connected,
                    connects: status.connects,
                    disconnects: status.disconnects,
                    scans: status.scan_count,
                    garbled: status.garbled_count,
                }
            })
            .collect();
        self.shared.metrics.render(&samples)
    }
}
