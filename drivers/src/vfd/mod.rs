//! Customer displays on a serial line: pole VFDs and LED price displays.
//!
//! A [`Renderer`] turns a [`View`] into the bytes of one command set; a
//! [`VfdDisplay`] owns the transport (any `embedded_io` writer, such as a
//! [`TtyPort`](crate::serial::linux::TtyPort)) and sends them. Command sets:
//!
//! - [`CommandSet::EscPos`]: Epson ESC/POS customer-display mode (DM-D
//!   series and the many displays that copy it), two lines of 20;
//! - [`CommandSet::Cd5220`]: the CD5220 command set (`ESC Q A` / `ESC Q B`
//!   lines), two lines of 20, with an optional scrolling first line;
//! - [`CommandSet::LedPrice8`]: the 8-digit LED price display common on
//!   Chinese tills (`ESC s n` lamps, `ESC Q A` digits).
//!
//! [`VfdDisplay`] implements [`kassa_hal::blocking::CustomerDisplay`] over
//! an `embedded_io` writer and the async [`CustomerDisplay`] over an
//! `embedded_io_async` one.

mod codepage;

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use kassa_hal::{Capabilities, Charset, CustomerDisplay, ErrorKind, ErrorType, Money, View};

use crate::cells::{self, Encoded, PriceLamp};
pub use codepage::CodePage;

const ESC: u8 = 0x1B;
const FS: u8 = 0x1C;
const US: u8 = 0x1F;
const CLR: u8 = 0x0C;
const CR: u8 = 0x0D;

/// Which command language the display speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandSet {
    /// Epson ESC/POS customer-display mode (DM-D).
    EscPos,
    /// CD5220.
    Cd5220,
    /// 8-digit LED price display with indicator lamps.
    LedPrice8,
}

/// How a CD5220 display moves text when a line is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ScrollMode {
    /// Characters overwrite in place (kassa writes whole lines).
    #[default]
    Overwrite,
    /// Lines scroll up.
    Vertical,
    /// Characters scroll left.
    Horizontal,
}

/// Settings of one display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VfdConfig {
    /// The command language.
    pub command_set: CommandSet,
    /// The character ROM the display is switched to.
    pub code_page: CodePage,
    /// Characters per line (20 on almost every pole display).
    pub columns: u8,
    /// The two lines of the idle screen.
    pub idle: [String; 2],
    /// CD5220 only: scroll a first line that does not fit (`ESC Q D`).
    pub marquee: bool,
    /// CD5220 only: the scroll mode set at initialisation.
    pub scroll: ScrollMode,
}

impl VfdConfig {
    /// Defaults for `command_set`: CP437, 20 columns, blank idle screen.
    pub fn new(command_set: CommandSet) -> VfdConfig {
        VfdConfig {
            command_set,
            code_page: CodePage::default(),
            columns: 20,
            idle: [String::new(), String::new()],
            marquee: false,
            scroll: ScrollMode::default(),
        }
    }
}

/// Longest text a CD5220 scrolls on its first line.
const MARQUEE_MAX: usize = 40;
/// Digits of an LED price display.
const LED_DIGITS: usize = 8;

/// Turns views into one display's command bytes. It remembers whether the
/// display was initialised and the last amount shown.
#[derive(Debug, Clone)]
pub struct Renderer {
    config: VfdConfig,
    initialised: bool,
    last_amount: Option<Money>,
}

