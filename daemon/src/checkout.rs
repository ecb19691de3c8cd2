//! The checkout state machine (code, order, result), free of I/O.
//!
//! ```text
//! waiting_for_code ──code──▶ waiting_for_order ──order──▶ showing_order ──result──▶ paid | failed
//!        │                          │                           │
//!        └─deadline─▶ expired       └─deadline─▶ expired        └─deadline─▶ expired
//!  any non-final state ──cancel──▶ cancelled        (an order may replace a shown one)
//!  any non-final state ──failure─▶ failed           (the backend failed)
//! ```
//!
//! The terminal's session task feeds events in and acts on the
//! state that comes out; the D-Bus layer only reports it.

use std::fmt;

use kassa_hal::PaymentStatus;

/// Where a checkout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckoutState {
    /// Prompting the customer; scanners on.
    WaitingForCode,
    /// Code delivered to the POS; waiting for the bound order.
    WaitingForOrder,
    /// The order is on the display; waiting for the payment result.
    ShowingOrder,
    /// Paid (final).
    Paid,
    /// Payment failed (final).
    Failed,
    /// Cancelled by the POS, or its owner left the bus (final).
    Cancelled,
    /// A deadline passed (final).
    Expired,
}

impl CheckoutState {
    /// The name on the bus (`waiting_for_code`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckoutState::WaitingForCode => "waiting_for_code",
            CheckoutState::WaitingForOrder => "waiting_for_order",
            CheckoutState::ShowingOrder => "showing_order",
            CheckoutState::Paid => "paid",
            CheckoutState::Failed => "failed",
            CheckoutState::Cancelled => "cancelled",
            CheckoutState::Expired => "expired",
        }
    }

    /// Whether the checkout is over.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CheckoutState::Paid
                | CheckoutState::Failed
                | CheckoutState::Cancelled
                | CheckoutState::Expired
        )
    }
}

impl fmt::Display for CheckoutState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to a checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A valid payment code was read.
    Code,
    /// An order was bound (from the backend or the POS).
    Order,
    /// The payment result arrived.
    Result(PaymentStatus),
    /// The POS cancelled, or the owner left.
    Cancel,
    /// The current step's deadline passed.
    Deadline,
    /// A step failed: the backend answered with an error.
    Failure,
}

/// An event that cannot happen in a state (a result before any code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTransition {
    /// The state it arrived in.
    pub state: CheckoutState,
    /// The event.
    pub event: Event,
}

impl fmt::Display for InvalidTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.event {
            Event::Code => "a payment code",
            Event::Order => "an order",
            Event::Result(_) => "a payment result",
            Event::Cancel => "a cancel",
            Event::Deadline => "a deadline",
            Event::Failure => "a failure",
        };
        write!(f, "checkout is {}: {what} is not accepted now", self.state)
    }
}

impl std::error::Error for InvalidTransition {}

impl CheckoutState {
    /// The state after `event`.
    ///
    /// # Errors
    ///
    /// [`InvalidTransition`] for an event the state does not accept; the
    /// checkout stays where it is.
    pub fn next(self, event: Event) -> Result<CheckoutState, InvalidTransition> {
        use CheckoutState as S;
        let invalid = Err(InvalidTransition { state: self, event });
        if self.is_final() {
            return invalid;
        }
        match (self, event) {
            (_, Event::Cancel) => Ok(S::Cancelled),
            (_, Event::Deadline) => Ok(S::Expired),
            (_, Event::Failure) => Ok(S::Failed),
            (S::WaitingForCode, Event::Code) => Ok(S::WaitingForOrder),
            (S::WaitingForOrder | S::ShowingOrder, Event::Order) => Ok(S::ShowingOrder),
            // A result is accepted once the code is out: the POS may know the
            // outcome before any order reached the display.
            (S::WaitingForOrder | S::ShowingOrder, Event::Result(status)) => Ok(match status {
                PaymentStatus::Paid => S::Paid,
                PaymentStatus::Failed => S::Failed,
                PaymentStatus::Cancelled => S::Cancelled,
            }),
            _ => invalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CheckoutState as S;
    use super::*;

    #[test]
    fn the_happy_path() {
        let s = S::WaitingForCode.next(Event::Code).unwrap();
        assert_eq!(s, S::WaitingForOrder);
        let s = s.next(Event::Order).unwrap();
        assert_eq!(s, S::ShowingOrder);
        assert_eq!(
            s.next(Event::Order).unwrap(),
            S::ShowingOrder,
            "an updated order replaces the shown one"
        );
        assert_eq!(s.next(Event::Result(PaymentStatus::Paid)).unwrap(), S::Paid);
    }

    #[test]
    fn deadlines_and_cancel_end_any_live_state() {
        for s in [S::WaitingForCode, S::WaitingForOrder, S::ShowingOrder] {
            assert_eq!(s.next(Event::Deadline).unwrap(), S::Expired);
            assert_eq!(s.next(Event::Cancel).unwrap(), S::Cancelled);
            assert_eq!(s.next(Event::Failure).unwrap(), S::Failed);
        }
    }

    #[test]
    fn final_states_accept_nothing() {
        for s in [S::Paid, S::Failed, S::Cancelled, S::Expired] {
            assert!(s.is_final());
            for e in [
                Event::Code,
                Event::Order,
                Event::Cancel,
                Event::Deadline,
                Event::Failure,
                Event::Result(PaymentStatus::Paid),
            ] {
                assert_eq!(s.next(e), Err(InvalidTransition { state: s, event: e }));
            }
        }
    }

    #[test]
    fn out_of_order_events_are_refused() {
        assert!(S::WaitingForCode.next(Event::Order).is_err());
        assert!(
            S::WaitingForCode
                .next(Event::Result(PaymentStatus::Paid))
                .is_err()
        );
        assert!(S::WaitingForOrder.next(Event::Code).is_err());
        let e = S::WaitingForCode
            .next(Event::Result(PaymentStatus::Failed))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "checkout is waiting_for_code: a payment result is not accepted now"
        );
        assert_eq!(
            S::ShowingOrder
                .next(Event::Result(PaymentStatus::Cancelled))
                .unwrap(),
            S::Cancelled
        );
    }
}
