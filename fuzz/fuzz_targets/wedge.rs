//! The keyboard-wedge decoder on arbitrary key events, through real
//! layouts: no panic, no scan over the configured limit, scans in time
//! order and valid UTF-8, and nothing left pending once the idle gap has
//! passed. The evdev record parser gets the same bytes in arbitrary
//! chunks and must split them the same way every time.
//!
//! Input: a settings byte, then events of three bytes each: milliseconds
//! since the previous event, the key code, and the action (release, press,
//! repeat, or a moment without keys: a lost-events report or the idle
//! gap running out).
#![no_main]

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use kassa_drivers::wedge::{
    DecoderConfig, KeyAction, KeyEvent, Keymap, LayoutName, RecordParser, Terminator, WedgeDecoder,
};
use kassa_hal::SourceKind;
use libfuzzer_sys::fuzz_target;

/// A layout that types digits unshifted, one that types them shifted, one
/// with dead keys and AltGr, one that is not Latin.
const LAYOUTS: [&str; 4] = ["us", "fr", "de", "ru"];
const TERMINATORS: [Terminator; 3] = [Terminator::Enter, Terminator::Tab, Terminator::None];
const MAX_LENS: [usize; 3] = [8, 64, DecoderConfig::DEFAULT_MAX_LEN];

thread_local! {
    // Compiling a layout takes milliseconds: each decoder is built once and
    // reset between inputs, which forgets everything but its settings.
    static DECODERS: RefCell<HashMap<u8, WedgeDecoder>> = RefCell::new(HashMap::new());
}

fn decoder_for(settings: u8) -> WedgeDecoder {
    let layout = LAYOUTS[usize::from(settings) % LAYOUTS.len()];
    let rest = usize::from(settings) / LAYOUTS.len();
    let mut config = DecoderConfig::new(TERMINATORS[rest % 3]);
    config.aim_ids = rest / 3 % 2 == 1;
    config.max_len = MAX_LENS[rest / 6 % 3];
    let keymap = Keymap::new(&LayoutName::new(layout)).expect("xkb-data has the layout");
    WedgeDecoder::new(keymap, config)
}

fuzz_target!(|input: &[u8]| {
    let Some((&settings, events)) = input.split_first() else {
        return;
    };
    let settings = settings % (4 * 18);
    DECODERS.with(|decoders| {
        let mut decoders = decoders.borrow_mut();
        let decoder = decoders
            .entry(settings)
            .or_insert_with(|| decoder_for(settings));
        decoder.reset();
        while decoder.pop().is_some() {}
        decode(decoder, events);
    });
    records(input);
});

fn decode(decoder: &mut WedgeDecoder, events: &[u8]) {
    let max_len = decoder.config().max_len;
    let idle_gap = decoder.config().idle_gap;
    let mut time = Duration::from_secs(1);
    let mut last_key: Option<Duration> = None;
    let mut last_scan = Duration::ZERO;
    let mut check = |decoder: &mut WedgeDecoder| {
        while let Some(result) = decoder.pop() {
            if let Ok(scan) = result {
                assert!(!scan.data.is_empty() || decoder.config().aim_ids);
                assert!(scan.data.len() <= max_len, "scan over the limit");
                assert!(scan.utf8().is_some(), "scan is not UTF-8");
                assert_eq!(scan.source, SourceKind::Wedge);
                assert!(scan.at.0 >= last_scan, "scans out of order");
                last_scan = scan.at.0;
            }
        }
    };
    for event in events.chunks_exact(3) {
        let [gap, code, action] = [event[0], event[1], event[2]];
        time += Duration::from_millis(u64::from(gap));
        let action = match action % 4 {
            0 => KeyAction::Release,
            1 => KeyAction::Press,
            2 => KeyAction::Repeat,
            _ => {
                if gap % 2 == 0 {
                    decoder.lost();
                } else if let Some(deadline) = decoder.deadline() {
                    // The gap runs from the last key, not from other calls.
                    assert_eq!(Some(deadline), last_key.map(|t| t + idle_gap));
                    decoder.idle(deadline + Duration::from_millis(1));
                    check(decoder);
                    assert_eq!(decoder.deadline(), None, "pending after the idle gap");
                    time = time.max(deadline + Duration::from_millis(1));
                }
                check(decoder);
                continue;
            }
        };
        last_key = Some(time);
        decoder.push(KeyEvent {
            time,
            code: u16::from(code),
            action,
        });
        check(decoder);
    }
}

/// The evdev byte stream cut into reads of arbitrary sizes gives the same
/// records as one read.
fn records(input: &[u8]) {
    let mut whole = Vec::new();
    RecordParser::new().feed(input, |e| whole.push(e));
    let mut pieces = Vec::new();
    let mut parser = RecordParser::new();
    let mut rest = input;
    let mut i = 0;
    while !rest.is_empty() {
        let n = (usize::from(input[i % input.len()]) % 31 + 1).min(rest.len());
        parser.feed(&rest[..n], |e| pieces.push(e));
        rest = &rest[n..];
        i += 1;
    }
    assert_eq!(whole, pieces);
    for event in whole {
        if let Some(key) = event.key() {
            assert_eq!(key.time, event.time);
            assert_eq!(key.code, event.code);
            assert_eq!(key.action.value(), event.value);
        }
    }
}
