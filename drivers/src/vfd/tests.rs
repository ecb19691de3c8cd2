//! Exact bytes of each command set. The command constants are written again
//! here, from the manufacturers' command references, so that a wrong table
//! in the driver cannot make its own test pass.

use kassa_hal::{Currency, Money, PaymentStatus, View};
use proptest::prelude::*;

use super::*;
use crate::testing::*;

// ESC/POS customer display (Epson DM-D).
const ESCPOS_INIT: &[u8] = b"\x1b@";
const ESCPOS_OVERWRITE: &[u8] = b"\x1f\x01";
const ESCPOS_CURSOR_OFF: &[u8] = b"\x1fC\x00";
const ESCPOS_PC437: &[u8] = b"\x1c.\x1bt\x00";
const ESCPOS_PC858: &[u8] = b"\x1c.\x1bt\x13";
const ESCPOS_KANJI_ON: &[u8] = b"\x1c&";
const ESCPOS_CLEAR: &[u8] = b"\x0c";
const ESCPOS_ROW1: &[u8] = b"\x1f$\x01\x01";
const ESCPOS_ROW2: &[u8] = b"\x1f$\x01\x02";
// CD5220.
const CD_INIT: &[u8] = b"\x1b@";
const CD_OVERWRITE: &[u8] = b"\x1b\x11";
const CD_HSCROLL: &[u8] = b"\x1b\x13";
const CD_CLEAR: &[u8] = b"\x0c";
const CD_UPPER: &[u8] = b"\x1bQA";
const CD_LOWER: &[u8] = b"\x1bQB";
const CD_MARQUEE: &[u8] = b"\x1bQD";
const CD_END: &[u8] = b"\r";
// 8-digit LED price display.
const LED_INIT: &[u8] = b"\x1b@";
const LED_LAMPS_OFF: &[u8] = b"\x1bs0";
const LED_LAMP_TOTAL: &[u8] = b"\x1bs2";
const LED_LAMP_COLLECT: &[u8] = b"\x1bs3";
const LED_DIGITS_CMD: &[u8] = b"\x1bQA";
const LED_CLEAR: &[u8] = b"\x0c";

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn cny(minor: i64) -> Money {
    Money::new(minor, Currency::from_code("CNY").unwrap())
}

fn prompt() -> View {
    View::Prompt {
        text: "Present payment code".into(),
        amount: Some(cny(3600)),
    }
}

#[test]
fn escpos_initialises_once_then_draws_two_rows() {
    let mut r = Renderer::new(VfdConfig::new(CommandSet::EscPos));
    assert_eq!(
        r.render(&prompt()),
        cat(&[
            ESCPOS_INIT,
            ESCPOS_OVERWRITE,
            ESCPOS_CURSOR_OFF,
            ESCPOS_PC437,
            ESCPOS_CLEAR,
            ESCPOS_ROW1,
            b"Present payment code",
            ESCPOS_ROW2,
            b"TOTAL         \x9d36.00",
        ])
    );
    assert_eq!(
        r.render(&View::Order(order(&["Tea", "Cappuccino grande"], "CNY"))),
        cat(&[
            ESCPOS_CLEAR,
            ESCPOS_ROW1,
            b"Cappuccino gra 36.00",
            ESCPOS_ROW2,
            b"TOTAL         \x9d72.00",
        ])
    );
    r.reset();
    assert!(r.render(&View::Idle).starts_with(ESCPOS_INIT));
}

#[test]
fn escpos_code_pages() {
    let mut config = VfdConfig::new(CommandSet::EscPos);
    config.code_page = CodePage::Pc858;
    let bytes = Renderer::new(config.clone()).render(&View::Order(order(&["Café"], "EUR")));
    assert_eq!(
        bytes,
        cat(&[
            ESCPOS_INIT,
            ESCPOS_OVERWRITE,
            ESCPOS_CURSOR_OFF,
            ESCPOS_PC858,
            ESCPOS_CLEAR,
            ESCPOS_ROW1,
            b"Caf\x82           36.00",
            ESCPOS_ROW2,
            b"TOTAL         \xd536.00",
        ])
    );
    config.code_page = CodePage::Gb18030;
    let bytes = Renderer::new(config).render(&View::Order(order(&["拿铁"], "CNY")));
    assert_eq!(
        bytes,
        cat(&[
            ESCPOS_INIT,
            ESCPOS_OVERWRITE,
            ESCPOS_CURSOR_OFF,
            ESCPOS_KANJI_ON,
            ESCPOS_CLEAR,
            ESCPOS_ROW1,
            b"\xc4\xc3\xcc\xfa           36.00",
            ESCPOS_ROW2,
            b"TOTAL        \xa3\xa436.00",
        ])
    );
}

