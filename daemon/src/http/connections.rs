//! The tables of open connections and event streams, and which
//! connection makes room when the cap is reached.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use tokio::sync::{Notify, OwnedSemaphorePermit};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::{FIRST_REQUEST_GRACE, MAX_EVENT_STREAMS};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The tables stay consistent between statements: a panic elsewhere
    // while one was locked leaves nothing half-done.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Default)]
pub(super) struct ConnectionState {
    /// When its task first ran: hyper had read what came with it.
    pub(super) started: OnceLock<Instant>,
    /// Serving an event stream.
    pub(super) streaming: AtomicBool,
    /// Has had a request past [`admit`](super::admit).
    pub(super) served: AtomicBool,
    /// Holds on the connection by WebSockets it was upgraded to.
    held: AtomicUsize,
    /// Told when a hold ends.
    released: Notify,
}

/// A request's handle on its connection (a request extension), through
/// which an event stream marks its connection as one not to evict, and a
/// WebSocket keeps the connection's slot.
#[derive(Clone)]
pub struct ConnectionMark {
    pub(super) state: Arc<ConnectionState>,
}

/// A WebSocket's hold on the connection it was upgraded from: while it
/// lives, the connection keeps its slot and is not evicted.
pub struct ConnectionHold {
    state: Arc<ConnectionState>,
}

impl ConnectionMark {
    /// A hold on this connection, to be kept by the WebSocket it is
    /// upgraded to for as long as the socket is open.
    pub fn hold(&self) -> ConnectionHold {
        self.state.held.fetch_add(1, Ordering::SeqCst);
        self.state.streaming.store(true, Ordering::Relaxed);
        ConnectionHold {
            state: self.state.clone(),
        }
    }

    /// Resolves once no hold is left on the connection.
    pub(super) async fn released(&self) {
        loop {
            let released = self.state.released.notified();
            if self.state.held.load(Ordering::SeqCst) == 0 {
                return;
            }
            released.await;
        }
    }
}

impl Drop for ConnectionHold {
    fn drop(&mut self) {
        if self.state.held.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.state.streaming.store(false, Ordering::Relaxed);
        }
        self.state.released.notify_waiters();
    }
}

#[derive(Default)]
pub(super) struct Connections {
    table: Mutex<ConnectionTable>,
}

#[derive(Default)]
struct ConnectionTable {
    next: u64,
    /// By age: ids only grow.
    open: BTreeMap<u64, (CancellationToken, Arc<ConnectionState>)>,
}

/// One open connection's place in the table; leaving it frees the slot.
pub(super) struct Connection {
    id: u64,
    connections: Arc<Connections>,
    pub(super) close: CancellationToken,
    pub(super) mark: ConnectionMark,
    _slot: OwnedSemaphorePermit,
}

impl Connections {
    pub(super) fn register(self: &Arc<Self>, slot: OwnedSemaphorePermit) -> Connection {
        let close = CancellationToken::new();
        let state = Arc::new(ConnectionState::default());
        let mut table = lock(&self.table);
        let id = table.next;
        table.next += 1;
        table.open.insert(id, (close.clone(), state.clone()));
        Connection {
            id,
            connections: self.clone(),
            close,
            mark: ConnectionMark { state },
            _slot: slot,
        }
    }

    /// Closes the oldest connection that never finished a request and has
    /// had [`FIRST_REQUEST_GRACE`], else the oldest that finished one and
    /// is not an event stream; false if there is none (yet).
    pub(super) fn evict_oldest(&self) -> bool {
        let table = lock(&self.table);
        let unserved = |state: &ConnectionState| {
            !state.served.load(Ordering::Relaxed)
                && state
                    .started
                    .get()
                    .is_some_and(|started| started.elapsed() >= FIRST_REQUEST_GRACE)
        };
        let idle = |state: &ConnectionState| {
            state.served.load(Ordering::Relaxed) && !state.streaming.load(Ordering::Relaxed)
        };
        let victim = table
            .open
            .values()
            .find(|(_, state)| unserved(state))
            .or_else(|| table.open.values().find(|(_, state)| idle(state)));
        match victim {
            Some((close, _)) => {
                close.cancel();
                true
            }
            None => false,
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        lock(&self.connections.table).open.remove(&self.id);
    }
}

/// The event streams open on one web screen, oldest first.
#[derive(Default)]
pub struct EventStreams {
    table: Mutex<(u64, BTreeMap<u64, CancellationToken>)>,
}

/// An open event stream's place; leaving it frees the place.
pub struct StreamSlot {
    id: u64,
    streams: Arc<EventStreams>,
    end: CancellationToken,
    mark: Option<ConnectionMark>,
}

impl EventStreams {
    /// A place for a new stream on the connection `mark`, ending the
    /// oldest stream if all [`MAX_EVENT_STREAMS`] are taken.
    pub fn open(self: &Arc<Self>, mark: Option<ConnectionMark>) -> StreamSlot {
        let end = CancellationToken::new();
        let mut table = lock(&self.table);
        while table.1.len() >= MAX_EVENT_STREAMS {
            let Some((_, oldest)) = table.1.pop_first() else {
                break;
            };
            oldest.cancel();
        }
        let id = table.0;
        table.0 += 1;
        table.1.insert(id, end.clone());
        if let Some(mark) = &mark {
            mark.state.streaming.store(true, Ordering::Relaxed);
        }
        StreamSlot {
            id,
            streams: self.clone(),
            end,
            mark,
        }
    }

