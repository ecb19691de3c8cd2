//! A checkout session: the task that takes a checkout from its code to its
//! result. Every event goes through the checkout state machine
//! ([`crate::checkout`]), Cancel and deadlines included; the session acts
//! on the state that comes out and tells the owner.

use std::fmt;
use std::time::Duration;

use kassa_hal::{Order, PaymentCode, PaymentStatus, View};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::code_wait::code_received;
use super::handoff::{Handoff, Waiter};
use super::screen::TerminalState;
use super::{CodeScan, CoreError, Terminal, check_line};
use crate::backend::{BackendError, PaymentOutcome};
use crate::checkout::{CheckoutState, Event};

/// A checkout's visible state (the Checkout1 properties).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSnapshot {
    /// Where it is.
    pub state: CheckoutState,
    /// The code's channel, once scanned.
    pub channel: String,
    /// The order shown, as JSON, once there is one.
    pub order_json: String,
}

/// Something the owner of a checkout is told (the Checkout1 signals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// The payment code was read.
    CodeScanned(CodeScan),
    /// An order went on the display.
    OrderShown(String),
    /// The checkout ended.
    Finished {
        /// Final state.
        state: CheckoutState,
        /// Why, for the POS's log.
        message: String,
    },
}

pub(super) enum Control {
    Cancel(oneshot::Sender<Result<(), CoreError>>),
    Finish(
        PaymentStatus,
        String,
        oneshot::Sender<Result<(), CoreError>>,
    ),
    Order(Order, oneshot::Sender<Result<(), CoreError>>),
    TakeCode(Waiter),
}

impl fmt::Debug for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Control::Cancel(_) => "Cancel",
            Control::Finish(..) => "Finish",
            Control::Order(..) => "Order",
            Control::TakeCode(_) => "TakeCode",
        })
    }
}

/// Commands into a running checkout.
#[derive(Debug, Clone)]
pub struct SessionControl {
    pub(super) owner: String,
    pub(super) tx: mpsc::UnboundedSender<Control>,
    /// Current visible state.
    pub snapshot: watch::Receiver<SessionSnapshot>,
}

impl SessionControl {
    /// Whether `caller` owns the checkout.
    pub fn is_owner(&self, caller: &str) -> bool {
        caller == self.owner
    }

    fn check_owner(&self, caller: &str) -> Result<(), CoreError> {
        if caller == self.owner {
            Ok(())
        } else {
            Err(CoreError::AccessDenied(
                "this checkout belongs to another caller".into(),
            ))
        }
    }

    pub(super) async fn ask(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<(), CoreError>>) -> Control,
    ) -> Result<(), CoreError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .map_err(|_| CoreError::InvalidArgument("the checkout has ended".into()))?;
        rx.await
            .unwrap_or_else(|_| Err(CoreError::InvalidArgument("the checkout has ended".into())))
    }

    /// Cancels the checkout (owner only).
    ///
    /// # Errors
    ///
    /// `AccessDenied` for another caller; `InvalidArgument` once it ended.
    pub async fn cancel(&self, caller: &str) -> Result<(), CoreError> {
        self.check_owner(caller)?;
        self.ask(Control::Cancel).await
    }

    /// Ends the checkout with a payment result (owner only).
    ///
    /// # Errors
    ///
    /// `AccessDenied` for another caller; `InvalidArgument` for a message
    /// that is not one line of display text, before a code was read or
    /// once it ended.
    pub async fn finish(
        &self,
        caller: &str,
        status: PaymentStatus,
        message: String,
    ) -> Result<(), CoreError> {
        self.check_owner(caller)?;
        check_line("message", &message)?;
        self.ask(|tx| Control::Finish(status, message, tx)).await
    }

    /// The checkout's payment code, once (owner only): at once if it was
    /// read, else when it is. For an owner that began listening for
    /// `CodeScanned` only after the checkout began, and may have missed it.
    ///
    /// # Errors
    ///
    /// `AccessDenied` for another caller; `InvalidArgument` once the code
    /// was taken or the checkout ended; `Timeout` or `Cancelled` if the
    /// checkout ends first; `Cancelled` for a call a newer one replaced.
    pub async fn take_code(&self, caller: &str) -> Result<CodeScan, CoreError> {
        self.check_owner(caller)?;
        let ended = || CoreError::InvalidArgument("the checkout has ended".into());
        let (tx, rx) = oneshot::channel();
        self.tx.send(Control::TakeCode(tx)).map_err(|_| ended())?;
        rx.await.unwrap_or_else(|_| Err(ended()))
    }
}

