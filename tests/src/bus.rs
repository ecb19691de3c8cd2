//! A private D-Bus daemon and kassad served on it, for end-to-end tests.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use kassa_daemon::config::Config;
use kassa_daemon::dbus::Bus;
use kassa_daemon::service::{RunError, run};
use tokio::sync::oneshot;

/// A kassad configuration with a simulated scanner that reads `code`
/// `delay_ms` after each trigger, and a mock display.
pub fn mock_config(code: &str, delay_ms: u64) -> String {
    format!(
        "[[scanner]]\nname = \"sim\"\ndriver = \"mock\"\ncodes = [\"{code}\"]\ndelay_ms = {delay_ms}\n\n\
         [[display]]\nname = \"screen\"\ndriver = \"mock\"\n"
    )
}

/// A `dbus-daemon` of the test's own, on a socket in a temporary directory.
pub struct PrivateBus {
    child: Option<Child>,
    address: String,
    _dir: Option<tempfile::TempDir>,
}

impl PrivateBus {
    /// Starts one and waits until it accepts connections.
    ///
    /// # Panics
    ///
    /// When `dbus-daemon` is missing (scripts/setup-debian.sh installs it) or
    /// fails to start.
    pub fn start() -> PrivateBus {
        let dir = tempfile::tempdir().expect("temporary directory");
        let socket = dir.path().join("bus");
        PrivateBus::spawn(
            &[
                "--session".to_string(),
                format!("--address=unix:path={}", socket.display()),
            ],
            Some(dir),
        )
    }

    /// Starts one from a bus configuration file of the test's (which names
    /// the socket it listens on); stopped when dropped, like [`start`]'s.
    ///
    /// [`start`]: PrivateBus::start
    ///
    /// # Panics
    ///
    /// As [`PrivateBus::start`].
    pub fn with_config(config: &std::path::Path) -> PrivateBus {
        PrivateBus::spawn(&[format!("--config-file={}", config.display())], None)
    }

    fn spawn(args: &[String], dir: Option<tempfile::TempDir>) -> PrivateBus {
        let mut child = Command::new("dbus-daemon")
            .args(args)
            .arg("--nofork")
            .arg("--nopidfile")
            .arg("--print-address=1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (install it with scripts/setup-debian.sh)");
        // Dropped (and killed) if the address never comes.
        let mut bus = PrivateBus {
            child: None,
            address: String::new(),
            _dir: dir,
        };
        let stdout = child.stdout.take().expect("dbus-daemon stdout");
        bus.child = Some(child);
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("dbus-daemon address");
        bus.address = line.trim().to_string();
        assert!(!bus.address.is_empty(), "dbus-daemon printed no address");
        bus
    }

    /// The bus address (`unix:path=…,guid=…`).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// A new client connection to the bus.
    ///
    /// # Panics
    ///
    /// When the bus refuses the connection.
    pub async fn connect(&self) -> zbus::Connection {
        zbus::connection::Builder::address(self.address.as_str())
            .expect("bus address")
            // A method call kassad never answers fails the test instead of
            // hanging it (the longest calls in the tests wait a few
            // seconds).
            .method_timeout(std::time::Duration::from_secs(60))
            .build()
            .await
            .expect("connect to the private bus")
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// kassad running in this process on a private bus; stops when dropped.
pub struct Kassad {
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), RunError>>>,
}

impl Kassad {
    /// Parses `config` (TOML) and serves kassad on `bus`, returning once the
    /// name is owned.
    ///
    /// # Panics
    ///
    /// When the configuration is invalid or kassad fails to start.
    pub async fn start(config: &str, bus: &PrivateBus) -> Kassad {
        // KASSA_TEST_LOG=debug shows kassad's log in failing tests.
        if let Ok(filter) = std::env::var("KASSA_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
        let config = Config::parse(config, "test.toml").expect("test configuration");
        let (ready_tx, ready_rx) = oneshot::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let address = bus.address().to_string();
        let task = tokio::spawn(async move {
            run(
                config,
                Bus::Address(address),
                move || {
                    let _ = ready_tx.send(());
                },
                async {
                    let _ = stopped.await;
                },
            )
            .await
        });
        let ready = tokio::time::timeout(std::time::Duration::from_secs(30), ready_rx)
            .await
            .expect("kassad starts within 30 s");
        if ready.is_err() {
            let result = task.await;
            panic!("kassad did not start: {result:?}");
        }
        Kassad {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops kassad and waits until it has let go of its devices.
    ///
    /// # Panics
    ///
    /// When kassad ended with an error.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(std::time::Duration::from_secs(30), task)
                .await
                .expect("kassad stops within 30 s")
                .expect("kassad task")
                .expect("kassad result");
        }
    }
}

impl Drop for Kassad {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A binary of the kassa-daemon package in this build's profile, built
/// first if need be (it belongs to another package of the workspace, so
/// cargo does not hand its path over).
pub fn workspace_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/PROFILE/deps/TEST")
        .to_path_buf();
    let mut build = std::process::Command::new(env!("CARGO"));
    build
        .args([
            "build",
            "--locked",
            "-q",
            "-p",
            "kassa-daemon",
            "--bin",
            name,
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let status = build.status().expect("cargo build");
    assert!(status.success(), "cargo build -p kassa-daemon --bin {name}");
    profile_dir.join(name)
}

/// A bus configured like Debian's system bus, with the shipped policy
/// included. Group `kassa` is swapped for `users`, which exists on every
/// Debian machine, and user `kassad` for `root`'s peer `daemon`.
pub fn policy_bus(dir: &Path) -> PrivateBus {
    let policy = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("packaging/usr/share/dbus-1/system.d/org.kassa.Terminal1.conf"),
    )
    .unwrap()
    .replace("group=\"kassa\"", "group=\"users\"")
    .replace("user=\"kassad\"", "user=\"daemon\"");
    std::fs::write(dir.join("kassa.conf"), policy).unwrap();
    let socket = dir.join("system_bus_socket");
    let config = format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include>{policy}</include>
</busconfig>
"#,
        socket = socket.display(),
        policy = dir.join("kassa.conf").display()
    );
    std::fs::write(dir.join("bus.conf"), config).unwrap();
    PrivateBus::with_config(&dir.join("bus.conf"))
}

/// A proxy for the device `name`, reading its properties afresh each time.
pub async fn device(conn: &zbus::Connection, name: &str) -> kassa_client::DeviceProxy<'static> {
    kassa_client::DeviceProxy::builder(conn)
        .path(format!("/org/kassa/Terminal1/devices/{name}"))
        .unwrap()
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .unwrap()
}
