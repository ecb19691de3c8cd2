//! Character-cell displays (pole VFDs, HD44780 LCDs): one rendering policy
//! for every size, over any character ROM.
//!
//! [`lines`] fits a [`kassa_hal::View`] into rows × columns; [`encode`]
//! turns text into the bytes of a [`Rom`], replacing what the ROM lacks and
//! every control character by `?`. A driver adds only its command bytes.

mod layout;
mod text;

pub use layout::{PriceLamp, amount_text, headline, lines, price};
pub use text::{Encoded, Rom, can_show, encode, left_right, width};

#[cfg(all(test, feature = "vfd"))]
mod tests;
