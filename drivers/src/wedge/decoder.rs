//! From key events to scans: the keyboard-wedge decoder.
//!
//! Pure and deterministic: [`WedgeDecoder::push`] takes one key event at a
//! time, with the timestamp the kernel gave it, and [`WedgeDecoder::idle`]
//! says what time it is now, in the same clock. Time is never read here, so
//! a recorded stream decodes to the same scans every time, and the real
//! device (`linux`), the replayed streams of the tests and the benchmark all
//! go through this one type.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use kassa_hal::{Scan, SourceKind, Timestamp};
use xkbcommon::xkb;

use super::keymap::{Keymap, LayoutName};
use super::keys::{self, KEY_LEFTALT};

/// What a key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAction {
    /// Released (`value` 0).
    Release,
    /// Pressed (`value` 1).
    Press,
    /// Auto-repeated while held (`value` 2).
    Repeat,
}

impl KeyAction {
    /// From an `EV_KEY` event's value; `None` for values the kernel does
    /// not send.
    pub fn from_value(value: i32) -> Option<KeyAction> {
        match value {
            0 => Some(KeyAction::Release),
            1 => Some(KeyAction::Press),
            2 => Some(KeyAction::Repeat),
            _ => None,
        }
    }

    /// The `EV_KEY` value.
    pub fn value(self) -> i32 {
        match self {
            KeyAction::Release => 0,
            KeyAction::Press => 1,
            KeyAction::Repeat => 2,
        }
    }
}

/// One `EV_KEY` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyEvent {
    /// The event's timestamp (the kernel's `input_event.time`; for a real
    /// device the time since the Unix epoch).
    pub time: Duration,
    /// The Linux key code (`KEY_A` is 30).
    pub code: u16,
    /// Press, release or repeat.
    pub action: KeyAction,
}

/// How the end of a scan is recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Terminator {
    /// The scanner presses Enter (or keypad Enter) after every scan: the
    /// factory default of nearly every scanner.
    Enter,
    /// The scanner presses Tab after every scan.
    Tab,
    /// The scanner sends nothing after a scan: it ends when no key came for
    /// the idle gap.
    None,
}

/// Decoder settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecoderConfig {
    /// How a scan ends.
    pub terminator: Terminator,
    /// With [`Terminator::None`], the quiet time that ends a scan. With
    /// Enter or Tab, a scan still unfinished after this long is dropped as
    /// [`DecodeError::Incomplete`], so that a lost terminator does not glue
    /// two scans together.
    pub idle_gap: Duration,
    /// Whether the scanner prefixes scans with an AIM identifier (`]Q1`).
    pub aim_ids: bool,
    /// Longest scan accepted, in bytes of UTF-8.
    pub max_len: usize,
}

impl DecoderConfig {
    /// Default idle gap without a terminator: USB scanners type a key every
    /// few milliseconds, a person far slower.
    pub const DEFAULT_IDLE_GAP: Duration = Duration::from_millis(50);
    /// Default time after which an unterminated scan is dropped.
    pub const DEFAULT_STALE_GAP: Duration = Duration::from_millis(500);
    /// Default longest scan.
    pub const DEFAULT_MAX_LEN: usize = 4096;

    /// The defaults for `terminator`.
    pub fn new(terminator: Terminator) -> DecoderConfig {
        DecoderConfig {
            terminator,
            idle_gap: match terminator {
                Terminator::None => Self::DEFAULT_IDLE_GAP,
                _ => Self::DEFAULT_STALE_GAP,
            },
            aim_ids: false,
            max_len: Self::DEFAULT_MAX_LEN,
        }
    }
}

impl Default for DecoderConfig {
    fn default() -> Self {
        DecoderConfig::new(Terminator::Enter)
    }
}

