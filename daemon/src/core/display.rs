//! What callers show on the displays: orders (given, or bound by the
//! backend to a code), payment results, text, the idle screen. During a
//! checkout only its owner may change the display, and an order or a
//! result from the owner goes to the checkout itself.

use std::time::Duration;

use kassa_hal::{Order, PaymentCode, PaymentStatus, View};
use tokio::time::Instant;

use super::session::Control;
use super::{
    Caller, CoreError, MAX_ORDER_QUERIES, MAX_TEXT_LINES, OneAtATime, SessionControl, Terminal,
    TerminalState, check_line,
};
use crate::checkout::CheckoutState;

impl Terminal {
    /// Refuses `caller` while a checkout or payment-code wait of another
    /// caller runs: during a checkout, only its owner decides what the
    /// customer sees and how it ends.
    pub(super) fn check_display_rights(&self, caller: &str) -> Result<(), CoreError> {
        match self.lock().router.session_owner() {
            Some(owner) if owner != caller => Err(CoreError::AccessDenied(
                "a checkout of another caller is running; only its owner may change the display"
                    .into(),
            )),
            _ => Ok(()),
        }
    }

    /// The running checkout, if `caller` owns it.
    fn own_checkout(&self, caller: &str) -> Option<SessionControl> {
        let inner = self.lock();
        let id = inner.router.own_checkout(caller)?;
        inner
            .checkout
            .as_ref()
            .filter(|(c, _)| *c == id)
            .map(|(_, control)| control.clone())
    }

    /// The caller's own running checkout, once it has its code (an order
    /// or a result may go to it then).
    fn own_checkout_with_code(&self, caller: &str) -> Option<SessionControl> {
        self.own_checkout(caller).filter(|control| {
            matches!(
                control.snapshot.borrow().state,
                CheckoutState::WaitingForOrder | CheckoutState::ShowingOrder
            )
        })
    }

    /// `ShowOrder`: validates and displays an order. During the caller's
    /// own checkout, once it has its code, the order becomes the checkout's
    /// order.
    ///
    /// # Errors
    ///
    /// `InvalidOrder` naming the field (the display is left as it was);
    /// `AccessDenied` during another caller's checkout.
    pub async fn show_order(&self, caller: &str, json: &str) -> Result<Order, CoreError> {
        let order = Order::from_json(json).map_err(|e| CoreError::InvalidOrder(e.to_string()))?;
        self.check_display_rights(caller)?;
        if let Some(control) = self.own_checkout_with_code(caller) {
            let for_session = order.clone();
            if control
                .ask(|tx| Control::Order(for_session, tx))
                .await
                .is_ok()
            {
                return Ok(order);
            }
        }
        self.shared
            .screen
            .show_as(View::Order(order.clone()), TerminalState::ShowingOrder);
        Ok(order)
    }

    /// `ShowOrderForCode`: asks the backend for the order bound to `code`,
    /// shows it and returns it. At most [`MAX_ORDER_QUERIES`] run at once;
    /// each ends when its caller leaves.
    ///
    /// # Errors
    ///
    /// `InvalidArgument` for a malformed code, `Backend` when no backend is
    /// configured or it fails, `NotBound` at the deadline, `Busy` when too
    /// many queries run, `AccessDenied` during another caller's checkout,
    /// `Cancelled` when the caller leaves or kassad stops first.
    pub async fn show_order_for_code(
        &self,
        caller: &Caller,
        code: &str,
        timeout: Option<Duration>,
    ) -> Result<Order, CoreError> {
        let code = PaymentCode::parse(code.as_bytes())
            .map_err(|e| CoreError::InvalidArgument(format!("code: {e}")))?;
        let backend = self.shared.backend.as_ref().ok_or_else(|| {
            CoreError::Backend("no backend is configured ([backend] in kassa.toml)".into())
        })?;
        self.check_display_rights(&caller.name)?;
        let _permit = self.shared.order_queries.try_acquire().map_err(|_| {
            CoreError::Busy(format!(
                "{MAX_ORDER_QUERIES} ShowOrderForCode calls are waiting already"
            ))
        })?;
        let _own =
            OneAtATime::take(&self.shared.order_query_callers, &caller.name).ok_or_else(|| {
                CoreError::Busy("this caller's ShowOrderForCode is waiting already".into())
            })?;
        let timeout = timeout.unwrap_or(self.shared.checkout.order_timeout);
        let order = tokio::select! {
            order = backend.query_order(&code, Instant::now() + timeout) => order?,
            () = caller.gone.cancelled() => {
                return Err(CoreError::Cancelled("the caller left".into()));
            }
            () = self.shared.stopping.cancelled() => {
                return Err(CoreError::Cancelled("kassad is stopping".into()));
            }
        };
        // A checkout may have begun while the backend was asked.
        self.check_display_rights(&caller.name)?;
        self.shared
            .screen
            .show_as(View::Order(order.clone()), TerminalState::ShowingOrder);
        Ok(order)
    }

    /// `ShowPaymentResult`: shows the result; ends the caller's own running
    /// checkout with it if that checkout has its code.
    ///
    /// # Errors
    ///
    /// `InvalidArgument` for bad text; `AccessDenied` during another
    /// caller's checkout.
    pub async fn show_payment_result(
        &self,
        caller: &str,
        status: PaymentStatus,
        message: &str,
    ) -> Result<(), CoreError> {
        check_line("message", message)?;
        self.check_display_rights(caller)?;
        if let Some(control) = self.own_checkout_with_code(caller) {
            // If the checkout ended meanwhile (a deadline, the
            // backend), the caller hears so rather than a result shown
            // that the checkout does not have.
            return control.finish(caller, status, message.to_string()).await;
        }
        self.shared.screen.show_result(status, message.to_string());
        Ok(())
    }

    /// `ShowText`.
    ///
    /// # Errors
    ///
    /// `InvalidArgument` for more than [`MAX_TEXT_LINES`] lines, long lines
    /// or control characters; `AccessDenied` during another caller's
    /// checkout.
    pub fn show_text(&self, caller: &str, lines: Vec<String>) -> Result<(), CoreError> {
        if lines.len() > MAX_TEXT_LINES {
            return Err(CoreError::InvalidArgument(format!(
                "lines: at most {MAX_TEXT_LINES}"
            )));
        }
        for (i, line) in lines.iter().enumerate() {
            check_line(&format!("lines[{i}]"), line)?;
        }
        self.check_display_rights(caller)?;
        self.shared.screen.show(View::Text(lines));
        Ok(())
    }

    /// `ClearDisplay`.
    ///
    /// # Errors
    ///
    /// `AccessDenied` during another caller's checkout.
    pub fn clear_display(&self, caller: &str) -> Result<(), CoreError> {
        self.check_display_rights(caller)?;
        self.shared.screen.show(View::Idle);
        if !self.lock().router.has_checkout() {
            self.shared.screen.set_state(TerminalState::Idle);
        }
        Ok(())
    }
}