    /// How many are open.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.table).1.len()
    }
}

impl StreamSlot {
    /// Resolves when a newer stream has taken this one's place.
    pub fn ended(&self) -> WaitForCancellationFutureOwned {
        self.end.clone().cancelled_owned()
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        lock(&self.streams.table).1.remove(&self.id);
        if let Some(mark) = &self.mark {
            mark.state.streaming.store(false, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::Semaphore;

    #[test]
    fn streams_over_the_cap_end_the_oldest() {
        let streams = Arc::new(EventStreams::default());
        let mark = ConnectionMark {
            state: Arc::new(ConnectionState::default()),
        };
        let first = streams.open(Some(mark.clone()));
        assert!(mark.state.streaming.load(Ordering::Relaxed));
        let rest: Vec<_> = (1..MAX_EVENT_STREAMS).map(|_| streams.open(None)).collect();
        assert!(!first.end.is_cancelled());
        let newest = streams.open(None);
        assert!(first.end.is_cancelled());
        assert!(!rest[0].end.is_cancelled() && !newest.end.is_cancelled());
        assert_eq!(streams.len(), MAX_EVENT_STREAMS);
        drop(first);
        assert!(!mark.state.streaming.load(Ordering::Relaxed));
        assert_eq!(streams.len(), MAX_EVENT_STREAMS);
        drop(rest);
        assert_eq!(streams.len(), 1);
    }

    #[tokio::test]
    async fn a_websocket_holds_its_connection_until_it_closes() {
        let mark = ConnectionMark {
            state: Arc::new(ConnectionState::default()),
        };
        mark.released().await;
        let hold = mark.hold();
        assert!(mark.state.streaming.load(Ordering::Relaxed));
        let waiting = tokio::spawn({
            let mark = mark.clone();
            async move { mark.released().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(hold);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("released once the hold is dropped")
            .unwrap();
        assert!(!mark.state.streaming.load(Ordering::Relaxed));
    }

    #[test]
    fn eviction_spares_event_streams_and_new_connections() {
        let connections = Arc::new(Connections::default());
        let slots = Arc::new(Semaphore::new(4));
        let slot = || slots.clone().try_acquire_owned().unwrap();
        let stream = connections.register(slot());
        stream.mark.state.served.store(true, Ordering::Relaxed);
        stream.mark.state.streaming.store(true, Ordering::Relaxed);
        let silent = connections.register(slot());
        let served = connections.register(slot());
        served.mark.state.served.store(true, Ordering::Relaxed);
        // A served connection may go at once; the silent one, older, has not
        // been looked at.
        assert!(connections.evict_oldest());
        assert!(served.close.is_cancelled() && !silent.close.is_cancelled());
        drop(served);
        // Looked at, it is safe for its grace, then goes before a served
        // one.
        let _ = silent.mark.state.started.set(Instant::now());
        assert!(!connections.evict_oldest());
        let served = connections.register(slot());
        served.mark.state.served.store(true, Ordering::Relaxed);
        std::thread::sleep(FIRST_REQUEST_GRACE);
        assert!(connections.evict_oldest());
        assert!(silent.close.is_cancelled() && !served.close.is_cancelled());
        drop(silent);
        assert!(connections.evict_oldest());
        drop(served);
        // An event stream is never evicted.
        assert!(!connections.evict_oldest());
        assert!(!stream.close.is_cancelled());
        assert_eq!(slots.available_permits(), 3);
    }
}
