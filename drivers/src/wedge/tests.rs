//! The decoder against hand-written key events. Key codes are written as
//! their `linux/input-event-codes.h` names; what each layout types is
//! written from the layout's keyboard, not taken from the decoder.

use std::time::Duration;

use kassa_hal::{Symbology, Timestamp};

use super::*;

/// Events from `(time_us, key, value)` triples.
fn events(list: &[(u64, &str, i32)]) -> Vec<KeyEvent> {
    list.iter()
        .map(|&(t, key, value)| KeyEvent {
            time: Duration::from_micros(t),
            code: keys::code_of(key).unwrap_or_else(|| panic!("key {key}")),
            action: KeyAction::from_value(value).unwrap(),
        })
        .collect()
}

/// Taps each key (press, release) 1 ms apart, starting at `start`.
fn taps(start: u64, keys: &[&str]) -> Vec<KeyEvent> {
    let mut list = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let t = start + 2000 * i as u64;
        list.push((t, *key, 1));
        list.push((t + 1000, *key, 0));
    }
    events(&list)
}

fn decoder(layout: &str, config: DecoderConfig) -> WedgeDecoder {
    WedgeDecoder::new(Keymap::new(&LayoutName::new(layout)).unwrap(), config)
}

fn run(decoder: &mut WedgeDecoder, events: &[KeyEvent]) -> Vec<Result<Vec<u8>, DecodeError>> {
    let mut out = Vec::new();
    for e in events {
        decoder.push(*e);
        while let Some(r) = decoder.pop() {
            out.push(r.map(|s| s.data));
        }
    }
    out
}

#[test]
fn us_digits_and_enter() {
    let mut d = decoder("us", DecoderConfig::default());
    let keys = [
        "KEY_1",
        "KEY_3",
        "KEY_4",
        "KEY_5",
        "KEY_6",
        "KEY_7",
        "KEY_8",
        "KEY_9",
        "KEY_0",
        "KEY_1",
        "KEY_2",
        "KEY_3",
        "KEY_4",
        "KEY_5",
        "KEY_6",
        "KEY_7",
        "KEY_8",
        "KEY_9",
        "KEY_ENTER",
    ];
    let evs = taps(1_000_000, &keys);
    let mut scans = Vec::new();
    for e in &evs {
        d.push(*e);
        scans.extend(d.pop());
    }
    let [Ok(scan)] = &scans[..] else {
        panic!("{scans:?}")
    };
    assert_eq!(scan.data, b"134567890123456789");
    assert_eq!(scan.source, kassa_hal::SourceKind::Wedge);
    // The scan is timed by the terminator's key event, not by a clock.
    assert_eq!(scan.at, Timestamp(evs[evs.len() - 2].time));
}

#[test]
fn azerty_digits_need_shift() {
    // On fr, the top row types & é " ' ( - è _ ç à unshifted.
    let mut d = decoder("fr", DecoderConfig::default());
    let unshifted = taps(0, &["KEY_1", "KEY_2", "KEY_3", "KEY_0", "KEY_ENTER"]);
    assert_eq!(run(&mut d, &unshifted), [Ok("&é\"à".as_bytes().to_vec())]);
    let shifted = events(&[
        (100_000, "KEY_LEFTSHIFT", 1),
        (101_000, "KEY_1", 1),
        (102_000, "KEY_1", 0),
        (103_000, "KEY_2", 1),
        (104_000, "KEY_2", 0),
        (105_000, "KEY_0", 1),
        (106_000, "KEY_0", 0),
        (107_000, "KEY_LEFTSHIFT", 0),
        (108_000, "KEY_ENTER", 1),
        (109_000, "KEY_ENTER", 0),
    ]);
    assert_eq!(run(&mut d, &shifted), [Ok(b"120".to_vec())]);
}

#[test]
fn caps_lock_shifts_letters_until_pressed_again() {
    let mut d = decoder("us", DecoderConfig::default());
    let mut evs = taps(
        0,
        &["KEY_CAPSLOCK", "KEY_A", "KEY_B", "KEY_1", "KEY_CAPSLOCK"],
    );
    evs.extend(taps(20_000, &["KEY_C", "KEY_ENTER"]));
    assert_eq!(run(&mut d, &evs), [Ok(b"AB1c".to_vec())]);
}

