#![doc = include_str!("../README.md")]
#![no_std]
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod blocking;
pub mod display;
pub mod error;
pub mod money;
pub mod order;
pub mod payment;
pub mod scan;
pub mod scanner;

pub use display::{Capabilities, Charset, CustomerDisplay, PaymentStatus, View};
pub use error::{Error, ErrorKind, ErrorType};
pub use money::{Currency, Money};
pub use order::{Item, Order, OrderError};
pub use payment::{Channel, ChannelRule, ChannelTable, PaymentCode, PaymentCodeError, mask};
pub use scan::{Scan, SourceKind, Symbology, Timestamp};
pub use scanner::Scanner;