/// A scan that was dropped. The decoder has already resynchronised: the
/// next scan decodes normally. No variant carries scanned characters, so
/// errors can be logged without leaking a payment code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// A key that types nothing in the configured layout (no symbol, or a
    /// function key): the layout is probably wrong. The rest of the scan is
    /// dropped.
    UnmappedKey {
        /// The Linux key code.
        code: u16,
        /// The configured layout.
        layout: LayoutName,
    },
    /// A dead key followed by something it does not combine with.
    DeadKey {
        /// The key code after the dead key.
        code: u16,
    },
    /// More than `limit` bytes without a terminator; dropped up to the next
    /// terminator or idle gap.
    Overlong {
        /// The configured maximum.
        limit: usize,
    },
    /// The kernel's event buffer overflowed (`SYN_DROPPED`): keys were
    /// lost, so the scan in flight is dropped up to its terminator.
    EventsLost,
    /// A scan that never got its terminator within the idle gap.
    Incomplete {
        /// How many bytes were dropped.
        len: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnmappedKey { code, layout } => write!(
                f,
                "scan dropped: key {} types nothing in keyboard layout {layout} \
                 (is the scanner set to the same layout?)",
                keys::name_of(*code)
            ),
            DecodeError::DeadKey { code } => write!(
                f,
                "scan dropped: dead key followed by {}, which it does not combine with",
                keys::name_of(*code)
            ),
            DecodeError::Overlong { limit } => write!(
                f,
                "scan dropped: longer than {limit} bytes without a terminator"
            ),
            DecodeError::EventsLost => {
                f.write_str("scan dropped: the kernel dropped key events (SYN_DROPPED); scan again")
            }
            DecodeError::Incomplete { len } => write!(
                f,
                "scan dropped: {len} bytes without a terminator (is the terminator set right?)"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// An Alt+numpad sequence being typed: Alt held, keypad digits pressed.
#[derive(Debug, Clone, Copy)]
struct AltCode {
    value: u32,
    digits: u8,
    leading_zero: bool,
}

/// Keysyms that only change the state of other keys.
fn is_modifier(sym: u32) -> bool {
    matches!(sym,
        0xffe1..=0xffee // Shift, Control, Caps/Shift Lock, Meta, Alt, Super, Hyper
        | 0xfe01..=0xfe13 // ISO_Lock, ISO_Level3_Shift (AltGr), Level5, group shifts
        | 0xff7e // Mode_switch
        | 0xff7f // Num_Lock
        | 0xff14 // Scroll_Lock
    )
}

const RETURN: u32 = 0xff0d;
const KP_ENTER: u32 = 0xff8d;
const TAB: u32 = 0xff09;
const ISO_LEFT_TAB: u32 = 0xfe20;
const SPACE: u32 = 0x20;

/// The spacing character of a dead key (`dead_circumflex` + space is `^`).
fn spacing(dead: u32) -> Option<char> {
    Some(match dead {
        0xfe50 => '`',
        0xfe51 => '\u{b4}',
        0xfe52 => '^',
        0xfe53 => '~',
        0xfe54 => '\u{af}',
        0xfe55 => '\u{2d8}',
        0xfe56 => '\u{2d9}',
        0xfe57 => '\u{a8}',
        0xfe58 => '\u{b0}',
        0xfe59 => '\u{2dd}',
        0xfe5a => '\u{2c7}',
        0xfe5b => '\u{b8}',
        0xfe5c => '\u{2db}',
        _ => return None,
    })
}

/// The character of a finished Alt+numpad sequence, as Windows types it
/// (which is what scanners emulate): with a leading zero, Windows-1252;
/// without, code page 437 above 127; above 255, the Unicode code point.
fn alt_char(code: AltCode) -> Option<char> {
    match code.value {
        0..=127 => char::from_u32(code.value),
        128..=255 => {
            let byte = u8::try_from(code.value).ok()?;
            if code.leading_zero {
                let bytes = [byte];
                let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&bytes);
                text.chars().next()
            } else {
                oem_cp::code_table::DECODING_TABLE_CP437
                    .get(usize::from(byte - 128))
                    .copied()
            }
        }
        v => char::from_u32(v),
    }
}

/// The wedge decoder: key events in, scans out.
pub struct WedgeDecoder {
    keymap: Keymap,
    state: xkb::State,
    config: DecoderConfig,
    text: String,
    /// A scan went wrong and was reported; keys are dropped up to the next
    /// terminator or idle gap.
    discarding: bool,
    last: Option<Duration>,
    left_alt: bool,
    alt: Option<AltCode>,
    dead: Option<u32>,
    out: VecDeque<Result<Scan, DecodeError>>,
}

impl fmt::Debug for WedgeDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the text: it may be half a payment code.
        f.debug_struct("WedgeDecoder")
            .field("keymap", &self.keymap)
            .field("config", &self.config)
            .field("pending_bytes", &self.text.len())
            .finish_non_exhaustive()
    }
}

