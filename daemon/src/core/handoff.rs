//! The code of a checkout, handed to its owner once on request: for a
//! client that began the checkout before it listened for `CodeScanned`,
//! and would otherwise never see a code a quick scanner read at once.

use tokio::sync::oneshot;

use super::{CodeScan, CoreError};
use crate::checkout::CheckoutState;

/// Where an owner's `TakeCode` waits for the code.
pub(super) type Waiter = oneshot::Sender<Result<CodeScan, CoreError>>;

/// The session's side of `TakeCode`: the code as read, kept until it is
/// taken (once) or the session ends, and the owner's request if it came
/// first.
#[derive(Default)]
pub(super) struct Handoff {
    /// The code, read and not yet taken.
    scanned: Option<CodeScan>,
    /// It was handed out: no second copy.
    taken: bool,
    /// A request waiting for the code.
    waiter: Option<Waiter>,
}

impl Handoff {
    /// The owner asks for the code: it has it at once if the code was
    /// read, else when it is. Refused if the code was already taken. A
    /// newer request replaces one still waiting, which is told so: a
    /// client whose own call timed out retries, and the code must go to
    /// the retry, not to the call it gave up (only the owner can ask, so
    /// replacing takes nothing from anyone else).
    pub(super) fn ask(&mut self, reply: Waiter) {
        if self.taken {
            let _ = reply.send(Err(CoreError::InvalidArgument(
                "this checkout's code was already taken".into(),
            )));
        } else if let Some(scan) = self.scanned.take() {
            self.taken = true;
            let _ = reply.send(Ok(scan));
        } else {
            if let Some(older) = self.waiter.replace(reply) {
                let _ = older.send(Err(CoreError::Cancelled(
                    "a newer TakeCode call waits for this checkout's code".into(),
                )));
            }
        }
    }

    /// The code was read: to the waiting request, if any (and if its
    /// caller is still there), else kept for one.
    pub(super) fn code_read(&mut self, scan: &CodeScan) {
        if let Some(waiter) = self.waiter.take()
            && !waiter.is_closed()
            && waiter.send(Ok(scan.clone())).is_ok()
        {
            self.taken = true;
            return;
        }
        self.scanned = Some(scan.clone());
    }

    /// The checkout ended: a request still waiting learns how, and the
    /// kept code is dropped.
    pub(super) fn ended(&mut self, state: CheckoutState, message: &str) {
        self.scanned = None;
        if let Some(waiter) = self.waiter.take() {
            let why = format!("the checkout ended before its code was read: {message}");
            let _ = waiter.send(Err(match state {
                CheckoutState::Expired => CoreError::Timeout(why),
                _ => CoreError::Cancelled(why),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use kassa_hal::{Channel, PaymentCode, SourceKind};

    use super::*;

    fn scan() -> CodeScan {
        CodeScan {
            code: PaymentCode::parse(b"134567890123456789").expect("a code"),
            channel: Channel::new("wechat").expect("a channel"),
            source: SourceKind::Serial,
        }
    }

    fn ask(handoff: &mut Handoff) -> oneshot::Receiver<Result<CodeScan, CoreError>> {
        let (tx, rx) = oneshot::channel();
        handoff.ask(tx);
        rx
    }

    #[test]
    fn a_code_read_before_the_request_is_handed_over_once() {
        let mut handoff = Handoff::default();
        handoff.code_read(&scan());
        let got = ask(&mut handoff).try_recv().expect("an answer at once");
        assert_eq!(got.expect("the code"), scan());
        let again = ask(&mut handoff).try_recv().expect("an answer at once");
        assert!(
            matches!(again, Err(CoreError::InvalidArgument(_))),
            "{again:?}"
        );
    }

    #[test]
    fn a_request_before_the_code_waits_for_it() {
        let mut handoff = Handoff::default();
        let mut waiting = ask(&mut handoff);
        assert!(waiting.try_recv().is_err(), "answered before the code");
        // A retry (the first call timed out at the client) replaces it.
        let mut retry = ask(&mut handoff);
        let first = waiting.try_recv().expect("an answer at once");
        assert!(matches!(first, Err(CoreError::Cancelled(_))), "{first:?}");
        handoff.code_read(&scan());
        assert_eq!(retry.try_recv().expect("the code").expect("ok"), scan());
        let again = ask(&mut handoff).try_recv().expect("an answer at once");
        assert!(
            matches!(again, Err(CoreError::InvalidArgument(_))),
            "{again:?}"
        );
    }

    #[test]
    fn a_request_whose_caller_left_does_not_take_the_code() {
        let mut handoff = Handoff::default();
        drop(ask(&mut handoff));
        handoff.code_read(&scan());
        let got = ask(&mut handoff).try_recv().expect("an answer at once");
        assert_eq!(got.expect("the code"), scan());
    }

    #[test]
    fn the_end_of_the_checkout_answers_a_waiting_request_and_drops_the_code() {
        let mut handoff = Handoff::default();
        let mut waiting = ask(&mut handoff);
        handoff.ended(CheckoutState::Expired, "no payment code within 10 ms");
        let got = waiting.try_recv().expect("an answer");
        assert!(matches!(got, Err(CoreError::Timeout(_))), "{got:?}");

        let mut handoff = Handoff::default();
        handoff.code_read(&scan());
        handoff.ended(CheckoutState::Cancelled, "the caller left");
        assert!(handoff.scanned.is_none());
        let mut waiting = ask(&mut handoff);
        assert!(waiting.try_recv().is_err(), "a dropped code was handed out");
    }
}