/// A running checkout.
pub(super) struct Session {
    pub(super) terminal: Terminal,
    pub(super) id: u64,
    pub(super) state: CheckoutState,
    pub(super) code: Option<PaymentCode>,
    pub(super) order_id: Option<String>,
    /// The code for the owner's `TakeCode`.
    pub(super) handoff: Handoff,
    pub(super) events: mpsc::UnboundedSender<SessionEvent>,
    pub(super) snapshot: watch::Sender<SessionSnapshot>,
}

type Pending<T> = Option<std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>>;

/// Waits for a pending future, or forever if there is none.
async fn maybe<T>(pending: &mut Pending<T>) -> T {
    match pending {
        Some(fut) => fut.await,
        None => std::future::pending().await,
    }
}

/// The deadlines a checkout runs under.
#[derive(Debug, Clone, Copy)]
pub(super) struct Deadlines {
    pub(super) code: Duration,
    pub(super) order: Duration,
    pub(super) result: Duration,
}

impl Session {
    pub(super) async fn run(
        mut self,
        mut code_rx: oneshot::Receiver<CodeScan>,
        mut control: mpsc::UnboundedReceiver<Control>,
        cancel: CancellationToken,
        deadlines: Deadlines,
    ) {
        let stopping = self.terminal.shared.stopping.clone();
        let mut deadline = Instant::now() + deadlines.code;
        let mut order_query: Pending<Result<Order, BackendError>> = None;
        let mut outcome: Pending<Result<PaymentOutcome, BackendError>> = None;
        let (event, message, reply) = loop {
            // In this order: a code that arrived as its deadline fired was
            // read in time (the router ended the wait with it), so it is
            // taken, not lost; a result before a deadline likewise.
            tokio::select! {
                biased;
                code = &mut code_rx, if self.state == CheckoutState::WaitingForCode => {
                    let Ok(code) = code else {
                        break (Event::Cancel, "the scanner wait was abandoned".to_string(), None);
                    };
                    deadline = Instant::now() + deadlines.order;
                    order_query = self.code_read(code, deadline);
                }
                found = maybe(&mut order_query) => {
                    order_query = None;
                    match found {
                        Ok(order) => self.take_order(order, &mut deadline, &mut outcome, deadlines.result),
                        Err(BackendError::NotBound(_)) => {} // the deadline arm reports it
                        Err(e) => break (Event::Failure, e.to_string(), None),
                    }
                }
                result = maybe(&mut outcome) => {
                    outcome = None;
                    match result {
                        Ok(o) => break (Event::Result(o.status), o.message, None),
                        Err(BackendError::NotBound(_)) => {}
                        Err(e) => break (Event::Failure, e.to_string(), None),
                    }
                }
                ctl = control.recv() => match ctl {
                    // The reply waits until the checkout is over, so that a
                    // caller may begin the next one the moment it returns.
                    Some(Control::Cancel(reply)) => {
                        break (Event::Cancel, "cancelled by the POS".into(), Some(reply));
                    }
                    Some(Control::Finish(status, message, reply)) => match self.state.next(Event::Result(status)) {
                        Ok(_) => break (Event::Result(status), message, Some(reply)),
                        Err(e) => {
                            let _ = reply.send(Err(CoreError::InvalidArgument(e.to_string())));
                        }
                    },
                    Some(Control::Order(order, reply)) => match self.state.next(Event::Order) {
                        Ok(_) => {
                            order_query = None;
                            self.take_order(order, &mut deadline, &mut outcome, deadlines.result);
                            let _ = reply.send(Ok(()));
                        }
                        Err(e) => {
                            let _ = reply.send(Err(CoreError::InvalidArgument(e.to_string())));
                        }
                    },
                    Some(Control::TakeCode(reply)) => self.handoff.ask(reply),
                    None => break (Event::Cancel, "the checkout was abandoned".into(), None),
                },
                () = cancel.cancelled() => break (Event::Cancel, "the caller left".into(), None),
                () = stopping.cancelled() => break (Event::Cancel, "kassad is stopping".into(), None),
                () = tokio::time::sleep_until(deadline) => {
                    break (Event::Deadline, self.missed(deadlines), None);
                }
            }
        };
        let state = self.advance(event);
        self.finish(state, message);
        if let Some(reply) = reply {
            let _ = reply.send(Ok(()));
        }
    }