impl WedgeDecoder {
    /// A decoder typing through `keymap`.
    pub fn new(keymap: Keymap, config: DecoderConfig) -> WedgeDecoder {
        let state = xkb::State::new(&keymap.keymap);
        WedgeDecoder {
            keymap,
            state,
            config,
            text: String::new(),
            discarding: false,
            last: None,
            left_alt: false,
            alt: None,
            dead: None,
            out: VecDeque::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// Forgets everything in flight, the modifier state too: for a device
    /// that was reopened.
    pub fn reset(&mut self) {
        self.state = xkb::State::new(&self.keymap.keymap);
        self.text.clear();
        self.discarding = false;
        self.last = None;
        self.left_alt = false;
        self.alt = None;
        self.dead = None;
    }

    /// Says that key events were lost (evdev's `SYN_DROPPED`): the scan in
    /// flight is reported dropped, the rest of it discarded, and the
    /// modifier state starts afresh (a lost Shift release must not shift
    /// the next scan).
    pub fn lost(&mut self) {
        self.fail(DecodeError::EventsLost);
        self.state = xkb::State::new(&self.keymap.keymap);
        self.left_alt = false;
        self.alt = None;
        self.dead = None;
    }

    /// The next finished scan or dropped scan, oldest first.
    pub fn pop(&mut self) -> Option<Result<Scan, DecodeError>> {
        self.out.pop_front()
    }

    /// Says that it is now `now` (in the events' clock) and no key came
    /// since the last one: ends a scan without a terminator once the idle
    /// gap has passed.
    pub fn idle(&mut self, now: Duration) {
        if let Some(last) = self.last {
            if now.saturating_sub(last) > self.config.idle_gap {
                self.gap(last);
            }
        }
    }

    /// When the idle gap after the last key runs out, in the events' clock:
    /// the moment [`WedgeDecoder::idle`] has something to do. `None` when
    /// nothing is waiting.
    pub fn deadline(&self) -> Option<Duration> {
        let pending = !self.text.is_empty() || self.discarding || self.alt.is_some();
        match self.last {
            Some(last) if pending => Some(last + self.config.idle_gap),
            _ => None,
        }
    }

    /// Takes one key event.
    pub fn push(&mut self, event: KeyEvent) {
        if let Some(last) = self.last {
            if event.time.saturating_sub(last) > self.config.idle_gap {
                self.gap(last);
            }
        }
        self.last = Some(self.last.map_or(event.time, |l| l.max(event.time)));
        let key = xkb::Keycode::new(u32::from(event.code) + 8);
        match event.action {
            // A scanner does not hold keys; the kernel's auto-repeat on a
            // slow one would only double characters.
            KeyAction::Repeat => {}
            KeyAction::Release => {
                if event.code == KEY_LEFTALT {
                    self.left_alt = false;
                    if let Some(code) = self.alt.take() {
                        match alt_char(code) {
                            Some(c) => self.append_char(c),
                            None => self.fail(DecodeError::UnmappedKey {
                                code: event.code,
                                layout: self.keymap.name().clone(),
                            }),
                        }
                    }
                }
                self.state.update_key(key, xkb::KeyDirection::Up);
            }
            KeyAction::Press => {
                if event.code == KEY_LEFTALT {
                    self.left_alt = true;
                }
                if self.left_alt {
                    if let Some(digit) = keys::keypad_digit(event.code) {
                        let code = self.alt.get_or_insert(AltCode {
                            value: 0,
                            digits: 0,
                            leading_zero: digit == 0,
                        });
                        code.value = code.value.saturating_mul(10).saturating_add(digit);
                        code.digits = code.digits.saturating_add(1);
                        self.state.update_key(key, xkb::KeyDirection::Down);
                        return;
                    }
                }
                let sym = self.state.key_get_one_sym(key).raw();
                let c = char::from_u32(self.state.key_get_utf32(key)).filter(|c| *c != '\0');
                let text = match c {
                    Some(_) => None,
                    None if sym != 0 => Some(self.state.key_get_utf8(key)),
                    None => None,
                };
                self.state.update_key(key, xkb::KeyDirection::Down);
                self.typed(event, sym, c, text);
            }
        }
    }

    /// A key press, resolved through the layout.
    fn typed(&mut self, event: KeyEvent, sym: u32, c: Option<char>, text: Option<String>) {
        let terminator = match self.config.terminator {
            Terminator::Enter => matches!(sym, RETURN | KP_ENTER),
            Terminator::Tab => matches!(sym, TAB | ISO_LEFT_TAB),
            Terminator::None => false,
        };
        if terminator {
            self.finish(event.time);
            return;
        }
        if is_modifier(sym) {
            return;
        }
        if let Some(dead) = self.dead.take() {
            match (sym, spacing(dead)) {
                (SPACE, Some(s)) => return self.append_char(s),
                (_, Some(s)) if sym == dead => return self.append_char(s),
                _ => return self.fail(DecodeError::DeadKey { code: event.code }),
            }
        }
        if spacing(sym).is_some() {
            self.dead = Some(sym);
            return;
        }
        match (c, text) {
            (Some(c), _) => self.append_char(c),
            (None, Some(text)) if !text.is_empty() => {
                for c in text.chars() {
                    self.append_char(c);
                }
            }
            _ => self.fail(DecodeError::UnmappedKey {
                code: event.code,
                layout: self.keymap.name().clone(),
            }),
        }
    }

    fn append_char(&mut self, c: char) {
        if self.discarding {
            return;
        }
        if self.text.len() + c.len_utf8() > self.config.max_len {
            self.fail(DecodeError::Overlong {
                limit: self.config.max_len,
            });
            return;
        }
        self.text.push(c);
    }

    /// Reports `error` once and drops the rest of the scan.
    fn fail(&mut self, error: DecodeError) {
        if !self.discarding {
            self.out.push_back(Err(error));
        }
        self.discarding = true;
        self.text.clear();
    }

    /// A terminator at `time`: the scan so far is done.
    fn finish(&mut self, time: Duration) {
        self.dead = None;
        self.alt = None;
        if self.discarding {
            self.discarding = false;
            self.text.clear();
            return;
        }
        if self.text.is_empty() {
            return;
        }
        let data = std::mem::take(&mut self.text).into_bytes();
        let at = Timestamp(time);
        self.out.push_back(Ok(if self.config.aim_ids {
            Scan::with_aim(&data, SourceKind::Wedge, at)
        } else {
            Scan::new(data, SourceKind::Wedge, at)
        }));
    }

    /// No key came for the idle gap after `last`.
    fn gap(&mut self, last: Duration) {
        match self.config.terminator {
            Terminator::None => self.finish(last),
            Terminator::Enter | Terminator::Tab => {
                if !self.text.is_empty() && !self.discarding {
                    let len = self.text.len();
                    self.out.push_back(Err(DecodeError::Incomplete { len }));
                }
                self.text.clear();
                self.discarding = false;
                self.dead = None;
                self.alt = None;
            }
        }
    }
}
