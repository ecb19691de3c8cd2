//! The console display: the customer's screen drawn in a terminal, for the
//! demo and for trying kassa without hardware.

use std::fmt;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::PathBuf;

use kassa_hal::blocking::CustomerDisplay;
use kassa_hal::{Capabilities, Charset, ErrorKind, ErrorType};
use kassa_hal::{Money, PaymentStatus, View, order::is_forbidden_char};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::worker::Open;

/// A console display's error.
#[derive(Debug)]
pub enum Error {
    /// The file or terminal could not be opened.
    Open {
        /// What was opened.
        path: PathBuf,
        /// Why not.
        source: io::Error,
    },
    /// Writing to it failed.
    Write(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Open { path, source } => write!(f, "cannot open {}: {source}", path.display()),
            Error::Write(e) => write!(f, "write failed: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl kassa_hal::Error for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Open { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                ErrorKind::Disconnected
            }
            Error::Write(e) if e.kind() == io::ErrorKind::BrokenPipe => ErrorKind::Disconnected,
            _ => ErrorKind::Other,
        }
    }
}

/// Opens the console display: a file or terminal, or standard output.
#[derive(Debug)]
pub struct ConsoleOpen {
    path: Option<PathBuf>,
    columns: usize,
}

impl ConsoleOpen {
    /// Draws to `path`, or standard output, `columns` wide.
    pub fn new(path: Option<PathBuf>, columns: usize) -> ConsoleOpen {
        ConsoleOpen { path, columns }
    }
}

impl Open for ConsoleOpen {
    type Device = ConsoleDisplay;
    type Error = Error;

    fn open(&mut self) -> Result<ConsoleDisplay, Error> {
        let out: Box<dyn Write> = match &self.path {
            Some(path) => Box::new(
                OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(path)
                    .map_err(|source| Error::Open {
                        path: path.clone(),
                        source,
                    })?,
            ),
            None => Box::new(io::stdout()),
        };
        Ok(ConsoleDisplay {
            columns: self.columns,
            out,
        })
    }
}

/// A terminal (or file) the customer's screen is drawn to.
pub struct ConsoleDisplay {
    columns: usize,
    out: Box<dyn Write>,
}

impl ErrorType for ConsoleDisplay {
    type Error = Error;
}

impl CustomerDisplay for ConsoleDisplay {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            lines: u8::MAX,
            columns: u8::try_from(self.columns).unwrap_or(u8::MAX),
            graphics: false,
            qr: false,
            colour: false,
            charset: Charset::Unicode,
        }
    }

    fn show(&mut self, view: &View) -> Result<(), Error> {
        let text = draw(view, self.columns);
        self.out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
            .map_err(Error::Write)
    }
}

/// Printable text only: control and bidi characters become `?`.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if is_forbidden_char(c) { '?' } else { c })
        .collect()
}

/// `text` cut to `width` terminal columns.
fn cut(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in clean(text).chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out
}

fn pad(text: &str, width: usize) -> String {
    let text = cut(text, width);
    let fill = width.saturating_sub(text.width());
    format!("{text}{}", " ".repeat(fill))
}

fn left_right(left: &str, right: &str, width: usize) -> String {
    let right = cut(right, width);
    let room = width.saturating_sub(right.width());
    let left = cut(left, room.saturating_sub(1));
    let fill = width.saturating_sub(left.width() + right.width());
    format!("{left}{}{right}", " ".repeat(fill))
}

