//! Exact I2C bytes of the LCD driver. The backpack wiring, the HD44780
//! instructions, waits and DDRAM addresses are written again here from the
//! HD44780U datasheet, so that a wrong table in the driver cannot make its
//! own test pass; the property tests decode the bytes with a small model of
//! the controller instead of trusting the driver's encoder.

use embedded_hal::i2c::{ErrorKind as I2cKind, NoAcknowledgeSource};
use embedded_hal_mock::eh1::delay::{CheckedDelay, NoopDelay, Transaction as Wait};
use embedded_hal_mock::eh1::i2c::{Mock as I2cMock, Transaction as I2c};
use kassa_hal::{Error as _, Item, PaymentStatus, View};
use proptest::prelude::*;

use super::*;
use crate::testing::*;

const ADDRESS: u8 = 0x27;
// The common backpack: P0 = RS, P1 = RW, P2 = E, P3 = backlight, P4-P7 = D4-D7.
const RS: u8 = 0x01;
const RW: u8 = 0x02;
const E: u8 = 0x04;
const BACKLIGHT: u8 = 0x08;
// DDRAM addresses of the rows.
const ROWS_16X2: [u8; 2] = [0x00, 0x40];
const ROWS_20X4: [u8; 4] = [0x00, 0x40, 0x14, 0x54];

// The glyphs kassa designed, restated: 5×8, last row blank.
const EURO: [u8; 8] = [
    0b00111, 0b01000, 0b11110, 0b01000, 0b11110, 0b01000, 0b00111, 0,
];
const POUND: [u8; 8] = [
    0b00110, 0b01001, 0b01000, 0b11100, 0b01000, 0b01000, 0b11111, 0,
];

/// One nibble on D4–D7: set up, E high, E low.
fn nibble(n: u8, rs: bool) -> [u8; 3] {
    let lines = n << 4 | BACKLIGHT | if rs { RS } else { 0 };
    [lines, lines | E, lines]
}

fn instruction(byte: u8) -> Vec<u8> {
    [nibble(byte >> 4, false), nibble(byte & 0xF, false)].concat()
}

fn data(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .flat_map(|b| [nibble(b >> 4, true), nibble(b & 0xF, true)].concat())
        .collect()
}

/// The write that puts `text` at DDRAM `address`.
fn row(address: u8, text: &[u8]) -> I2c {
    I2c::write(ADDRESS, [instruction(0x80 | address), data(text)].concat())
}

/// Datasheet figure 24 (4-bit), then the glyphs, then display on.
fn init(glyphs: &[[u8; 8]]) -> Vec<I2c> {
    let mut out = vec![
        I2c::write(ADDRESS, vec![BACKLIGHT]),
        I2c::write(ADDRESS, nibble(0x3, false).to_vec()),
        I2c::write(ADDRESS, nibble(0x3, false).to_vec()),
        I2c::write(ADDRESS, nibble(0x3, false).to_vec()),
        I2c::write(ADDRESS, nibble(0x2, false).to_vec()),
        // Function set 4-bit, 2 lines, 5×8; display off; clear.
        I2c::write(
            ADDRESS,
            [instruction(0x28), instruction(0x08), instruction(0x01)].concat(),
        ),
        // Entry mode: increment, no shift.
        I2c::write(ADDRESS, instruction(0x06)),
    ];
    for (slot, rows) in (0u8..).zip(glyphs) {
        out.push(I2c::write(
            ADDRESS,
            [instruction(0x40 | (slot * 8)), data(rows)].concat(),
        ));
    }
    // Display on, cursor and blink off.
    out.push(I2c::write(ADDRESS, instruction(0x0C)));
    out
}

/// Waits of the initialisation: > 40 ms power-on, > 4.1 ms, > 100 µs
/// (three times), clear display.
fn init_waits() -> Vec<Wait> {
    [50_000, 4_500, 150, 150, 150, 2_000]
        .into_iter()
        .map(Wait::delay_us)
        .collect()
}

fn config(rows: u8, columns: u8, glyphs: &[char]) -> LcdConfig {
    let mut config = LcdConfig::new(rows, columns);
    config.glyphs = glyphs.to_vec();
    config
}

