//! kassad end to end: a private dbus-daemon, the real daemon, a serial
//! scanner and a pole display on ptys, the sample backend on loopback.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use kassa_client::{TerminalProxy, error_message};
use kassa_tests::backend::{Fault, Options as BackendOptions};
use kassa_tests::rig::{
    ALIPAY, LONG, Rig, WECHAT, checkout_proxy, claim_proxy, err_name, options, order_json,
    until_not_busy, wait_for_state,
};
use zbus::zvariant::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_checkout_flow() {
    let mut rig = Rig::start().await;
    let conn = rig.bus.connect().await;
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    let path = terminal
        .begin_checkout(options(&[
            ("amount", Value::I64(3600)),
            ("timeout_ms", Value::U32(10_000)),
        ]))
        .await
        .unwrap();
    let session = checkout_proxy(&conn, path.as_str()).await;
    let mut codes = session.receive_code_scanned().await.unwrap();
    let mut orders = session.receive_order_shown().await.unwrap();
    let mut finished = session.receive_finished().await.unwrap();
    assert_eq!(session.state().await.unwrap(), "waiting_for_code");
    assert_eq!(terminal.state().await.unwrap(), "scanning");

    // The prompt with the amount is on the pole display, and the scanner
    // was triggered (after the trigger-off that kassad sends to every
    // scanner it opens, to start from a known state).
    let shown = rig.display_bytes(Duration::from_millis(500));
    let shown = String::from_utf8_lossy(&shown);
    assert!(shown.contains("\x1bQAPlease present your \r"), "{shown:?}");
    assert!(shown.contains("36.00"), "{shown:?}");
    let trigger = rig.scanner.pty().receive(6, LONG).unwrap();
    assert_eq!(trigger, b"\x16U\r\x16T\r");

    rig.scanner.send(format!("{WECHAT}\r").as_bytes());
    let code = tokio::time::timeout(LONG, codes.next())
        .await
        .unwrap()
        .unwrap();
    let args = code.args().unwrap();
    assert_eq!(
        (args.code(), args.channel(), args.source()),
        (
            &WECHAT.to_string(),
            &"wechat".to_string(),
            &"serial".to_string()
        )
    );
    assert_eq!(
        rig.scanner.pty().receive(3, LONG).unwrap(),
        b"\x16U\r",
        "trigger off after the code"
    );

    // The POS binds the order at its backend a little later.
    wait_for_state(&terminal, "waiting_for_order").await;
    assert_eq!(session.state().await.unwrap(), "waiting_for_order");
    rig.backend.bind(WECHAT, order_json("A-1001"));
    let order = tokio::time::timeout(LONG, orders.next())
        .await
        .unwrap()
        .unwrap();
    assert!(order.args().unwrap().order_json().contains("A-1001"));
    assert_eq!(session.channel().await.unwrap(), "wechat");
    let shown = rig.display_bytes(Duration::from_millis(500));
    assert!(
        String::from_utf8_lossy(&shown).contains("TOTAL"),
        "{shown:?}"
    );

    rig.backend.set_status(WECHAT, "paid", "Thank you");
    let end = tokio::time::timeout(LONG, finished.next())
        .await
        .unwrap()
        .unwrap();
    let end = end.args().unwrap();
    assert_eq!(
        (end.state().as_str(), end.message().as_str()),
        ("paid", "Thank you")
    );
    assert_eq!(session.state().await.unwrap(), "paid");
    let shown = rig.display_bytes(Duration::from_millis(500));
    assert!(
        String::from_utf8_lossy(&shown).contains("PAID"),
        "{shown:?}"
    );
    let device = rig.device("counter").await;
    assert_eq!(device.scan_count().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_signals_go_to_the_owner_only() {
    let mut rig = Rig::start().await;
    let owner = rig.bus.connect().await;
    let stranger = rig.bus.connect().await;
    let path = TerminalProxy::new(&owner)
        .await
        .unwrap()
        .begin_checkout(options(&[]))
        .await
        .unwrap();
    let mine = checkout_proxy(&owner, path.as_str()).await;
    let theirs = checkout_proxy(&stranger, path.as_str()).await;
    let mut mine_codes = mine.receive_code_scanned().await.unwrap();
    let mut their_codes = theirs.receive_code_scanned().await.unwrap();
    rig.scanner.send(format!("{ALIPAY}\r").as_bytes());
    let got = tokio::time::timeout(LONG, mine_codes.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.args().unwrap().channel(), "alipay");
    let leaked = tokio::time::timeout(Duration::from_millis(500), their_codes.next()).await;
    assert!(leaked.is_err(), "a stranger received the payment code");
    // And a stranger may not steer the session.
    let denied = theirs.cancel().await.unwrap_err();
    assert_eq!(err_name(&denied), "org.kassa.Error.AccessDenied");
    mine.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_race_for_one_checkout() {
    let rig = Rig::start().await;
    let a = rig.terminal().await;
    let b = rig.terminal().await;
    let (ra, rb) = tokio::join!(
        a.begin_checkout(options(&[])),
        b.begin_checkout(options(&[]))
    );
    let (won, lost) = match (ra, rb) {
        (Ok(path), Err(e)) | (Err(e), Ok(path)) => (path, e),
        other => panic!("exactly one checkout must start: {other:?}"),
    };
    assert!(won.as_str().starts_with("/org/kassa/Terminal1/checkout/"));
    assert_eq!(err_name(&lost), "org.kassa.Error.Busy");
    let busy = a.scan_payment_code(options(&[])).await.unwrap_err();
    assert_eq!(err_name(&busy), "org.kassa.Error.Busy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_leaving_cancels_its_checkout_and_frees_the_scanner() {
    let mut rig = Rig::start().await;
    {
        let leaving = rig.bus.connect().await;
        TerminalProxy::new(&leaving)
            .await
            .unwrap()
            .begin_checkout(options(&[]))
            .await
            .unwrap();
        leaving.graceful_shutdown().await;
    }
    let terminal = rig.terminal().await;
    let path = until_not_busy(LONG, || terminal.begin_checkout(options(&[]))).await;
    let conn = terminal.inner().connection().clone();
    let session = checkout_proxy(&conn, path.as_str()).await;
    let mut codes = session.receive_code_scanned().await.unwrap();
    rig.scanner.send(format!("{WECHAT}\r").as_bytes());
    assert!(
        tokio::time::timeout(LONG, codes.next())
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_order_for_code_waits_for_a_late_binding() {
    let rig = Rig::start().await;
    let terminal = rig.terminal().await;
    let backend_order = order_json("LATE-1");
    let bind_later = async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        rig.backend.bind(WECHAT, backend_order.clone());
    };
    let (result, ()) = tokio::join!(
        terminal.show_order_for_code(WECHAT, options(&[("timeout_ms", Value::U32(5000))])),
        bind_later
    );
    let json = result.unwrap();
    assert!(json.contains("LATE-1"));
    assert!(rig.backend.queries() >= 2, "kassad polled while unbound");
    assert_eq!(terminal.state().await.unwrap(), "showing_order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_answers_a_waiting_show_order_for_code() {
    let mut rig = Rig::start().await;
    let terminal = rig.terminal().await;
    let waiting = tokio::spawn(async move {
        // Never bound: without the stop this would wait a minute.
        terminal
            .show_order_for_code(WECHAT, options(&[("timeout_ms", Value::U32(60_000))]))
            .await
    });
    // Stop once kassad is asking the backend.
    let deadline = Instant::now() + LONG;
    while rig.backend.queries() == 0 {
        assert!(Instant::now() < deadline, "kassad never asked the backend");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let kassad = rig.kassad.take().unwrap();
    tokio::time::timeout(Duration::from_secs(10), kassad.stop())
        .await
        .expect("kassad stops while a ShowOrderForCode waits");
    let err = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the call is answered")
        .unwrap()
        .unwrap_err();
    assert_eq!(err_name(&err), "org.kassa.Error.Cancelled", "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_kassad_on_the_bus_says_the_name_is_taken() {
    let rig = Rig::start().await;
    let config = kassa_daemon::config::Config::parse(
        &kassa_tests::bus::mock_config("134567890123456789", 50),
        "second.toml",
    )
    .unwrap();
    let second = kassa_daemon::service::run(
        config,
        kassa_daemon::dbus::Bus::Address(rig.bus.address().to_string()),
        || panic!("the second kassad must not become ready"),
        std::future::pending(),
    );
    // It fails, and having stopped its own devices, returns.
    let err = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("the second kassad gives up")
        .unwrap_err();
    assert!(
        err.to_string().contains("is another kassad running?"),
        "{err}"
    );
    // The first one goes on.
    assert_eq!(rig.terminal().await.state().await.unwrap(), "idle");
}

/// Every org.kassa.Error name, each from a real cause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_name_from_a_real_cause() {
    let mut rig = Rig::start().await;
    let t = rig.terminal().await;
    let name = |r: zbus::Result<()>| r.map_or_else(|e| err_name(&e), |()| "ok".into());

    let timeout = t
        .scan_payment_code(options(&[("timeout_ms", Value::U32(150))]))
        .await
        .map(|_| ());
    assert_eq!(name(timeout), "org.kassa.Error.Timeout");

    let unknown = t
        .scan_payment_code(options(&[("colour", Value::from("red"))]))
        .await
        .map(|_| ());
    assert_eq!(name(unknown), "org.kassa.Error.InvalidArgument");

    let bad_order = t
        .show_order(r#"{"id":"A","currency":"CNY","items":[],"total":0}"#)
        .await;
    assert_eq!(name(bad_order), "org.kassa.Error.InvalidOrder");

    let camera = t
        .scan_payment_code(options(&[("sources", Value::from(vec!["camera"]))]))
        .await
        .map(|_| ());
    assert_eq!(name(camera), "org.kassa.Error.NoDevice");

    let not_bound = t
        .show_order_for_code(ALIPAY, options(&[("timeout_ms", Value::U32(300))]))
        .await
        .map(|_| ());
    assert_eq!(name(not_bound), "org.kassa.Error.NotBound");

    rig.backend.set_fault(Fault::ServerError);
    let backend = t
        .show_order_for_code(ALIPAY, options(&[("timeout_ms", Value::U32(2000))]))
        .await;
    let e = backend.unwrap_err();
    assert_eq!(err_name(&e), "org.kassa.Error.Backend");
    assert!(error_message(&e).contains("500"), "{e}");
    rig.backend.set_fault(Fault::None);

    let owner = rig.bus.connect().await;
    let path = TerminalProxy::new(&owner)
        .await
        .unwrap()
        .begin_checkout(options(&[]))
        .await
        .unwrap();
    let busy = t.begin_checkout(options(&[])).await.map(|_| ());
    assert_eq!(name(busy), "org.kassa.Error.Busy");
    let other = rig.bus.connect().await;
    let denied = checkout_proxy(&other, path.as_str()).await.cancel().await;
    assert_eq!(name(denied), "org.kassa.Error.AccessDenied");
    checkout_proxy(&owner, path.as_str())
        .await
        .cancel()
        .await
        .unwrap();

    // A ScanPaymentCode under way when kassad stops is cancelled.
    let observer = rig.terminal().await;
    let waiting = tokio::spawn(async move { t.scan_payment_code(options(&[])).await.map(|_| ()) });
    wait_for_state(&observer, "scanning").await;
    rig.kassad.take().unwrap().stop().await;
    let cancelled = waiting.await.unwrap();
    assert_eq!(name(cancelled), "org.kassa.Error.Cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_failures_have_names_within_the_deadline() {
    let rig = Rig::start().await;
    let t = rig.terminal().await;
    let cases = [
        (Fault::ServerError, "backend answered HTTP 500"),
        (Fault::Malformed, "not valid JSON"),
        (Fault::WrongContentType, "content type \"text/html\""),
        (
            Fault::Slow(Duration::from_secs(5)),
            "did not answer within 1000 ms",
        ),
    ];
    rig.backend.bind(WECHAT, order_json("B-1"));
    for (fault, expected) in cases {
        rig.backend.set_fault(fault.clone());
        let started = Instant::now();
        let e = t
            .show_order_for_code(WECHAT, options(&[("timeout_ms", Value::U32(3000))]))
            .await
            .unwrap_err();
        assert_eq!(err_name(&e), "org.kassa.Error.Backend", "{fault:?}: {e}");
        assert!(error_message(&e).contains(expected), "{fault:?}: {e}");
        assert!(
            started.elapsed() < Duration::from_millis(3000),
            "{fault:?} took {:?}",
            started.elapsed()
        );
    }
    // A slow backend and a short deadline: the caller's deadline wins.
    rig.backend.set_fault(Fault::Slow(Duration::from_secs(5)));
    let started = Instant::now();
    let e = t
        .show_order_for_code(WECHAT, options(&[("timeout_ms", Value::U32(400))]))
        .await
        .unwrap_err();
    assert_eq!(err_name(&e), "org.kassa.Error.NotBound", "{e}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_down_is_a_named_error() {
    let rig = Rig::start().await;
    let url = rig.backend.url();
    drop(rig.backend);
    // Nothing listens there any more.
    let t = TerminalProxy::new(&rig.bus.connect().await).await.unwrap();
    let e = t
        .show_order_for_code(WECHAT, options(&[("timeout_ms", Value::U32(2000))]))
        .await
        .unwrap_err();
    assert_eq!(err_name(&e), "org.kassa.Error.Backend", "{e}");
    assert!(error_message(&e).contains("unreachable"), "{e} ({url})");
    assert!(
        !error_message(&e).contains(WECHAT),
        "the error (which reaches the log) holds the code: {e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_order_names_the_field_and_changes_nothing() {
    let mut rig = Rig::start().await;
    let t = rig.terminal().await;
    t.show_text(&["Hello"]).await.unwrap();
    let before = rig.display_bytes(Duration::from_millis(500));
    assert!(String::from_utf8_lossy(&before).contains("Hello"));
    let bad = r#"{"id":"A","currency":"CNY","items":[{"name":"a","quantity":"1","unit_price":100,"total":100},{"name":"b","quantity":"2","unit_price":100,"total":250}],"total":350}"#;
    let e = t.show_order(bad).await.unwrap_err();
    assert_eq!(err_name(&e), "org.kassa.Error.InvalidOrder");
    assert!(error_message(&e).starts_with("items[1].total:"), "{e}");
    let after = rig.display_bytes(Duration::from_millis(500));
    assert!(after.is_empty(), "the display changed: {after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanner_unplugged_and_plugged_back_mid_checkout() {
    let mut rig = Rig::start().await;
    let conn = rig.bus.connect().await;
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    let path = terminal.begin_checkout(options(&[])).await.unwrap();
    let session = checkout_proxy(&conn, path.as_str()).await;
    let mut codes = session.receive_code_scanned().await.unwrap();
    let device = rig.device("counter").await;
    let mut connected = device.receive_connected_changed().await;

    rig.scanner.unplug();
    loop {
        let change = tokio::time::timeout(LONG, connected.next())
            .await
            .unwrap()
            .unwrap();
        if !change.get().await.unwrap() {
            break;
        }
    }
    assert!(device.last_error().await.unwrap().contains("disconnected"));
    assert!(
        device
            .check_health()
            .await
            .unwrap()
            .starts_with("disconnected")
    );

    rig.scanner.plug_in();
    loop {
        let change = tokio::time::timeout(LONG, connected.next())
            .await
            .unwrap()
            .unwrap();
        if change.get().await.unwrap() {
            break;
        }
    }
    // The trigger is sent again to the fresh device, and scans flow.
    assert_eq!(rig.scanner.pty().receive(3, LONG).unwrap(), b"\x16T\r");
    rig.scanner.send(format!("{WECHAT}\r").as_bytes());
    let got = tokio::time::timeout(LONG, codes.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.args().unwrap().code(), WECHAT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_nobody_wants_is_dropped_not_queued() {
    let mut rig = Rig::start().await;
    rig.scanner.send(format!("{WECHAT}\r").as_bytes());
    let device = rig.device("counter").await;
    let deadline = Instant::now() + LONG;
    while device.scan_count().await.unwrap() == 0 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A checkout started afterwards does not receive the stale scan.
    let t = rig.terminal().await;
    let e = t
        .scan_payment_code(options(&[("timeout_ms", Value::U32(300))]))
        .await
        .unwrap_err();
    assert_eq!(err_name(&e), "org.kassa.Error.Timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_get_every_scan_and_yield_to_a_checkout() {
    let mut rig = Rig::start().await;
    let conn = rig.bus.connect().await;
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    let path = terminal
        .claim_scanner(options(&[("auto_disable", Value::Bool(true))]))
        .await
        .unwrap();
    let claim = claim_proxy(&conn, path.as_str()).await;
    let mut scans = claim.receive_scanned().await.unwrap();
    rig.scanner.send(b"MEMBER-0042\r");
    let got = tokio::time::timeout(LONG, scans.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.args().unwrap().data(), "MEMBER-0042");
    assert!(!claim.enabled().await.unwrap(), "auto_disable");
    rig.scanner.send(b"COUPON-1\r");
    assert!(
        tokio::time::timeout(Duration::from_millis(400), scans.next())
            .await
            .is_err()
    );
    claim.enable().await.unwrap();

    // Another caller cannot claim it too.
    let other = rig.terminal().await;
    let e = other.claim_scanner(options(&[])).await.unwrap_err();
    assert_eq!(err_name(&e), "org.kassa.Error.Busy");

    // A checkout takes the scanner while it waits for a code.
    let t = rig.terminal().await;
    let waiting = tokio::spawn(async move { t.scan_payment_code(options(&[])).await });
    wait_for_state(&other, "scanning").await;
    rig.scanner.send(format!("{WECHAT}\r").as_bytes());
    let (code, channel, _) = waiting.await.unwrap().unwrap();
    assert_eq!((code.as_str(), channel.as_str()), (WECHAT, "wechat"));
    assert!(
        tokio::time::timeout(Duration::from_millis(300), scans.next())
            .await
            .is_err(),
        "the code went to the claim"
    );
    rig.scanner.send(b"MEMBER-7\r");
    let got = tokio::time::timeout(LONG, scans.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.args().unwrap().data(), "MEMBER-7");
    claim.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pos_can_hand_the_order_and_the_result_itself() {
    let mut rig = Rig::start().await;
    let conn = rig.bus.connect().await;
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    let path = terminal
        .begin_checkout(options(&[("order_timeout_ms", Value::U32(10_000))]))
        .await
        .unwrap();
    let session = checkout_proxy(&conn, path.as_str()).await;
    let mut finished = session.receive_finished().await.unwrap();
    let early = session.finish("paid", "").await.unwrap_err();
    assert_eq!(
        err_name(&early),
        "org.kassa.Error.InvalidArgument",
        "no result before the code"
    );
    rig.scanner.send(format!("{WECHAT}\r").as_bytes());
    let deadline = Instant::now() + LONG;
    while session.state().await.unwrap() != "waiting_for_order" {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    terminal
        .show_order(&order_json("POS-9").to_string())
        .await
        .unwrap();
    assert_eq!(session.state().await.unwrap(), "showing_order");
    assert!(session.order().await.unwrap().contains("POS-9"));
    terminal
        .show_payment_result("failed", "Card declined")
        .await
        .unwrap();
    let end = tokio::time::timeout(LONG, finished.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(end.args().unwrap().state(), "failed");
}

/// A caller may begin the next checkout the moment Cancel or Finish returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_checkout_can_begin_as_soon_as_one_ends() {
    let mut rig = Rig::start().await;
    let conn = rig.bus.connect().await;
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    for round in 0..20 {
        let path = terminal
            .begin_checkout(options(&[]))
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let session = checkout_proxy(&conn, path.as_str()).await;
        if round % 2 == 0 {
            session.cancel().await.unwrap();
        } else {
            let mut codes = session.receive_code_scanned().await.unwrap();
            rig.scanner.send(format!("{WECHAT}\r").as_bytes());
            tokio::time::timeout(LONG, codes.next())
                .await
                .unwrap()
                .unwrap();
            session.finish("paid", "").await.unwrap();
        }
    }
}

/// A rig whose backend wants `expected` as bearer token and whose kassad
/// reads `in_file` from its token_file; `extra` goes into [backend].
async fn token_rig(expected: &str, in_file: &str, extra: &str) -> (Rig, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("backend.token");
    std::fs::write(&token_file, in_file).unwrap();
    let backend_options = BackendOptions {
        token: Some(expected.into()),
        ..BackendOptions::default()
    };
    let extra = format!("{extra}\ntoken_file = \"{}\"", token_file.display());
    (Rig::start_with(backend_options, &extra).await, dir)
}

/// The backend variant with POST queries and a bearer token from a file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_queries_carry_the_bearer_token() {
    let (rig, _dir) = token_rig(
        "s3cret-token",
        "s3cret-token\n",
        "order_query_method = \"POST\"",
    )
    .await;
    rig.backend.bind(ALIPAY, order_json("TOKEN-1"));
    let t = rig.terminal().await;
    let json = t
        .show_order_for_code(ALIPAY, options(&[("timeout_ms", Value::U32(3000))]))
        .await
        .unwrap();
    assert!(json.contains("TOKEN-1"));
    assert_eq!(
        rig.backend.last_authorization().as_deref(),
        Some("Bearer s3cret-token")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_a_backend_error() {
    let (rig, _dir) = token_rig("right", "wrong", "").await;
    let t = rig.terminal().await;
    let e = t
        .show_order_for_code(ALIPAY, options(&[("timeout_ms", Value::U32(3000))]))
        .await
        .unwrap_err();
    assert_eq!(err_name(&e), "org.kassa.Error.Backend");
    assert!(error_message(&e).contains("401"), "{e}");
}

/// kassad takes its name only once every device has said whether it is
/// there: the first call after start sees a present scanner connected, and
/// an absent one with its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_have_their_status_when_kassad_is_ready() {
    let dir = tempfile::tempdir().unwrap();
    let mut present = kassa_tests::rig::SerialDevice::new(dir.path(), "present");
    let config = format!(
        r#"
[[scanner]]
name = "present"
driver = "serial"
path = "{present}"

[[scanner]]
name = "absent"
driver = "serial"
path = "{absent}"

[[display]]
name = "pole"
driver = "mock"
"#,
        present = present.link.display(),
        absent = dir.path().join("absent").display(),
    );
    for _ in 0..5 {
        let bus = kassa_tests::bus::PrivateBus::start();
        let kassad = kassa_tests::bus::Kassad::start(&config, &bus).await;
        let conn = bus.connect().await;
        let device = |name: &str| {
            kassa_client::DeviceProxy::builder(&conn)
                .path(format!("/org/kassa/Terminal1/devices/{name}"))
                .unwrap()
                .cache_properties(zbus::proxy::CacheProperties::No)
                .build()
        };
        let (present_dev, absent_dev) = (
            device("present").await.unwrap(),
            device("absent").await.unwrap(),
        );
        assert!(
            present_dev.connected().await.unwrap(),
            "present scanner not yet connected"
        );
        assert!(!absent_dev.connected().await.unwrap());
        let why = absent_dev.last_error().await.unwrap();
        assert!(why.contains("absent"), "{why:?}");
        assert!(device("pole").await.unwrap().connected().await.unwrap());
        kassad.stop().await;
        present
            .pty()
            .receive(usize::MAX, Duration::from_millis(10))
            .unwrap();
    }
}