#[test]
fn altgr_types_the_third_level() {
    // de: AltGr+Q is @, AltGr+E is €.
    let mut d = decoder("de", DecoderConfig::default());
    let evs = events(&[
        (0, "KEY_RIGHTALT", 1),
        (1000, "KEY_Q", 1),
        (2000, "KEY_Q", 0),
        (3000, "KEY_E", 1),
        (4000, "KEY_E", 0),
        (5000, "KEY_RIGHTALT", 0),
        (6000, "KEY_Y", 1), // de is QWERTZ: this key is z
        (7000, "KEY_Y", 0),
        (8000, "KEY_ENTER", 1),
        (9000, "KEY_ENTER", 0),
    ]);
    assert_eq!(run(&mut d, &evs), [Ok("@€z".as_bytes().to_vec())]);
}

#[test]
fn alt_numpad_types_code_points() {
    let mut d = decoder("us", DecoderConfig::default());
    // Alt+029 is GS (the GS1 separator), Alt+65 is A, Alt+0128 is € in
    // Windows-1252, Alt+130 is é in code page 437.
    let mut list = vec![(0, "KEY_1", 1), (1000, "KEY_1", 0)];
    let mut t = 2000;
    for digits in [
        &["KEY_KP0", "KEY_KP2", "KEY_KP9"][..],
        &["KEY_KP6", "KEY_KP5"],
        &["KEY_KP0", "KEY_KP1", "KEY_KP2", "KEY_KP8"],
        &["KEY_KP1", "KEY_KP3", "KEY_KP0"],
    ] {
        list.push((t, "KEY_LEFTALT", 1));
        for key in digits {
            t += 1000;
            list.push((t, *key, 1));
            t += 1000;
            list.push((t, *key, 0));
        }
        t += 1000;
        list.push((t, "KEY_LEFTALT", 0));
        t += 1000;
    }
    list.push((t, "KEY_ENTER", 1));
    list.push((t + 1000, "KEY_ENTER", 0));
    assert_eq!(
        run(&mut d, &events(&list)),
        [Ok("1\u{1d}A€é".as_bytes().to_vec())]
    );
}

#[test]
fn no_terminator_ends_on_the_idle_gap_by_timestamps() {
    let config = DecoderConfig {
        idle_gap: Duration::from_millis(50),
        ..DecoderConfig::new(Terminator::None)
    };
    let mut d = decoder("us", config);
    let mut evs = taps(0, &["KEY_1", "KEY_2"]);
    evs.extend(taps(30_000, &["KEY_3"])); // 27 ms after the last key: same scan
    evs.extend(taps(200_000, &["KEY_4"])); // long after: a new scan
    assert_eq!(run(&mut d, &evs), [Ok(b"123".to_vec())]);
    assert_eq!(d.deadline(), Some(Duration::from_micros(201_000 + 50_000)));
    d.idle(Duration::from_micros(240_000));
    assert!(d.pop().is_none(), "not yet: 39 ms after the last key");
    d.idle(Duration::from_micros(260_000));
    assert_eq!(d.pop().map(|r| r.map(|s| s.data)), Some(Ok(b"4".to_vec())));
    d.idle(Duration::from_micros(990_000));
    assert!(d.pop().is_none(), "the gap ends a scan once");
    assert_eq!(d.deadline(), None);
}

#[test]
fn a_key_that_types_nothing_drops_that_scan_only() {
    let mut d = decoder("us", DecoderConfig::default());
    // KEY_RO is a JIS key: the us layout has nothing on it.
    let mut evs = taps(0, &["KEY_1", "KEY_RO", "KEY_2", "KEY_ENTER"]);
    evs.extend(taps(20_000, &["KEY_5", "KEY_6", "KEY_ENTER"]));
    let out = run(&mut d, &evs);
    assert_eq!(
        out,
        [
            Err(DecodeError::UnmappedKey {
                code: 89,
                layout: LayoutName::new("us")
            }),
            Ok(b"56".to_vec())
        ]
    );
    let message = out[0].clone().unwrap_err().to_string();
    assert!(
        message.contains("KEY_RO") && message.contains("layout us"),
        "{message}"
    );
    // A function key is no character either.
    assert!(matches!(
        run(&mut d, &taps(100_000, &["KEY_F5", "KEY_ENTER"]))[..],
        [Err(DecodeError::UnmappedKey { code: 63, .. })]
    ));
}

