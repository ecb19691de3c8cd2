//! Checkouts and payment-code waits: from code to result, deadlines,
//! owners leaving, one at a time.

use super::*;

#[tokio::test(start_paused = true)]
async fn a_checkout_from_code_to_result_and_back_to_idle() {
    let rig = rig();
    let pos = caller(":1.1");
    assert_eq!(rig.view(), Some(View::Idle));
    let mut checkout = rig
        .terminal
        .begin_checkout(
            &pos,
            CheckoutOptions {
                amount: Amount::new(1200),
                ..CheckoutOptions::default()
            },
        )
        .unwrap();
    assert!(rig.trigger("till") && rig.trigger("door"));
    assert_eq!(rig.state(), TerminalState::Scanning);
    assert!(matches!(
        rig.view(),
        Some(View::Prompt {
            amount: Some(_),
            ..
        })
    ));

    rig.scan("till", WECHAT);
    let SessionEvent::CodeScanned(code) = next(&mut checkout.events).await else {
        panic!("no code");
    };
    assert_eq!(code.code.as_str(), WECHAT);
    assert_eq!(code.source, SourceKind::Serial);
    assert!(!rig.trigger("till") && !rig.trigger("door"));
    assert_eq!(rig.state(), TerminalState::WaitingForOrder);

    rig.terminal.show_order(":1.1", ORDER).await.unwrap();
    assert!(matches!(
        next(&mut checkout.events).await,
        SessionEvent::OrderShown(_)
    ));
    assert_eq!(rig.state(), TerminalState::ShowingOrder);
    assert_eq!(
        checkout.control.snapshot.borrow().state,
        CheckoutState::ShowingOrder
    );

    rig.terminal
        .show_payment_result(":1.1", PaymentStatus::Paid, "Thank you")
        .await
        .unwrap();
    assert_eq!(
        finished(&mut checkout.events).await,
        (CheckoutState::Paid, "Thank you".into())
    );
    assert_eq!(rig.state(), TerminalState::ShowingResult);
    assert!(matches!(
        rig.view(),
        Some(View::Result {
            status: PaymentStatus::Paid,
            ..
        })
    ));
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(rig.state(), TerminalState::Idle);
    assert_eq!(rig.view(), Some(View::Idle));
}

#[tokio::test(start_paused = true)]
async fn one_checkout_at_a_time_and_only_its_owner_changes_the_display() {
    let rig = rig();
    let mut checkout = rig
        .terminal
        .begin_checkout(&caller(":1.1"), CheckoutOptions::default())
        .unwrap();
    let other = caller(":1.2");
    assert!(matches!(
        rig.terminal
            .begin_checkout(&other, CheckoutOptions::default()),
        Err(CoreError::Busy(_))
    ));
    assert!(matches!(
        rig.terminal
            .scan_payment_code(&other, CheckoutOptions::default())
            .await,
        Err(CoreError::Busy(_))
    ));
    assert!(matches!(
        rig.terminal.show_order(":1.2", ORDER).await,
        Err(CoreError::AccessDenied(_))
    ));
    assert!(matches!(
        rig.terminal.show_text(":1.2", vec!["hi".into()]),
        Err(CoreError::AccessDenied(_))
    ));
    assert!(matches!(
        rig.terminal.clear_display(":1.2"),
        Err(CoreError::AccessDenied(_))
    ));
    assert!(matches!(
        checkout.control.cancel(":1.2").await,
        Err(CoreError::AccessDenied(_))
    ));
    // The owner cancels; the next checkout may begin at once.
    checkout.control.cancel(":1.1").await.unwrap();
    assert_eq!(
        finished(&mut checkout.events).await,
        (CheckoutState::Cancelled, "cancelled by the POS".into())
    );
    assert!(
        rig.terminal
            .begin_checkout(&other, CheckoutOptions::default())
            .is_ok()
    );
}

