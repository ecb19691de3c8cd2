//! kassad's HTTP server, hardened against hostile local clients: the web
//! screen and the POS API each run one.
//!
//! Any local user can connect to either, with no D-Bus rights at all, and
//! kassad shares one descriptor limit between its servers and the
//! scanners, the bus and the backend. So a server must never take more
//! than a fixed share, whatever it is sent:
//!
//! - at most [`MAX_CONNECTIONS`] open connections. A connection over the
//!   cap is still accepted and makes room by closing the oldest connection
//!   that never finished a request (once it has had
//!   [`FIRST_REQUEST_GRACE`] to send one), else the oldest that is not an
//!   event stream. Refusing the newest instead would let anyone who keeps
//!   64 connections open lock the kiosk out; evicting the oldest, with a
//!   grace for the newest, leaves the kiosk's connection, which sends its
//!   request at once, the time to be answered. While no connection may be
//!   evicted, new ones wait in the kernel's queue ([`ACCEPT_BACKLOG`]),
//!   which costs kassad no descriptor.
//! - at most [`MAX_EVENT_STREAMS`] event streams; a new one ends the
//!   oldest (its page reconnects a second later), so streams can never
//!   take every connection and cannot lock out the kiosk's page for good.
//! - a request head must arrive within [`HEADER_READ_TIMEOUT`], counted
//!   from the connection's start or from the end of the previous
//!   response: that closes silent, half-sent and trickled connections,
//!   and idle keep-alive ones.
//! - a response whose client takes nothing for [`WRITE_STALL_TIMEOUT`] is
//!   dropped with its connection.
//! - a request head is at most [`MAX_REQUEST_HEAD`] bytes and
//!   [`MAX_REQUEST_HEADERS`] headers; nothing takes a body.
//! - the `Host` must be one the server answers to ([`hosts`]), checked
//!   before anything else.
//! - a connection upgraded to a WebSocket keeps its slot until the socket
//!   closes ([`ConnectionMark::hold`]), and is never evicted.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::debug;

mod connections;
mod hosts;
pub mod origin;
mod pressure;
mod stall;
pub mod token;

use connections::{Connection, Connections};
pub use connections::{ConnectionHold, ConnectionMark, EventStreams, StreamSlot};
pub use hosts::{AllowedHost, HostError};
use pressure::Pressure;
use stall::StallGuard;

/// Connections open at once, per web screen. The kiosk needs two or three
/// (the page and its event stream, more while it loads the script, the
/// style and the logo); 64 leaves room for several kiosks and for
/// reloads, and costs kassad at most 64 + 2 descriptors (the listener, and
/// a new connection while the one it evicts closes).
pub const MAX_CONNECTIONS: usize = 64;

/// Event streams open at once, per web screen: one per kiosk page.
pub const MAX_EVENT_STREAMS: usize = 16;

/// How long a request head may take, from the connection's start or the
/// end of the previous response (so also how long a kept-alive connection
/// may stay idle). A browser on the same machine or network sends its
/// request head in one packet.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a response may wait for a client that reads nothing, once the
/// socket's buffers are full.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest request head (request line and headers), in bytes.
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// Most headers in a request; a browser sends about 15.
pub const MAX_REQUEST_HEADERS: usize = 32;

/// hyper buffers at most this much per connection. Its smallest allowed
/// value is 8 KiB; the head limit is enforced by [`MAX_REQUEST_HEAD`].
const MAX_BUFFER: usize = 64 * 1024;

/// How long a new connection is safe from eviction, from when its task
/// first ran, if it has not finished a request yet: time for the kiosk's
/// request to be read even while a flood of connections is accepted behind
/// it. It also bounds how fast a flood of silent connections is accepted
/// (64 per 25 ms); the rest wait in the kernel's queue, costing no
/// descriptor.
const FIRST_REQUEST_GRACE: Duration = Duration::from_millis(25);

