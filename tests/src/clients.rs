//! Client programs kassa's tests did not write in Rust (busctl, the
//! examples in Python, Node, Java and C), run against kassad as a POS
//! program would run them.

use std::process::Command;

use crate::bus::{Kassad, PrivateBus, mock_config};
use crate::rig::WECHAT;

/// Runs `program args…` to its end: whether it succeeded, its stdout and
/// its stderr.
///
/// # Panics
///
/// When `program` is missing (scripts/setup-debian.sh installs it), or
/// coreutils' `timeout` is.
pub fn run(program: &str, args: &[&str]) -> (bool, String, String) {
    // coreutils' timeout: a client that never returns fails the test.
    let out = Command::new("timeout")
        .arg("60")
        .arg(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("timeout: {e}"));
    // 127: timeout could not run the program.
    assert_ne!(
        out.status.code(),
        Some(127),
        "{program} is missing (scripts/setup-debian.sh installs it)"
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// [`run`] on a blocking thread, so that a kassad served by this process
/// goes on answering the program meanwhile.
///
/// # Panics
///
/// As [`run`].
pub async fn blocking(program: &str, args: Vec<String>) -> (bool, String, String) {
    let program = program.to_string();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&program, &args)
    })
    .await
    .unwrap()
}

/// `items` as owned strings, for [`blocking`].
pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// kassad after [`three_whole_checkouts`], still serving on its bus, and
/// what the client printed in each run.
pub struct Checkouts {
    /// The client's stdout, one per run.
    pub outputs: Vec<String>,
    /// kassad, with the scanner `sim` (declared before the bus, so that
    /// it stops first).
    pub kassad: Kassad,
    /// The private bus kassad serves on.
    pub bus: PrivateBus,
}

/// Runs `program args… --bus ADDRESS` three times against kassad with a
/// scanner that answers within a millisecond of being triggered; each run
/// must be a whole checkout, code to `paid`.
///
/// # Panics
///
/// When a run fails or does not print the code's channel and last four
/// digits and `checkout finished: paid`.
pub async fn three_whole_checkouts(program: &str, args: &[&str]) -> Checkouts {
    let bus = PrivateBus::start();
    let kassad = Kassad::start(&mock_config(WECHAT, 1), &bus).await;
    let mut outputs = Vec::new();
    for _ in 0..3 {
        let mut command = strings(args);
        command.extend(strings(&["--bus", bus.address()]));
        let (ok, out, err) = blocking(program, command).await;
        assert!(ok, "{out}{err}");
        assert!(out.contains("wechat code from mock: ...6789"), "{out}");
        assert!(out.contains("checkout finished: paid"), "{out}");
        outputs.push(out);
    }
    Checkouts {
        outputs,
        kassad,
        bus,
    }
}
