//! kassad's start-up time: from the process's start to READY=1 on its
//! notify socket (what systemd waits for), and to the first call answered
//! on the bus. With every device present (a serial scanner on a pty, a
//! mock display), and with the scanner absent.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kassa_client::TerminalProxy;
use kassa_tests::Pty;
use tokio::net::UnixDatagram;

use crate::{kassad_binary, private_bus, report};

/// Measures `runs` starts of each kind and prints their percentiles.
pub async fn run(runs: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut bus, address) = private_bus(dir.path());
    let conn = zbus::connection::Builder::address(address.as_str())
        .expect("address")
        .build()
        .await
        .expect("bus");
    let pty = Pty::open();
    for (name, scanner) in [
        ("present", pty.path().to_path_buf()),
        ("absent", dir.path().join("no-such-tty")),
    ] {
        let config = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!(
                "[[scanner]]\nname = \"counter\"\ndriver = \"serial\"\npath = \"{}\"\n\n[[display]]\nname = \"screen\"\ndriver = \"mock\"\n",
                scanner.display()
            ),
        )
        .expect("config");
        let mut ready = Vec::new();
        let mut answered = Vec::new();
        for run in 0..runs {
            let socket = dir.path().join(format!("notify-{name}-{run}"));
            let notify = UnixDatagram::bind(&socket).expect("notify socket");
            let started = Instant::now();
            let mut kassad = Command::new(kassad_binary())
                .arg("--config")
                .arg(&config)
                .arg("--bus")
                .arg(&address)
                .env("NOTIFY_SOCKET", &socket)
                .env("KASSA_LOG", "warn")
                .stderr(Stdio::null())
                .spawn()
                .expect("kassad next to kassa-bench (cargo build --release --bins)");
            let mut buf = [0u8; 256];
            loop {
                let n = tokio::time::timeout(Duration::from_secs(10), notify.recv(&mut buf))
                    .await
                    .expect("READY=1 within 10 s")
                    .expect("notify socket");
                if buf[..n].split(|b| *b == b'\n').any(|l| l == b"READY=1") {
                    break;
                }
            }
            ready.push(started.elapsed());
            let terminal = TerminalProxy::builder(&conn)
                .cache_properties(zbus::proxy::CacheProperties::No)
                .build()
                .await
                .expect("proxy");
            terminal.state().await.expect("State");
            answered.push(started.elapsed());
            let _ = Command::new("kill").arg(kassad.id().to_string()).status();
            let _ = kassad.wait();
            let _ = std::fs::remove_file(&socket);
        }
        report(&format!("start_to_ready devices={name}"), ready);
        report(&format!("start_to_first_answer devices={name}"), answered);
    }
    let _ = bus.kill();
    let _ = bus.wait();
}
