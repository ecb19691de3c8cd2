//! Keyboard-wedge scanners from recorded event streams: every file under
//! tests/data/wedge/ decodes to exactly the scans it expects, and the same
//! stream as raw input_event records through a FIFO goes through the
//! reader a real evdev device uses.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use kassa_drivers::wedge::linux::{OpenFailure, WedgeDevice};
use kassa_drivers::wedge::record::Expected;
use kassa_drivers::wedge::{DecodeError, Recording, WedgeDecoder};
use kassa_hal::Scan;
use kassa_tests::wedge::{EventFifo, decoder_for, recording, recordings};

fn error_name(e: &DecodeError) -> &'static str {
    match e {
        DecodeError::UnmappedKey { .. } => "unmapped-key",
        DecodeError::DeadKey { .. } => "dead-key",
        DecodeError::Overlong { .. } => "overlong",
        DecodeError::Incomplete { .. } => "incomplete",
        DecodeError::EventsLost => "events-lost",
    }
}

fn as_expected(result: Result<Scan, DecodeError>) -> Expected {
    match result {
        Ok(scan) => Expected::Scan(scan.data),
        Err(e) => Expected::Error(error_name(&e).into()),
    }
}

/// Replays `rec` through `decoder`; the stream's end counts as quiet.
fn replay(rec: &Recording, decoder: &mut WedgeDecoder) -> Vec<Result<Scan, DecodeError>> {
    let mut out = Vec::new();
    for e in &rec.events {
        decoder.push(*e);
        out.extend(std::iter::from_fn(|| decoder.pop()));
    }
    if let Some(last) = rec.events.last() {
        decoder.idle(last.time + Duration::from_secs(1));
    }
    out.extend(std::iter::from_fn(|| decoder.pop()));
    out
}

#[test]
fn every_recorded_stream_decodes_to_exactly_its_scans() {
    let all = recordings();
    let layouts: BTreeSet<&str> = all.iter().map(|(_, r)| r.layout.as_str()).collect();
    for required in ["us", "de", "fr", "gb", "be", "jp"] {
        assert!(
            layouts.contains(required),
            "no recording in layout {required}"
        );
    }
    assert!(all.len() >= 14, "{} recordings", all.len());
    for (name, rec) in &all {
        assert!(!rec.expected.is_empty(), "{name} expects nothing");
        let results = replay(rec, &mut decoder_for(rec));
        if let Some(symbology) = &rec.symbology {
            for scan in results.iter().flatten() {
                assert_eq!(scan.symbology.as_str(), symbology, "{name}");
            }
        }
        let got: Vec<Expected> = results.into_iter().map(as_expected).collect();
        assert_eq!(got, rec.expected, "{name}");
    }
}

#[test]
fn the_same_stream_in_another_layout_is_not_the_same_code() {
    // The AZERTY recording read as if the scanner were set to US: the
    // digits come out as the shifted US symbols, which is the failure a
    // wrong `layout` setting shows.
    let mut rec = recording("fr-azerty.txt");
    rec.layout = "us".into();
    let got: Vec<Expected> = replay(&rec, &mut decoder_for(&rec))
        .into_iter()
        .map(as_expected)
        .collect();
    assert_eq!(got[0], Expected::Scan(b"@*!@#$%^&*()!@#$".to_vec()));
}

/// Pumps `device` until `n` results arrived or `wait` passed.
fn read_results(
    device: &mut WedgeDevice,
    decoder: &mut WedgeDecoder,
    n: usize,
    wait: Duration,
) -> Vec<Result<Scan, DecodeError>> {
    let deadline = Instant::now() + wait;
    let mut out = Vec::new();
    while out.len() < n && Instant::now() < deadline {
        device
            .pump(decoder, Duration::from_millis(20))
            .expect("pump");
        out.extend(std::iter::from_fn(|| decoder.pop()));
    }
    out
}

#[test]
fn raw_records_through_a_fifo_go_through_the_device_reader() {
    let mut fifo = EventFifo::new();
    let mut device = WedgeDevice::open(fifo.path(), false).expect("open the FIFO");
    assert!(!device.is_grabbed());
    for name in ["fr-azerty.txt", "unmapped-key.txt", "no-terminator.txt"] {
        let rec = recording(name);
        let mut decoder = decoder_for(&rec);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        fifo.play(&rec, now);
        let got: Vec<Expected> = read_results(
            &mut device,
            &mut decoder,
            rec.expected.len(),
            Duration::from_secs(5),
        )
        .into_iter()
        .map(as_expected)
        .collect();
        // no-terminator.txt's last scan ends only by the idle gap, which
        // the reader judges by the clock once the records stop.
        assert_eq!(got, rec.expected, "{name}");
    }
    fifo.close();
    let mut decoder = decoder_for(&recording("us-payment-code.txt"));
    let deadline = Instant::now() + Duration::from_secs(5);
    let end = loop {
        match device.pump(&mut decoder, Duration::from_millis(20)) {
            Ok(()) => assert!(Instant::now() < deadline, "no end of stream"),
            Err(e) => break e,
        }
    };
    assert_eq!(end.to_string(), "device disconnected");
}

#[test]
fn grabbing_what_is_not_an_evdev_device_is_a_named_error() {
    let fifo = EventFifo::new();
    let err = WedgeDevice::open(fifo.path(), true).unwrap_err();
    assert!(matches!(err.reason, OpenFailure::NotEvdev(_)), "{err:?}");
    assert!(
        err.to_string().contains("not an evdev input device"),
        "{err}"
    );
    let missing =
        WedgeDevice::open(std::path::Path::new("/dev/input/no-such-event"), true).unwrap_err();
    assert!(
        missing.to_string().contains("is the scanner plugged in?"),
        "{missing}"
    );
}

#[test]
fn events_dropped_by_the_kernel_drop_that_scan_and_the_next_decodes() {
    use kassa_drivers::wedge::RawEvent;
    let mut fifo = EventFifo::new();
    let mut device = WedgeDevice::open(fifo.path(), false).expect("open the FIFO");
    let rec = recording("us-payment-code.txt");
    let mut decoder = decoder_for(&rec);
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    // Half a scan, then SYN_DROPPED in place of the rest (the kernel
    // dropped it), then the whole scan again a second later. Keys right
    // after the drop may be the lost scan's tail, so they are discarded up
    // to a terminator or the idle gap: a mangled code never comes out.
    let mut half = rec.clone();
    half.events.truncate(rec.events.len() / 2);
    fifo.play(&half, start);
    let dropped = RawEvent {
        time: start + Duration::from_millis(20),
        kind: 0,
        code: 3,
        value: 0,
    };
    fifo.send(&dropped.to_bytes());
    fifo.play(&rec, start + Duration::from_secs(1));
    let got: Vec<Expected> = read_results(&mut device, &mut decoder, 2, Duration::from_secs(5))
        .into_iter()
        .map(as_expected)
        .collect();
    assert_eq!(
        got,
        [
            Expected::Error("events-lost".into()),
            Expected::Scan(b"134567890123456789".to_vec())
        ]
    );
}