#[tokio::test(start_paused = true)]
async fn a_caller_that_leaves_ends_its_checkout_at_every_step() {
    for step in ["waiting for code", "waiting for order", "showing order"] {
        let rig = rig();
        let pos = caller(":1.1");
        let mut checkout = rig
            .terminal
            .begin_checkout(&pos, CheckoutOptions::default())
            .unwrap();
        if step != "waiting for code" {
            rig.scan("till", WECHAT);
            next(&mut checkout.events).await;
        }
        if step == "showing order" {
            rig.terminal.show_order(":1.1", ORDER).await.unwrap();
            next(&mut checkout.events).await;
        }
        pos.gone.cancel();
        assert_eq!(
            finished(&mut checkout.events).await,
            (CheckoutState::Cancelled, "the caller left".into()),
            "{step}"
        );
        assert!(!rig.trigger("till"), "{step}");
        // The terminal is free for the next caller.
        assert!(
            rig.terminal
                .begin_checkout(&caller(":1.2"), CheckoutOptions::default())
                .is_ok(),
            "{step}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_code_deadline_expires_the_checkout_and_a_late_scan_goes_nowhere() {
    let rig = rig();
    let mut checkout = rig
        .terminal
        .begin_checkout(&caller(":1.1"), within(Duration::from_secs(10)))
        .unwrap();
    tokio::time::sleep(Duration::from_secs(10)).await;
    // The scan comes as the deadline fires: it is either the checkout's
    // code, or dropped after the checkout expired; never both, never lost
    // without a count.
    rig.scan("till", WECHAT);
    let mut got_code = false;
    let (state, message) = loop {
        match next(&mut checkout.events).await {
            SessionEvent::CodeScanned(_) => got_code = true,
            SessionEvent::Finished { state, message } => break (state, message),
            SessionEvent::OrderShown(_) => panic!("no order was shown"),
        }
    };
    if got_code {
        assert_eq!(state, CheckoutState::Expired);
        assert!(message.contains("bound no order"), "{message}");
    } else {
        assert_eq!(state, CheckoutState::Expired);
        assert_eq!(message, "no payment code within 10000 ms");
        assert_eq!(rig.dropped("till"), 1);
    }
    assert!(!rig.trigger("till"));
    assert!(matches!(
        rig.view(),
        Some(View::Result {
            status: PaymentStatus::Failed,
            ..
        })
    ));
}

#[tokio::test(start_paused = true)]
async fn a_code_after_the_checkout_expired_is_counted_and_dropped() {
    let rig = rig();
    let mut checkout = rig
        .terminal
        .begin_checkout(&caller(":1.1"), within(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(
        finished(&mut checkout.events).await,
        (
            CheckoutState::Expired,
            "no payment code within 10000 ms".into()
        )
    );
    rig.scan("till", WECHAT);
    assert_eq!(rig.dropped("till"), 1);
}

#[tokio::test(start_paused = true)]
async fn the_result_deadline_runs_from_the_first_order() {
    let rig = rig();
    let mut checkout = rig
        .terminal
        .begin_checkout(&caller(":1.1"), CheckoutOptions::default())
        .unwrap();
    rig.scan("till", WECHAT);
    next(&mut checkout.events).await;
    rig.terminal.show_order(":1.1", ORDER).await.unwrap();
    next(&mut checkout.events).await;
    tokio::time::sleep(Duration::from_secs(100)).await;
    // A replaced order does not move the deadline.
    rig.terminal.show_order(":1.1", ORDER).await.unwrap();
    next(&mut checkout.events).await;
    let started = tokio::time::Instant::now();
    let (state, _) = finished(&mut checkout.events).await;
    assert_eq!(state, CheckoutState::Expired);
    assert!(
        started.elapsed() <= Duration::from_secs(21),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_result_before_the_code_is_refused_and_the_checkout_goes_on() {
    let rig = rig();
    let mut checkout = rig
        .terminal
        .begin_checkout(&caller(":1.1"), CheckoutOptions::default())
        .unwrap();
    assert!(matches!(
        checkout
            .control
            .finish(":1.1", PaymentStatus::Paid, String::new())
            .await,
        Err(CoreError::InvalidArgument(_))
    ));
    rig.scan("till", WECHAT);
    assert!(matches!(
        next(&mut checkout.events).await,
        SessionEvent::CodeScanned(_)
    ));
}

#[tokio::test(start_paused = true)]
async fn sources_pick_the_scanners_and_no_connected_scanner_is_no_device() {
    let rig = rig();
    let pos = caller(":1.1");
    let mut checkout = rig
        .terminal
        .begin_checkout(
            &pos,
            CheckoutOptions {
                sources: Some(vec![SourceKind::Camera]),
                ..CheckoutOptions::default()
            },
        )
        .unwrap();
    assert!(rig.trigger("door") && !rig.trigger("till"));
    rig.scan("till", WECHAT);
    settle().await;
    assert_eq!(rig.dropped("till"), 1);
    rig.scan("door", WECHAT);
    assert!(
        matches!(next(&mut checkout.events).await, SessionEvent::CodeScanned(c) if c.source == SourceKind::Camera)
    );
    checkout.control.cancel(":1.1").await.unwrap();

    assert!(matches!(
        rig.terminal.begin_checkout(
            &pos,
            CheckoutOptions {
                sources: Some(vec![SourceKind::Wedge]),
                ..CheckoutOptions::default()
            }
        ),
        Err(CoreError::NoDevice(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn bad_requests_change_nothing() {
    let rig = rig();
    let pos = caller(":1.1");
    // An amount out of range cannot even be built.
    assert_eq!(Amount::new(-1), None);
    assert_eq!(Amount::new(kassa_hal::order::MAX_AMOUNT + 1), None);
    for options in [
        CheckoutOptions {
            prompt: Some("two\nlines".into()),
            ..CheckoutOptions::default()
        },
        CheckoutOptions {
            prompt: Some("x".repeat(MAX_LINE_CHARS + 1)),
            ..CheckoutOptions::default()
        },
    ] {
        assert!(matches!(
            rig.terminal.begin_checkout(&pos, options),
            Err(CoreError::InvalidArgument(_))
        ));
    }
    assert!(matches!(
        rig.terminal.show_order(":1.1", "{").await,
        Err(CoreError::InvalidOrder(_))
    ));
    assert!(matches!(
        rig.terminal
            .show_text(":1.1", vec![String::new(); MAX_TEXT_LINES + 1]),
        Err(CoreError::InvalidArgument(_))
    ));
    assert_eq!(rig.state(), TerminalState::Idle);
    assert_eq!(rig.view(), Some(View::Idle));
    assert!(!rig.trigger("till"));
}

#[tokio::test(start_paused = true)]
async fn a_payment_code_wait_ends_with_its_code_or_its_timeout() {
    let rig = rig();
    let pos = caller(":1.1");
    let wait = spawn_scan(&rig.terminal, &pos);
    settle().await;
    assert_eq!(rig.state(), TerminalState::Scanning);
    rig.scan("door", ALIPAY);
    let code = wait.await.unwrap().unwrap();
    assert_eq!(code.code.as_str(), ALIPAY);
    assert_eq!(code.source, SourceKind::Camera);
    assert_eq!(rig.state(), TerminalState::Idle);
    assert!(!rig.trigger("door"));

    let timed_out = rig
        .terminal
        .scan_payment_code(&pos, within(Duration::from_secs(5)))
        .await;
    assert!(matches!(timed_out, Err(CoreError::Timeout(_))));
    assert_eq!(rig.view(), Some(View::Idle));
}

/// An owner that listened for `CodeScanned` too late takes the code with
/// `TakeCode`, once; no one else can.
#[tokio::test(start_paused = true)]
async fn take_code_hands_the_owner_a_code_it_missed_once() {
    let rig = rig();
    let checkout = rig
        .terminal
        .begin_checkout(&caller(":1.1"), CheckoutOptions::default())
        .unwrap();
    // The code is read before the owner asks; its events are never read.
    rig.scan("till", WECHAT);
    tokio::task::yield_now().await;
    let denied = checkout.control.take_code(":1.2").await;
    assert!(
        matches!(denied, Err(CoreError::AccessDenied(_))),
        "{denied:?}"
    );
    let scan = checkout.control.take_code(":1.1").await.unwrap();
    assert_eq!(scan.code.as_str(), WECHAT);
    assert_eq!(scan.source, SourceKind::Serial);
    let again = checkout.control.take_code(":1.1").await;
    assert!(
        matches!(again, Err(CoreError::InvalidArgument(_))),
        "{again:?}"
    );
}

/// Asked before the code, `TakeCode` waits for it; if the checkout
/// expires first, it says so.
#[tokio::test(start_paused = true)]
async fn take_code_waits_for_the_code_or_the_end_of_the_checkout() {
    let rig = rig();
    let checkout = rig
        .terminal
        .begin_checkout(&caller(":1.1"), CheckoutOptions::default())
        .unwrap();
    let control = checkout.control.clone();
    let waiting = tokio::spawn(async move { control.take_code(":1.1").await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiting.is_finished());
    rig.scan("till", WECHAT);
    let scan = waiting.await.unwrap().unwrap();
    assert_eq!(scan.code.as_str(), WECHAT);
    checkout.control.cancel(":1.1").await.unwrap();

    let checkout = rig
        .terminal
        .begin_checkout(&caller(":1.1"), within(Duration::from_secs(5)))
        .unwrap();
    let expired = checkout.control.take_code(":1.1").await;
    assert!(matches!(expired, Err(CoreError::Timeout(_))), "{expired:?}");
    let ended = checkout.control.take_code(":1.1").await;
    assert!(
        matches!(ended, Err(CoreError::InvalidArgument(_))),
        "{ended:?}"
    );
}