/// Shows `views` in turn on a display expecting exactly `writes`, and
/// checks that every expected write and wait happened.
fn expect(config: LcdConfig, views: &[View], writes: &[I2c], waits: &[Wait]) {
    let mut i2c = I2cMock::new(writes);
    let mut delay = CheckedDelay::new(waits);
    let mut display = LcdDisplay::new(i2c.clone(), delay.clone(), config).unwrap();
    for view in views {
        display.show(view).unwrap();
    }
    i2c.done();
    delay.done();
}

#[test]
fn initialises_by_instruction_and_uploads_the_glyphs() {
    let mut writes = init(&[EURO, POUND]);
    // The second row stays as clear display left it: blank.
    writes.push(row(0x00, b"Hello           "));
    expect(
        config(2, 16, &['€', '£']),
        &[View::Text(vec!["Hello".into()])],
        &writes,
        &init_waits(),
    );
}

#[test]
fn order_on_16x2_is_the_last_item_and_the_total() {
    let view = View::Order(order(&["Tea", "Cappuccino grande"], "CNY"));
    let mut writes = init(&[EURO]);
    // The A00 ROM draws ¥ at 0x5C.
    writes.push(row(ROWS_16X2[0], b"Cappuccino 36.00"));
    writes.push(row(ROWS_16X2[1], b"TOTAL     \x5c72.00"));
    expect(config(2, 16, &['€']), &[view], &writes, &init_waits());
}

#[test]
fn order_on_20x4_is_the_three_latest_items_and_the_total() {
    let names = ["Tea", "Latte", "Muffin", "Cappuccino grande"];
    let view = View::Order(order(&names, "CNY"));
    let mut writes = init(&[EURO]);
    writes.push(row(ROWS_20X4[0], b"Latte          36.00"));
    writes.push(row(ROWS_20X4[1], b"Muffin         36.00"));
    writes.push(row(ROWS_20X4[2], b"Cappuccino gra 36.00"));
    writes.push(row(ROWS_20X4[3], b"TOTAL        \x5c144.00"));
    expect(config(4, 20, &['€']), &[view], &writes, &init_waits());
}

#[test]
fn a_sign_the_rom_lacks_is_drawn_from_its_cgram_slot() {
    let view = View::Order(order(&["Müsli"], "EUR"));
    let mut writes = init(&[POUND, EURO]);
    // ü is 0xF5 in the ROM; € is in slot 1.
    writes.push(row(ROWS_16X2[0], b"M\xf5sli      36.00"));
    writes.push(row(ROWS_16X2[1], b"TOTAL     \x0136.00"));
    expect(config(2, 16, &['£', '€']), &[view], &writes, &init_waits());

    // Without the glyph, the code stands in for the sign.
    let renderer = Renderer::new(config(2, 16, &['£'])).unwrap();
    let rows = renderer.rows(&View::Order(order(&["Tea"], "EUR")));
    assert_eq!(rows[1], b"TOTAL  EUR 36.00");
}

#[test]
fn a_second_view_rewrites_only_the_rows_that_changed() {
    let one = View::Order(order(&["Tea"], "CNY"));
    let two = View::Order(order(&["Tea", "Tea"], "CNY"));
    let mut writes = init(&[EURO]);
    writes.push(row(ROWS_16X2[0], b"Tea        36.00"));
    writes.push(row(ROWS_16X2[1], b"TOTAL     \x5c36.00"));
    // The second item is another tea: only the total changes.
    writes.push(row(ROWS_16X2[1], b"TOTAL     \x5c72.00"));
    // A shorter text is padded, so nothing of the old row is left.
    writes.push(row(ROWS_16X2[0], b"Thanks          "));
    writes.push(row(ROWS_16X2[1], b"                "));
    let thanks = View::Text(vec!["Thanks".into()]);
    expect(
        config(2, 16, &['€']),
        // Showing the same view twice writes nothing the second time.
        &[one, two.clone(), two, thanks.clone(), thanks],
        &writes,
        &init_waits(),
    );
}

