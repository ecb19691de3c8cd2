//! Linux key codes (`linux/input-event-codes.h`) by name, for the recorded
//! event streams and the tests: only the keys a scanner can type.

/// `EV_SYN`: the end of one batch of events.
pub const EV_SYN: u16 = 0x00;
/// `SYN_DROPPED`: the client's event buffer overflowed; events were lost.
pub const SYN_DROPPED: u16 = 3;
/// `EV_KEY`: a key press, release or repeat.
pub const EV_KEY: u16 = 0x01;
/// `EV_MSC`: the HID usage of the key (`MSC_SCAN`), sent before `EV_KEY`.
pub const EV_MSC: u16 = 0x04;

/// `KEY_ENTER`.
pub const KEY_ENTER: u16 = 28;
/// `KEY_KPENTER`, the keypad's Enter.
pub const KEY_KPENTER: u16 = 96;
/// `KEY_TAB`.
pub const KEY_TAB: u16 = 15;
/// `KEY_LEFTSHIFT`.
pub const KEY_LEFTSHIFT: u16 = 42;
/// `KEY_LEFTALT`: the Alt of Alt+numpad sequences.
pub const KEY_LEFTALT: u16 = 56;
/// `KEY_RIGHTALT`: AltGr on most layouts.
pub const KEY_RIGHTALT: u16 = 100;
/// `KEY_CAPSLOCK`.
pub const KEY_CAPSLOCK: u16 = 58;

/// The keypad digit a key code types in an Alt+numpad sequence.
pub fn keypad_digit(code: u16) -> Option<u32> {
    match code {
        82 => Some(0),
        79 => Some(1),
        80 => Some(2),
        81 => Some(3),
        75 => Some(4),
        76 => Some(5),
        77 => Some(6),
        71 => Some(7),
        72 => Some(8),
        73 => Some(9),
        _ => None,
    }
}

/// Every named key, `KEY_` prefix dropped.
const NAMES: &[(&str, u16)] = &[
    ("ESC", 1),
    ("1", 2),
    ("2", 3),
    ("3", 4),
    ("4", 5),
    ("5", 6),
    ("6", 7),
    ("7", 8),
    ("8", 9),
    ("9", 10),
    ("0", 11),
    ("MINUS", 12),
    ("EQUAL", 13),
    ("BACKSPACE", 14),
    ("TAB", 15),
    ("Q", 16),
    ("W", 17),
    ("E", 18),
    ("R", 19),
    ("T", 20),
    ("Y", 21),
    ("U", 22),
    ("I", 23),
    ("O", 24),
    ("P", 25),
    ("LEFTBRACE", 26),
    ("RIGHTBRACE", 27),
    ("ENTER", 28),
    ("LEFTCTRL", 29),
    ("A", 30),
    ("S", 31),
    ("D", 32),
    ("F", 33),
    ("G", 34),
    ("H", 35),
    ("J", 36),
    ("K", 37),
    ("L", 38),
    ("SEMICOLON", 39),
    ("APOSTROPHE", 40),
    ("GRAVE", 41),
    ("LEFTSHIFT", 42),
    ("BACKSLASH", 43),
    ("Z", 44),
    ("X", 45),
    ("C", 46),
    ("V", 47),
    ("B", 48),
    ("N", 49),
    ("M", 50),
    ("COMMA", 51),
    ("DOT", 52),
    ("SLASH", 53),
    ("RIGHTSHIFT", 54),
    ("KPASTERISK", 55),
    ("LEFTALT", 56),
    ("SPACE", 57),
    ("CAPSLOCK", 58),
    ("F1", 59),
    ("F2", 60),
    ("F3", 61),
    ("F4", 62),
    ("F5", 63),
    ("F6", 64),
    ("F7", 65),
    ("F8", 66),
    ("F9", 67),
    ("F10", 68),
    ("NUMLOCK", 69),
    ("SCROLLLOCK", 70),
    ("KP7", 71),
    ("KP8", 72),
    ("KP9", 73),
    ("KPMINUS", 74),
    ("KP4", 75),
    ("KP5", 76),
    ("KP6", 77),
    ("KPPLUS", 78),
    ("KP1", 79),
    ("KP2", 80),
    ("KP3", 81),
    ("KP0", 82),
    ("KPDOT", 83),
    ("ZENKAKUHANKAKU", 85),
    ("102ND", 86),
    ("F11", 87),
    ("F12", 88),
    ("RO", 89),
    ("KATAKANA", 90),
    ("HIRAGANA", 91),
    ("HENKAN", 92),
    ("KATAKANAHIRAGANA", 93),
    ("MUHENKAN", 94),
    ("KPJPCOMMA", 95),
    ("KPENTER", 96),
    ("RIGHTCTRL", 97),
    ("KPSLASH", 98),
    ("SYSRQ", 99),
    ("RIGHTALT", 100),
    ("HOME", 102),
    ("UP", 103),
    ("PAGEUP", 104),
    ("LEFT", 105),
    ("RIGHT", 106),
    ("END", 107),
    ("DOWN", 108),
    ("PAGEDOWN", 109),
    ("INSERT", 110),
    ("DELETE", 111),
    ("KPEQUAL", 117),
    ("KPCOMMA", 121),
    ("YEN", 124),
    ("LEFTMETA", 125),
    ("RIGHTMETA", 126),
    ("COMPOSE", 127),
    ("F13", 183),
    ("F14", 184),
    ("F15", 185),
];

/// The code of `KEY_NAME` (or of a bare number).
pub fn code_of(name: &str) -> Option<u16> {
    if let Some(short) = name.strip_prefix("KEY_") {
        return NAMES.iter().find(|(n, _)| *n == short).map(|(_, c)| *c);
    }
    name.parse().ok()
}

/// The `KEY_NAME` of a code, or its number.
pub fn name_of(code: u16) -> String {
    match NAMES.iter().find(|(_, c)| *c == code) {
        Some((n, _)) => format!("KEY_{n}"),
        None => code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_round_trip() {
        // A few codes written again from linux/input-event-codes.h.
        for (name, code) in [
            ("KEY_A", 30),
            ("KEY_Q", 16),
            ("KEY_ENTER", 28),
            ("KEY_KP0", 82),
            ("KEY_102ND", 86),
            ("KEY_RO", 89),
            ("KEY_YEN", 124),
            ("KEY_RIGHTALT", 100),
        ] {
            assert_eq!(code_of(name), Some(code), "{name}");
            assert_eq!(name_of(code), name);
        }
        for (_, code) in NAMES {
            assert_eq!(code_of(&name_of(*code)), Some(*code));
        }
        assert_eq!(code_of("KEY_NOPE"), None);
        assert_eq!(code_of("250"), Some(250));
        assert_eq!(name_of(250), "250");
    }
}