    /// The code was read: tell the owner, show that it was, and ask the
    /// backend (if there is one) for the order bound to it by `deadline`.
    fn code_read(
        &mut self,
        code: CodeScan,
        deadline: Instant,
    ) -> Pending<Result<Order, BackendError>> {
        self.advance(Event::Code);
        self.snapshot
            .send_modify(|s| s.channel = code.channel.to_string());
        self.code = Some(code.code.clone());
        self.handoff.code_read(&code);
        let _ = self.events.send(SessionEvent::CodeScanned(code.clone()));
        self.terminal
            .shared
            .screen
            .show_as(code_received(), TerminalState::WaitingForOrder);
        let backend = self.terminal.shared.backend.clone()?;
        let code = code.code;
        Some(Box::pin(async move {
            backend.query_order(&code, deadline).await
        }))
    }

    /// Why the deadline of the current state passed.
    fn missed(&self, deadlines: Deadlines) -> String {
        match self.state {
            CheckoutState::WaitingForCode => {
                format!("no payment code within {} ms", deadlines.code.as_millis())
            }
            CheckoutState::WaitingForOrder => format!(
                "the backend bound no order within {} ms",
                deadlines.order.as_millis()
            ),
            _ => format!(
                "no payment result within {} ms",
                deadlines.result.as_millis()
            ),
        }
    }

    /// Feeds `event` to the state machine and publishes the state that
    /// comes out. An event the state does not accept leaves it as it was.
    fn advance(&mut self, event: Event) -> CheckoutState {
        match self.state.next(event) {
            Ok(next) => {
                self.state = next;
                self.snapshot.send_modify(|s| s.state = next);
            }
            Err(e) => warn!("checkout {}: {e}", self.id),
        }
        self.state
    }

    fn take_order(
        &mut self,
        order: Order,
        deadline: &mut Instant,
        outcome: &mut Pending<Result<PaymentOutcome, BackendError>>,
        result_timeout: Duration,
    ) {
        let first = self.state == CheckoutState::WaitingForOrder;
        self.advance(Event::Order);
        let json = order.to_json();
        self.order_id = Some(order.id.clone());
        self.terminal
            .shared
            .screen
            .show_as(View::Order(order), TerminalState::ShowingOrder);
        self.snapshot.send_modify(|s| s.order_json = json.clone());
        let _ = self.events.send(SessionEvent::OrderShown(json));
        // The result is due within result_timeout of the first order: a
        // replaced order does not move the deadline, or the checkout could
        // hold the till for ever.
        if first {
            *deadline = Instant::now() + result_timeout;
        }
        if let (Some(backend), Some(code), Some(order_id)) = (
            self.terminal.shared.backend.clone(),
            self.code.clone(),
            self.order_id.clone(),
        ) && backend.has_payment_status()
        {
            let until = *deadline;
            *outcome = Some(Box::pin(async move {
                backend.payment_outcome(&code, &order_id, until).await
            }));
        }
    }

    /// Shows how the checkout ended, gives the terminal back and tells the
    /// owner.
    fn finish(mut self, state: CheckoutState, message: String) {
        self.handoff.ended(state, &message);
        self.terminal.shared.metrics.checkout_ended(state);
        self.terminal
            .log_lifecycle(format_args!("checkout {} {state}: {message}", self.id));
        let (status, shown) = match state {
            CheckoutState::Paid => (
                PaymentStatus::Paid,
                if message.is_empty() {
                    "Thank you".into()
                } else {
                    message.clone()
                },
            ),
            CheckoutState::Cancelled => (PaymentStatus::Cancelled, String::new()),
            CheckoutState::Expired => {
                (PaymentStatus::Failed, "Timed out - please try again".into())
            }
            _ => (PaymentStatus::Failed, "Please try again".into()),
        };
        let shown: String = shown
            .chars()
            .filter(|c| !kassa_hal::order::is_forbidden_char(*c))
            .collect();
        // The result goes up while the checkout still holds the terminal,
        // so that the next checkout's prompt comes after it, never under.
        self.terminal.shared.screen.show_result(status, shown);
        self.terminal.end_checkout(self.id);
        let _ = self.events.send(SessionEvent::Finished { state, message });
    }
}