#[test]
fn a_failed_write_is_named_and_the_next_view_initialises_again() {
    let view = View::Text(vec!["Hi".into()]);
    let nack = I2cKind::NoAcknowledge(NoAcknowledgeSource::Address);
    let mut writes = init(&[]);
    writes.push(
        I2c::write(
            ADDRESS,
            [instruction(0x80), data(b"Hi              ")].concat(),
        )
        .with_error(nack),
    );
    writes.extend(init(&[]));
    writes.push(row(0x00, b"Hi              "));
    let waits = [init_waits(), init_waits()].concat();
    let mut i2c = I2cMock::new(&writes);
    let mut delay = CheckedDelay::new(&waits);
    let mut display = LcdDisplay::new(i2c.clone(), delay.clone(), config(2, 16, &[])).unwrap();

    let error = display.show(&view).unwrap_err();
    assert!(matches!(error, Error::I2c { address: 0x27, source } if source == nack));
    assert_eq!(error.kind(), ErrorKind::Disconnected);
    assert_eq!(
        error.to_string(),
        "character LCD at I2C address 0x27: nothing answered \
         (unplugged, or another address? see i2cdetect)"
    );
    display.show(&view).unwrap();
    i2c.done();
    delay.done();
}

#[test]
fn bus_errors_map_to_kinds() {
    let kind = |source| {
        Error::I2c {
            address: 0x3F,
            source,
        }
        .kind()
    };
    let data_nack = I2cKind::NoAcknowledge(NoAcknowledgeSource::Data);
    assert_eq!(kind(data_nack), ErrorKind::Disconnected);
    assert_eq!(kind(I2cKind::ArbitrationLoss), ErrorKind::Busy);
    assert_eq!(kind(I2cKind::Bus), ErrorKind::Other);
    assert_eq!(kind(I2cKind::Overrun), ErrorKind::Other);
}

#[test]
fn the_blocking_trait_writes_the_same_bytes() {
    let mut writes = init(&[]);
    writes.push(row(0x00, b"Welcome         "));
    let mut lcd_config = config(2, 16, &[]);
    lcd_config.idle = vec!["Welcome".into()];
    let mut display = LcdDisplay::new(I2cMock::new(&writes), NoopDelay, lcd_config).unwrap();
    // Through the trait, as kassad's device worker drives every display.
    fn show<D: CustomerDisplay>(display: &mut D, view: &View) -> Result<(), D::Error> {
        display.show(view)
    }
    show(&mut display, &View::Idle).unwrap();
    let capabilities = CustomerDisplay::capabilities(&display);
    assert_eq!((capabilities.lines, capabilities.columns), (2, 16));
    assert_eq!(capabilities.charset, Charset::Hd44780A00);
    let (mut i2c, NoopDelay) = display.release();
    i2c.done();
}

#[test]
fn a_bus_error_through_the_blocking_trait_has_a_kind() {
    let view = View::Text(vec!["Hi".into()]);
    let mut writes = init(&[]);
    writes[0] = writes[0].clone().with_error(I2cKind::ArbitrationLoss);
    // The failed write ends the show; the next starts the initialisation
    // again from the beginning.
    writes.truncate(1);
    writes.extend(init(&[]));
    writes.push(row(0x00, b"Hi              "));
    let mut i2c = I2cMock::new(&writes);
    let mut display = LcdDisplay::new(i2c.clone(), NoopDelay, config(2, 16, &[])).unwrap();
    let error = CustomerDisplay::show(&mut display, &view).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Busy);
    CustomerDisplay::show(&mut display, &view).unwrap();
    i2c.done();
}

#[test]
fn sizes_one_controller_cannot_drive_are_refused() {
    for (rows, columns) in [(1, 16), (3, 20), (4, 40), (2, 41), (2, 7), (0, 0)] {
        assert_eq!(
            LcdConfig::new(rows, columns).validate(),
            Err(ConfigError::Size { rows, columns }),
            "{rows}×{columns}"
        );
    }
    for (rows, columns) in [(2, 16), (2, 20), (2, 40), (4, 16), (4, 20), (2, 8)] {
        assert_eq!(LcdConfig::new(rows, columns).validate(), Ok(()));
    }
    let message = ConfigError::Size {
        rows: 4,
        columns: 40,
    }
    .to_string();
    assert!(
        message.starts_with("a 40×4 character LCD is not supported"),
        "{message}"
    );
}

