//! kassad's log level, changed while it runs: `kassactl log-level` as
//! root turns debug lines on in the running kassad, a filter that does not
//! parse is refused by name, and a caller other than root is refused.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kassa_tests::bus::{Kassad, PrivateBus, mock_config, policy_bus, workspace_binary};

fn binary(name: &'static str) -> &'static Path {
    static KASSAD: OnceLock<PathBuf> = OnceLock::new();
    static KASSACTL: OnceLock<PathBuf> = OnceLock::new();
    let cell = if name == "kassad" { &KASSAD } else { &KASSACTL };
    cell.get_or_init(|| workspace_binary(name))
}

fn kassactl(bus: &str, args: &[&str]) -> Output {
    Command::new(binary("kassactl"))
        .arg("--bus")
        .arg(bus)
        .args(args)
        .env_remove("KASSA_BUS_ADDRESS")
        .output()
        .expect("run kassactl")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn root_turns_debug_lines_on_in_the_running_kassad() {
    let bus = PrivateBus::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kassa.toml");
    std::fs::write(&config, mock_config("134567890123456789", 60_000)).unwrap();
    let log = dir.path().join("kassad.log");
    let mut kassad = Command::new(binary("kassad"))
        .arg("--config")
        .arg(&config)
        .arg("--bus")
        .arg(bus.address())
        .env_remove("KASSA_LOG")
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
        .spawn()
        .expect("kassad");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !kassactl(bus.address(), &["status"]).status.success() {
        assert!(Instant::now() < deadline, "kassad did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let read_log = || {
        let mut text = String::new();
        std::fs::File::open(&log)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    };

    let out = kassactl(bus.address(), &["log-level"]);
    assert_eq!(text(&out.stdout).trim(), "log level: info");
    assert!(!read_log().contains("DEBUG"), "{}", read_log());

    let out = kassactl(bus.address(), &["log-level", "debug"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "log level: debug");
    // Something that logs at debug: a payment code wait being armed.
    let _ = kassactl(bus.address(), &["scan", "--timeout-ms", "100"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !read_log().contains("DEBUG payment code wait 1 armed for :1.") {
        assert!(Instant::now() < deadline, "no debug line: {}", read_log());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        read_log().contains("log level set to \"debug\" by uid 0"),
        "{}",
        read_log()
    );

    // A filter that does not parse: InvalidArgument (exit 6), unchanged.
    let out = kassactl(bus.address(), &["log-level", "kassa=[[["]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("not a log filter"),
        "{}",
        text(&out.stderr)
    );
    let out = kassactl(bus.address(), &["log-level", "warn"]);
    assert_eq!(text(&out.stdout).trim(), "log level: warn");
    // At warn, a second wait logs neither its start nor its end.
    let _ = kassactl(bus.address(), &["scan", "--timeout-ms", "100"]);
    std::thread::sleep(Duration::from_millis(300));
    let log = read_log();
    assert!(!log.contains("wait 2"), "{log}");

    let _ = kassad.kill();
    let _ = kassad.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_other_than_root_may_not_change_it() {
    if !nix::unistd::Uid::effective().is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "acting as another user needs root in CI"
        );
        eprintln!("not checked: acting as another user needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(dir.path(), mode).unwrap();
    let copy = dir.path().join("kassactl");
    std::fs::copy(binary("kassactl"), &copy).unwrap();
    let bus = policy_bus(dir.path());
    let kassad = Kassad::start(&mock_config("134567890123456789", 60_000), &bus).await;
    let address = bus.address().to_string();
    // Nobody, in the callers' group (users on this bus): may call kassad,
    // may not change its log.
    let out = tokio::task::spawn_blocking(move || {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=100", "--clear-groups"])
            .arg(&copy)
            .args(["--bus", &address, "log-level", "debug"])
            .output()
            .expect("setpriv")
    })
    .await
    .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(9), "{stderr}");
    assert!(stderr.contains("only root"), "{stderr}");
    kassad.stop().await;
}
