//! `kassa-bench wedge`: the keyboard-wedge decoder's throughput and the
//! time from a scan's terminator to the Scan.

use std::time::{Duration, Instant};

use kassa_drivers::wedge::linux::WedgeDevice;
use kassa_drivers::wedge::{KeyAction, Recording, WedgeDecoder};
use kassa_tests::wedge::{EventFifo, decoder_for, recording, recordings};

use crate::report;

/// Shifts a recording's timestamps by `offset`, so rounds follow each other.
fn shifted(rec: &Recording, offset: Duration) -> Recording {
    let mut out = rec.clone();
    for e in &mut out.events {
        e.time += offset;
    }
    out
}

fn drain(decoder: &mut WedgeDecoder) -> usize {
    std::iter::from_fn(|| decoder.pop()).count()
}

pub fn run(rounds: usize) {
    // Throughput: every recorded stream, `rounds` times over.
    let all = recordings();
    let mut events = 0usize;
    let mut busy = Duration::ZERO;
    let mut results = 0usize;
    for (_, rec) in &all {
        let mut decoder = decoder_for(rec);
        let span = rec.events.last().map_or(Duration::ZERO, |e| e.time) + Duration::from_secs(2);
        let rounds: Vec<Recording> = (0..rounds)
            .map(|i| shifted(rec, span * u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        let started = Instant::now();
        for r in &rounds {
            for e in &r.events {
                decoder.push(*e);
            }
            if let Some(last) = r.events.last() {
                decoder.idle(last.time + Duration::from_secs(1));
            }
            results += drain(&mut decoder);
        }
        busy += started.elapsed();
        events += rec.events.len() * rounds.len();
    }
    let per_second = events as f64 / busy.as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "bench": "wedge_decoder_throughput",
            "streams": all.len(),
            "key_events": events,
            "results": results,
            "seconds": busy.as_secs_f64(),
            "key_events_per_second": per_second.round(),
        })
    );

    // Terminator → Scan in the decoder: the Enter press's push and the pop.
    let rec = recording("us-payment-code.txt");
    let enter = rec
        .events
        .iter()
        .rposition(|e| e.code == 28 && e.action == KeyAction::Press)
        .expect("an Enter press");
    let mut decoder = decoder_for(&rec);
    let mut samples = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let r = shifted(
            &rec,
            Duration::from_secs(10) * u32::try_from(i).unwrap_or(0),
        );
        for e in &r.events[..enter] {
            decoder.push(*e);
        }
        let started = Instant::now();
        decoder.push(r.events[enter]);
        let scan = decoder.pop();
        samples.push(started.elapsed());
        assert!(matches!(scan, Some(Ok(_))), "no scan at the terminator");
        for e in &r.events[enter + 1..] {
            decoder.push(*e);
        }
    }
    report("wedge_terminator_to_scan_decoder", samples);

    // Terminator → Scan through the device reader: the Enter record
    // written into a FIFO, the reader woken by poll, parsed and decoded.
    let mut fifo = EventFifo::new();
    let mut device = WedgeDevice::open(fifo.path(), false).expect("open the FIFO");
    let mut decoder = decoder_for(&rec);
    let (head, tail) = rec.events.split_at(enter);
    let mut samples = Vec::with_capacity(rounds.min(1000));
    for _ in 0..rounds.min(1000) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let mut first = rec.clone();
        first.events = head.to_vec();
        fifo.play(&first, now);
        // One pump reads everything waiting (a few KB, well inside the
        // pipe's buffer).
        device
            .pump(&mut decoder, Duration::from_millis(10))
            .expect("read the FIFO");
        let mut last = rec.clone();
        last.events = tail.to_vec();
        let started = Instant::now();
        fifo.play(&last, now + Duration::from_millis(30));
        let scan = loop {
            device
                .pump(&mut decoder, Duration::from_millis(100))
                .expect("read the FIFO");
            if let Some(result) = decoder.pop() {
                break result;
            }
        };
        samples.push(started.elapsed());
        assert!(scan.is_ok(), "no scan through the reader");
        drain(&mut decoder);
    }
    report("wedge_terminator_to_scan_reader", samples);
}
