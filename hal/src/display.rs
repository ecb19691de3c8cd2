//! What a customer display is asked to show, and what it can show.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::ErrorType;
use crate::money::Money;
use crate::order::Order;

/// The outcome of a payment, as shown to the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// The payment went through.
    Paid,
    /// The payment failed; the customer may try again.
    Failed,
    /// The cashier or the customer cancelled.
    Cancelled,
}

impl PaymentStatus {
    /// The stable name used on the bus: `paid`, `failed`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Paid => "paid",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a stable name back.
    pub fn from_name(name: &str) -> Option<PaymentStatus> {
        [
            PaymentStatus::Paid,
            PaymentStatus::Failed,
            PaymentStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// One screenful for the customer. Each display renders it to what it can
/// do: a 2×20 VFD shows the last line and the total, a web screen shows
/// everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// Nothing to show: the idle or welcome screen.
    Idle,
    /// Plain lines of text.
    Text(Vec<String>),
    /// A request to the customer ("please present your payment code"),
    /// with the amount due.
    Prompt {
        /// The request.
        text: String,
        /// What the customer is about to pay.
        amount: Option<Money>,
    },
    /// The order's lines and total.
    Order(Order),
    /// A QR code for the customer to scan with their wallet.
    PaymentQr {
        /// What the QR code encodes.
        uri: String,
        /// The amount due.
        amount: Option<Money>,
    },
    /// How the payment ended.
    Result {
        /// Paid, failed or cancelled.
        status: PaymentStatus,
        /// A line for the customer ("try again", "thank you").
        message: String,
    },
}

/// A character set a display can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Charset {
    /// Printable ASCII only.
    Ascii,
    /// IBM code page 437.
    Cp437,
    /// IBM code page 858 (850 with the euro sign).
    Pc858,
    /// GB 18030, which covers all of Unicode.
    Gb18030,
    /// Digits, `.` and `-` only (LED price displays).
    Numeric,
    /// The HD44780U's A00 (Japanese standard) character ROM of character
    /// LCDs: ASCII with `¥` in place of `\` and arrows in place of `~`,
    /// half-width katakana, and a few signs drawn in CGRAM.
    Hd44780A00,
    /// Any Unicode text (web screens).
    Unicode,
}

/// What a display can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Text lines on the screen.
    pub lines: u8,
    /// Characters per line.
    pub columns: u8,
    /// Whether it can draw pixels (logos, glyphs beyond its charset).
    pub graphics: bool,
    /// Whether it can show a QR code.
    pub qr: bool,
    /// Whether it shows colour.
    pub colour: bool,
    /// The character set text is sent in.
    pub charset: Charset,
}

/// A display that shows [`View`]s to the customer.
#[allow(async_fn_in_trait)]
pub trait CustomerDisplay: ErrorType {
    /// What this display can show.
    fn capabilities(&self) -> Capabilities;

    /// Replaces what the display shows with `view`, rendered to fit.
    ///
    /// # Errors
    ///
    /// `Disconnected` when the display is gone, `Timeout` when it stopped
    /// accepting data, `Other` for anything else.
    async fn show(&mut self, view: &View) -> Result<(), Self::Error>;
}

impl<T: CustomerDisplay + ?Sized> CustomerDisplay for &mut T {
    fn capabilities(&self) -> Capabilities {
        T::capabilities(self)
    }

    async fn show(&mut self, view: &View) -> Result<(), Self::Error> {
        T::show(self, view).await
    }
}
