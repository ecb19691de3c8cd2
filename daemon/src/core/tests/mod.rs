//! The core's rules, on fake devices, a scripted backend and paused time:
//! what the end-to-end tests check over a bus, and the races that are hard
//! to hit there. One file per part of the core; the rig is here.

mod backend;
mod checkout;
mod claims;
mod display;
mod metrics;
mod pass_through;

use std::sync::Arc;
use std::time::Duration;

use kassa_hal::{Order, PaymentCode, PaymentStatus, SourceKind, Timestamp, View};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::checkout::CheckoutState;
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
    rig_with(None)
}

/// [`rig`], with `backend`.
fn rig_with(backend: Option<Arc<dyn Backend>>) -> Rig {
    let devices = Devices::detached(
        &[("till", SourceKind::Serial), ("door", SourceKind::Camera)],
        &["pole"],
    );
    let slot = devices.displays[0].slot.clone();
    let terminal = Terminal::new(Parts {
        devices,
        checkout: checkout_config(),
        channels: kassa_hal::ChannelTable::builtin(),
        backend,
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

/// Options that wait at most `timeout` for the code.
fn within(timeout: Duration) -> CheckoutOptions {
    CheckoutOptions {
        timeout: Some(timeout),
        ..CheckoutOptions::default()
    }
}

/// `pos` waits for a payment code (`ScanPaymentCode`) on a task of its own.
fn spawn_scan(
    terminal: &Terminal,
    pos: &Caller,
) -> tokio::task::JoinHandle<Result<CodeScan, CoreError>> {
    let (terminal, pos) = (terminal.clone(), pos.clone());
    tokio::spawn(async move {
        terminal
            .scan_payment_code(&pos, CheckoutOptions::default())
            .await
    })
}
