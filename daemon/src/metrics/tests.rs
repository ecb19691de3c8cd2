//! The registry: what each hook counts, and the exposition it makes,
//! checked by a strict parser of the format.

use std::time::{Duration, Instant};

use super::exposition::tests::{Parsed, parse};
use super::*;

fn device<'a>(name: &'a str, role: &'static str, source: Option<&'static str>) -> DeviceSample<'a> {
    DeviceSample {
        name,
        role,
        driver: "mock",
        source,
        connected: true,
        connects: 1,
        disconnects: 0,
        scans: 0,
        garbled: 0,
    }
}

/// The value of the sample `name` with exactly `labels`.
fn value(samples: &[Parsed], name: &str, labels: &[(&str, &str)]) -> String {
    let found: Vec<_> = samples
        .iter()
        .filter(|(n, l, _)| {
            n == name
                && l.len() == labels.len()
                && l.iter().zip(labels).all(|(a, b)| a.0 == b.0 && a.1 == b.1)
        })
        .collect();
    assert_eq!(found.len(), 1, "{name} {labels:?} in {samples:?}");
    found[0].2.clone()
}

#[test]
fn every_hook_counts_under_its_own_labels() {
    let metrics = Metrics::new(["till", "door"]);
    metrics.scan_dropped("till", DropReason::Unwanted);
    metrics.scan_dropped("till", DropReason::Unwanted);
    metrics.scan_dropped("door", DropReason::Reread);
    metrics.scan_dropped("nobody", DropReason::Reread); // not configured: ignored
    metrics.checkout_ended(CheckoutState::Paid);
    metrics.checkout_ended(CheckoutState::Expired);
    metrics.checkout_ended(CheckoutState::Expired);
    metrics.backend_asked(BackendQuery::Order);
    metrics.backend_asked(BackendQuery::Order);
    metrics.backend_failed(BackendQuery::Order, BackendFailure::Unreachable);
    metrics.scan_delivered(Recipient::Code, Instant::now());
    metrics.scan_delivered(Recipient::Claim, Instant::now() - Duration::from_secs(2));
    let mut till = device("till", "scanner", Some("serial"));
    till.scans = 5;
    till.garbled = 1;
    let mut pole = device("pole", "display", None);
    pole.connected = false;
    pole.disconnects = 2;
    pole.connects = 3;
    let samples = parse(&metrics.render(&[till, device("door", "camera", Some("camera")), pole]));

    let v = |name, labels: &[(&str, &str)]| value(&samples, name, labels);
    assert_eq!(
        v(
            "kassa_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        "1"
    );
    let pole_labels = [("device", "pole"), ("role", "display")];
    assert_eq!(
        v(
            "kassa_device_connected",
            &[("device", "pole"), ("role", "display"), ("driver", "mock")]
        ),
        "0"
    );
    assert_eq!(
        v(
            "kassa_device_connected",
            &[("device", "till"), ("role", "scanner"), ("driver", "mock")]
        ),
        "1"
    );
    assert_eq!(v("kassa_device_connects_total", &pole_labels), "3");
    assert_eq!(v("kassa_device_disconnects_total", &pole_labels), "2");
    assert_eq!(
        v(
            "kassa_scans_total",
            &[("device", "till"), ("source", "serial")]
        ),
        "5"
    );
    assert_eq!(
        v(
            "kassa_scans_total",
            &[("device", "door"), ("source", "camera")]
        ),
        "0"
    );
    // A display reads no scans.
    assert!(
        !samples
            .iter()
            .any(|(n, l, _)| n.starts_with("kassa_scan") && l[0].1 == "pole")
    );
    let dropped = |device, reason| {
        v(
            "kassa_scans_dropped_total",
            &[("device", device), ("reason", reason)],
        )
    };
    assert_eq!(dropped("till", "unwanted"), "2");
    assert_eq!(dropped("till", "reread"), "0");
    assert_eq!(dropped("door", "reread"), "1");
    assert_eq!(
        v("kassa_scanner_garbled_reads_total", &[("device", "till")]),
        "1"
    );
    assert_eq!(v("kassa_checkouts_total", &[("result", "paid")]), "1");
    assert_eq!(v("kassa_checkouts_total", &[("result", "expired")]), "2");
    assert_eq!(v("kassa_checkouts_total", &[("result", "cancelled")]), "0");
    assert_eq!(v("kassa_backend_queries_total", &[("query", "order")]), "2");
    assert_eq!(
        v(
            "kassa_backend_errors_total",
            &[("query", "order"), ("kind", "unreachable")]
        ),
        "1"
    );
    assert_eq!(
        v(
            "kassa_backend_errors_total",
            &[("query", "payment_status"), ("kind", "malformed")]
        ),
        "0"
    );
    let code = [("to", "code")];
    let claim = [("to", "claim")];
    assert_eq!(v("kassa_scan_delivery_seconds_count", &code), "1");
    assert_eq!(
        v(
            "kassa_scan_delivery_seconds_bucket",
            &[("to", "code"), ("le", "1")]
        ),
        "1"
    );
    assert_eq!(v("kassa_scan_delivery_seconds_count", &claim), "1");
    assert_eq!(
        v(
            "kassa_scan_delivery_seconds_bucket",
            &[("to", "claim"), ("le", "1")]
        ),
        "0"
    );
    let slow: f64 = v("kassa_scan_delivery_seconds_sum", &claim)
        .parse()
        .unwrap();
    assert!(slow >= 2.0, "{slow}");
}

#[test]
fn series_are_bounded_by_the_configuration() {
    // Every counter is written, zero or not, and nothing else: the number
    // of series depends on the devices alone.
    let metrics = Metrics::new(["till"]);
    let devices = [
        device("till", "scanner", Some("serial")),
        device("pole", "display", None),
    ];
    let before = parse(&metrics.render(&devices)).len();
    for reason in DropReason::ALL {
        metrics.scan_dropped("till", reason);
    }
    metrics.checkout_ended(CheckoutState::WaitingForCode);
    metrics.backend_failed(BackendQuery::Face, BackendFailure::NoAnswer);
    let after = parse(&metrics.render(&devices));
    assert_eq!(before, after.len());
    // 1 build + 3 × 2 devices + scans, garbled and 6 reasons for 1 scanner
    // + 3 × (14 buckets + sum + count) + 4 results + 3 queries + 12 errors.
    assert_eq!(before, 1 + 6 + 1 + 6 + 1 + 48 + 4 + 3 + 12);
    // A state the machine would not end in is counted as failed.
    assert_eq!(
        value(&after, "kassa_checkouts_total", &[("result", "failed")]),
        "1"
    );
}

#[test]
fn a_device_name_cannot_break_the_exposition() {
    // Config names are letters, digits and '_'; the exposition does not
    // rely on it.
    let name = "till\"} 1\nkassa_fake 2\n#";
    let metrics = Metrics::new([name]);
    metrics.scan_dropped(name, DropReason::ClaimFull);
    let text = metrics.render(&[device(name, "scanner", Some("wedge"))]);
    let samples = parse(&text);
    assert!(!samples.iter().any(|(n, _, _)| n == "kassa_fake"), "{text}");
    assert_eq!(
        value(
            &samples,
            "kassa_scans_dropped_total",
            &[("device", name), ("reason", "claim_full")]
        ),
        "1"
    );
}

#[test]
fn every_name_is_a_valid_name_and_has_help_and_type() {
    let metrics = Metrics::new(["till"]);
    let text = metrics.render(&[device("till", "scanner", Some("serial"))]);
    let families: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    let helps = text.lines().filter(|l| l.starts_with("# HELP ")).count();
    assert_eq!(families.len(), helps);
    for family in &families {
        assert!(family.starts_with("kassa_"), "{family}");
        assert!(exposition::is_metric_name(family));
    }
    for counter in text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter(|l| l.ends_with(" counter"))
    {
        assert!(
            counter.split(' ').next().unwrap().ends_with("_total"),
            "{counter}"
        );
    }
    // Families are not repeated.
    let mut unique = families.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), families.len());
}
