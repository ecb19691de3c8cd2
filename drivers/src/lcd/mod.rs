//! Character LCDs: an HD44780 (or compatible) in 4-bit mode behind a
//! PCF8574 I2C backpack.
//!
//! A [`Renderer`] turns a [`View`] into [`Transfer`]s — the PCF8574 pin
//! states to write in one I2C write each, and how long to wait after it;
//! an [`LcdDisplay`] owns the bus (any `embedded_hal::i2c::I2c`, such as
//! linux-embedded-hal's `I2cdev` opened by [`linux::open`]) and a delay,
//! and performs them.
//!
//! The rows come from [`cells::lines`], the rendering policy every
//! character display shares; only rows that differ from what the display
//! already shows are written, each whole (padded with spaces). The first
//! view, and the first after a failed write, starts with the power-on
//! initialisation by instruction and the upload of the custom glyphs
//! ([`rom::CUSTOM_GLYPHS`]) to CGRAM.
//!
//! `embedded_hal`'s I2C and delay traits block, so [`LcdDisplay`] implements
//! only [`kassa_hal::blocking::CustomerDisplay`]: an async runtime drives it
//! from a thread where blocking is allowed.

pub mod rom;

#[cfg(feature = "linux")]
pub mod linux;

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::{ErrorKind as I2cKind, I2c, NoAcknowledgeSource};
use kassa_hal::blocking::CustomerDisplay;
use kassa_hal::{Capabilities, Charset, ErrorKind, ErrorType, View};

use crate::cells;
pub use rom::{CustomGlyph, DEFAULT_GLYPHS, GlyphError, LcdRom};

/// The I2C address of most PCF8574 backpacks (PCF8574A ones answer at
/// 0x3F).
pub const DEFAULT_ADDRESS: u8 = 0x27;

/// Which PCF8574 output (P0–P7) drives which LCD pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PinMap {
    /// Register select (instruction / data).
    pub rs: u8,
    /// Read / write; kassa only writes, so it is held low.
    pub rw: u8,
    /// Enable: the LCD latches a nibble when it falls.
    pub enable: u8,
    /// The backlight transistor.
    pub backlight: u8,
    /// D4, D5, D6, D7.
    pub data: [u8; 4],
    /// Whether the backlight is lit by a low output.
    pub backlight_active_low: bool,
}

impl PinMap {
    /// The common backpack: P0=RS, P1=RW, P2=E, P3=backlight, P4–P7=D4–D7.
    pub const COMMON: PinMap = PinMap {
        rs: 0,
        rw: 1,
        enable: 2,
        backlight: 3,
        data: [4, 5, 6, 7],
        backlight_active_low: false,
    };

    fn pins(&self) -> [u8; 8] {
        let [d4, d5, d6, d7] = self.data;
        [
            self.rs,
            self.rw,
            self.enable,
            self.backlight,
            d4,
            d5,
            d6,
            d7,
        ]
    }

    /// Whether every pin is one of P0–P7 and no two share one.
    pub fn is_valid(&self) -> bool {
        let mut seen = 0u8;
        self.pins().iter().all(|&p| {
            let fresh = p < 8 && seen & (1 << p) == 0;
            seen |= 1 << (p & 7);
            fresh
        })
    }
}

impl Default for PinMap {
    fn default() -> Self {
        PinMap::COMMON
    }
}

/// Settings of one character LCD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LcdConfig {
    /// The backpack's 7-bit I2C address.
    pub address: u8,
    /// Rows: 2 or 4.
    pub rows: u8,
    /// Characters per row: 8–40 on two rows, 8–20 on four.
    pub columns: u8,
    /// The backpack's wiring.
    pub pins: PinMap,
    /// The lines of the idle screen (at most `rows` are shown).
    pub idle: Vec<String>,
    /// The signs uploaded to CGRAM, slot 0 first (at most 8, each one of
    /// [`rom::CUSTOM_GLYPHS`]).
    pub glyphs: Vec<char>,
    /// Whether the backlight is on.
    pub backlight: bool,
}

impl LcdConfig {
    /// A `rows` × `columns` display at [`DEFAULT_ADDRESS`] on the common
    /// backpack, with the [`DEFAULT_GLYPHS`], a blank idle screen and the
    /// backlight on.
    pub fn new(rows: u8, columns: u8) -> LcdConfig {
        LcdConfig {
            address: DEFAULT_ADDRESS,
            rows,
            columns,
            pins: PinMap::COMMON,
            idle: Vec::new(),
            glyphs: DEFAULT_GLYPHS.to_vec(),
            backlight: true,
        }
    }