#[test]
fn a_16x4_folds_its_lines_at_16() {
    let mut renderer = Renderer::new(config(4, 16, &[])).unwrap();
    let transfers = renderer.render(&View::Text(vec!["a".into(); 4]));
    let addresses: Vec<u8> = transfers
        .iter()
        .rev()
        .take(4)
        .map(|t| t.bytes[0] & 0xF0 | t.bytes[3] >> 4)
        .collect();
    assert_eq!(addresses, [0x80 | 0x50, 0x80 | 0x10, 0x80 | 0x40, 0x80]);
}

#[test]
fn addresses_pins_and_glyphs_are_checked() {
    let mut c = LcdConfig::new(2, 16);
    c.address = 0x80;
    assert_eq!(c.validate(), Err(ConfigError::Address(0x80)));
    c.address = 0x3F;
    assert_eq!(c.validate(), Ok(()));
    c.pins.enable = c.pins.rs;
    assert_eq!(c.validate(), Err(ConfigError::PinMap(c.pins)));
    c.pins = PinMap::COMMON;
    c.pins.data[3] = 8;
    assert_eq!(c.validate(), Err(ConfigError::PinMap(c.pins)));
    c.pins = PinMap::COMMON;
    c.glyphs.push('€');
    assert_eq!(
        c.validate(),
        Err(ConfigError::Glyphs(GlyphError::TooMany(9)))
    );
    c.glyphs = vec!['¤'];
    assert_eq!(
        c.validate(),
        Err(ConfigError::Glyphs(GlyphError::Unknown('¤')))
    );
}

#[test]
fn another_pin_map_and_a_dark_backlight_move_the_bits() {
    // A backpack wired D4–D7 = P0–P3, E = P4, RW = P5, RS = P6, backlight
    // P7 lit by a low output; here with the backlight off (P7 high).
    let mut c = config(2, 16, &[]);
    c.pins = PinMap {
        rs: 6,
        rw: 5,
        enable: 4,
        backlight: 7,
        data: [0, 1, 2, 3],
        backlight_active_low: true,
    };
    c.backlight = false;
    let mut renderer = Renderer::new(c).unwrap();
    let transfers = renderer.render(&View::Text(vec!["A".into()]));
    assert_eq!(transfers[0].bytes, [0x80]);
    // Wake-up nibble 0x3: lines 0x83, then E (0x10) high, then low.
    assert_eq!(transfers[1].bytes, [0x83, 0x93, 0x83]);
    // 'A' = 0x41 as data: RS (0x40) with nibbles 4 and 1.
    let last = &transfers.last().unwrap().bytes;
    assert_eq!(last[6..12], [0xC4, 0xD4, 0xC4, 0xC1, 0xD1, 0xC1]);
}

/// A model of the HD44780 behind the common backpack, fed with the
/// backpack's output states.
#[derive(Debug)]
struct Hd44780 {
    ddram: [u8; 0x80],
    cgram: [u8; 64],
    address: usize,
    to_cgram: bool,
    four_bit: bool,
    high_nibble: Option<u8>,
    /// The backpack's outputs.
    lines: u8,
    uploaded: Vec<u8>,
    /// DDRAM addresses written since the last check.
    written: Vec<usize>,
}

impl Hd44780 {
    fn new() -> Hd44780 {
        Hd44780 {
            ddram: [0xFF; 0x80],
            cgram: [0; 64],
            address: 0,
            to_cgram: false,
            four_bit: false,
            high_nibble: None,
            // The PCF8574 starts with every output high.
            lines: 0xFF,
            uploaded: Vec::new(),
            written: Vec::new(),
        }
    }

    fn run(&mut self, transfers: &[Transfer]) -> Result<(), String> {
        for &byte in transfers.iter().flat_map(|t| &t.bytes) {
            if byte & RW != 0 {
                return Err(format!("RW raised in {byte:#04x}"));
            }
            // E falling ends a cycle: a write latches the nibble, a read
            // (RW high, as at power-on) changes nothing.
            let was = self.lines;
            if was & E != 0 && byte & E == 0 && was & RW == 0 {
                self.latch(was >> 4, was & RS != 0)?;
            }
            self.lines = byte;
        }
        Ok(())
    }

