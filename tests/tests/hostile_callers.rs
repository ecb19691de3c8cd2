//! kassad against callers that misbehave: that leave mid-call, act on
//! another caller's checkout, send huge or forged text, flood the scanner
//! with garbage. Each test is an attack that once worked.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use kassa_client::{TerminalProxy, error_message};
use kassa_tests::rig::{
    ALIPAY, LONG, Rig, WECHAT, checkout_proxy, claim_proxy, err_name, options, order_json,
    until_not_busy,
};
use zbus::zvariant::Value;

const ROOT: &str = "/org/kassa/Terminal1";
const TERMINAL: &str = "org.kassa.Terminal1";

/// Sends `method` with one `a{sv}` argument and leaves the bus at once,
/// without waiting for the answer.
async fn call_and_leave(rig: &Rig, method: &str, args: &[(&str, Value<'_>)]) {
    let conn = rig.bus.connect().await;
    let message = zbus::Message::method_call(ROOT, method)
        .unwrap()
        .destination(TERMINAL)
        .unwrap()
        .interface(TERMINAL)
        .unwrap()
        .build(&(options(args),))
        .unwrap();
    conn.send(&message).await.unwrap();
    drop(conn);
}

/// Waits until the terminal is idle again; false if it is not within `wait`.
async fn idle_within(terminal: &TerminalProxy<'_>, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    loop {
        if terminal.state().await.unwrap() == "idle" {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// 1,000 callers that disconnect right after asking for a code leave the
/// till idle with its scanner off: none holds it until its own timeout.
async fn immediate_disconnects_leave_nothing_behind(method: &str) {
    let mut rig = Rig::start().await;
    let terminal = rig.terminal().await;
    for _ in 0..1000 {
        call_and_leave(&rig, method, &[("timeout_ms", Value::U32(120_000))]).await;
    }
    assert!(
        idle_within(&terminal, Duration::from_secs(3)).await,
        "a caller that left still holds the terminal"
    );
    // Every trigger-on was followed by a trigger-off.
    let sent = rig
        .scanner
        .pty()
        .receive(usize::MAX, Duration::from_millis(500))
        .unwrap();
    assert!(
        sent.ends_with(b"\x16U\r"),
        "{:?}",
        String::from_utf8_lossy(&sent)
    );
    // And the next caller gets the scanner.
    let conn = rig.bus.connect().await;
    let next = TerminalProxy::new(&conn).await.unwrap();
    let path = next.begin_checkout(options(&[])).await.unwrap();
    let session = checkout_proxy(&conn, path.as_str()).await;
    session.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_payment_code_callers_that_leave_at_once_leave_nothing_behind() {
    immediate_disconnects_leave_nothing_behind("ScanPaymentCode").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn begin_checkout_callers_that_leave_at_once_leave_nothing_behind() {
    immediate_disconnects_leave_nothing_behind("BeginCheckout").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_whose_owner_left_at_once_is_released() {
    let rig = Rig::start().await;
    for _ in 0..200 {
        call_and_leave(&rig, "ClaimScanner", &[]).await;
    }
    let terminal = rig.terminal().await;
    // A claim of a caller that left would keep this Busy.
    let claim = until_not_busy(Duration::from_secs(3), || {
        terminal.claim_scanner(options(&[]))
    })
    .await;
    claim_proxy(terminal.inner().connection(), claim.as_str())
        .await
        .release()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_caller_given_duration_is_capped() {
    let rig = Rig::start().await;
    let terminal = rig.terminal().await;
    let too_long = Value::U32(u32::MAX);
    let e = terminal
        .scan_payment_code(options(&[("timeout_ms", too_long.clone())]))
        .await
        .unwrap_err();
    assert_eq!(err_name(&e), "org.kassa.Error.InvalidArgument");
    assert!(error_message(&e).contains("600000"), "{e}");
    for (key, value) in [
        ("timeout_ms", too_long.clone()),
        ("order_timeout_ms", Value::U32(600_001)),
    ] {
        let e = terminal
            .begin_checkout(options(&[(key, value)]))
            .await
            .unwrap_err();
        assert_eq!(err_name(&e), "org.kassa.Error.InvalidArgument", "{key}");
    }
    let e = terminal
        .show_order_for_code(WECHAT, options(&[("timeout_ms", too_long.clone())]))
        .await
        .unwrap_err();
    assert_eq!(err_name(&e), "org.kassa.Error.InvalidArgument");
    let e = terminal
        .capture_face(options(&[("timeout_ms", Value::U32(60_001))]))
        .await
        .unwrap_err();
    assert_eq!(err_name(&e), "org.kassa.Error.InvalidArgument");
    assert_eq!(terminal.state().await.unwrap(), "idle");
}

/// During a checkout, another caller can neither bind an order to it, nor
/// end it, nor take its code, nor change what the customer sees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_acts_on_its_checkout() {
    let mut rig = Rig::start().await;
    let conn = rig.bus.connect().await;
    let owner = TerminalProxy::new(&conn).await.unwrap();
    let other = rig.terminal().await;
    let path = owner
        .begin_checkout(options(&[("order_timeout_ms", Value::U32(10_000))]))
        .await
        .unwrap();
    let session = checkout_proxy(&conn, path.as_str()).await;
    let mut finished = session.receive_finished().await.unwrap();

    let denied = |result: Result<(), zbus::Error>, what: &str| {
        let e = result.expect_err(what);
        assert_eq!(err_name(&e), "org.kassa.Error.AccessDenied", "{what}: {e}");
    };
    let foreign = order_json("FOREIGN").to_string();
    denied(
        other.show_order(&foreign).await,
        "ShowOrder while waiting for the code",
    );
    denied(other.show_text(&["Hello"]).await, "ShowText");
    denied(other.clear_display().await, "ClearDisplay");
    denied(
        other.show_payment_result("paid", "").await,
        "ShowPaymentResult while waiting for the code",
    );
    assert_eq!(session.state().await.unwrap(), "waiting_for_code");

    rig.scanner.send(format!("{WECHAT}\r").as_bytes());
    let deadline = Instant::now() + LONG;
    while session.state().await.unwrap() != "waiting_for_order" {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rig.backend.bind(ALIPAY, order_json("FOREIGN-BOUND"));
    denied(other.show_order(&foreign).await, "ShowOrder after the code");
    denied(
        other
            .show_order_for_code(ALIPAY, options(&[("timeout_ms", Value::U32(2000))]))
            .await
            .map(drop),
        "ShowOrderForCode",
    );
    denied(
        other.show_payment_result("paid", "Thank you").await,
        "ShowPaymentResult after the code",
    );
    // Its code goes to the owner alone, once.
    let theirs = checkout_proxy(other.inner().connection(), path.as_str()).await;
    denied(theirs.take_code().await.map(drop), "TakeCode");
    assert_eq!(session.take_code().await.unwrap().0, WECHAT);
    let again = session.take_code().await.unwrap_err();
    assert_eq!(
        err_name(&again),
        "org.kassa.Error.InvalidArgument",
        "{again}"
    );
    denied(
        theirs.take_code().await.map(drop),
        "TakeCode after the owner took it",
    );
    assert_eq!(session.state().await.unwrap(), "waiting_for_order");
    assert_eq!(session.order().await.unwrap(), "");

    // The owner binds its own order and ends its checkout.
    owner
        .show_order(&order_json("MINE").to_string())
        .await
        .unwrap();
    assert!(session.order().await.unwrap().contains("MINE"));
    denied(
        other.show_payment_result("paid", "").await,
        "ShowPaymentResult with the order shown",
    );
    owner
        .show_payment_result("failed", "Declined")
        .await
        .unwrap();
    let end = tokio::time::timeout(LONG, finished.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(end.args().unwrap().state(), "failed");
    // With no checkout running, anyone may use the display again.
    other.show_text(&["Welcome"]).await.unwrap();
}

/// `ShowOrderForCode` stops asking the backend once its caller has left,
/// and only a few run at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_order_for_code_ends_with_its_caller_and_is_bounded() {
    let rig = Rig::start().await;
    let mut leaving = Vec::new();
    for _ in 0..3 {
        let conn = rig.bus.connect().await;
        let terminal = TerminalProxy::new(&conn).await.unwrap();
        let call = tokio::spawn(async move {
            terminal
                .show_order_for_code(WECHAT, options(&[("timeout_ms", Value::U32(600_000))]))
                .await
        });
        leaving.push((conn, call));
    }
    // A fourth waits as well (on a connection of its own); a fifth is
    // refused.
    let fourth = rig.terminal().await;
    let waiting = tokio::spawn(async move {
        fourth
            .show_order_for_code(WECHAT, options(&[("timeout_ms", Value::U32(5000))]))
            .await
    });
    let deadline = Instant::now() + LONG;
    let fifth = rig.terminal().await;
    loop {
        // The four must all be waiting before the fifth is refused.
        tokio::time::sleep(Duration::from_millis(100)).await;
        match fifth
            .show_order_for_code(WECHAT, options(&[("timeout_ms", Value::U32(100))]))
            .await
        {
            Err(e) if err_name(&e) == "org.kassa.Error.Busy" => break,
            other => assert!(Instant::now() < deadline, "never refused: {other:?}"),
        }
    }
    // The four callers leave; within a second nobody polls for them.
    waiting.abort();
    for (conn, call) in leaving {
        drop(conn);
        call.abort();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rig.backend.queries();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        rig.backend.queries(),
        before,
        "polling went on for callers that left"
    );
}

/// No text a caller sends reaches the log or a display as more than one
/// line, and none is unbounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_text_is_bounded_and_one_line() {
    let mut rig = Rig::start().await;
    let conn = rig.bus.connect().await;
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    let path = terminal.begin_checkout(options(&[])).await.unwrap();
    let session = checkout_proxy(&conn, path.as_str()).await;
    rig.scanner.send(format!("{WECHAT}\r").as_bytes());
    let deadline = Instant::now() + LONG;
    while session.state().await.unwrap() != "waiting_for_order" {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let huge = format!("paid\nINFO forged line{}", "x".repeat(8 << 20));
    for message in [huge.as_str(), "ok\nINFO forged line", "x\u{202e}y"] {
        let e = session.finish("paid", message).await.unwrap_err();
        assert_eq!(err_name(&e), "org.kassa.Error.InvalidArgument");
        assert!(error_message(&e).len() < 200, "the error echoes the input");
    }
    for bad in ["a\nb", &"y".repeat(257)] {
        let e = terminal.show_payment_result("paid", bad).await.unwrap_err();
        assert_eq!(err_name(&e), "org.kassa.Error.InvalidArgument");
    }
    let e = terminal
        .show_payment_result(&"p".repeat(1 << 20), "")
        .await
        .unwrap_err();
    assert_eq!(err_name(&e), "org.kassa.Error.InvalidArgument");
    assert!(error_message(&e).len() < 200, "the error echoes the input");
    assert_eq!(session.state().await.unwrap(), "waiting_for_order");
    session.finish("paid", "Thank you").await.unwrap();
    assert_eq!(session.state().await.unwrap(), "paid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_with_a_key_twice_is_refused_by_name() {
    let rig = Rig::start().await;
    let terminal = rig.terminal().await;
    let twice = r#"{"id":"FIRST","id":"SECOND","currency":"CNY",
        "items":[{"name":"Tea","quantity":"1","unit_price":100,"total":100}],"total":100}"#;
    let e = terminal.show_order(twice).await.unwrap_err();
    assert_eq!(err_name(&e), "org.kassa.Error.InvalidOrder");
    assert!(error_message(&e).starts_with("id:"), "{e}");
    assert_eq!(terminal.state().await.unwrap(), "idle");
}

/// A member card scanned while a payment code is awaited still reaches the
/// claim; the payment code still reaches the wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_payment_scans_reach_the_claim_during_a_code_wait() {
    let mut rig = Rig::start().await;
    let claimant = rig.terminal().await;
    let path = claimant.claim_scanner(options(&[])).await.unwrap();
    let claim = claim_proxy(claimant.inner().connection(), path.as_str()).await;
    let mut scanned = claim.receive_scanned().await.unwrap();
    let payer = rig.terminal().await;
    let wait = tokio::spawn(async move {
        payer
            .scan_payment_code(options(&[("timeout_ms", Value::U32(10_000))]))
            .await
    });
    let deadline = Instant::now() + LONG;
    while claimant.state().await.unwrap() != "scanning" {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    rig.scanner.send(b"MEMBER-7\r");
    let got = tokio::time::timeout(LONG, scanned.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.args().unwrap().data(), "MEMBER-7");
    rig.scanner.send(format!("{WECHAT}\r").as_bytes());
    let (code, _, _) = tokio::time::timeout(LONG, wait)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(code, WECHAT);
}

/// A scanner spewing garbage: every dropped read is counted, and payments
/// still work afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_from_a_scanner_is_counted_and_payments_go_on() {
    let mut rig = Rig::start().await;
    let device = rig.device("counter").await;
    const FRAMES: u64 = 20_000;
    let mut garbage = Vec::new();
    for i in 0..FRAMES {
        garbage.extend_from_slice(format!("G{i:07}\x01\x7f\r").as_bytes());
    }
    rig.scanner.send(&garbage);
    let deadline = Instant::now() + LONG;
    while device.dropped_count().await.unwrap() < FRAMES {
        assert!(
            Instant::now() < deadline,
            "{} of {FRAMES} counted",
            device.dropped_count().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(device.dropped_count().await.unwrap(), FRAMES);
    let terminal = rig.terminal().await;
    let code = tokio::spawn(async move {
        terminal
            .scan_payment_code(options(&[("timeout_ms", Value::U32(10_000))]))
            .await
    });
    // The trigger is on once the wait has begun.
    let trigger = rig.scanner.pty().receive(6, LONG).unwrap();
    assert!(trigger.ends_with(b"\x16T\r"), "{trigger:?}");
    rig.scanner.send(format!("{WECHAT}\r").as_bytes());
    let (got, _, _) = code.await.unwrap().unwrap();
    assert_eq!(got, WECHAT);
}

/// The code a checkout just got, read again (the phone still in front of
/// the scanner), reaches no one: not another caller's claim.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_code_read_again_reaches_no_claim() {
    let mut rig = Rig::start().await;
    let claimant = rig.terminal().await;
    let path = claimant.claim_scanner(options(&[])).await.unwrap();
    let claim = claim_proxy(claimant.inner().connection(), path.as_str()).await;
    let mut scanned = claim.receive_scanned().await.unwrap();
    let conn = rig.bus.connect().await;
    let owner = TerminalProxy::new(&conn).await.unwrap();
    let path = owner.begin_checkout(options(&[])).await.unwrap();
    let session = checkout_proxy(&conn, path.as_str()).await;
    let mut codes = session.receive_code_scanned().await.unwrap();
    rig.scanner.send(format!("{WECHAT}\r").as_bytes());
    tokio::time::timeout(LONG, codes.next())
        .await
        .unwrap()
        .unwrap();
    // Read again, and another payment code during the checkout.
    rig.scanner
        .send(format!("{WECHAT}\r{ALIPAY}\rMEMBER-9\r").as_bytes());
    let first = tokio::time::timeout(LONG, scanned.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        first.args().unwrap().data(),
        "MEMBER-9",
        "a payment code reached another caller's claim"
    );
    let device = rig.device("counter").await;
    assert!(device.dropped_count().await.unwrap() >= 2);
}

/// Replacing the order again and again does not keep a checkout alive past
/// its result deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_order_does_not_move_the_result_deadline() {
    let mut rig = Rig::start_configured(
        kassa_tests::backend::Options::default(),
        "result_timeout_ms = 1000",
        "",
    )
    .await;
    let conn = rig.bus.connect().await;
    let owner = TerminalProxy::new(&conn).await.unwrap();
    let path = owner.begin_checkout(options(&[])).await.unwrap();
    let session = checkout_proxy(&conn, path.as_str()).await;
    let mut finished = session.receive_finished().await.unwrap();
    rig.scanner.send(format!("{WECHAT}\r").as_bytes());
    kassa_tests::rig::wait_for_state(&owner, "waiting_for_order").await;
    let started = Instant::now();
    let ended = loop {
        let _ = owner.show_order(&order_json("AGAIN").to_string()).await;
        if let Ok(Some(end)) =
            tokio::time::timeout(Duration::from_millis(200), finished.next()).await
        {
            break end;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the checkout outlived its result deadline"
        );
    };
    assert_eq!(ended.args().unwrap().state(), "expired");
}

/// One caller waits for one order at a time; others read nothing of a
/// checkout that is not theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_order_query_per_caller_and_no_peeking() {
    let mut rig = Rig::start().await;
    let conn = rig.bus.connect().await;
    let hog = TerminalProxy::new(&conn).await.unwrap();
    let first = {
        let hog = hog.clone();
        tokio::spawn(async move {
            hog.show_order_for_code(WECHAT, options(&[("timeout_ms", Value::U32(5000))]))
                .await
        })
    };
    let deadline = Instant::now() + LONG;
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        match hog
            .show_order_for_code(ALIPAY, options(&[("timeout_ms", Value::U32(100))]))
            .await
        {
            Err(e) if err_name(&e) == "org.kassa.Error.Busy" => break,
            other => assert!(Instant::now() < deadline, "never refused: {other:?}"),
        }
    }
    let _ = first.await;

    let path = hog.begin_checkout(options(&[])).await.unwrap();
    rig.scanner.send(format!("{WECHAT}\r").as_bytes());
    kassa_tests::rig::wait_for_state(&hog, "waiting_for_order").await;
    hog.show_order(&order_json("SECRET").to_string())
        .await
        .unwrap();
    let other = rig.bus.connect().await;
    let peek = checkout_proxy(&other, path.as_str()).await;
    assert_eq!(peek.order().await.unwrap(), "");
    assert_eq!(peek.channel().await.unwrap(), "");
    let own = checkout_proxy(&conn, path.as_str()).await;
    assert!(own.order().await.unwrap().contains("SECRET"));
    assert_eq!(own.channel().await.unwrap(), "wechat");
}
