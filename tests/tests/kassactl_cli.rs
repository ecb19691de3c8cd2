//! kassactl as its help describes it, run as a program over a private bus:
//! every failure exits with its documented code and says what to do, output
//! piped into a reader that stops early (`| head`) ends it quietly, and a
//! command that waits says what it waits for.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use kassa_tests::bus::{Kassad, PrivateBus, mock_config, policy_bus, workspace_binary};

/// The kassactl binary of this build.
fn kassactl() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| workspace_binary("kassactl"))
}

/// Runs kassactl on `bus` with `args`, from a blocking thread (kassad runs
/// in this process's runtime).
async fn run(bus: &str, args: &[&str], stdout: Option<OwnedFd>) -> Output {
    let bus = bus.to_string();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(kassactl());
        command.arg("--bus").arg(&bus).args(&args);
        command.env_remove("KASSA_BUS_ADDRESS");
        match stdout {
            Some(fd) => command.stdout(Stdio::from(fd)),
            None => command.stdout(Stdio::piped()),
        };
        command
            .stderr(Stdio::piped())
            .output()
            .expect("run kassactl")
    })
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_kassad_every_command_exits_10_and_says_kassad_is_not_running() {
    let bus = PrivateBus::start();
    for args in [
        &["status"][..],
        &["devices"],
        &["scan", "--amount", "1.00"],
        &["health", "counter"],
        &["--json", "status"],
    ] {
        let out = run(bus.address(), args, None).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(10), "{args:?}: {stderr}");
        assert!(
            stderr.contains("kassad is not running") && stderr.contains("systemctl"),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("org.freedesktop.DBus.Error"),
            "{args:?} shows the raw bus error: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kassads_errors_exit_with_their_documented_codes() {
    let bus = PrivateBus::start();
    let kassad = Kassad::start(&mock_config("134567890123456789", 60_000), &bus).await;
    let cases: [(&[&str], i32, &str); 5] = [
        // The simulated scanner answers after a minute: a 200 ms wait times out.
        (&["scan", "--timeout-ms", "200"], 3, "Timeout"),
        (&["scan", "--amount", "1.234"], 6, "--amount"),
        (&["health", "nosuchdevice"], 7, "no device named"),
        (&["capture-face", "--timeout-ms", "200"], 7, "NoDevice"),
        (&["show-order-for-code", "134567890123456789"], 8, "Backend"),
    ];
    for (args, code, says) in cases {
        let out = run(bus.address(), args, None).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    kassad.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_commands_say_what_they_wait_for() {
    let bus = PrivateBus::start();
    let kassad = Kassad::start(&mock_config("134567890123456789", 100), &bus).await;

    let out = run(
        bus.address(),
        &["scan", "--amount", "36.00", "--timeout-ms", "30000"],
        None,
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("waiting for the customer's payment code: ¥36.00, at most 30 s"),
        "{stderr}"
    );
    assert_eq!(text(&out.stdout), "134567890123456789 wechat mock\n");

    let out = run(
        bus.address(),
        &["show-order-for-code", "134567890123456789"],
        None,
    )
    .await;
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "waiting for the backend to bind an order to payment code **************6789"
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("134567890123456789"),
        "the code in full: {stderr}"
    );

    let out = run(
        bus.address(),
        &["capture-face", "--timeout-ms", "2000"],
        None,
    )
    .await;
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("looking for the customer's face in front of the camera: at most 2 s"),
        "{stderr}"
    );

    // --json is for programs: standard error stays for errors.
    let out = run(bus.address(), &["--json", "scan"], None).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
    kassad.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_into_a_pipe_nobody_reads_ends_quietly() {
    let bus = PrivateBus::start();
    let kassad = Kassad::start(&mock_config("134567890123456789", 50), &bus).await;
    for args in [
        &["status"][..],
        &["devices"],
        &["--json", "devices"],
        &["scan"],
        &["checkout", "--amount", "1.00"],
    ] {
        // A pipe whose reader is gone before kassactl writes: every write
        // fails with EPIPE, as after `| head -n 0`.
        let (reader, writer) = nix::unistd::pipe().expect("pipe");
        drop(reader);
        let out = run(bus.address(), args, Some(writer)).await;
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
    // kassad is none the worse: the checkout ended with kassactl, and the
    // next scan is served.
    let out = run(bus.address(), &["scan", "--timeout-ms", "20000"], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "134567890123456789 wechat mock\n");
    kassad.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_outside_group_kassa_is_told_to_join_it() {
    if !nix::unistd::Uid::effective().is_root() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the policy check needs root in CI"
        );
        eprintln!("not checked: acting as another user needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(dir.path(), mode).unwrap();
    // A copy nobody may run, whatever the checkout's permissions.
    let binary = dir.path().join("kassactl");
    std::fs::copy(kassactl(), &binary).unwrap();
    let bus = policy_bus(dir.path());
    let kassad = Kassad::start(&mock_config("134567890123456789", 60_000), &bus).await;
    let address = bus.address().to_string();
    let as_nobody = move |gid: u32| {
        Command::new("setpriv")
            .args(["--reuid=65534", &format!("--regid={gid}"), "--clear-groups"])
            .arg(&binary)
            .args(["--bus", &address, "status"])
            .env("USER", "nobody")
            .output()
            .expect("setpriv")
    };
    let (member, stranger) =
        tokio::task::spawn_blocking(move || (as_nobody(100), as_nobody(65534)))
            .await
            .unwrap();
    assert_eq!(member.status.code(), Some(0), "{}", text(&member.stderr));
    let stderr = text(&stranger.stderr);
    assert_eq!(stranger.status.code(), Some(9), "{stderr}");
    assert!(
        stderr.contains("group kassa") && stderr.contains("usermod -aG kassa nobody"),
        "{stderr}"
    );
    assert!(!stderr.contains("Rejected send message"), "{stderr}");
    kassad.stop().await;
}
