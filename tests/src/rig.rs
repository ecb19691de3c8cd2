//! A whole till for end-to-end tests: a private dbus-daemon, kassad, a
//! serial scanner and a pole display on ptys behind stable links, and the
//! sample backend on loopback.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kassa_client::{CheckoutProxy, DeviceProxy, TerminalProxy, error_name};
use serde_json::json;
use zbus::zvariant::Value;

use crate::Pty;
use crate::backend::{Options as BackendOptions, SampleBackend};
use crate::bus::{Kassad, PrivateBus};

/// A WeChat Pay code.
pub const WECHAT: &str = "134567890123456789";
/// An Alipay code.
pub const ALIPAY: &str = "2812345678901234";
/// How long a test waits for what must happen.
pub const LONG: Duration = Duration::from_secs(10);

/// A pty behind a stable symlink, as udev would name a USB scanner.
pub struct SerialDevice {
    pty: Option<Pty>,
    /// The stable path kassad is configured with.
    pub link: PathBuf,
}

impl SerialDevice {
    /// A new pty linked as `dir/name`.
    pub fn new(dir: &Path, name: &str) -> SerialDevice {
        let pty = Pty::open();
        let link = dir.join(name);
        std::os::unix::fs::symlink(pty.path(), &link).unwrap();
        SerialDevice {
            pty: Some(pty),
            link,
        }
    }

    /// Sends bytes as the device.
    pub fn send(&mut self, bytes: &[u8]) {
        self.pty.as_mut().expect("plugged in").send(bytes);
    }

    /// Unplugs the device.
    pub fn unplug(&mut self) {
        if let Some(pty) = self.pty.take() {
            pty.unplug();
        }
    }

    /// Plugs a fresh device in behind the same link.
    pub fn plug_in(&mut self) {
        let pty = Pty::open();
        let _ = std::fs::remove_file(&self.link);
        std::os::unix::fs::symlink(pty.path(), &self.link).unwrap();
        self.pty = Some(pty);
    }

    /// The device side.
    pub fn pty(&mut self) -> &mut Pty {
        self.pty.as_mut().expect("plugged in")
    }
}

/// kassad with a serial scanner `counter` (triggered by `\x16T\r`, off
/// by `\x16U\r`), a CD5220 pole display `pole` and the sample backend.
pub struct Rig {
    /// The private bus.
    pub bus: PrivateBus,
    /// kassad itself.
    pub kassad: Option<Kassad>,
    /// The scanner's device side.
    pub scanner: SerialDevice,
    /// The display's device side.
    pub display: SerialDevice,
    /// The backend.
    pub backend: SampleBackend,
    _dir: tempfile::TempDir,
}

/// A valid order document with id `id`, total ¥36.00.
pub fn order_json(id: &str) -> serde_json::Value {
    json!({"id": id, "currency": "CNY",
           "items": [{"name": "拿铁 Latte", "quantity": "2", "unit_price": 1800, "total": 3600}],
           "total": 3600})
}

impl Rig {
    /// Starts a till with the default backend and configuration.
    pub async fn start() -> Rig {
        Rig::start_with(BackendOptions::default(), "").await
    }

    /// Starts a till; `extra` goes at the end of `[backend]`.
    pub async fn start_with(backend_options: BackendOptions, extra: &str) -> Rig {
        Rig::start_configured(backend_options, "", extra).await
    }

