//! What the customer sees: the only writer of the displays' views and of
//! the terminal's state.
//!
//! Every view goes to every display's newest-view slot; each display's
//! worker shows it when it can. A result goes back to idle after a while,
//! unless something else was shown meanwhile (a generation number tells).

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use kassa_hal::{PaymentStatus, View};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::devices::ViewSlot;

/// What the terminal is doing, as `Terminal1.State` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerminalState {
    /// Nothing under way.
    Idle,
    /// Waiting for a payment code.
    Scanning,
    /// Code delivered; waiting for the order.
    WaitingForOrder,
    /// An order is on the display.
    ShowingOrder,
    /// A payment result is on the display.
    ShowingResult,
}

impl TerminalState {
    /// The name on the bus.
    pub fn as_str(self) -> &'static str {
        match self {
            TerminalState::Idle => "idle",
            TerminalState::Scanning => "scanning",
            TerminalState::WaitingForOrder => "waiting_for_order",
            TerminalState::ShowingOrder => "showing_order",
            TerminalState::ShowingResult => "showing_result",
        }
    }
}

/// The displays and the terminal's state.
#[derive(Debug)]
pub struct Screen {
    slots: Vec<Arc<ViewSlot>>,
    state: watch::Sender<TerminalState>,
    /// Bumped whenever the displays change, so a delayed return to idle
    /// does not wipe a newer view.
    generation: Mutex<u64>,
    /// When to return to idle, and the generation that must still be
    /// showing for it to happen.
    idle_at: watch::Sender<Option<(Instant, u64)>>,
    /// How long a result stays up.
    result_display: Duration,
}

impl Screen {
    /// A screen over the displays' slots; results stay up for
    /// `result_display`. Starts the return-to-idle timer on the current
    /// tokio runtime (one task, however many results are shown) and shows
    /// the idle view.
    pub fn start(slots: Vec<Arc<ViewSlot>>, result_display: Duration) -> Arc<Screen> {
        let screen = Arc::new(Screen {
            slots,
            state: watch::channel(TerminalState::Idle).0,
            generation: Mutex::new(0),
            idle_at: watch::channel(None).0,
            result_display,
        });
        tokio::spawn(idle_timer(Arc::downgrade(&screen)));
        screen.show(View::Idle);
        screen
    }

    fn generation(&self) -> MutexGuard<'_, u64> {
        self.generation.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `view` to every display; returns its generation.
    pub fn show(&self, view: View) -> u64 {
        let mut generation = self.generation();
        *generation += 1;
        for slot in &self.slots {
            slot.set(view.clone());
        }
        *generation
    }

    /// Shows `view` and says the terminal is now `state`.
    pub fn show_as(&self, view: View, state: TerminalState) {
        self.show(view);
        self.set_state(state);
    }

    /// Says the terminal is now `state`, leaving the displays as they are.
    pub fn set_state(&self, state: TerminalState) {
        self.state
            .send_if_modified(|s| std::mem::replace(s, state) != state);
    }

    /// The terminal's state, live.
    pub fn state(&self) -> watch::Receiver<TerminalState> {
        self.state.subscribe()
    }

    /// Shows a result, then the idle screen after the result time unless
    /// something else was shown meanwhile.
    pub fn show_result(&self, status: PaymentStatus, message: String) {
        let generation = self.show(View::Result { status, message });
        self.set_state(TerminalState::ShowingResult);
        let at = Instant::now() + self.result_display;
        self.idle_at.send_replace(Some((at, generation)));
    }

    /// Back to idle if `generation` is still what the displays show.
    fn idle_if_still(&self, generation: u64) {
        let current = self.generation();
        if *current == generation {
            drop(current);
            self.show_as(View::Idle, TerminalState::Idle);
        }
    }
}

/// The one task that returns the displays to idle after a result; ends
/// with the screen.
async fn idle_timer(screen: Weak<Screen>) {
    let Some(mut idle_at) = screen.upgrade().map(|s| s.idle_at.subscribe()) else {
        return;
    };
    loop {
        let next = *idle_at.borrow_and_update();
        match next {
            Some((at, generation)) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {
                        let Some(screen) = screen.upgrade() else { return };
                        screen.idle_if_still(generation);
                        screen.idle_at.send_replace(None);
                    }
                    changed = idle_at.changed() => if changed.is_err() { return },
                }
            }
            None => {
                if idle_at.changed().await.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_result_returns_to_idle_unless_something_newer_is_shown() {
        let slot = Arc::new(ViewSlot::default());
        let screen = Screen::start(vec![slot.clone()], Duration::from_secs(5));
        assert_eq!(slot.current(), Some(View::Idle));
        let mut state = screen.state();

        screen.show_result(PaymentStatus::Paid, "Thank you".into());
        assert_eq!(*state.borrow_and_update(), TerminalState::ShowingResult);
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(slot.current(), Some(View::Idle));
        assert_eq!(*state.borrow_and_update(), TerminalState::Idle);

        // A newer view stays.
        screen.show_result(PaymentStatus::Failed, "Again".into());
        tokio::time::sleep(Duration::from_secs(1)).await;
        let text = View::Text(vec!["Next customer".into()]);
        screen.show(text.clone());
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(slot.current(), Some(text));
        assert_eq!(*state.borrow(), TerminalState::ShowingResult);
    }
}