    /// Checks the settings against what the controller and the bus allow.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] naming the first setting that is out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.rom().map(|_| ())
    }

    fn rom(&self) -> Result<LcdRom, ConfigError> {
        // One HD44780 holds 80 characters as two lines of 40; four rows are
        // two lines folded in half, so a row has at most 20.
        let max_columns = match self.rows {
            2 => 40,
            4 => 20,
            _ => 0,
        };
        if !(8..=max_columns).contains(&self.columns) {
            return Err(ConfigError::Size {
                rows: self.rows,
                columns: self.columns,
            });
        }
        if !(0x08..=0x77).contains(&self.address) {
            return Err(ConfigError::Address(self.address));
        }
        if !self.pins.is_valid() {
            return Err(ConfigError::PinMap(self.pins));
        }
        LcdRom::new(&self.glyphs).map_err(ConfigError::Glyphs)
    }
}

/// Settings an LCD cannot be driven with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// Not a size one HD44780 drives.
    Size {
        /// The rows asked.
        rows: u8,
        /// The columns asked.
        columns: u8,
    },
    /// Not a 7-bit device address (0x08–0x77).
    Address(u8),
    /// A pin outside P0–P7, or one pin used twice.
    PinMap(PinMap),
    /// The custom glyphs do not fit or do not exist.
    Glyphs(GlyphError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Size { rows, columns } => write!(
                f,
                "a {columns}×{rows} character LCD is not supported \
                 (one HD44780 drives 2 rows of 8 to 40 columns or 4 rows of 8 to 20)"
            ),
            ConfigError::Address(a) => write!(
                f,
                "I2C address {a:#04x} is not a 7-bit device address \
                 (PCF8574 backpacks answer at 0x20 to 0x27, PCF8574A ones at 0x38 to 0x3f)"
            ),
            ConfigError::PinMap(p) => write!(
                f,
                "the pin map {:?} uses a pin outside P0 to P7 or one pin twice",
                p.pins()
            ),
            ConfigError::Glyphs(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            ConfigError::Glyphs(e) => Some(e),
            _ => None,
        }
    }
}

/// One I2C write to the backpack — each byte the state of its eight
/// outputs — and the time to wait after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The output states, in order.
    pub bytes: Vec<u8>,
    /// Microseconds the controller needs before the next write.
    pub wait_us: u32,
}

// HD44780 instructions (datasheet table 6) and waits (figure 24).
const CLEAR: u8 = 0x01;
const ENTRY_INCREMENT: u8 = 0x06;
const DISPLAY_OFF: u8 = 0x08;
const DISPLAY_ON_CURSOR_OFF: u8 = 0x0C;
const FUNCTION_4BIT_2LINE_5X8: u8 = 0x28;
const SET_CGRAM: u8 = 0x40;
const SET_DDRAM: u8 = 0x80;
const WAKE_8BIT: u8 = 0x3;
const ENTER_4BIT: u8 = 0x2;
/// After Vcc rises: more than 40 ms at 2.7 V.
const POWER_ON_US: u32 = 50_000;
/// After the first wake-up nibble: more than 4.1 ms.
const FIRST_WAKE_US: u32 = 4_500;
/// After the other wake-up nibbles: more than 100 µs.
const WAKE_US: u32 = 150;
/// Clear display: 1.52 ms at 270 kHz, longer on a slow oscillator.
const CLEAR_US: u32 = 2_000;
// Every other instruction and data write takes 37 µs. No wait is written
// for them: the PCF8574 runs at 100 kHz (400 kHz at a stretch), so the
// three bus bytes between one latch and the next take longer than that.

/// Turns views into the I2C writes of one LCD. It remembers what the
/// display shows, so that a view only rewrites the rows that changed.
#[derive(Debug, Clone)]
pub struct Renderer {
    config: LcdConfig,
    rom: LcdRom,
    /// The rows on the glass, as ROM bytes; `None` until initialised.
    shown: Option<Vec<Vec<u8>>>,
}

impl Renderer {
    /// A renderer for a display that has not been initialised yet.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when `config` is not one an HD44780 behind a PCF8574
    /// can be driven with.
    pub fn new(config: LcdConfig) -> Result<Renderer, ConfigError> {
        let rom = config.rom()?;
        Ok(Renderer {
            config,
            rom,
            shown: None,
        })
    }

    /// The settings.
    pub fn config(&self) -> &LcdConfig {
        &self.config
    }

