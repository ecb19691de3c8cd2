//! Pass-through: a scan nobody at the till took is handed to the scanner's
//! virtual keyboard when its mode lets it, and a payment code never is.

use std::sync::mpsc::Receiver;

use super::*;
use crate::config::PassThroughMode;
use crate::devices::keyboard::{PassThrough, Typed};

const EAN13: &str = "4006381333931";

/// [`rig`], with the scanner "till" passing scans through in `mode`.
fn passing(mode: PassThroughMode) -> (Rig, Receiver<Typed>) {
    let mut devices = Devices::detached(&[("till", SourceKind::Serial)], &["pole"]);
    let (pass_through, typed) = PassThrough::detached(mode);
    devices.scanners[0].pass_through = Some(pass_through);
    let slot = devices.displays[0].slot.clone();
    let terminal = Terminal::new(Parts {
        devices,
        checkout: checkout_config(),
        channels: kassa_hal::ChannelTable::builtin(),
        backend: None,
    });
    (Rig { terminal, slot }, typed)
}

fn typed(rx: &Receiver<Typed>) -> Vec<String> {
    rx.try_iter().map(|t| t.text).collect()
}

#[tokio::test(start_paused = true)]
async fn an_unclaimed_product_code_is_typed_and_a_payment_code_is_not() {
    let (rig, rx) = passing(PassThroughMode::Products);
    rig.scan("till", EAN13);
    rig.scan("till", WECHAT);
    rig.scan("till", PRODUCT);
    assert_eq!(typed(&rx), [EAN13]);
    // The payment code and the member card stayed with kassad.
    assert_eq!(rig.dropped("till"), 2);
    let text = rig.terminal.metrics_text();
    assert!(
        text.contains("kassa_scan_delivery_seconds_count{to=\"desktop\"} 1"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn everything_but_payment_codes_types_member_cards_too() {
    let (rig, rx) = passing(PassThroughMode::AllButPaymentCodes);
    for code in [PRODUCT, WECHAT, ALIPAY, "999999999999999999", EAN13] {
        rig.scan("till", code);
    }
    assert_eq!(typed(&rx), [PRODUCT, EAN13]);
    assert_eq!(rig.dropped("till"), 3);
}

#[tokio::test(start_paused = true)]
async fn what_a_claim_or_checkout_takes_is_not_typed() {
    let (rig, rx) = passing(PassThroughMode::AllButPaymentCodes);
    let shop = caller(":1.9");
    let mut claim = rig
        .terminal
        .claim_scanner(&shop, ClaimOptions::default())
        .unwrap();
    rig.scan("till", PRODUCT);
    assert_eq!(claim.scans.recv().await.unwrap().data, PRODUCT.as_bytes());
    shop.gone.cancel();
    settle().await;

    let mut checkout = rig
        .terminal
        .begin_checkout(&caller(":1.1"), CheckoutOptions::default())
        .unwrap();
    rig.scan("till", WECHAT);
    assert!(matches!(
        next(&mut checkout.events).await,
        SessionEvent::CodeScanned(_)
    ));
    // The same code read again during that checkout: still never typed.
    rig.scan("till", WECHAT);
    assert!(typed(&rx).is_empty());
    // A member card nobody takes during the checkout is typed.
    rig.scan("till", PRODUCT);
    assert_eq!(typed(&rx), [PRODUCT]);
}

#[tokio::test(start_paused = true)]
async fn a_keyboard_still_typing_drops_the_burst_by_name() {
    let (rig, rx) = passing(PassThroughMode::Products);
    for _ in 0..20 {
        rig.scan("till", EAN13);
    }
    assert_eq!(typed(&rx).len(), 8);
    assert_eq!(rig.dropped("till"), 12);
}
