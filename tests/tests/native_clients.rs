//! The checkout examples in Java (Debian's dbus-java) and C (sd-bus from
//! libsystemd), compiled here as their header comments say and run against
//! kassad as foreign_clients.rs runs the Python and Node ones: three whole
//! checkouts each, with a scanner that answers within a millisecond of its
//! trigger, then one refused by name while another caller's checkout runs.

use std::path::Path;

use kassa_client::{DeviceProxy, TerminalProxy};
use kassa_tests::clients::{Checkouts, blocking, strings, three_whole_checkouts};
use kassa_tests::rig::{WECHAT, checkout_proxy, options};

/// The jars a dbus-java program runs with: dbus.jar's manifest brings
/// unix.jar (and its JNI library) along, but not debug-disable.jar.
const DBUS_JAVA: [&str; 2] = [
    "/usr/share/java/dbus.jar",
    "/usr/share/java/debug-disable.jar",
];

fn example(path: &str) -> String {
    format!("{}/../examples/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// kassad's side of the three checkouts: each run began a session of its
/// own, which kassad reports `paid`, and the scanner read one code per
/// checkout; no run printed the whole code.
async fn kassad_saw_three_paid_checkouts(checkouts: &Checkouts) {
    let conn = checkouts.bus.connect().await;
    let mut sessions = Vec::new();
    for out in &checkouts.outputs {
        assert!(
            !out.contains(WECHAT),
            "the whole payment code was printed: {out}"
        );
        let path = out
            .lines()
            .find_map(|line| {
                line.strip_prefix("checkout ")?
                    .strip_suffix(": waiting for the customer's code")
            })
            .unwrap_or_else(|| panic!("no session path printed: {out}"));
        assert!(!sessions.contains(&path), "{path} twice: {out}");
        let state = checkout_proxy(&conn, path).await.state().await.unwrap();
        assert_eq!(state, "paid", "{path}");
        sessions.push(path);
    }
    let scanner = DeviceProxy::builder(&conn)
        .path("/org/kassa/Terminal1/devices/sim")
        .unwrap()
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .unwrap();
    assert_eq!(scanner.scan_count().await.unwrap(), 3);
}

/// `program args… --bus ADDRESS` while the test's own checkout runs: the
/// example fails with the error's name and its advice for the cashier.
async fn busy_is_reported_by_name(checkouts: &Checkouts, program: &str, args: &[&str]) {
    let conn = checkouts.bus.connect().await;
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    let path = terminal.begin_checkout(options(&[])).await.unwrap();
    let mut command = strings(args);
    command.extend(strings(&["--bus", checkouts.bus.address()]));
    let (ok, out, err) = blocking(program, command).await;
    assert!(!ok, "{out}{err}");
    assert!(
        err.contains("org.kassa.Error.Busy")
            && err.contains("another checkout is running; wait for it or cancel it"),
        "{out}{err}"
    );
    checkout_proxy(&conn, path.as_str())
        .await
        .cancel()
        .await
        .unwrap();
}

/// examples/java/Checkout.java adds its signal handlers before
/// BeginCheckout, for kassad's unique name, so the quick scanner's code
/// is not lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_java_checkout_example_gets_its_code_from_a_quick_scanner() {
    for jar in DBUS_JAVA {
        assert!(
            Path::new(jar).exists(),
            "{jar} is missing: libdbus-java is not installed (run scripts/setup-debian.sh)"
        );
    }
    let build = tempfile::tempdir().unwrap();
    let classes = build.path().to_str().unwrap();
    let source = example("java/Checkout.java");
    let (ok, out, err) = blocking(
        "javac",
        strings(&[
            "-Xlint:all",
            "-Werror",
            "-cp",
            DBUS_JAVA[0],
            "-d",
            classes,
            &source,
        ]),
    )
    .await;
    assert!(ok, "javac {source}: {out}{err}");
    let classpath = format!("{classes}:{}", DBUS_JAVA.join(":"));
    let java = ["-cp", classpath.as_str(), "example.Checkout"];
    let checkouts = three_whole_checkouts("java", &java).await;
    kassad_saw_three_paid_checkouts(&checkouts).await;
    busy_is_reported_by_name(&checkouts, "java", &java).await;
}

/// examples/c/checkout.c adds its sd-bus match before BeginCheckout, so
/// the quick scanner's code is not lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_c_checkout_example_gets_its_code_from_a_quick_scanner() {
    let (ok, flags, err) =
        blocking("pkg-config", strings(&["--cflags", "--libs", "libsystemd"])).await;
    assert!(
        ok,
        "pkg-config finds no libsystemd: libsystemd-dev is not installed \
         (run scripts/setup-debian.sh): {err}"
    );
    let build = tempfile::tempdir().unwrap();
    let binary = build.path().join("checkout");
    let binary = binary.to_str().unwrap();
    let source = example("c/checkout.c");
    let mut cc = strings(&["-Wall", "-Wextra", "-Werror", "-o", binary, &source]);
    cc.extend(flags.split_whitespace().map(String::from));
    let (ok, out, err) = blocking("cc", cc).await;
    assert!(ok, "cc {source}: {out}{err}");
    let checkouts = three_whole_checkouts(binary, &[]).await;
    kassad_saw_three_paid_checkouts(&checkouts).await;
    busy_is_reported_by_name(&checkouts, binary, &[]).await;
}