/// How long the accept loop waits for room (a connection it may evict,
/// and that connection to close) before it drops the new one instead.
const EVICTION_WAIT: Duration = Duration::from_secs(1);

/// After an accept error (such as kassad being out of descriptors), the
/// pause before the next try, so that the loop does not spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// How long open connections get to finish when the screen stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// At most one warning about the caps per this interval, so that a flood
/// of connections does not become a flood of log lines.
const REPORT_INTERVAL: Duration = Duration::from_secs(60);

/// What one server knows besides its routes.
pub struct Site {
    /// What it serves, for log lines and refusals: "web screen".
    pub name: &'static str,
    /// Where a refused `Host` is told other names go, such as " (other
    /// names go in the display's allowed_hosts)".
    pub other_hosts: &'static str,
    /// Where it listens, for log lines.
    pub listen: SocketAddr,
    /// The names it answers to, besides the address a connection came in on.
    pub hosts: Vec<AllowedHost>,
}

/// Connections the kernel may hold for the accept loop. Waiting ones cost
/// kassad no descriptor; a longer queue lets a burst wait a moment instead
/// of having its connection attempts dropped.
const ACCEPT_BACKLOG: u32 = 1024;

/// A listening socket at `address`, as `std::net::TcpListener::bind` makes
/// one (address reuse on) but with [`ACCEPT_BACKLOG`]. Must be called
/// within the Tokio runtime.
pub fn listen(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = match address {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(ACCEPT_BACKLOG)
}

/// Serves `app` on `listener` until `shutdown` is cancelled.
pub async fn run(listener: TcpListener, app: Router, site: Arc<Site>, shutdown: CancellationToken) {
    let connections = Arc::new(Connections::default());
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut pressure = Pressure::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_header_size(MAX_REQUEST_HEAD)
        .max_headers(MAX_REQUEST_HEADERS)
        .max_buf_size(MAX_BUFFER)
        .keep_alive(true);
    let http = Arc::new(http);
    let app = TowerToHyperService::new(app);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => return,
        };
        let socket = match accepted {
            Ok((socket, _peer)) => socket,
            Err(e) => {
                pressure.accept_failed(&site, &e);
                tokio::time::sleep(ACCEPT_RETRY).await;
                continue;
            }
        };
        let permit = match slots.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let room = make_room(&connections, &slots).await;
                pressure.over_cap(&site, room.is_some());
                match room {
                    Some(permit) => permit,
                    None => continue,
                }
            }
        };
        let Ok(local) = socket.local_addr() else {
            continue;
        };
        // Small answers and events go out at once, not after the client's
        // delayed ACK (40 ms on Linux) of the previous one.
        let _ = socket.set_nodelay(true);
        let connection = connections.register(permit);
        tokio::spawn(serve_connection(
            socket,
            local,
            connection,
            http.clone(),
            app.clone(),
            site.clone(),
            shutdown.clone(),
        ));
    }
}

