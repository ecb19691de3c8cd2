//! kassactl against a running kassad: output for people and scripts, and
//! exit codes scripts can branch on.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{KillOnDrop, private_bus};

fn kassactl(address: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kassactl"))
        .arg("--bus")
        .arg(address)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("kassactl")
}

#[test]
fn every_subcommand_against_a_live_kassad() {
    let dir = tempfile::tempdir().unwrap();
    let (_bus, address) = private_bus(dir.path());
    let config = dir.path().join("kassa.toml");
    std::fs::write(
        &config,
        "[[scanner]]\nname = \"sim\"\ndriver = \"mock\"\ncodes = [\"134567890123456789\"]\ndelay_ms = 50\n\n[[display]]\nname = \"screen\"\ndriver = \"mock\"\n",
    )
    .unwrap();
    let _kassad = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_kassad"))
            .arg("--config")
            .arg(&config)
            .arg("--bus")
            .arg(&address)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !kassactl(&address, &["status"]).status.success() {
        assert!(Instant::now() < deadline, "kassad did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }

    let status = kassactl(&address, &["status"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.starts_with("kassad ") && text.contains(": idle") && text.contains("sim"),
        "{text}"
    );

    let devices = kassactl(&address, &["--json", "devices"]);
    let json: serde_json::Value = serde_json::from_slice(&devices.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert_eq!(json[1]["name"], "sim");
    assert_eq!(json[1]["connected"], true);

    let scan = kassactl(&address, &["scan", "--amount", "36.00"]);
    assert!(scan.status.success());
    assert_eq!(
        String::from_utf8_lossy(&scan.stdout).trim(),
        "134567890123456789 wechat mock"
    );

    let checkout = kassactl(
        &address,
        &[
            "--json",
            "checkout",
            "--amount",
            "12.5",
            "--order-timeout-ms",
            "300",
        ],
    );
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&checkout.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events[0]["event"], "started");
    assert_eq!(events[1]["event"], "code_scanned");
    assert_eq!(
        events[1]["code"], "**************6789",
        "masked unless --show-code"
    );
    assert_eq!(events[2]["state"], "expired", "no backend: no order");
    assert_eq!(checkout.status.code(), Some(3));

    let order = dir.path().join("order.json");
    std::fs::write(&order, r#"{"id":"A","currency":"CNY","items":[{"name":"a","quantity":"1","unit_price":5,"total":5}],"total":5}"#).unwrap();
    assert!(
        kassactl(&address, &["show-order", order.to_str().unwrap()])
            .status
            .success()
    );
    std::fs::write(
        &order,
        r#"{"id":"A","currency":"CNY","items":[],"total":0}"#,
    )
    .unwrap();
    let bad = kassactl(&address, &["show-order", order.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(6));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("InvalidOrder: items:"),
        "{bad:?}"
    );

    assert_eq!(
        kassactl(&address, &["health", "nosuch"]).status.code(),
        Some(7)
    );
    assert_eq!(
        kassactl(&address, &["health", "sim"]).status.code(),
        Some(0)
    );
    assert_eq!(
        kassactl(&address, &["scan", "--source", "camera"])
            .status
            .code(),
        Some(7)
    );
    assert_eq!(
        kassactl(&address, &["scan", "--amount", "1.234"])
            .status
            .code(),
        Some(6)
    );
    assert!(
        kassactl(&address, &["text", "Hello", "World"])
            .status
            .success()
    );
    assert!(
        kassactl(&address, &["result", "paid", "Thank you"])
            .status
            .success()
    );
    assert_eq!(
        kassactl(&address, &["result", "refunded"]).status.code(),
        Some(6)
    );
    assert!(kassactl(&address, &["clear"]).status.success());
    assert_eq!(kassactl(&address, &["capture-face"]).status.code(), Some(7));

    let elsewhere = format!("unix:path={}", dir.path().join("no-bus").display());
    assert_eq!(kassactl(&elsewhere, &["status"]).status.code(), Some(10));
}
