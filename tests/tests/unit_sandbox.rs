//! kassad.service's sandbox against the real device paths, in the VM of
//! `scripts/vm/run-guest`: `scripts/vm/trace-syscalls` runs the serial,
//! wedge, HID POS, camera, hot-plug, kassad and I2C checks under strace
//! and fails on any call the unit's system-call filter refuses, and runs
//! the `privusers` check (PrivateUsers=yes keeps device groups and udev).

use std::path::Path;
use std::process::Command;

#[test]
fn device_paths_stay_inside_the_units_sandbox() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let found = Command::new("qemu-system-x86_64").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "qemu-system-x86_64 is missing: run scripts/setup-debian.sh (Debian package qemu-system-x86)"
    );
    let output = Command::new(repo.join("scripts/vm/trace-syscalls"))
        .env("KASSA_VM_GUEST", env!("CARGO_BIN_EXE_kassa-vm-guest"))
        .output()
        .expect("run scripts/vm/trace-syscalls");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "trace-syscalls failed ({}):\n{stdout}{stderr}",
        output.status
    );
    for check in [
        "privusers",
        "serial",
        "wedge",
        "hidpos",
        "v4l2",
        "hotplug",
        "kassad",
        "i2c",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("ok   {check}: "))),
            "{check} did not report ok:\n{stdout}{stderr}"
        );
    }
    println!("{stdout}");
}