/// A free slot, made by evicting the oldest connection that may be
/// evicted; `None` if none could be within [`EVICTION_WAIT`].
async fn make_room(
    connections: &Connections,
    slots: &Arc<Semaphore>,
) -> Option<OwnedSemaphorePermit> {
    let deadline = tokio::time::Instant::now() + EVICTION_WAIT;
    loop {
        if let Ok(permit) = slots.clone().try_acquire_owned() {
            return Some(permit);
        }
        if connections.evict_oldest() {
            return tokio::time::timeout_at(deadline, slots.clone().acquire_owned())
                .await
                .ok()?
                .ok();
        }
        // Every connection is an event stream or still in its grace: let
        // them run (the kiosk's request is read meanwhile), then look
        // again. Waiting connections stay in the kernel's queue and cost
        // no descriptor.
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn serve_connection(
    socket: TcpStream,
    local: SocketAddr,
    connection: Connection,
    http: Arc<http1::Builder>,
    app: TowerToHyperService<Router>,
    site: Arc<Site>,
    shutdown: CancellationToken,
) {
    let site_name = site.name;
    let mark = connection.mark.clone();
    let service = service_fn(move |mut request: Request<Incoming>| {
        let refused = admit(&mut request, &site, local, &mark);
        let app = app.clone();
        async move {
            match refused {
                None => hyper::service::Service::call(&app, request).await,
                Some(refusal) => Ok::<_, Infallible>(refusal),
            }
        }
    });
    let io = TokioIo::new(StallGuard::new(socket, WRITE_STALL_TIMEOUT));
    // Boxed, so that it can be dropped (closing the socket) before the
    // connection's slot is given back.
    let mut served = Box::pin(http.serve_connection(io, service).with_upgrades());
    // One look at what the client sent with its connection before it may
    // be evicted: a browser's request is there already, and is answered
    // (or marks the connection as served) in this first poll. Without it, a
    // burst of connections queued behind the kiosk's would evict it before
    // its task ever ran.
    let first = std::future::poll_fn(|cx| Poll::Ready(served.as_mut().poll(cx))).await;
    let _ = connection.mark.state.started.set(Instant::now());
    let result = match first {
        Poll::Ready(result) => Some(result),
        Poll::Pending => tokio::select! {
            result = served.as_mut() => Some(result),
            // Evicted: dropping the connection closes its socket at once.
            () = connection.close.cancelled() => None,
            () = shutdown.cancelled() => {
                served.as_mut().graceful_shutdown();
                let _ = tokio::time::timeout(SHUTDOWN_GRACE, served.as_mut()).await;
                None
            }
        },
    };
    if let Some(Err(e)) = &result {
        // Timeouts and clients that go away: routine, and a hostile
        // client could flood any louder level.
        debug!("{site_name} connection ended: {e}");
    }
    // The socket is closed before the connection's slot is given back, so
    // that the cap counts descriptors, not tasks. An upgraded connection
    // has handed its socket to a WebSocket, which holds the slot until it
    // closes.
    drop(served);
    if result.is_some() {
        connection.mark.released().await;
    }
    drop(connection);
}

/// The checks every request passes before it reaches a route: the Host
/// first, then no body, then the method. Returns the answer to a refused
/// request.
fn admit(
    request: &mut Request<Incoming>,
    site: &Site,
    local: SocketAddr,
    mark: &ConnectionMark,
) -> Option<Response<Body>> {
    let came_in_on = AllowedHost::address(local);
    let allowed = |value: &[u8]| {
        hosts::is_allowed(value, &site.hosts)
            || hosts::is_allowed(value, std::slice::from_ref(&came_in_on))
    };
    let mut host_headers = request.headers().get_all(header::HOST).iter();
    let host_ok = match (host_headers.next(), host_headers.next()) {
        (Some(host), None) => allowed(host.as_bytes()),
        _ => false,
    };
    // An absolute request target names the host a proxy would go to; it
    // wins over the header, so it must be allowed too.
    let target_ok = request
        .uri()
        .authority()
        .is_none_or(|authority| allowed(authority.as_str().as_bytes()));
    if !host_ok || !target_ok {
        return Some(refusal(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "kassa {}: not for this Host; open it by its own address{}\n",
                site.name, site.other_hosts
            ),
        ));
    }
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|length| length.as_bytes() != b"0");
    if has_body {
        return Some(refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("kassa {}: requests carry no body\n", site.name),
        ));
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = refusal(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("kassa {}: only GET and HEAD\n", site.name),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Some(response);
    }
    mark.state.served.store(true, Ordering::Relaxed);
    request.extensions_mut().insert(mark.clone());
    None
}

/// A short plain-text answer that also closes the connection: a client
/// that sends one bad request is not worth keeping.
pub fn refusal(status: StatusCode, message: String) -> Response<Body> {
    let mut response = Response::new(Body::from(message));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