#[test]
fn currency_sign_falls_back_to_the_code() {
    // CP437 has no euro sign.
    let mut r = Renderer::new(VfdConfig::new(CommandSet::EscPos));
    let bytes = r.render(&View::Order(order(&["Tea"], "EUR")));
    assert!(bytes.ends_with(b"TOTAL      EUR 36.00"), "{bytes:?}");
}

#[test]
fn cd5220_lines_and_marquee() {
    let mut r = Renderer::new(VfdConfig::new(CommandSet::Cd5220));
    assert_eq!(
        r.render(&View::Result {
            status: PaymentStatus::Paid,
            message: "Thank you".into()
        }),
        cat(&[
            CD_INIT,
            CD_OVERWRITE,
            CD_CLEAR,
            CD_UPPER,
            b"PAID - THANK YOU",
            CD_END,
            CD_LOWER,
            b"Thank you",
            CD_END,
        ])
    );
    let mut config = VfdConfig::new(CommandSet::Cd5220);
    config.marquee = true;
    config.scroll = ScrollMode::Horizontal;
    let mut r = Renderer::new(config);
    let long = View::Text(vec![
        "Welcome to the corner coffee shop".into(),
        "Open 7-22".into(),
    ]);
    assert_eq!(
        r.render(&long),
        cat(&[
            CD_INIT,
            CD_HSCROLL,
            CD_CLEAR,
            CD_MARQUEE,
            b"Welcome to the corner coffee shop",
            CD_END,
            CD_LOWER,
            b"Open 7-22",
            CD_END,
        ])
    );
}

#[test]
fn led_price_display_lamps_and_digits() {
    let mut r = Renderer::new(VfdConfig::new(CommandSet::LedPrice8));
    assert_eq!(
        r.render(&prompt()),
        cat(&[LED_INIT, LED_LAMP_TOTAL, LED_DIGITS_CMD, b"36.00", b"\r"])
    );
    assert_eq!(
        r.render(&View::Result {
            status: PaymentStatus::Paid,
            message: String::new()
        }),
        cat(&[LED_LAMP_COLLECT, LED_DIGITS_CMD, b"36.00", b"\r"])
    );
    assert_eq!(r.render(&View::Idle), cat(&[LED_LAMPS_OFF, LED_CLEAR]));
    let huge = View::Prompt {
        text: String::new(),
        amount: Some(cny(123_456_789)),
    };
    assert_eq!(
        r.render(&huge),
        cat(&[LED_LAMP_TOTAL, LED_DIGITS_CMD, b"--------", b"\r"])
    );
    assert_eq!(r.capabilities().columns, 8);
}

#[test]
fn writes_go_to_the_transport() {
    let mut display = VfdDisplay::new(Vec::<u8>::new(), VfdConfig::new(CommandSet::Cd5220));
    kassa_hal::blocking::CustomerDisplay::show(&mut display, &View::Text(vec!["A".into()]))
        .unwrap();
    futures_executor::block_on(display.show(&View::Idle)).unwrap();
    assert_eq!(
        display.release(),
        cat(&[
            CD_INIT,
            CD_OVERWRITE,
            CD_CLEAR,
            CD_UPPER,
            b"A",
            CD_END,
            CD_LOWER,
            CD_END,
            CD_CLEAR,
            CD_UPPER,
            CD_END,
            CD_LOWER,
            CD_END,
        ])
    );
}

/// The control bytes of a byte string: what a display could take as a
/// command.
fn controls(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .copied()
        .filter(|&b| b < 0x20 || b == 0x7F)
        .collect()
}

