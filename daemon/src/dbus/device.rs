//! `org.kassa.Device1`, one object per configured device, and the task that
//! sends its status changes as `PropertiesChanged` (counters rate-limited).

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{OwnedObjectPath, Value};
use zbus::{Connection, interface};

use super::ROOT;
use super::properties::{Property, Published};
use crate::devices::{Device, DeviceStatus};

/// The shortest gap between two `PropertiesChanged` signals of one device
/// that only carry its counters.
const COUNTER_SIGNAL_GAP: Duration = Duration::from_millis(250);

/// `org.kassa.Device1`.
pub struct DeviceIface {
    device: Device,
}

#[interface(name = "org.kassa.Device1")]
impl DeviceIface {
    /// `ok`, or why not.
    async fn check_health(&self) -> String {
        self.device.health()
    }

    /// Configured name.
    #[zbus(property)]
    async fn name(&self) -> String {
        self.device.info.name.clone()
    }

    /// `scanner`, `display` or `camera`.
    #[zbus(property)]
    async fn role(&self) -> String {
        self.device.info.role.as_str().to_string()
    }

    /// Driver name.
    #[zbus(property)]
    async fn driver(&self) -> String {
        self.device.info.driver.to_string()
    }

    /// Device path.
    #[zbus(property)]
    async fn path(&self) -> String {
        self.device.info.path.clone()
    }

    /// Whether it is open and working.
    #[zbus(property)]
    async fn connected(&self) -> bool {
        self.device.status.borrow().connected
    }

    /// The last error.
    #[zbus(property)]
    async fn last_error(&self) -> String {
        self.device.status.borrow().last_error.clone()
    }

    /// Scans read since start.
    #[zbus(property)]
    async fn scan_count(&self) -> u64 {
        self.device.status.borrow().scan_count
    }

    /// Reads dropped since start: garbled data, and scans nobody wanted.
    #[zbus(property)]
    async fn dropped_count(&self) -> u64 {
        self.device.status.borrow().dropped_count
    }
}

/// The properties of `org.kassa.Device1` that change, as read from the
/// device's status.
const DEVICE_PROPERTIES: &[Property<DeviceStatus>] = &[
    ("Connected", |s| Value::from(s.connected)),
    ("LastError", |s| Value::from(s.last_error.as_str())),
    ("ScanCount", |s| Value::from(s.scan_count)),
    ("DroppedCount", |s| Value::from(s.dropped_count)),
];

/// Serves `device` under `ROOT/devices/<name>` and sends its status changes
/// until `stop`.
pub(super) async fn serve_device(
    conn: &Connection,
    device: Device,
    stop: CancellationToken,
) -> zbus::Result<()> {
    let path = OwnedObjectPath::try_from(format!("{ROOT}/devices/{}", device.info.name))?;
    let mut status = device.status.clone();
    conn.object_server()
        .at(path.clone(), DeviceIface { device })
        .await?;
    let emitter = SignalEmitter::new(conn, path)?;
    tokio::spawn(stop.run_until_cancelled_owned(async move {
        let mut published = Published::new(
            "org.kassa.Device1",
            DEVICE_PROPERTIES,
            status.borrow_and_update().clone(),
        );
        let mut sent = tokio::time::Instant::now();
        while status.changed().await.is_ok() {
            let mut now = status.borrow_and_update().clone();
            let last = published.last();
            if now.connected == last.connected && now.last_error == last.last_error {
                // Only counters moved: a scanner spewing reads must not
                // flood the bus, so their changes are sent at most a few
                // times a second (a connection change still goes at once).
                tokio::time::sleep_until(sent + COUNTER_SIGNAL_GAP).await;
                now = status.borrow_and_update().clone();
            }
            sent = tokio::time::Instant::now();
            published.publish(&emitter, now).await;
        }
    }));
    Ok(())
}
