//! The kassad binary as systemd runs it: readiness and watchdog over the
//! sd_notify protocol, a clean stop on SIGTERM, and a log with no full
//! payment code in it.

use std::collections::HashMap;
use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::time::{Duration, Instant};

use kassa_client::TerminalProxy;

mod common;
use common::{KillOnDrop, private_bus};
use zbus::zvariant::Value;

const CODE: &str = "134567890123456789";

fn receive(socket: &UnixDatagram, until: Instant) -> Option<String> {
    let left = until.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return None;
    }
    socket.set_read_timeout(Some(left)).unwrap();
    let mut buf = [0u8; 512];
    socket
        .recv(&mut buf)
        .ok()
        .map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_watchdog_stop_and_a_masked_log() {
    let dir = tempfile::tempdir().unwrap();
    let (_bus, address) = private_bus(dir.path());
    let notify_path = dir.path().join("notify");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    let config = dir.path().join("kassa.toml");
    std::fs::write(
        &config,
        format!("[[scanner]]\nname = \"sim\"\ndriver = \"mock\"\ncodes = [\"{CODE}\"]\ndelay_ms = 50\n\n[[display]]\nname = \"screen\"\ndriver = \"mock\"\n"),
    )
    .unwrap();
    // The log goes to a file: a pipe nobody reads would fill and stall kassad.
    let log_path = dir.path().join("kassad.log");
    let log_file = std::fs::File::create(&log_path).unwrap();
    // systemd sets WATCHDOG_PID to the service's pid: exec keeps the shell's.
    let child = Command::new("sh")
        .arg("-c")
        .arg("WATCHDOG_PID=$$ exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_kassad"))
        .arg("--config")
        .arg(&config)
        .arg("--bus")
        .arg(&address)
        .env("NOTIFY_SOCKET", &notify_path)
        .env("WATCHDOG_USEC", "200000")
        .env("KASSA_LOG", "debug")
        .stderr(log_file)
        .spawn()
        .unwrap();
    let mut kassad = KillOnDrop(child);

    let until = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while !seen.iter().any(|m: &String| m.contains("READY=1")) {
        seen.push(receive(&notify, until).expect("READY=1 from kassad"));
    }
    let mut pings = 0;
    while pings < 3 {
        if receive(&notify, until)
            .expect("watchdog pings")
            .contains("WATCHDOG=1")
        {
            pings += 1;
        }
    }

    // A payment code goes through; the log must not hold it in full.
    let conn = zbus::connection::Builder::address(address.as_str())
        .unwrap()
        .build()
        .await
        .unwrap();
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    let (code, channel, _) = terminal
        .scan_payment_code(HashMap::<&str, Value<'_>>::new())
        .await
        .unwrap();
    assert_eq!((code.as_str(), channel.as_str()), (CODE, "wechat"));

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(kassad.0.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let mut stopping = false;
    while let Some(message) = receive(&notify, Instant::now() + Duration::from_secs(10)) {
        if message.contains("STOPPING=1") {
            stopping = true;
            break;
        }
    }
    assert!(stopping, "no STOPPING=1");
    let status = kassad.0.wait().unwrap();
    assert!(status.success(), "{status}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        !log.contains(CODE),
        "the log holds a full payment code:\n{log}"
    );
    assert!(
        log.contains("**************6789"),
        "the masked code is missing:\n{log}"
    );
}

#[test]
fn a_bad_config_is_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kassa.toml");
    std::fs::write(
        &config,
        "[[scanner]]\nname = \"a\"\ndriver = \"serial\"\npath = \"/dev/x\"\nbaud = \"fast\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kassad"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "EX_CONFIG");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:5:", config.display())),
        "{stderr}"
    );
}
