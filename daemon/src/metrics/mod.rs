//! Monitoring: kassad's counters and timings, in the Prometheus text
//! format on loopback (`[metrics]`, docs/metrics.md).
//!
//! What is counted, and where:
//! - scans per device and source, and devices connecting and going away:
//!   the device workers' own counts (`DeviceStatus`), read at each scrape
//!   ([`DeviceSample`]);
//! - scans dropped, by a fixed [`DropReason`], and the time from a scan
//!   entering the core to its hand-over to its owner ([`Recipient`]): the
//!   core, as it routes;
//! - checkouts by final state: the checkout session, as it ends;
//! - backend queries and their failures ([`BackendQuery`],
//!   [`BackendFailure`]): a wrapper around the backend.
//!
//! Every label value is a configured device name or one of a fixed set,
//! so the series are bounded by the configuration. No payment code, order
//! or amount is ever a label or a value: codes are secrets, and a scrape
//! is open to every local user.
//!
//! - [`exposition`] writes the text format (escaping label values);
//! - `histogram.rs` is the fixed-bucket histogram;
//! - `server.rs` serves `GET /metrics` on [`crate::http`]'s server.
//!
//! This module is a leaf: the core, the backend and the service use it;
//! it knows none of them.

pub mod exposition;
mod histogram;
mod server;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::checkout::CheckoutState;
use exposition::{Exposition, Kind};
use histogram::Histogram;
pub use server::{MetricsConfig, MetricsEndpoint, Scrape};

/// Why a scan that reached the core went to no one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// No checkout, wait or claim wanted it.
    Unwanted,
    /// Not a payment code, and no claim wanted it.
    NotAPaymentCode,
    /// A payment code while another caller's checkout runs: the claim may
    /// not have it.
    OtherCallersCheckout,
    /// The payment code just delivered, read again.
    Reread,
    /// The claim's queue of scans not yet taken was full.
    ClaimFull,
    /// The claim ended as the scan came.
    ClaimReleased,
}

impl DropReason {
    /// Every reason, in the order they are written.
    pub const ALL: [DropReason; 6] = [
        DropReason::Unwanted,
        DropReason::NotAPaymentCode,
        DropReason::OtherCallersCheckout,
        DropReason::Reread,
        DropReason::ClaimFull,
        DropReason::ClaimReleased,
    ];

    /// The `reason` label.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Unwanted => "unwanted",
            DropReason::NotAPaymentCode => "not_a_payment_code",
            DropReason::OtherCallersCheckout => "other_callers_checkout",
            DropReason::Reread => "reread",
            DropReason::ClaimFull => "claim_full",
            DropReason::ClaimReleased => "claim_released",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Who a scan was handed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// A payment code to the wait for it (`ScanPaymentCode`, or a
    /// checkout's).
    Code,
    /// A scan to the claim.
    Claim,
    /// A scan typed into the desktop (pass-through).
    Desktop,
}

impl Recipient {
    const ALL: [Recipient; 3] = [Recipient::Code, Recipient::Claim, Recipient::Desktop];

    fn as_str(self) -> &'static str {
        match self {
            Recipient::Code => "code",
            Recipient::Claim => "claim",
            Recipient::Desktop => "desktop",
        }
    }
}

/// What kassad asks the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendQuery {
    /// The order bound to a payment code.
    Order,
    /// A payment's final status.
    PaymentStatus,
    /// The payment code of a face.
    Face,
}

impl BackendQuery {
    const ALL: [BackendQuery; 3] = [
        BackendQuery::Order,
        BackendQuery::PaymentStatus,
        BackendQuery::Face,
    ];

    fn as_str(self) -> &'static str {
        match self {
            BackendQuery::Order => "order",
            BackendQuery::PaymentStatus => "payment_status",
            BackendQuery::Face => "face",
        }
    }
}

/// How a backend query failed. An order not bound (or a payment not
/// final) by the deadline, and a face the backend does not know, are
/// answers, not failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendFailure {
    /// No connection (refused, DNS, TLS).
    Unreachable,
    /// No answer within the request timeout.
    NoAnswer,
    /// An HTTP status other than 200 and 404.
    HttpStatus,
    /// A 200 answer that is not what was asked for.
    Malformed,
}

