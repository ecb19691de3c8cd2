//! Which scans a USB scanner passes through to the desktop (its settings
//! are with the USB scanners' own, in `usb`).

/// Which scans that nobody at the till took a USB scanner types into the
/// desktop. A payment code is never typed, whatever the mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassThroughMode {
    /// Product barcodes only: EAN-8, EAN-13, UPC-A and GTIN-14, check digit
    /// right (`pass_through = "products"`).
    Products,
    /// Every scan that is not a payment code and does not look like one
    /// (`pass_through = "all-but-payment-codes"`).
    AllButPaymentCodes,
}