    /// What the display draws, custom glyphs included.
    pub fn rom(&self) -> &LcdRom {
        &self.rom
    }

    /// Forget the display's state: the next view starts with initialisation
    /// (after a failed write; the display may have lost power).
    pub fn reset(&mut self) {
        self.shown = None;
    }

    /// What the display can show.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            lines: self.config.rows,
            columns: self.config.columns,
            graphics: false,
            qr: false,
            colour: false,
            charset: Charset::Hd44780A00,
        }
    }

    /// The rows `view` puts on the display, as ROM bytes, each exactly
    /// `columns` long.
    pub fn rows(&self, view: &View) -> Vec<Vec<u8>> {
        let columns = usize::from(self.config.columns);
        let rows = usize::from(self.config.rows);
        cells::lines(view, &self.config.idle, &self.rom, columns, rows)
            .into_iter()
            .map(|line| {
                let mut bytes = line.bytes;
                let pad = columns.saturating_sub(line.width);
                bytes.extend(core::iter::repeat_n(b' ', pad));
                bytes
            })
            .collect()
    }

    /// The writes that replace the display's rows with `view`: the
    /// initialisation first if the display is not initialised, then one
    /// write per row that changed.
    pub fn render(&mut self, view: &View) -> Vec<Transfer> {
        let mut out = Vec::new();
        let blank = vec![b' '; usize::from(self.config.columns)];
        let shown = match self.shown.take() {
            Some(shown) => shown,
            None => {
                self.initialise(&mut out);
                // Clear display filled the DDRAM with spaces.
                vec![blank; usize::from(self.config.rows)]
            }
        };
        let rows = self.rows(view);
        for (row, (new, old)) in rows.iter().zip(&shown).enumerate() {
            if new != old {
                let mut bytes = Vec::new();
                self.instruction(&mut bytes, SET_DDRAM | self.row_address(row));
                for &b in new {
                    self.data(&mut bytes, b);
                }
                out.push(Transfer { bytes, wait_us: 0 });
            }
        }
        self.shown = Some(rows);
        out
    }

    /// DDRAM address of the first character of `row`: the second row is
    /// the second line at 0x40; rows three and four continue rows one and
    /// two (0x14 and 0x54 on a 20×4).
    fn row_address(&self, row: usize) -> u8 {
        let folded = self.config.columns;
        match row {
            0 => 0x00,
            1 => 0x40,
            2 => folded,
            _ => 0x40 + folded,
        }
    }

    /// Initialisation by instruction (HD44780U datasheet, figure 24), then
    /// the custom glyphs, then the display switched on.
    fn initialise(&self, out: &mut Vec<Transfer>) {
        let single = |wait_us, bytes| Transfer { bytes, wait_us };
        // RS, RW and E low before anything: the PCF8574 starts with every
        // output high.
        out.push(single(POWER_ON_US, vec![self.outputs(0, false)]));
        for (nibble, wait) in [
            (WAKE_8BIT, FIRST_WAKE_US),
            (WAKE_8BIT, WAKE_US),
            (WAKE_8BIT, WAKE_US),
            (ENTER_4BIT, WAKE_US),
        ] {
            let mut bytes = Vec::new();
            self.pulse(&mut bytes, nibble, false);
            out.push(single(wait, bytes));
        }
        let mut bytes = Vec::new();
        for i in [FUNCTION_4BIT_2LINE_5X8, DISPLAY_OFF, CLEAR] {
            self.instruction(&mut bytes, i);
        }
        out.push(single(CLEAR_US, bytes));
        let mut bytes = Vec::new();
        self.instruction(&mut bytes, ENTRY_INCREMENT);
        out.push(single(0, bytes));
        for (slot, glyph) in (0u8..).zip(self.rom.glyphs()) {
            let mut bytes = Vec::new();
            self.instruction(&mut bytes, SET_CGRAM | (slot << 3));
            for &row in &glyph.rows {
                self.data(&mut bytes, row);
            }
            out.push(single(0, bytes));
        }
        let mut bytes = Vec::new();
        self.instruction(&mut bytes, DISPLAY_ON_CURSOR_OFF);
        out.push(single(0, bytes));
    }

    fn instruction(&self, out: &mut Vec<u8>, byte: u8) {
        self.pulse(out, byte >> 4, false);
        self.pulse(out, byte & 0x0F, false);
    }

    fn data(&self, out: &mut Vec<u8>, byte: u8) {
        self.pulse(out, byte >> 4, true);
        self.pulse(out, byte & 0x0F, true);
    }

    /// One nibble: set up RS and the data lines with E low, raise E, drop
    /// it (the LCD latches on the falling edge).
    fn pulse(&self, out: &mut Vec<u8>, nibble: u8, rs: bool) {
        let outputs = self.outputs(nibble, rs);
        let enable = 1 << self.config.pins.enable;
        out.extend([outputs, outputs | enable, outputs]);
    }

    /// The PCF8574 outputs for `nibble` on D4–D7 with E low.
    fn outputs(&self, nibble: u8, rs: bool) -> u8 {
        let pins = &self.config.pins;
        let mut out = 0u8;
        for (bit, &pin) in pins.data.iter().enumerate() {
            if nibble & (1 << bit) != 0 {
                out |= 1 << pin;
            }
        }
        if rs {
            out |= 1 << pins.rs;
        }
        if self.config.backlight != pins.backlight_active_low {
            out |= 1 << pins.backlight;
        }
        out
    }
}

