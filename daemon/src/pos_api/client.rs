//! One connected client: its requests, answered as they finish, and the
//! events it is owed, all through one bounded queue to its socket.
//!
//! The client is one caller of the core, named `pos-api:N` (no D-Bus
//! unique name looks like that), and present until its socket closes:
//! closing it cancels its wait, its checkout and its claim, as leaving the
//! bus does.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::debug;

use super::Api;
use super::protocol::{self, Call, Request};
use crate::core::{Caller, CheckoutHandle, ClaimHandle, CoreError, SessionEvent};

/// Requests of one client being answered at once; one more is answered
/// `Busy`. A POS app has a wait and a display call or two under way.
pub const MAX_IN_FLIGHT: usize = 16;

/// Messages queued for a client's socket. Producers wait when it is full,
/// so a client that reads nothing holds up only its own answers and
/// events, and the socket's stall timeout closes it.
const QUEUE: usize = 64;

/// How often a device's counters may be sent again, as on D-Bus.
const COUNTER_GAP: Duration = Duration::from_millis(250);

/// What a client's tasks share.
#[derive(Clone)]
struct Client {
    api: Arc<Api>,
    caller: Caller,
    out: mpsc::Sender<String>,
}

/// Serves one client until its socket closes or kassad stops.
///
/// This loop alone reads the socket and writes to it. It never waits on
/// the client's queue (it is the queue's only reader): refusals it makes
/// itself are written to the socket directly, so a flood of requests,
/// however the client reads, cannot stop it from seeing the socket close.
pub(super) async fn serve(socket: WebSocket, api: Arc<Api>, number: u64) {
    let gone = api.shutdown.child_token();
    // Leaving ends whatever this client started, however this task ends.
    let _leave = gone.clone().drop_guard();
    let caller = Caller::new(format!("pos-api:{number}"), gone.clone());
    let (out, mut queued) = mpsc::channel::<String>(QUEUE);
    let client = Client { api, caller, out };
    let (mut sink, mut stream) = socket.split();
    client.watch_terminal(&gone);
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    loop {
        let refusal = tokio::select! {
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => client.request(text.as_str(), &in_flight),
                Some(Ok(Message::Binary(_))) => {
                    let e = CoreError::InvalidArgument("send requests as JSON text messages".into());
                    Some(protocol::error(None, &e))
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => None,
                // Closed, or broken: too large, not UTF-8, not WebSocket.
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
            answer = queued.recv() => answer,
            () = client.api.shutdown.cancelled() => {
                let _ = sink
                    .send(Message::Close(Some(CloseFrame {
                        code: close_code::AWAY,
                        reason: "kassad is stopping".into(),
                    })))
                    .await;
                break;
            }
        };
        // A client that reads nothing stalls this write, and the socket's
        // stall timeout then closes it.
        if let Some(text) = refusal {
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
    }
    debug!("POS API client {number} left");
}

impl Client {
    /// Queues a message for the socket; dropped if the client left.
    async fn send(&self, message: String) {
        tokio::select! {
            _ = self.out.send(message) => {}
            () = self.caller.gone.cancelled() => {}
        }
    }

    /// Reads one request and answers it in its own task; returns the
    /// answer to write at once if it is refused.
    fn request(&self, text: &str, in_flight: &Arc<Semaphore>) -> Option<String> {
        let Request { id, call } = match protocol::parse(text) {
            Ok(request) => request,
            Err(refused) => return Some(protocol::error(refused.id, &refused.error)),
        };
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            let e = CoreError::Busy(format!(
                "{MAX_IN_FLIGHT} requests of this client are still being answered"
            ));
            return Some(protocol::error(Some(id), &e));
        };
        let client = self.clone();
        // Not cut short when the client leaves: the core ends its waits on
        // the caller's token, and cleans up behind them as it returns.
        tokio::spawn(async move {
            let answer = match client.answer(id, call).await {
                Ok(Some(result)) => protocol::reply(id, result),
                Ok(None) => return,
                Err(e) => protocol::error(Some(id), &e),
            };
            client.send(answer).await;
            drop(permit);
        });
        None
    }

    /// What request `id`, `call`, answers; `None` if it was answered
    /// already (a checkout or claim answers before its first event).
    async fn answer(&self, id: u64, call: Call) -> Result<Option<Value>, CoreError> {
        let terminal = &self.api.terminal;
        let name = self.caller.name.as_str();
        let done = |()| Value::Null;
        let value = match call {
            Call::ScanPaymentCode(options) => terminal
                .scan_payment_code(&self.caller, options)
                .await
                .map(|scan| protocol::code(&scan)),
            Call::BeginCheckout(options) => {
                let handle = terminal.begin_checkout(&self.caller, options)?;
                self.forward_checkout(id, handle);
                return Ok(None);
            }
            Call::Cancel { checkout } => self.checkout(checkout)?.cancel(name).await.map(done),
            Call::Finish {
                checkout,
                status,
                message,
            } => self
                .checkout(checkout)?
                .finish(name, status, message)
                .await
                .map(done),
            Call::TakeCode { checkout } => self
                .checkout(checkout)?
                .take_code(name)
                .await
                .map(|scan| protocol::code(&scan)),
            Call::ShowOrder { order_json } => terminal
                .show_order(name, &order_json)
                .await
                .map(|_| Value::Null),
            Call::ShowOrderForCode { code, timeout } => terminal
                .show_order_for_code(&self.caller, &code, timeout)
                .await
                .map(|order| json!({ "order": protocol::order(&order.to_json()) })),
            Call::ShowPaymentResult { status, message } => terminal
                .show_payment_result(name, status, &message)
                .await
                .map(done),
            Call::ShowText { lines } => terminal.show_text(name, lines).map(done),
            Call::ClearDisplay => terminal.clear_display(name).map(done),
            Call::ClaimScanner(options) => {
                let handle = terminal.claim_scanner(&self.caller, options)?;
                self.forward_claim(id, handle);
                return Ok(None);
            }
            Call::Release { claim } => terminal.release_claim(claim, name).map(done),
            Call::Enable { claim } => terminal.enable_claim(claim, name).map(done),
            Call::GetTerminal => Ok(json!({
                "version": env!("CARGO_PKG_VERSION"),
                "state": terminal.state().borrow().as_str(),
                "devices": terminal.devices().iter().map(protocol::device).collect::<Vec<_>>(),
            })),
        };
        value.map(Some)
    }

    /// The running checkout `id` begun over this API; the core decides
    /// whether this client may act on it.
    fn checkout(&self, id: u64) -> Result<crate::core::SessionControl, CoreError> {
        let checkouts = self
            .api
            .checkouts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        checkouts.get(&id).cloned().ok_or_else(|| {
            CoreError::InvalidArgument(format!(
                "no checkout {id} is running (ids come from BeginCheckout)"
            ))
        })
    }

    /// Answers request `request` with the checkout, then sends its events
    /// and state changes to this client, its owner, until it finishes.
    fn forward_checkout(&self, request: u64, mut handle: CheckoutHandle) {
        let id = handle.id;
        let api = self.api.clone();
        api.checkouts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id, handle.control.clone());
        let client = self.clone();
        tokio::spawn(async move {
            client
                .send(protocol::reply(request, json!({ "checkout": id })))
                .await;
            let mut snapshot = handle.control.snapshot.clone();
            let mut snapshot_open = true;
            loop {
                tokio::select! {
                    event = handle.events.recv() => {
                        let Some(event) = event else { break };
                        let finished = matches!(event, SessionEvent::Finished { .. });
                        if finished {
                            let now = snapshot.borrow().clone();
                            client.send(protocol::checkout_state(id, now.state.as_str(), &now.channel)).await;
                        }
                        client.send(protocol::checkout_event(id, &event)).await;
                        if finished {
                            break;
                        }
                    }
                    changed = snapshot.changed(), if snapshot_open => match changed {
                        Ok(()) => {
                            let now = snapshot.borrow_and_update().clone();
                            client.send(protocol::checkout_state(id, now.state.as_str(), &now.channel)).await;
                        }
                        Err(_) => snapshot_open = false,
                    },
                }
            }
            api.checkouts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&id);
        });
    }

    /// Answers request `request` with the claim, then sends its scans to
    /// this client, the claimant, until it is released.
    fn forward_claim(&self, request: u64, mut handle: ClaimHandle) {
        let client = self.clone();
        tokio::spawn(async move {
            client
                .send(protocol::reply(request, json!({ "claim": handle.id })))
                .await;
            while let Some(scan) = handle.scans.recv().await {
                let text = scan.text();
                let event = protocol::scanned(
                    handle.id,
                    &text,
                    scan.symbology.as_str(),
                    scan.source.as_str(),
                );
                client.send(event).await;
            }
        });
    }

    /// Sends the terminal's state and each device's status to this client
    /// as they change, until it leaves.
    fn watch_terminal(&self, gone: &CancellationToken) {
        let client = self.clone();
        let mut state = self.api.terminal.state();
        tokio::spawn(gone.clone().run_until_cancelled_owned(async move {
            while state.changed().await.is_ok() {
                let now = state.borrow_and_update().as_str();
                client.send(protocol::terminal_state(now)).await;
            }
        }));
        for device in self.api.terminal.devices() {
            let client = self.clone();
            let mut status = device.status.clone();
            tokio::spawn(gone.clone().run_until_cancelled_owned(async move {
                let mut last = status.borrow_and_update().clone();
                while status.changed().await.is_ok() {
                    let now = status.borrow_and_update().clone();
                    if now.connected == last.connected && now.last_error == last.last_error {
                        // Only counters moved: a scanner spewing reads
                        // must not flood the client.
                        tokio::time::sleep(COUNTER_GAP).await;
                        status.borrow_and_update();
                    }
                    last = status.borrow().clone();
                    client.send(protocol::device_status(&device)).await;
                }
            }));
        }
    }
}
