//! The core's rules, on fake devices and paused time: what the end-to-end
//! tests check over a bus, and the races that are hard to hit there.

use std::sync::Arc;
use std::time::Duration;

use kassa_hal::{PaymentStatus, SourceKind, Timestamp, View};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::config::CheckoutConfig;
use crate::devices::{Devices, RoutedScan, ViewSlot};

const WECHAT: &str = "134567890123456789";
const ALIPAY: &str = "284567890123456789";
const PRODUCT: &str = "ITEM-4006381";
const ORDER: &str = r#"{"id":"A1","currency":"CNY","items":[{"name":"Tea","quantity":"1","unit_price":1200,"total":1200}],"total":1200}"#;

struct Rig {
    terminal: Terminal,
    slot: Arc<ViewSlot>,
}

fn checkout_config() -> CheckoutConfig {
    CheckoutConfig {
        code_timeout: Duration::from_secs(60),
        order_timeout: Duration::from_secs(30),
        result_timeout: Duration::from_secs(120),
        result_display: Duration::from_secs(5),
        ..CheckoutConfig::default()
    }
}

/// A terminal over a serial scanner "till", a camera "door" (its codes
/// only, no faces) and one display.
fn rig() -> Rig {
    let devices = Devices::detached(
        &[("till", SourceKind::Serial), ("door", SourceKind::Camera)],
        &["pole"],
    );
    let slot = devices.displays[0].slot.clone();
    let terminal = Terminal::new(Parts {
        devices,
        checkout: checkout_config(),
        channels: kassa_hal::ChannelTable::builtin(),
        backend: None,
    });
    Rig { terminal, slot }
}

impl Rig {
    fn scan(&self, device: &str, data: &str) {
        let source = self
            .terminal
            .scanner(device)
            .map(|s| s.source)
            .unwrap_or(SourceKind::Mock);
        self.terminal.route(RoutedScan {
            device: device.into(),
            scan: kassa_hal::Scan::new(data.as_bytes(), source, Timestamp::now()),
        });
    }

    fn trigger(&self, device: &str) -> bool {
        self.terminal
            .scanner(device)
            .is_some_and(|s| *s.trigger.borrow())
    }

    fn dropped(&self, device: &str) -> u64 {
        self.terminal
            .scanner(device)
            .map_or(0, |s| s.device.status.borrow().dropped_count)
    }

    fn state(&self) -> TerminalState {
        *self.terminal.state().borrow()
    }

    fn view(&self) -> Option<View> {
        self.slot.current()
    }
}

fn caller(name: &str) -> Caller {
    Caller::new(name, CancellationToken::new())
}

/// The next event of a checkout, within the (paused) minute.
async fn next(events: &mut mpsc::UnboundedReceiver<SessionEvent>) -> SessionEvent {
    tokio::time::timeout(Duration::from_secs(600), events.recv())
        .await
        .expect("an event")
        .expect("the checkout's events go on")
}

async fn finished(events: &mut mpsc::UnboundedReceiver<SessionEvent>) -> (CheckoutState, String) {
    loop {
        if let SessionEvent::Finished { state, message } = next(events).await {
            return (state, message);
        }
    }
}

