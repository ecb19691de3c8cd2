//! The serial framer on arbitrary settings and bytes: no panic, no frame
//! over the limit, no terminator inside a frame, bounded memory.
#![no_main]

use kassa_drivers::serial::{Framer, FramingConfig, Terminator};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let [mode, prefix_len, max_len, rest @ ..] = input else {
        return;
    };
    let prefix_len = usize::from(prefix_len % 3);
    let suffix_len = usize::from(mode % 4);
    if rest.len() < prefix_len + suffix_len {
        return;
    }
    let (prefix, rest) = rest.split_at(prefix_len);
    let (suffix, data) = rest.split_at(suffix_len);
    let terminator = if suffix.is_empty() {
        Terminator::IdleGap
    } else {
        Terminator::Suffix(suffix.to_vec())
    };
    let max_len = usize::from(*max_len) + 1;
    let mut framer = Framer::new(FramingConfig {
        prefix: prefix.to_vec(),
        terminator,
        max_len,
    });
    let check = |frame: &Vec<u8>| {
        assert!(frame.len() <= max_len + prefix.len() + suffix.len());
        if !suffix.is_empty() {
            assert!(!frame.windows(suffix.len()).any(|w| w == suffix));
        }
    };
    for (i, &byte) in data.iter().enumerate() {
        if let Some(Ok(frame)) = framer.push(byte) {
            check(&frame);
        }
        // Some quiet moments, chosen by the input itself.
        if byte == 0xFF && i % 2 == 0 {
            if let Some(Ok(frame)) = framer.idle() {
                check(&frame);
            }
        }
    }
});