impl BackendFailure {
    const ALL: [BackendFailure; 4] = [
        BackendFailure::Unreachable,
        BackendFailure::NoAnswer,
        BackendFailure::HttpStatus,
        BackendFailure::Malformed,
    ];

    fn as_str(self) -> &'static str {
        match self {
            BackendFailure::Unreachable => "unreachable",
            BackendFailure::NoAnswer => "no_answer",
            BackendFailure::HttpStatus => "http_status",
            BackendFailure::Malformed => "malformed",
        }
    }
}

/// The final states a checkout is counted by.
const CHECKOUT_RESULTS: [CheckoutState; 4] = [
    CheckoutState::Paid,
    CheckoutState::Failed,
    CheckoutState::Cancelled,
    CheckoutState::Expired,
];

/// One device as a scrape sees it: what its worker counted.
#[derive(Debug, Clone)]
pub struct DeviceSample<'a> {
    /// Configured name.
    pub name: &'a str,
    /// `scanner`, `display` or `camera`.
    pub role: &'static str,
    /// Driver name.
    pub driver: &'static str,
    /// A scanner's source kind (`serial`, `wedge`, …); `None` for a
    /// display.
    pub source: Option<&'static str>,
    /// Open and working now.
    pub connected: bool,
    /// Times it connected since kassad started.
    pub connects: u64,
    /// Times it went away after being connected.
    pub disconnects: u64,
    /// Scans that reached the core.
    pub scans: u64,
    /// Reads that were not a scan (garbled data).
    pub garbled: u64,
}

/// Drops of one scanner, by reason.
#[derive(Debug)]
struct ScannerDrops {
    name: String,
    by_reason: [AtomicU64; DropReason::ALL.len()],
}

/// kassad's counters and timings. One per terminal, shared.
#[derive(Debug)]
pub struct Metrics {
    drops: Vec<ScannerDrops>,
    checkouts: [AtomicU64; CHECKOUT_RESULTS.len()],
    backend_queries: [AtomicU64; BackendQuery::ALL.len()],
    backend_failures: [[AtomicU64; BackendFailure::ALL.len()]; BackendQuery::ALL.len()],
    delivery: [Histogram; Recipient::ALL.len()],
}