/// The lines a view fills on a screen `width` wide.
pub fn lines(view: &View, width: usize) -> Vec<String> {
    let amount = |m: &Option<Money>| m.map(|m| left_right("Total", &m.to_string(), width));
    match view {
        View::Idle => vec![pad("Welcome", width)],
        View::Text(lines) => lines.iter().map(|l| pad(l, width)).collect(),
        View::Prompt { text, amount: a } => {
            let mut out = vec![pad(text, width)];
            out.extend(amount(a));
            out
        }
        View::Order(order) => {
            let mut out = vec![pad(&format!("Order {}", order.id), width)];
            for item in &order.items {
                let qty = match &item.unit {
                    Some(unit) => format!("{} {unit}", item.quantity),
                    None => format!("×{}", item.quantity),
                };
                let total = Money::new(item.total, order.currency).number();
                out.push(left_right(&format!("{} {qty}", item.name), &total, width));
            }
            if order.discount > 0 {
                out.push(left_right(
                    "Discount",
                    &format!("-{}", Money::new(order.discount, order.currency).number()),
                    width,
                ));
            }
            if order.tax > 0 {
                out.push(left_right(
                    "Tax",
                    &Money::new(order.tax, order.currency).number(),
                    width,
                ));
            }
            out.push(left_right("TOTAL", &order.total_money().to_string(), width));
            if let Some(note) = &order.note {
                out.push(pad(note, width));
            }
            out
        }
        View::PaymentQr { uri, amount: a } => {
            let mut out = vec![pad("Scan to pay", width), pad(uri, width)];
            out.extend(amount(a));
            out
        }
        View::Result { status, message } => {
            let head = match status {
                PaymentStatus::Paid => "✔ Paid — thank you",
                PaymentStatus::Failed => "✘ Payment failed",
                PaymentStatus::Cancelled => "Cancelled",
            };
            vec![pad(head, width), pad(message, width)]
        }
    }
}

/// The view in a box, as the console display draws it.
pub fn draw(view: &View, columns: usize) -> String {
    let inner = columns.saturating_sub(4).max(10);
    let title = " customer display ";
    let top_fill = (inner + 2).saturating_sub(title.len());
    let mut out = format!(
        "┌{}{title}{}┐\n",
        "─".repeat(top_fill / 2),
        "─".repeat(top_fill - top_fill / 2)
    );
    for line in lines(view, inner) {
        out.push_str(&format!("│ {line} │\n"));
    }
    out.push_str(&format!("└{}┘\n", "─".repeat(inner + 2)));
    out
}

/// One line saying what a view is, for logs (never a payment code: views
/// hold none).
pub fn summary(view: &View) -> String {
    match view {
        View::Idle => "idle".into(),
        View::Text(lines) => format!("text ({} lines)", lines.len()),
        View::Prompt { amount, .. } => match amount {
            Some(m) => format!("prompt {m}"),
            None => "prompt".into(),
        },
        View::Order(order) => format!(
            "order {} ({} items, {})",
            clean(&order.id),
            order.items.len(),
            order.total_money()
        ),
        View::PaymentQr { amount, .. } => match amount {
            Some(m) => format!("payment QR {m}"),
            None => "payment QR".into(),
        },
        View::Result { status, .. } => format!("result {}", status.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kassa_hal::Order;

    #[test]
    fn an_order_is_drawn_in_a_box_of_fixed_width() {
        let order = Order::from_json(
            r#"{"id":"A-1","currency":"CNY","items":[{"name":"拿铁 Latte","quantity":"2","unit_price":1800,"total":3600},
            {"name":"apples","quantity":"0.455","unit":"kg","unit_price":1800,"total":819}],"total":4419}"#,
        )
        .unwrap();
        let text = draw(&View::Order(order), 40);
        let widths: Vec<usize> = text.lines().map(UnicodeWidthStr::width).collect();
        assert!(widths.iter().all(|&w| w == 40), "{widths:?}\n{text}");
        assert!(text.contains("拿铁 Latte ×2"), "{text}");
        assert!(text.contains("¥44.19"), "{text}");
    }

    #[test]
    fn text_is_cleaned_and_cut() {
        let text = draw(
            &View::Text(vec!["\u{1b}[2Jhello".into(), "x".repeat(100)]),
            30,
        );
        assert!(!text.contains('\u{1b}'));
        assert!(text.lines().all(|l| l.width() == 30), "{text}");
    }
}