fn all_configs() -> Vec<VfdConfig> {
    let mut out = Vec::new();
    for set in [
        CommandSet::EscPos,
        CommandSet::Cd5220,
        CommandSet::LedPrice8,
    ] {
        for page in [CodePage::Cp437, CodePage::Pc858, CodePage::Gb18030] {
            for marquee in [false, true] {
                let mut config = VfdConfig::new(set);
                config.code_page = page;
                config.marquee = marquee;
                out.push(config);
            }
        }
    }
    out
}

proptest! {
    /// An item name can never become a display command: whatever it holds,
    /// the control bytes of the output are exactly those of the same view
    /// with a harmless name.
    #[test]
    fn item_names_never_become_commands(name in hostile_text(), message in hostile_text()) {
        for config in all_configs() {
            let views = |name: &str, message: &str| {
                let mut o = order(&["Tea", "x"], "CNY");
                o.items[1].name = name.into();
                vec![
                    View::Order(o),
                    View::Text(vec![name.into(), message.into()]),
                    View::Prompt { text: name.into(), amount: Some(cny(1)) },
                    View::Result { status: PaymentStatus::Failed, message: message.into() },
                ]
            };
            let mut hostile = Renderer::new(config.clone());
            let mut harmless = Renderer::new(config.clone());
            for (a, b) in views(&name, &message).iter().zip(views("X", "Y").iter()) {
                prop_assert_eq!(controls(&hostile.render(a)), controls(&harmless.render(b)));
            }
        }
    }

    /// A line never exceeds the display's columns, in any code page.
    #[test]
    fn lines_fit_the_display(name in hostile_text(), columns in 8u8..=40) {
        for page in [CodePage::Cp437, CodePage::Pc858, CodePage::Gb18030] {
            let mut o = order(&["Tea", "x"], "CNY");
            o.items[1].name = name.clone();
            let idle = [String::new(), String::new()];
            for view in [View::Order(o), View::Text(vec![name.clone(), name.clone()])] {
                for line in cells::lines(&view, &idle, &page, columns.into(), 2) {
                    prop_assert!(line.width <= usize::from(columns));
                }
            }
        }
    }
}

/// A port that fails one write with `kind` once `fail_at` bytes went
/// through, and takes everything after.
struct FailingPort {
    written: Vec<u8>,
    fail_at: Option<usize>,
    kind: embedded_io::ErrorKind,
}

impl FailingPort {
    fn new(fail_at: usize, kind: embedded_io::ErrorKind) -> FailingPort {
        FailingPort {
            written: Vec::new(),
            fail_at: Some(fail_at),
            kind,
        }
    }
}

impl embedded_io::ErrorType for FailingPort {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Write for FailingPort {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let n = match self.fail_at {
            Some(at) if self.written.len() >= at => {
                self.fail_at = None;
                return Err(self.kind);
            }
            Some(at) => buf.len().min(at - self.written.len()),
            None => buf.len(),
        };
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[test]
fn the_blocking_trait_writes_and_its_errors_have_kinds() {
    use kassa_hal::Error as _;
    use kassa_hal::blocking::CustomerDisplay as Blocking;
    // Through the trait, as kassad's device worker drives every display.
    fn show<D: Blocking>(display: &mut D, view: &View) -> Result<(), D::Error> {
        display.show(view)
    }
    let port = FailingPort::new(3, embedded_io::ErrorKind::BrokenPipe);
    let mut display = VfdDisplay::new(port, VfdConfig::new(CommandSet::Cd5220));
    assert_eq!(Blocking::capabilities(&display).columns, 20);
    let error = show(&mut display, &View::Idle).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Disconnected);
    assert!(
        error
            .to_string()
            .starts_with("customer display write failed: "),
        "{error}"
    );
    // Part of a view went out; the next show starts with the initialisation.
    show(&mut display, &View::Text(vec!["A".into()])).unwrap();
    assert_eq!(
        display.release().written,
        cat(&[
            b"\x1b@\x1b",
            CD_INIT,
            CD_OVERWRITE,
            CD_CLEAR,
            CD_UPPER,
            b"A",
            CD_END,
            CD_LOWER,
            CD_END,
        ])
    );

    let port = FailingPort::new(0, embedded_io::ErrorKind::TimedOut);
    let mut display = VfdDisplay::new(port, VfdConfig::new(CommandSet::EscPos));
    let error = show(&mut display, &View::Idle).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
}
