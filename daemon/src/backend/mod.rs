//! The platform server, as the terminal sees it: the order bound to a
//! payment code, the payment's status, and the payment code of a face.
//!
//! [`Backend`] is what the core asks; [`HttpBackend`] answers it over
//! HTTP(S) as the config describes (`http.rs`), and the core's tests answer
//! it from a script; [`counted`] wraps either to count queries and
//! failures for the metrics. Every answer is bounded by the caller's
//! deadline, so a hung backend never holds a caller past the time it asked
//! for.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use kassa_hal::{Order, PaymentCode, PaymentStatus};
use tokio::time::Instant;

mod counted;
mod http;

pub use counted::counted;
pub use http::{HttpBackend, parse_face_answer, parse_status};

/// Why the backend gave no order, status or code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendError {
    /// Still `404` (or `pending`) when the deadline passed.
    NotBound(Duration),
    /// The backend could not be reached.
    Unreachable(String),
    /// A request got no answer within its timeout.
    NoAnswer(Duration),
    /// An HTTP status other than 200 and 404.
    Status(u16),
    /// A 200 answer whose body is not the expected JSON.
    Malformed(String),
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::NotBound(after) => {
                write!(
                    f,
                    "the backend returned no order for the code within {} ms",
                    after.as_millis()
                )
            }
            BackendError::Unreachable(e) => write!(f, "backend unreachable: {e}"),
            BackendError::NoAnswer(t) => {
                write!(f, "backend did not answer within {} ms", t.as_millis())
            }
            BackendError::Status(s) => write!(f, "backend answered HTTP {s}"),
            BackendError::Malformed(e) => write!(f, "backend answer malformed: {e}"),
        }
    }
}

impl std::error::Error for BackendError {}

/// The outcome of a payment as the backend reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentOutcome {
    /// Paid, failed or cancelled.
    pub status: PaymentStatus,
    /// A message for the customer.
    pub message: String,
}

/// A backend's answer, to be awaited.
pub type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, BackendError>> + Send + 'a>>;

/// What the terminal asks the platform server. Each query keeps asking
/// (the order may not be bound yet, the payment may be pending) until it
/// has an answer or `deadline` passes, then fails with
/// [`BackendError::NotBound`].
pub trait Backend: fmt::Debug + Send + Sync {
    /// The order bound to `code`.
    fn query_order<'a>(&'a self, code: &'a PaymentCode, deadline: Instant) -> Answer<'a, Order>;

    /// Whether the backend reports payment status; without it a checkout
    /// waits for the POS's result.
    fn has_payment_status(&self) -> bool;

    /// The final status of the payment of `order_id` with `code`.
    fn payment_outcome<'a>(
        &'a self,
        code: &'a PaymentCode,
        order_id: &'a str,
        deadline: Instant,
    ) -> Answer<'a, PaymentOutcome>;

    /// Whether the backend knows customers by their face.
    fn has_face_auth(&self) -> bool;

    /// The payment code of the customer in a face picture (JPEG);
    /// `Status(404)` for a face the backend does not know.
    fn face_auth(&self, jpeg: Vec<u8>) -> Answer<'_, PaymentCode>;
}
