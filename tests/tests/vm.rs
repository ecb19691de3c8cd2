//! The real kernel paths, in a VM: `scripts/vm/run-guest` boots Debian's
//! kernel under qemu with uinput, uhid, evdev, hidraw, vivid and systemd-udevd, and
//! runs `kassa-vm-guest` inside (docs/vm-tests.md). One boot runs every check.

use std::path::Path;
use std::process::Command;

const CHECKS: [&str; 11] = [
    "uinput",
    "uhid",
    "udev",
    "wedge",
    "links",
    "hotplug",
    "kassad",
    "passthrough",
    "layout",
    "hidpos",
    "v4l2",
];

#[test]
fn device_checks_pass_in_the_vm() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let found = Command::new("qemu-system-x86_64").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "qemu-system-x86_64 is missing: run scripts/setup-debian.sh (Debian package qemu-system-x86)"
    );
    let output = Command::new(repo.join("scripts/vm/run-guest"))
        .args(["--timeout", "300", env!("CARGO_BIN_EXE_kassa-vm-guest")])
        .args(CHECKS)
        .output()
        .expect("run scripts/vm/run-guest");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let shown = format!("--- guest output ---\n{stdout}--- run-guest ---\n{stderr}");
    assert!(
        output.status.success(),
        "run-guest failed ({}):\n{shown}",
        output.status
    );
    for check in CHECKS {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("ok   {check}: "))),
            "check {check} did not report ok:\n{shown}"
        );
    }
    println!("{stdout}");
}