    fn latch(&mut self, nibble: u8, rs: bool) -> Result<(), String> {
        if !self.four_bit {
            // 8-bit mode: D0–D3 are not wired, so they read as zero.
            return match nibble {
                0x3 => Ok(()),
                0x2 => {
                    self.four_bit = true;
                    Ok(())
                }
                _ => Err(format!("nibble {nibble:#x} before 4-bit mode")),
            };
        }
        let Some(high) = self.high_nibble.take() else {
            self.high_nibble = Some(nibble);
            return Ok(());
        };
        let byte = high << 4 | nibble;
        if rs {
            if self.to_cgram {
                self.cgram[self.address % 64] = byte;
                self.uploaded.push((self.address % 64 / 8) as u8);
            } else {
                self.ddram[self.address % 0x80] = byte;
                self.written.push(self.address);
            }
            self.address += 1;
            return Ok(());
        }
        match byte {
            0x01 => {
                self.ddram = [b' '; 0x80];
                self.address = 0;
                self.to_cgram = false;
            }
            0x06 | 0x08 | 0x0C | 0x28 => {}
            0x40..=0x7F => {
                self.address = usize::from(byte & 0x3F);
                self.to_cgram = true;
            }
            0x80..=0xFF => {
                self.address = usize::from(byte & 0x7F);
                self.to_cgram = false;
            }
            _ => return Err(format!("unexpected instruction {byte:#04x}")),
        }
        Ok(())
    }

    fn row(&self, start: u8, columns: usize) -> &[u8] {
        &self.ddram[usize::from(start)..usize::from(start) + columns]
    }
}

proptest! {
    /// Whatever the names, the glass only ever gets ROM characters and the
    /// glyphs that were uploaded, every write lands inside its row, the
    /// glass ends up showing exactly the rendered rows, and an order's
    /// total is in the last row.
    #[test]
    fn hostile_names_reach_the_glass_only_as_printable_text(
        names in proptest::collection::vec(hostile_text(), 1..6),
        message in hostile_text(),
        total in 0i64..1_000_000_000_000,
    ) {
        for (rows, columns) in [(2u8, 16u8), (4, 20)] {
            let starts: &[u8] = if rows == 2 { &ROWS_16X2 } else { &ROWS_20X4 };
            for (currency, sign) in [("CNY", 0x5C), ("EUR", 0x00), ("KRW", 0x02)] {
                let mut o = order(&[], currency);
                o.items = names.iter().map(|name| Item {
                    name: name.clone(),
                    quantity: message.clone(),
                    unit: None,
                    unit_price: 1,
                    total: 1,
                }).collect();
                o.total = total;
                let order_view = View::Order(o.clone());
                let views = [
                    order_view.clone(),
                    View::Text(names.clone()),
                    View::Prompt { text: message.clone(), amount: Some(o.total_money()) },
                    order_view.clone(),
                    View::Result { status: PaymentStatus::Failed, message: message.clone() },
                ];
                let mut lcd_config = LcdConfig::new(rows, columns);
                lcd_config.idle = names.clone();
                let mut renderer = Renderer::new(lcd_config).unwrap();
                let mut lcd = Hd44780::new();
                for view in views.iter().chain([&View::Idle]) {
                    lcd.run(&renderer.render(view)).map_err(TestCaseError::fail)?;
                    for address in lcd.written.drain(..) {
                        let inside = starts.iter().any(|&s| {
                            (usize::from(s)..usize::from(s) + usize::from(columns)).contains(&address)
                        });
                        prop_assert!(inside, "write at {:#04x} outside the rows", address);
                    }
                    for (&start, expected) in starts.iter().zip(renderer.rows(view)) {
                        let shown = lcd.row(start, columns.into());
                        prop_assert_eq!(shown, &expected[..]);
                        for &b in shown {
                            let rom = (0x20..=0x7F).contains(&b) || b >= 0xA1;
                            prop_assert!(rom || lcd.uploaded.contains(&b), "byte {:#04x}", b);
                        }
                    }
                    if view == &order_view {
                        let amount = [vec![sign], o.total_money().number().into_bytes()].concat();
                        let last = lcd.row(starts[starts.len() - 1], columns.into());
                        prop_assert!(last.ends_with(&amount), "{:?} lacks the total", last);
                    }
                }
            }
        }
    }
}