impl Renderer {
    /// A renderer for a display that has not been initialised yet.
    pub fn new(config: VfdConfig) -> Renderer {
        Renderer {
            config,
            initialised: false,
            last_amount: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &VfdConfig {
        &self.config
    }

    /// Forget the display's state: the next view starts with initialisation
    /// (after the display was reconnected).
    pub fn reset(&mut self) {
        self.initialised = false;
    }

    /// What the display can show.
    pub fn capabilities(&self) -> Capabilities {
        let (lines, columns, charset) = match self.config.command_set {
            CommandSet::LedPrice8 => (1, LED_DIGITS as u8, Charset::Numeric),
            _ => (2, self.config.columns, self.config.code_page.charset()),
        };
        Capabilities {
            lines,
            columns,
            graphics: false,
            qr: false,
            colour: false,
            charset,
        }
    }

    /// The bytes that replace the screen with `view` (preceded by the
    /// initialisation sequence the first time).
    pub fn render(&mut self, view: &View) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.initialised {
            self.initialise(&mut out);
            self.initialised = true;
        }
        match self.config.command_set {
            CommandSet::EscPos => self.render_escpos(view, &mut out),
            CommandSet::Cd5220 => self.render_cd5220(view, &mut out),
            CommandSet::LedPrice8 => self.render_led(view, &mut out),
        }
        self.last_amount = view_amount(view).or(self.last_amount);
        out
    }

    fn initialise(&self, out: &mut Vec<u8>) {
        out.extend([ESC, b'@']);
        match self.config.command_set {
            CommandSet::EscPos => {
                // Overwrite mode, cursor off, then the character table.
                out.extend([US, 0x01, US, b'C', 0]);
                match self.config.code_page {
                    CodePage::Cp437 => out.extend([FS, b'.', ESC, b't', 0]),
                    CodePage::Pc858 => out.extend([FS, b'.', ESC, b't', 19]),
                    CodePage::Gb18030 => out.extend([FS, b'&']),
                }
            }
            CommandSet::Cd5220 => out.extend(match self.config.scroll {
                ScrollMode::Overwrite => [ESC, 0x11],
                ScrollMode::Vertical => [ESC, 0x12],
                ScrollMode::Horizontal => [ESC, 0x13],
            }),
            CommandSet::LedPrice8 => {}
        }
    }

    fn lines(&self, view: &View) -> [Encoded; 2] {
        let mut lines = cells::lines(
            view,
            &self.config.idle,
            &self.config.code_page,
            self.config.columns.into(),
            2,
        )
        .into_iter();
        [
            lines.next().unwrap_or_default(),
            lines.next().unwrap_or_default(),
        ]
    }

    fn render_escpos(&self, view: &View, out: &mut Vec<u8>) {
        let [first, second] = self.lines(view);
        out.push(CLR);
        out.extend([US, b'$', 1, 1]);
        out.extend(first.bytes);
        out.extend([US, b'$', 1, 2]);
        out.extend(second.bytes);
    }

    fn render_cd5220(&self, view: &View, out: &mut Vec<u8>) {
        let [first, second] = self.lines(view);
        let page = self.config.code_page;
        let headline = cells::headline(view);
        out.push(CLR);
        if self.config.marquee && cells::width(&headline, &page) > usize::from(self.config.columns)
        {
            out.extend([ESC, b'Q', b'D']);
            out.extend(cells::encode(&headline, &page, MARQUEE_MAX).bytes);
        } else {
            out.extend([ESC, b'Q', b'A']);
            out.extend(first.bytes);
        }
        out.push(CR);
        out.extend([ESC, b'Q', b'B']);
        out.extend(second.bytes);
        out.push(CR);
    }

    fn render_led(&self, view: &View, out: &mut Vec<u8>) {
        match cells::price(view, self.last_amount.as_ref()) {
            Some((lamp, amount)) => {
                out.extend([ESC, b's', lamp_byte(lamp)]);
                out.extend([ESC, b'Q', b'A']);
                out.extend(led_digits(&amount));
                out.push(CR);
            }
            None => out.extend([ESC, b's', lamp_byte(PriceLamp::Off), CLR]),
        }
    }
}

fn view_amount(view: &View) -> Option<Money> {
    match view {
        View::Prompt { amount, .. } | View::PaymentQr { amount, .. } => *amount,
        View::Order(order) => Some(order.total_money()),
        _ => None,
    }
}

fn lamp_byte(lamp: PriceLamp) -> u8 {
    match lamp {
        PriceLamp::Off => b'0',
        PriceLamp::Price => b'1',
        PriceLamp::Total => b'2',
        PriceLamp::Collect => b'3',
        PriceLamp::Change => b'4',
    }
}

/// The amount as the price display's digits (`36.00`); dashes when it has
/// more digits than the display, rather than a wrong amount.
fn led_digits(amount: &Money) -> Vec<u8> {
    let number = amount.number();
    let digits = number.bytes().filter(u8::is_ascii_digit).count();
    if digits > LED_DIGITS {
        vec![b'-'; LED_DIGITS]
    } else {
        number.into_bytes()
    }
}

/// A display's error: its transport failed.
#[derive(Debug)]
pub enum Error<E> {
    /// The write failed.
    Io(E),
}

impl<E: embedded_io::Error> kassa_hal::Error for Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Io(e) => crate::io::io_kind(e.kind()),
        }
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "customer display write failed: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for Error<E> {}

/// A serial customer display on transport `IO`.
#[derive(Debug)]
pub struct VfdDisplay<IO> {
    io: IO,
    renderer: Renderer,
}

impl<IO> VfdDisplay<IO> {
    /// A display on `io`.
    pub fn new(io: IO, config: VfdConfig) -> Self {
        VfdDisplay {
            io,
            renderer: Renderer::new(config),
        }
    }

    /// Gives the transport back.
    pub fn release(self) -> IO {
        self.io
    }
}

impl<IO: embedded_io::ErrorType> ErrorType for VfdDisplay<IO> {
    type Error = Error<IO::Error>;
}

impl<IO: embedded_io::Write> kassa_hal::blocking::CustomerDisplay for VfdDisplay<IO> {
    fn capabilities(&self) -> Capabilities {
        self.renderer.capabilities()
    }

    /// Shows `view`, blocking until the bytes are written. After a failed
    /// write the display is initialised again on the next call.
    fn show(&mut self, view: &View) -> Result<(), Self::Error> {
        let bytes = self.renderer.render(view);
        let written = self.io.write_all(&bytes).and_then(|()| self.io.flush());
        written.map_err(|e| {
            self.renderer.reset();
            Error::Io(e)
        })
    }
}

impl<IO: embedded_io_async::Write> CustomerDisplay for VfdDisplay<IO> {
    fn capabilities(&self) -> Capabilities {
        self.renderer.capabilities()
    }

    async fn show(&mut self, view: &View) -> Result<(), Self::Error> {
        let bytes = self.renderer.render(view);
        let mut written = self.io.write_all(&bytes).await;
        if written.is_ok() {
            written = self.io.flush().await;
        }
        written.map_err(|e| {
            self.renderer.reset();
            Error::Io(e)
        })
    }
}

#[cfg(test)]
mod tests;
