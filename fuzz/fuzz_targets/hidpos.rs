//! HID POS report descriptors and reports, as a scanner (or anything that
//! claims to be one) sends them: the descriptor parser never lays a field
//! outside the report it read, and the decoder never returns a scan longer
//! than its limit or one from a report of another ID.
//!
//! Input: a length byte, that many descriptor bytes, a limit byte, then
//! reports, each a length byte and its bytes.
#![no_main]

use std::time::Duration;

use kassa_drivers::hidpos::{HidPosDecoder, descriptor};
use kassa_hal::SourceKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&len, rest)) = input.split_first() else {
        return;
    };
    let (desc, rest) = rest.split_at(usize::from(len).min(rest.len()));
    let Ok(layout) = descriptor::parse(desc) else {
        return;
    };
    let body_bits = layout.body_len * 8;
    let fields = layout
        .data
        .iter()
        .chain(layout.byte_count.iter())
        .chain(layout.symbology.iter().flatten())
        .chain(layout.continued.iter());
    for field in fields {
        assert!(field.bit + field.bits <= body_bits, "field past the report");
    }
    assert!(!layout.data.is_empty(), "a barcode report without data");

    let Some((&limit, mut reports)) = rest.split_first() else {
        return;
    };
    let max_len = usize::from(limit) + 1;
    let mut decoder = HidPosDecoder::new(layout.clone()).with_max_len(max_len);
    let mut time = Duration::ZERO;
    while let Some((&n, tail)) = reports.split_first() {
        let (report, tail) = tail.split_at(usize::from(n).min(tail.len()));
        reports = tail;
        time += Duration::from_millis(1);
        let foreign = match layout.report_id {
            Some(id) => report.first() != Some(&id),
            None => false,
        };
        let result = decoder.push(report, time);
        if foreign {
            assert!(result.is_none(), "a report of another ID was decoded");
        }
        if let Some(Ok(scan)) = result {
            assert!(!scan.data.is_empty());
            assert!(scan.data.len() <= max_len, "scan over the limit");
            assert_eq!(scan.source, SourceKind::HidPos);
            assert_eq!(scan.at.0, time);
        }
    }
});
