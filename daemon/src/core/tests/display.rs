//! What the displays show, and the errors without a backend or a camera.

use super::*;

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