/// Lets the spawned tasks run (paused time does not move).
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

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
                amount: Some(1200),
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
async fn a_claim_gets_product_scans_and_the_checkout_the_payment_code() {
    let rig = rig();
    let shop = caller(":1.9");
    let mut claim = rig
        .terminal
        .claim_scanner(&shop, ClaimOptions::default())
        .unwrap();
    assert!(rig.trigger("till"));
    let mut checkout = rig
        .terminal
        .begin_checkout(&caller(":1.1"), CheckoutOptions::default())
        .unwrap();
    rig.scan("till", PRODUCT);
    assert_eq!(claim.scans.recv().await.unwrap().data, PRODUCT.as_bytes());
    rig.scan("till", WECHAT);
    assert!(matches!(
        next(&mut checkout.events).await,
        SessionEvent::CodeScanned(_)
    ));
    // Another payment code during that checkout reaches no one.
    rig.scan("till", ALIPAY);
    settle().await;
    assert!(claim.scans.try_recv().is_err());
    assert_eq!(rig.dropped("till"), 1);
    // The claim keeps the scanner triggered after the code.
    assert!(rig.trigger("till"));
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
async fn a_caller_that_leaves_ends_its_wait_and_its_claim() {
    let rig = rig();
    let pos = caller(":1.1");
    let wait = {
        let terminal = rig.terminal.clone();
        let pos = pos.clone();
        tokio::spawn(async move {
            terminal
                .scan_payment_code(&pos, CheckoutOptions::default())
                .await
        })
    };
    settle().await;
    assert!(rig.trigger("till"));
    pos.gone.cancel();
    assert!(matches!(wait.await.unwrap(), Err(CoreError::Cancelled(_))));
    assert!(!rig.trigger("till"));
    assert_eq!(rig.state(), TerminalState::Idle);

    let shop = caller(":1.9");
    let claim = rig
        .terminal
        .claim_scanner(&shop, ClaimOptions::default())
        .unwrap();
    assert!(rig.trigger("till"));
    shop.gone.cancel();
    settle().await;
    assert!(!rig.trigger("till"));
    assert!(!rig.terminal.claim_enabled(claim.id));
    // Someone else may claim now.
    assert!(
        rig.terminal
            .claim_scanner(&caller(":1.8"), ClaimOptions::default())
            .is_ok()
    );
}

#[tokio::test(start_paused = true)]
async fn the_code_deadline_expires_the_checkout_and_a_late_scan_goes_nowhere() {
    let rig = rig();
    let mut checkout = rig
        .terminal
        .begin_checkout(
            &caller(":1.1"),
            CheckoutOptions {
                timeout: Some(Duration::from_secs(10)),
                ..CheckoutOptions::default()
            },
        )
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
        .begin_checkout(
            &caller(":1.1"),
            CheckoutOptions {
                timeout: Some(Duration::from_secs(10)),
                ..CheckoutOptions::default()
            },
        )
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
    for options in [
        CheckoutOptions {
            amount: Some(-1),
            ..CheckoutOptions::default()
        },
        CheckoutOptions {
            prompt: Some("two\nlines".into()),
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

/// A display that fails in the middle of a checkout is reopened and shows
/// the newest view; the checkout never notices. (Real time: the display
/// runs on its own worker thread.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_display_failing_mid_view_catches_up_with_the_newest_view() {
    use crate::devices::worker::{Link, Open, spawn_display};
    use kassa_drivers::mock::{self, MockDisplay, MockDisplayHandle};
    use std::sync::atomic::AtomicBool;

    /// Every open hands out the same mock display (its views are the
    /// handle's), as reopening a real one reaches the same device.
    #[derive(Clone)]
    struct Same(Arc<std::sync::Mutex<MockDisplay>>);
    impl kassa_hal::ErrorType for Same {
        type Error = kassa_drivers::mock::MockError;
    }
    impl kassa_hal::blocking::CustomerDisplay for Same {
        fn capabilities(&self) -> kassa_hal::Capabilities {
            mock::web_like()
        }
        fn show(&mut self, view: &View) -> Result<(), Self::Error> {
            let mut display = self.0.lock().unwrap();
            kassa_hal::blocking::CustomerDisplay::show(&mut *display, view)
        }
    }
    struct OpenMock(Same);
    impl Open for OpenMock {
        type Device = Same;
        type Error = std::convert::Infallible;
        fn open(&mut self) -> Result<Same, std::convert::Infallible> {
            Ok(self.0.clone())
        }
    }

    let rig = rig();
    let (display, handle): (MockDisplay, MockDisplayHandle) = mock::display(mock::web_like());
    let stop = Arc::new(AtomicBool::new(false));
    let link = Link {
        what: "display \"pole\"".into(),
        status: watch::channel(crate::devices::DeviceStatus::default()).0,
        stop: stop.clone(),
    };
    let worker = spawn_display(
        "pole",
        link,
        rig.slot.clone(),
        Duration::from_secs(5),
        move || OpenMock(Same(Arc::new(std::sync::Mutex::new(display)))),
    )
    .unwrap();

    let mut checkout = rig
        .terminal
        .begin_checkout(&caller(":1.1"), CheckoutOptions::default())
        .unwrap();
    handle.fail_next(kassa_hal::ErrorKind::Disconnected);
    rig.scan("till", WECHAT);
    assert!(matches!(
        next(&mut checkout.events).await,
        SessionEvent::CodeScanned(_)
    ));
    rig.terminal.show_order(":1.1", ORDER).await.unwrap();
    assert!(matches!(
        next(&mut checkout.events).await,
        SessionEvent::OrderShown(_)
    ));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !matches!(handle.current(), Some(View::Order(_))) {
        assert!(
            std::time::Instant::now() < deadline,
            "views: {:?}",
            handle.views()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    rig.slot.wake();
    worker.join().unwrap();
}

#[tokio::test(start_paused = true)]
async fn only_the_claimant_releases_or_enables_its_claim() {
    let rig = rig();
    let shop = caller(":1.9");
    let mut claim = rig
        .terminal
        .claim_scanner(
            &shop,
            ClaimOptions {
                auto_disable: true,
                sources: None,
            },
        )
        .unwrap();
    assert!(matches!(
        rig.terminal
            .claim_scanner(&caller(":1.8"), ClaimOptions::default()),
        Err(CoreError::Busy(_))
    ));
    rig.scan("till", PRODUCT);
    assert_eq!(claim.scans.recv().await.unwrap().data, PRODUCT.as_bytes());
    // Auto-disabled: the scanner is off until the claimant enables it.
    assert!(!rig.terminal.claim_enabled(claim.id));
    assert!(!rig.trigger("till"));
    assert!(matches!(
        rig.terminal.enable_claim(claim.id, ":1.8"),
        Err(CoreError::AccessDenied(_))
    ));
    assert!(matches!(
        rig.terminal.release_claim(claim.id, ":1.8"),
        Err(CoreError::AccessDenied(_))
    ));
    rig.terminal.enable_claim(claim.id, ":1.9").unwrap();
    assert!(rig.trigger("till"));
    rig.terminal.release_claim(claim.id, ":1.9").unwrap();
    assert!(!rig.trigger("till"));
    assert!(matches!(
        rig.terminal.release_claim(claim.id, ":1.9"),
        Err(CoreError::InvalidArgument(_))
    ));
    // Its queue ends with it.
    assert!(claim.scans.recv().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_payment_code_wait_ends_with_its_code_or_its_timeout() {
    let rig = rig();
    let pos = caller(":1.1");
    let wait = {
        let terminal = rig.terminal.clone();
        let pos = pos.clone();
        tokio::spawn(async move {
            terminal
                .scan_payment_code(&pos, CheckoutOptions::default())
                .await
        })
    };
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
        .scan_payment_code(
            &pos,
            CheckoutOptions {
                timeout: Some(Duration::from_secs(5)),
                ..CheckoutOptions::default()
            },
        )
        .await;
    assert!(matches!(timed_out, Err(CoreError::Timeout(_))));
    assert_eq!(rig.view(), Some(View::Idle));
}

#[tokio::test(start_paused = true)]
async fn without_a_backend_or_a_camera_the_errors_say_so() {
    let rig = rig();
    let pos = caller(":1.1");
    assert!(matches!(
        rig.terminal.show_order_for_code(&pos, WECHAT, None).await,
        Err(CoreError::Backend(_))
    ));
    assert!(matches!(
        rig.terminal.show_order_for_code(&pos, "12", None).await,
        Err(CoreError::InvalidArgument(_))
    ));
    assert!(matches!(
        rig.terminal.capture_face(&pos, None).await,
        Err(CoreError::NoDevice(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn clearing_the_display_during_the_owners_checkout_keeps_its_state() {
    let rig = rig();
    let mut checkout = rig
        .terminal
        .begin_checkout(&caller(":1.1"), CheckoutOptions::default())
        .unwrap();
    rig.terminal.clear_display(":1.1").unwrap();
    assert_eq!(rig.view(), Some(View::Idle));
    assert_eq!(rig.state(), TerminalState::Scanning);
    rig.scan("till", WECHAT);
    assert!(matches!(
        next(&mut checkout.events).await,
        SessionEvent::CodeScanned(_)
    ));
}