#[test]
fn overlong_scans_are_dropped_and_the_next_decodes() {
    let config = DecoderConfig {
        max_len: 4,
        ..DecoderConfig::default()
    };
    let mut d = decoder("us", config);
    let mut evs = taps(
        0,
        &[
            "KEY_1",
            "KEY_2",
            "KEY_3",
            "KEY_4",
            "KEY_5",
            "KEY_6",
            "KEY_ENTER",
        ],
    );
    evs.extend(taps(20_000, &["KEY_7", "KEY_8", "KEY_ENTER"]));
    assert_eq!(
        run(&mut d, &evs),
        [Err(DecodeError::Overlong { limit: 4 }), Ok(b"78".to_vec())]
    );
}

#[test]
fn a_lost_terminator_does_not_glue_scans_together() {
    let mut d = decoder("us", DecoderConfig::default());
    let mut evs = taps(0, &["KEY_1", "KEY_2"]);
    evs.extend(taps(2_000_000, &["KEY_3", "KEY_ENTER"]));
    assert_eq!(
        run(&mut d, &evs),
        [Err(DecodeError::Incomplete { len: 2 }), Ok(b"3".to_vec())]
    );
}

#[test]
fn tab_terminates_and_enter_is_data_then() {
    let mut d = decoder("us", DecoderConfig::new(Terminator::Tab));
    let evs = taps(0, &["KEY_A", "KEY_ENTER", "KEY_B", "KEY_TAB"]);
    assert_eq!(run(&mut d, &evs), [Ok(b"a\rb".to_vec())]);
}

#[test]
fn aim_identifiers_set_the_symbology() {
    let config = DecoderConfig {
        aim_ids: true,
        ..DecoderConfig::default()
    };
    let mut d = decoder("us", config);
    let evs = events(&[
        (0, "KEY_RIGHTBRACE", 1),
        (1000, "KEY_RIGHTBRACE", 0),
        (2000, "KEY_RIGHTSHIFT", 1),
        (3000, "KEY_Q", 1),
        (4000, "KEY_Q", 0),
        (5000, "KEY_RIGHTSHIFT", 0),
        (6000, "KEY_1", 1),
        (7000, "KEY_1", 0),
        (8000, "KEY_2", 1),
        (9000, "KEY_2", 0),
        (10000, "KEY_KPENTER", 1),
        (11000, "KEY_KPENTER", 0),
    ]);
    for e in evs {
        d.push(e);
    }
    let scan = d.pop().unwrap().unwrap();
    assert_eq!(
        (scan.data.as_slice(), scan.symbology),
        (&b"2"[..], Symbology::Qr)
    );
}

#[test]
fn dead_keys_with_space_type_the_spacing_accent() {
    // de: the key left of 1 is dead_circumflex; a scanner sends it + space.
    let mut d = decoder("de", DecoderConfig::default());
    let evs = taps(0, &["KEY_GRAVE", "KEY_SPACE", "KEY_1", "KEY_ENTER"]);
    assert_eq!(run(&mut d, &evs), [Ok(b"^1".to_vec())]);
    let evs = taps(50_000, &["KEY_GRAVE", "KEY_1", "KEY_ENTER"]);
    assert_eq!(run(&mut d, &evs), [Err(DecodeError::DeadKey { code: 2 })]);
}

#[test]
fn repeats_are_ignored_and_reset_forgets_modifiers() {
    let mut d = decoder("us", DecoderConfig::default());
    let evs = events(&[
        (0, "KEY_LEFTSHIFT", 1),
        (1000, "KEY_A", 1),
        (2000, "KEY_A", 2),
        (3000, "KEY_A", 0),
    ]);
    assert!(run(&mut d, &evs).is_empty());
    d.reset(); // shift was never released: a reopened device starts clean
    assert_eq!(
        run(&mut d, &taps(10_000, &["KEY_B", "KEY_ENTER"])),
        [Ok(b"b".to_vec())]
    );
}