/// An LCD's error: the I2C bus failed.
#[derive(Debug)]
pub enum Error<E> {
    /// A write to the backpack failed.
    I2c {
        /// The backpack's address.
        address: u8,
        /// The bus's error.
        source: E,
    },
}

impl<E: embedded_hal::i2c::Error> kassa_hal::Error for Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::I2c { source, .. } => match source.kind() {
                I2cKind::NoAcknowledge(_) => ErrorKind::Disconnected,
                I2cKind::ArbitrationLoss => ErrorKind::Busy,
                _ => ErrorKind::Other,
            },
        }
    }
}

impl<E: embedded_hal::i2c::Error> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::I2c { address, source } => {
                write!(f, "character LCD at I2C address {address:#04x}: ")?;
                match source.kind() {
                    I2cKind::NoAcknowledge(NoAcknowledgeSource::Data) => {
                        f.write_str("the backpack stopped acknowledging data")
                    }
                    I2cKind::NoAcknowledge(_) => f.write_str(
                        "nothing answered (unplugged, or another address? see i2cdetect)",
                    ),
                    I2cKind::ArbitrationLoss => f.write_str("another bus master took the I2C bus"),
                    I2cKind::Bus => f.write_str("I2C bus error (check the wiring)"),
                    _ => write!(f, "I2C write failed: {source:?}"),
                }
            }
        }
    }
}

impl<E: embedded_hal::i2c::Error> core::error::Error for Error<E> {}

/// A character LCD on I2C bus `I2C`, timed by `D`.
pub struct LcdDisplay<I2C, D> {
    i2c: I2C,
    delay: D,
    renderer: Renderer,
}

// Buses and delays rarely implement Debug (linux-embedded-hal's do not).
impl<I2C, D> fmt::Debug for LcdDisplay<I2C, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LcdDisplay")
            .field("renderer", &self.renderer)
            .finish_non_exhaustive()
    }
}

impl<I2C, D> LcdDisplay<I2C, D> {
    /// A display on `i2c` at `config.address`. Nothing is sent before the
    /// first view.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when `config` is out of range.
    pub fn new(i2c: I2C, delay: D, config: LcdConfig) -> Result<Self, ConfigError> {
        Ok(LcdDisplay {
            i2c,
            delay,
            renderer: Renderer::new(config)?,
        })
    }

    /// The settings.
    pub fn config(&self) -> &LcdConfig {
        self.renderer.config()
    }

    /// Gives the bus and the delay back.
    pub fn release(self) -> (I2C, D) {
        (self.i2c, self.delay)
    }
}

impl<I2C: I2c, D> ErrorType for LcdDisplay<I2C, D> {
    type Error = Error<I2C::Error>;
}

impl<I2C: I2c, D: DelayNs> CustomerDisplay for LcdDisplay<I2C, D> {
    fn capabilities(&self) -> Capabilities {
        self.renderer.capabilities()
    }

    /// Shows `view`, returning once every write is done and waited for
    /// (about 60 ms the first time, for the initialisation; a few ms per
    /// changed row after).
    ///
    /// # Errors
    ///
    /// [`Error::I2c`] when a write fails (kind `Disconnected` when nothing
    /// acknowledged); the display is initialised again on the next call.
    fn show(&mut self, view: &View) -> Result<(), Self::Error> {
        let address = self.renderer.config().address;
        for transfer in self.renderer.render(view) {
            if let Err(source) = self.i2c.write(address, &transfer.bytes) {
                self.renderer.reset();
                return Err(Error::I2c { address, source });
            }
            if transfer.wait_us > 0 {
                self.delay.delay_us(transfer.wait_us);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
