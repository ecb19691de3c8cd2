//! The simulator, as a developer without hardware drives it: `kassactl
//! simulate` and `org.kassa.Simulator1` make a simulated scanner read a
//! code, unplug and plug devices back, and make a device's next call
//! fail; real devices are out of its reach.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kassa_client::{SimulatorProxy, TerminalProxy, error_name};
use kassa_tests::bus::{Kassad, PrivateBus, device, workspace_binary};
use kassa_tests::rig::WECHAT;
use zbus::zvariant::Value;

fn kassactl() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| workspace_binary("kassactl"))
}

async fn kassactl_on(bus: &str, args: &[&str]) -> Output {
    let bus = bus.to_string();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(kassactl())
            .arg("--bus")
            .arg(&bus)
            .args(&args)
            .env_remove("KASSA_BUS_ADDRESS")
            .output()
            .expect("run kassactl")
    })
    .await
    .unwrap()
}

/// A simulated scanner that reads nothing by itself, a simulated display,
/// and a real serial scanner on a path that does not exist.
const CONFIG: &str = "[[scanner]]\nname = \"sim\"\ndriver = \"mock\"\ncodes = []\n\n\
    [[scanner]]\nname = \"counter\"\ndriver = \"serial\"\npath = \"/nonexistent/kassa-test-tty\"\n\n\
    [[display]]\nname = \"screen\"\ndriver = \"mock\"\n";

async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_developer_drives_simulated_devices_and_nothing_else() {
    // Built before any wait begins: building it can take longer than the
    // wait's timeout.
    kassactl();
    let bus = PrivateBus::start();
    let _kassad = Kassad::start(CONFIG, &bus).await;
    let conn = bus.connect().await;
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    let simulator = SimulatorProxy::new(&conn).await.unwrap();

    // A payment code read by the simulated scanner, from kassactl, reaches
    // the caller waiting for one.
    let wait = {
        let terminal = terminal.clone();
        tokio::spawn(async move {
            let options = std::collections::HashMap::from([("timeout_ms", Value::U32(10_000))]);
            terminal.scan_payment_code(options).await
        })
    };
    until("the wait to begin", async || {
        terminal.state().await.unwrap() == "scanning"
    })
    .await;
    let out = kassactl_on(
        bus.address(),
        &["simulate", "scan", "sim", WECHAT, "--symbology", "qr"],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.trim(), "sim: scanned");
    assert!(!stdout.contains(WECHAT), "kassactl echoed the code");
    let (code, channel, source) = wait.await.unwrap().unwrap();
    assert_eq!(
        (code.as_str(), channel.as_str(), source.as_str()),
        (WECHAT, "wechat", "mock")
    );

    // Only simulated devices, only scanners read, only known names.
    let refused = |e: zbus::Error| error_name(&e).unwrap_or_default().to_string();
    let e = simulator
        .inject_scan("counter", WECHAT, "")
        .await
        .unwrap_err();
    assert_eq!(refused(e), "org.kassa.Error.NoDevice");
    let e = simulator
        .inject_scan("nobody", WECHAT, "")
        .await
        .unwrap_err();
    assert_eq!(refused(e), "org.kassa.Error.NoDevice");
    let e = simulator
        .inject_scan("screen", WECHAT, "")
        .await
        .unwrap_err();
    assert_eq!(refused(e), "org.kassa.Error.InvalidArgument");
    let e = simulator
        .inject_scan("sim", WECHAT, "morse")
        .await
        .unwrap_err();
    assert_eq!(refused(e), "org.kassa.Error.InvalidArgument");
    let e = simulator
        .inject_scan("sim", &"1".repeat(kassa_daemon::dbus::MAX_INJECTED + 1), "")
        .await
        .unwrap_err();
    assert_eq!(refused(e), "org.kassa.Error.InvalidArgument");
    let e = simulator.fail_next("sim", "gremlins").await.unwrap_err();
    assert_eq!(refused(e), "org.kassa.Error.InvalidArgument");

    // Unplugged, the scanner is reported gone and reads nothing; plugged
    // back, it is found again.
    let sim = device(&conn, "sim").await;
    let out = kassactl_on(bus.address(), &["simulate", "disconnect", "sim"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    until("sim to be reported disconnected", async || {
        !sim.connected().await.unwrap()
    })
    .await;
    let e = simulator.inject_scan("sim", WECHAT, "").await.unwrap_err();
    assert_eq!(refused(e), "org.kassa.Error.NoDevice");
    simulator.set_connected("sim", true).await.unwrap();
    until("sim to be reported connected", async || {
        sim.connected().await.unwrap()
    })
    .await;

    // The display's next view fails with the chosen error, and it is
    // reported as the device's last error.
    let screen = device(&conn, "screen").await;
    let out = kassactl_on(bus.address(), &["simulate", "fail", "screen", "timeout"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    terminal.show_text(&["hello"]).await.unwrap();
    until("the display's failure to be reported", async || {
        screen.last_error().await.unwrap().contains("timeout")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kassactl_simulate_names_what_it_cannot_do() {
    let bus = PrivateBus::start();
    let _kassad = Kassad::start(CONFIG, &bus).await;
    // A real scanner is out of the simulator's reach: NoDevice, exit 7.
    let out = kassactl_on(bus.address(), &["simulate", "scan", "counter", "123"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(
        stderr.contains("no simulated device named \"counter\""),
        "{stderr}"
    );
    // An error kind it does not know: InvalidArgument, exit 6, with the list.
    let out = kassactl_on(bus.address(), &["simulate", "fail", "sim", "gremlins"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("disconnected, timeout"), "{stderr}");
}

#[test]
fn the_developers_configuration_has_simulated_devices_only() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/simulated.toml");
    let config = kassa_daemon::config::Config::load(&path).unwrap();
    assert_eq!(config.scanners.len(), 1);
    assert!(config.scanners.iter().all(|s| s.driver_name() == "mock"));
    assert!(!config.allow_simulated, "never meant for a system bus");
}
