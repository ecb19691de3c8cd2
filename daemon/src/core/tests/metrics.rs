//! What the core counts for the metrics: each scan where it went, or why
//! it went nowhere, how long its hand-over took, how checkouts ended, and
//! the backend's failures.

use super::*;
use crate::backend::{Answer, BackendError, PaymentOutcome};
use crate::metrics::exposition::tests::parse;

/// A backend that cannot be reached.
#[derive(Debug)]
struct Unreachable;

impl Backend for Unreachable {
    fn query_order<'a>(
        &'a self,
        _code: &'a PaymentCode,
        _deadline: tokio::time::Instant,
    ) -> Answer<'a, Order> {
        Box::pin(async { Err(BackendError::Unreachable("connection refused".into())) })
    }

    fn has_payment_status(&self) -> bool {
        false
    }

    fn payment_outcome<'a>(
        &'a self,
        _code: &'a PaymentCode,
        _order_id: &'a str,
        _deadline: tokio::time::Instant,
    ) -> Answer<'a, PaymentOutcome> {
        Box::pin(async { Err(BackendError::Unreachable("connection refused".into())) })
    }

    fn has_face_auth(&self) -> bool {
        false
    }

    fn face_auth(&self, _jpeg: Vec<u8>) -> Answer<'_, PaymentCode> {
        Box::pin(async { Err(BackendError::Unreachable("connection refused".into())) })
    }
}

/// The value of the sample `name` whose labels include `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> String {
    let found: Vec<_> = parse(text)
        .into_iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .collect();
    assert_eq!(found.len(), 1, "{name} {labels:?} in\n{text}");
    found[0].2.clone()
}

#[tokio::test(start_paused = true)]
async fn the_core_counts_deliveries_drops_checkouts_and_backend_failures() {
    let rig = rig_with(Some(Arc::new(Unreachable)));
    let shop = caller(":1.9");
    let mut claim = rig
        .terminal
        .claim_scanner(&shop, ClaimOptions::default())
        .unwrap();
    let mut checkout = rig
        .terminal
        .begin_checkout(&caller(":1.1"), CheckoutOptions::default())
        .unwrap();
    rig.scan("till", PRODUCT);
    assert_eq!(claim.scans.recv().await.unwrap().data, PRODUCT.as_bytes());
    rig.scan("till", WECHAT);
    // Another payment code during that checkout: not for the claim.
    rig.scan("door", ALIPAY);
    let (state, _) = finished(&mut checkout.events).await;
    assert_eq!(state, CheckoutState::Failed);
    rig.terminal.release_claim(claim.id, ":1.9").unwrap();
    rig.scan("till", PRODUCT);
    let second = rig
        .terminal
        .begin_checkout(&caller(":1.2"), CheckoutOptions::default())
        .unwrap();
    second.control.cancel(":1.2").await.unwrap();
    settle().await;

    let text = rig.terminal.metrics_text();
    let v = |name, labels: &[(&str, &str)]| sample(&text, name, labels);
    assert_eq!(
        v(
            "kassa_scans_total",
            &[("device", "till"), ("source", "serial")]
        ),
        "3"
    );
    assert_eq!(
        v(
            "kassa_scans_total",
            &[("device", "door"), ("source", "camera")]
        ),
        "1"
    );
    let dropped = |device, reason| {
        v(
            "kassa_scans_dropped_total",
            &[("device", device), ("reason", reason)],
        )
    };
    assert_eq!(dropped("door", "other_callers_checkout"), "1");
    assert_eq!(dropped("till", "not_a_payment_code"), "1");
    assert_eq!(dropped("till", "unwanted"), "0");
    assert_eq!(
        v("kassa_scan_delivery_seconds_count", &[("to", "claim")]),
        "1"
    );
    assert_eq!(
        v("kassa_scan_delivery_seconds_count", &[("to", "code")]),
        "1"
    );
    assert_eq!(v("kassa_checkouts_total", &[("result", "failed")]), "1");
    assert_eq!(v("kassa_checkouts_total", &[("result", "cancelled")]), "1");
    assert_eq!(v("kassa_checkouts_total", &[("result", "paid")]), "0");
    assert_eq!(v("kassa_backend_queries_total", &[("query", "order")]), "1");
    assert_eq!(
        v(
            "kassa_backend_errors_total",
            &[("query", "order"), ("kind", "unreachable")]
        ),
        "1"
    );
    assert_eq!(
        v(
            "kassa_device_connected",
            &[("device", "pole"), ("role", "display")]
        ),
        "1"
    );
    // No code ever appears in the exposition.
    for code in [WECHAT, ALIPAY, PRODUCT] {
        assert!(!text.contains(code), "{code} in\n{text}");
    }
}