impl Metrics {
    /// Counters for the scanners named `scanners`.
    pub fn new<'a>(scanners: impl IntoIterator<Item = &'a str>) -> Metrics {
        Metrics {
            drops: scanners
                .into_iter()
                .map(|name| ScannerDrops {
                    name: name.to_string(),
                    by_reason: Default::default(),
                })
                .collect(),
            checkouts: Default::default(),
            backend_queries: Default::default(),
            backend_failures: Default::default(),
            delivery: Default::default(),
        }
    }

    /// A scan from `device` went to no one, for `reason`.
    pub fn scan_dropped(&self, device: &str, reason: DropReason) {
        if let Some(scanner) = self.drops.iter().find(|s| s.name == device) {
            scanner.by_reason[reason.index()].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A scan that entered the core at `entered` was handed to `to` now.
    pub fn scan_delivered(&self, to: Recipient, entered: Instant) {
        self.delivery[to as usize].observe(entered.elapsed());
    }

    /// A checkout ended in `state`.
    pub fn checkout_ended(&self, state: CheckoutState) {
        // The state machine ends every checkout in a final state; a state
        // it refused to leave would be counted as failed.
        let result = CHECKOUT_RESULTS
            .iter()
            .position(|s| *s == state)
            .unwrap_or(1);
        self.checkouts[result].fetch_add(1, Ordering::Relaxed);
    }

    /// kassad asked the backend `query`.
    pub fn backend_asked(&self, query: BackendQuery) {
        self.backend_queries[query as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A backend `query` failed with `failure`.
    pub fn backend_failed(&self, query: BackendQuery, failure: BackendFailure) {
        self.backend_failures[query as usize][failure as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition: these counters and the `devices`' own.
    pub fn render(&self, devices: &[DeviceSample<'_>]) -> String {
        let mut out = Exposition::new();
        out.family(
            "kassa_build_info",
            Kind::Gauge,
            "kassad's version; always 1.",
        );
        out.sample(
            "kassa_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1,
        );
        self.write_devices(&mut out, devices);
        self.write_scans(&mut out, devices);
        self.write_checkouts(&mut out);
        self.write_backend(&mut out);
        out.finish()
    }

    fn write_devices(&self, out: &mut Exposition, devices: &[DeviceSample<'_>]) {
        out.family(
            "kassa_device_connected",
            Kind::Gauge,
            "Whether the device is open and working (1) or not (0).",
        );
        for d in devices {
            let labels = [("device", d.name), ("role", d.role), ("driver", d.driver)];
            out.sample("kassa_device_connected", &labels, u64::from(d.connected));
        }
        out.family(
            "kassa_device_connects_total",
            Kind::Counter,
            "Times the device was opened and worked, since kassad started.",
        );
        for d in devices {
            let labels = [("device", d.name), ("role", d.role)];
            out.sample("kassa_device_connects_total", &labels, d.connects);
        }
        out.family(
            "kassa_device_disconnects_total",
            Kind::Counter,
            "Times the device went away after it had connected.",
        );
        for d in devices {
            let labels = [("device", d.name), ("role", d.role)];
            out.sample("kassa_device_disconnects_total", &labels, d.disconnects);
        }
    }

    fn write_scans(&self, out: &mut Exposition, devices: &[DeviceSample<'_>]) {
        let scanners = || devices.iter().filter_map(|d| Some((d, d.source?)));
        out.family(
            "kassa_scans_total",
            Kind::Counter,
            "Scans that reached kassad's core, by scanner and its source kind.",
        );
        for (d, source) in scanners() {
            let labels = [("device", d.name), ("source", source)];
            out.sample("kassa_scans_total", &labels, d.scans);
        }
        out.family(
            "kassa_scans_dropped_total",
            Kind::Counter,
            "Scans no checkout, wait or claim took, by scanner and reason.",
        );
        for s in &self.drops {
            for reason in DropReason::ALL {
                let count = s.by_reason[reason.index()].load(Ordering::Relaxed);
                let labels = [("device", s.name.as_str()), ("reason", reason.as_str())];
                out.sample("kassa_scans_dropped_total", &labels, count);
            }
        }
        out.family(
            "kassa_scanner_garbled_reads_total",
            Kind::Counter,
            "Reads from the scanner that were not a scan (garbled data).",
        );
        for (d, _) in scanners() {
            let labels = [("device", d.name)];
            out.sample("kassa_scanner_garbled_reads_total", &labels, d.garbled);
        }
        out.family(
            "kassa_scan_delivery_seconds",
            Kind::Histogram,
            "Time from a scan entering kassad's core to its hand-over to its owner: \
             the wait or checkout that takes the payment code (to=code), or the claim (to=claim).",
        );
        for to in Recipient::ALL {
            self.delivery[to as usize].write(
                out,
                "kassa_scan_delivery_seconds",
                &[("to", to.as_str())],
            );
        }
    }

    fn write_checkouts(&self, out: &mut Exposition) {
        out.family(
            "kassa_checkouts_total",
            Kind::Counter,
            "Checkouts ended, by final state.",
        );
        for (i, state) in CHECKOUT_RESULTS.iter().enumerate() {
            let count = self.checkouts[i].load(Ordering::Relaxed);
            out.sample(
                "kassa_checkouts_total",
                &[("result", state.as_str())],
                count,
            );
        }
    }

    fn write_backend(&self, out: &mut Exposition) {
        out.family(
            "kassa_backend_queries_total",
            Kind::Counter,
            "Queries kassad asked the backend, by query.",
        );
        for query in BackendQuery::ALL {
            let count = self.backend_queries[query as usize].load(Ordering::Relaxed);
            out.sample(
                "kassa_backend_queries_total",
                &[("query", query.as_str())],
                count,
            );
        }
        out.family(
            "kassa_backend_errors_total",
            Kind::Counter,
            "Backend queries that failed, by query and kind of failure.",
        );
        for query in BackendQuery::ALL {
            for failure in BackendFailure::ALL {
                let count =
                    self.backend_failures[query as usize][failure as usize].load(Ordering::Relaxed);
                let labels = [("query", query.as_str()), ("kind", failure.as_str())];
                out.sample("kassa_backend_errors_total", &labels, count);
            }
        }
    }
}

#[cfg(test)]
mod tests;
