//! Waiting for a payment code: `ScanPaymentCode`, and `BeginCheckout`,
//! which starts a checkout session with such a wait. One at a time; the
//! scanners that can serve it must be connected.

use kassa_hal::{Money, View};
use tokio::sync::{mpsc, oneshot, watch};

use super::handoff::Handoff;
use super::router::{CodeWait, Sources, allows};
use super::session::{Deadlines, Session};
use super::{
    Caller, CheckoutHandle, CheckoutOptions, CodeScan, CoreError, Inner, SessionControl,
    SessionSnapshot, Terminal, TerminalState, check_line,
};
use crate::checkout::CheckoutState;

impl Terminal {
    /// Checks that a connected scanner can serve `sources`.
    fn check_scanners(&self, sources: &Sources) -> Result<(), CoreError> {
        let candidates: Vec<_> = self
            .shared
            .devices
            .scanners
            .iter()
            .filter(|s| allows(sources, s.source))
            .collect();
        if candidates.is_empty() {
            return Err(CoreError::NoDevice(
                "no scanner is configured for the requested sources".into(),
            ));
        }
        if candidates
            .iter()
            .any(|s| s.device.status.borrow().connected)
        {
            return Ok(());
        }
        let why: Vec<String> = candidates
            .iter()
            .map(|s| format!("{} {}", s.device.info.name, s.device.health()))
            .collect();
        Err(CoreError::NoDevice(format!(
            "no scanner is connected ({})",
            why.join("; ")
        )))
    }

    /// The prompt a code wait puts on the display.
    fn prompt_view(&self, options: &CheckoutOptions) -> Result<View, CoreError> {
        let text = options
            .prompt
            .clone()
            .unwrap_or_else(|| self.shared.checkout.prompt.clone());
        check_line("prompt", &text)?;
        let currency = options.currency.unwrap_or(self.shared.checkout.currency);
        let amount = options
            .amount
            .map(|a| Money::new(a.minor_units(), currency));
        Ok(View::Prompt { text, amount })
    }

    /// Registers a wait for one payment code (and with `checkout`, the
    /// checkout it begins). Fails at once with `Busy` or `NoDevice`; the
    /// returned receiver gets the code.
    fn start_code_wait(
        &self,
        inner: &mut Inner,
        owner: &str,
        sources: Sources,
        checkout: bool,
    ) -> Result<(u64, oneshot::Receiver<CodeScan>), CoreError> {
        if inner.router.busy() {
            return Err(CoreError::Busy("a checkout is already running".into()));
        }
        self.check_scanners(&sources)?;
        let id = self.next_id();
        let wait = CodeWait {
            id,
            owner: owner.to_string(),
            sources,
        };
        inner
            .router
            .begin_wait(wait, checkout)
            .map_err(|_| CoreError::Busy("a checkout is already running".into()))?;
        let (tx, rx) = oneshot::channel();
        inner.code_tx = Some((id, tx));
        self.update_triggers(inner);
        tracing::debug!(
            "payment code wait {id} armed for {owner}{}",
            if checkout { " (a checkout)" } else { "" }
        );
        Ok((id, rx))
    }

    /// Gives the terminal back after checkout `id`.
    pub(super) fn end_checkout(&self, id: u64) {
        let mut inner = self.lock();
        inner.router.end_checkout(id);
        if inner.checkout.as_ref().is_some_and(|(c, _)| *c == id) {
            inner.checkout = None;
        }
        if inner.code_tx.as_ref().is_some_and(|(w, _)| *w == id) {
            inner.code_tx = None;
        }
        self.update_triggers(&inner);
    }

    /// `ScanPaymentCode`: prompt, trigger, wait for one code.
    ///
    /// # Errors
    ///
    /// `Busy`, `NoDevice`, `InvalidArgument`, `Timeout`, `Cancelled`.
    pub async fn scan_payment_code(
        &self,
        caller: &Caller,
        options: CheckoutOptions,
    ) -> Result<CodeScan, CoreError> {
        let view = self.prompt_view(&options)?;
        let timeout = options.timeout.unwrap_or(self.shared.checkout.code_timeout);
        let (id, rx) = {
            let mut inner = self.lock();
            self.start_code_wait(&mut inner, &caller.name, options.sources, false)?
        };
        self.shared.screen.show_as(view, TerminalState::Scanning);
        let result = tokio::select! {
            code = rx => code.map_err(|_| CoreError::Cancelled("the wait was abandoned".into())),
            () = tokio::time::sleep(timeout) => Err(CoreError::Timeout(format!("no payment code within {} ms", timeout.as_millis()))),
            () = caller.gone.cancelled() => Err(CoreError::Cancelled("the caller left".into())),
            () = self.shared.stopping.cancelled() => Err(CoreError::Cancelled("kassad is stopping".into())),
        };
        if let Err(e) = &result {
            self.log_lifecycle(format_args!("payment code wait {id} ended: {e}"));
        }
        let view = if result.is_ok() {
            code_received()
        } else {
            View::Idle
        };
        // Decided under the lock: a checkout that began the moment this
        // wait ended owns the display, and its prompt must not be
        // overwritten.
        let mut inner = self.lock();
        if inner.router.end_wait(id) {
            inner.code_tx = None;
            self.update_triggers(&inner);
        }
        if !inner.router.busy() {
            self.shared.screen.show_as(view, TerminalState::Idle);
        }
        result
    }

    /// `BeginCheckout`: starts the whole flow (code, order, result) as a
    /// session.
    ///
    /// # Errors
    ///
    /// `Busy`, `NoDevice`, `InvalidArgument` at once; later outcomes arrive
    /// as [`SessionEvent`](super::SessionEvent)s.
    pub fn begin_checkout(
        &self,
        caller: &Caller,
        options: CheckoutOptions,
    ) -> Result<CheckoutHandle, CoreError> {
        let view = self.prompt_view(&options)?;
        let defaults = &self.shared.checkout;
        let deadlines = Deadlines {
            code: options.timeout.unwrap_or(defaults.code_timeout),
            order: options.order_timeout.unwrap_or(defaults.order_timeout),
            result: defaults.result_timeout,
        };
        let owner = caller.name.clone();
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let (snapshot_tx, snapshot_rx) = watch::channel(SessionSnapshot {
            state: CheckoutState::WaitingForCode,
            channel: String::new(),
            order_json: String::new(),
        });
        let control = SessionControl {
            owner: owner.clone(),
            tx: control_tx,
            snapshot: snapshot_rx,
        };
        let (id, code_rx) = {
            let mut inner = self.lock();
            let (id, rx) = self.start_code_wait(&mut inner, &owner, options.sources, true)?;
            inner.checkout = Some((id, control.clone()));
            (id, rx)
        };
        self.shared.screen.show_as(view, TerminalState::Scanning);
        self.log_lifecycle(format_args!("checkout {id} started"));
        let session = Session {
            terminal: self.clone(),
            id,
            state: CheckoutState::WaitingForCode,
            code: None,
            order_id: None,
            handoff: Handoff::default(),
            events: events_tx,
            snapshot: snapshot_tx,
        };
        tokio::spawn(session.run(code_rx, control_rx, caller.gone.clone(), deadlines));
        Ok(CheckoutHandle {
            id,
            owner,
            events: events_rx,
            control,
        })
    }
}

/// What the customer sees between the code and the order.
pub(super) fn code_received() -> View {
    View::Text(vec![
        "Payment code received".into(),
        "One moment, please".into(),
    ])
}