    /// Starts a till; `checkout` goes into `[checkout]`, `backend` at the
    /// end of `[backend]`.
    pub async fn start_configured(
        backend_options: BackendOptions,
        checkout: &str,
        extra: &str,
    ) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let scanner = SerialDevice::new(dir.path(), "scanner");
        let display = SerialDevice::new(dir.path(), "display");
        let backend = SampleBackend::start(backend_options).await.unwrap();
        let config = format!(
            r#"
[checkout]
result_display_ms = 200
{checkout}

[[scanner]]
name = "counter"
driver = "serial"
path = "{scanner}"
trigger_on = "\u0016T\r"
trigger_off = "\u0016U\r"

[[display]]
name = "pole"
driver = "vfd"
path = "{display}"
command_set = "cd5220"

[backend]
order_query_url = "{url}/orders?payment_code={{code}}"
payment_status_url = "{url}/payments/{{code}}/status"
request_timeout_ms = 1000
poll_interval_ms = 50
poll_max_ms = 200
{extra}
"#,
            scanner = scanner.link.display(),
            display = display.link.display(),
            url = backend.url(),
        );
        let bus = PrivateBus::start();
        let kassad = Kassad::start(&config, &bus).await;
        let rig = Rig {
            bus,
            kassad: Some(kassad),
            scanner,
            display,
            backend,
            _dir: dir,
        };
        rig.wait_connected("counter").await;
        rig.wait_connected("pole").await;
        rig
    }

    /// A Terminal1 proxy on a connection of its own.
    pub async fn terminal(&self) -> TerminalProxy<'static> {
        let conn = self.bus.connect().await;
        TerminalProxy::new(&conn).await.unwrap()
    }

    /// A Device1 proxy on a connection of its own.
    pub async fn device(&self, name: &str) -> DeviceProxy<'static> {
        let conn = self.bus.connect().await;
        DeviceProxy::builder(&conn)
            .path(format!("/org/kassa/Terminal1/devices/{name}"))
            .unwrap()
            .build()
            .await
            .unwrap()
    }

    /// Waits until device `name` is connected.
    pub async fn wait_connected(&self, name: &str) {
        let device = self.device(name).await;
        let deadline = Instant::now() + LONG;
        while !device.connected().await.unwrap() {
            assert!(Instant::now() < deadline, "{name} never connected");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Reads what the display received within `wait`.
    pub fn display_bytes(&mut self, wait: Duration) -> Vec<u8> {
        self.display.pty().receive(usize::MAX, wait).unwrap()
    }
}

/// An `a{sv}` of `pairs`.
pub fn options<'a>(pairs: &[(&'a str, Value<'a>)]) -> HashMap<&'a str, Value<'a>> {
    pairs.iter().cloned().collect()
}

/// A Checkout1 proxy for `path`, uncached.
pub async fn checkout_proxy(conn: &zbus::Connection, path: &str) -> CheckoutProxy<'static> {
    // Uncached, so that a property read right after a call sees the
    // daemon's state rather than a cache still waiting for its signal.
    CheckoutProxy::builder(conn)
        .path(path.to_string())
        .unwrap()
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .unwrap()
}

/// The D-Bus error name of `e`.
pub fn err_name(e: &zbus::Error) -> String {
    error_name(e).unwrap_or_else(|| format!("not a method error: {e}"))
}

/// Waits until the terminal's `State` is `state`: what a test waits on
/// instead of a fixed sleep.
///
/// # Panics
///
/// When it is not within [`LONG`].
pub async fn wait_for_state(terminal: &TerminalProxy<'_>, state: &str) {
    let deadline = Instant::now() + LONG;
    loop {
        let now = terminal.state().await.expect("State");
        if now == state {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "State stayed {now:?}, not {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A Claim1 proxy for `path`.
///
/// # Panics
///
/// When the path is not an object path.
pub async fn claim_proxy(conn: &zbus::Connection, path: &str) -> kassa_client::ClaimProxy<'static> {
    kassa_client::ClaimProxy::builder(conn)
        .path(path.to_string())
        .unwrap()
        .build()
        .await
        .unwrap()
}

/// Calls `call` again while it fails with `Busy`, for at most `within`:
/// what a test does after a caller that held the scanner has left.
///
/// # Panics
///
/// On another error, or still `Busy` after `within`.
pub async fn until_not_busy<T, F, Fut>(within: Duration, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = zbus::Result<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        match call().await {
            Ok(value) => return value,
            Err(e) if err_name(&e) == "org.kassa.Error.Busy" && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}
