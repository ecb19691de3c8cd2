//! kassad driven by clients no one here wrote: busctl (systemd), gdbus
//! (GLib) and dbus-send (libdbus), as a POS program in any language would.

use kassa_tests::bus::{Kassad, PrivateBus, mock_config};
use kassa_tests::clients::{blocking, strings, three_whole_checkouts};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busctl_gdbus_and_dbus_send_drive_kassad() {
    let bus = PrivateBus::start();
    let _kassad = Kassad::start(&mock_config("2812345678901234", 50), &bus).await;
    let address = bus.address().to_string();
    let addr_arg = format!("--address={address}");

    // The README's first call: a payment code with busctl.
    let (ok, out, err) = blocking(
        "busctl",
        strings(&[
            &addr_arg,
            "call",
            "org.kassa.Terminal1",
            "/org/kassa/Terminal1",
            "org.kassa.Terminal1",
            "ScanPaymentCode",
            "a{sv}",
            "2",
            "amount",
            "x",
            "3600",
            "timeout_ms",
            "u",
            "5000",
        ]),
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), r#"sss "2812345678901234" "alipay" "mock""#);

    let (ok, out, err) = blocking(
        "busctl",
        strings(&[
            &addr_arg,
            "get-property",
            "org.kassa.Terminal1",
            "/org/kassa/Terminal1",
            "org.kassa.Terminal1",
            "State",
        ]),
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), r#"s "idle""#);

    // gdbus: a malformed order comes back as a named error with the field.
    let bad = r#"{"id":"A","currency":"CNY","items":[{"name":"tea","quantity":"2","unit_price":500,"total":900}],"total":900}"#;
    let (ok, _, err) = blocking(
        "gdbus",
        strings(&[
            "call",
            "--address",
            &address,
            "--dest",
            "org.kassa.Terminal1",
            "--object-path",
            "/org/kassa/Terminal1",
            "--method",
            "org.kassa.Terminal1.ShowOrder",
            bad,
        ]),
    )
    .await;
    assert!(!ok);
    assert!(
        err.contains("org.kassa.Error.InvalidOrder") && err.contains("items[0].total"),
        "{err}"
    );

    let (ok, _, err) = blocking(
        "gdbus",
        strings(&[
            "call",
            "--address",
            &address,
            "--dest",
            "org.kassa.Terminal1",
            "--object-path",
            "/org/kassa/Terminal1",
            "--method",
            "org.kassa.Terminal1.ShowText",
            "['Welcome', '欢迎']",
        ]),
    )
    .await;
    assert!(ok, "{err}");

    let (ok, out, err) = blocking(
        "gdbus",
        strings(&[
            "introspect",
            "--address",
            &address,
            "--dest",
            "org.kassa.Terminal1",
            "--object-path",
            "/org/kassa/Terminal1/devices/sim",
        ]),
    )
    .await;
    assert!(ok, "{err}");
    assert!(
        out.contains("interface org.kassa.Device1") && out.contains("ScanCount = 1"),
        "{out}"
    );

    let (ok, _, err) = blocking(
        "dbus-send",
        strings(&[
            &format!("--bus={address}"),
            "--print-reply",
            "--dest=org.kassa.Terminal1",
            "/org/kassa/Terminal1",
            "org.kassa.Terminal1.ClearDisplay",
        ]),
    )
    .await;
    assert!(ok, "{err}");

    let (ok, _, err) = blocking(
        "dbus-send",
        strings(&[
            &format!("--bus={address}"),
            "--print-reply",
            "--dest=org.kassa.Terminal1",
            "/org/kassa/Terminal1",
            "org.kassa.Terminal1.ShowPaymentResult",
            "string:refunded",
            "string:",
        ]),
    )
    .await;
    assert!(
        !ok && err.contains("org.kassa.Error.InvalidArgument"),
        "{err}"
    );
}

/// The README's Python example, run as written against kassad.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_python_example_works() {
    let bus = PrivateBus::start();
    let _kassad = Kassad::start(&mock_config("2812345678901234", 50), &bus).await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/python/scan_payment_code.py"
    );
    // Debian's Python, where python3-jeepney is installed.
    let (ok, out, err) = blocking(
        "/usr/bin/python3",
        strings(&[script, "--bus", bus.address()]),
    )
    .await;
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), "alipay code from mock: ...1234");
}

/// examples/python/checkout.py, a whole checkout with signals: its filter
/// is set before BeginCheckout, so the quick scanner's code is not lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_checkout_example_gets_its_code_from_a_quick_scanner() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/python/checkout.py"
    );
    three_whole_checkouts("/usr/bin/python3", &[script]).await;
}

/// examples/python/checkout_asyncio.py (dbus-next, asyncio) attaches its
/// handlers only after BeginCheckout, as dbus-next code usually does; the
/// quick scanner's code is read before that, and TakeCode still hands it
/// over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_subscriber_in_python_asyncio_takes_its_code() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/python/checkout_asyncio.py"
    );
    three_whole_checkouts("/usr/bin/python3", &[script]).await;
}

/// examples/node/checkout.mjs, with dbus-next from the npm registry (as
/// its package-lock.json pins it), the same late-subscribing pattern.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_subscriber_in_node_takes_its_code() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/node");
    let dir = tempfile::tempdir().unwrap();
    for file in ["checkout.mjs", "package.json", "package-lock.json"] {
        std::fs::copy(format!("{example}/{file}"), dir.path().join(file)).unwrap();
    }
    let prefix = dir.path().to_str().unwrap().to_string();
    let (ok, out, err) = blocking(
        "npm",
        strings(&[
            "ci",
            "--prefix",
            &prefix,
            "--omit=optional",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
        ]),
    )
    .await;
    assert!(
        ok,
        "npm ci (the npm registry must be reachable): {out}{err}"
    );
    let script = dir.path().join("checkout.mjs");
    three_whole_checkouts("node", &[script.to_str().unwrap()]).await;
}
