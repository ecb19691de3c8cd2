//! The POS API: kassad's contract for browser and Electron POS apps, which
//! cannot speak D-Bus, as JSON messages over a WebSocket on loopback.
//!
//! Why a WebSocket: one socket is one caller, as a unique name is on
//! D-Bus. The page that began a checkout owns it for as long as its socket
//! is open, alone receives its code and events on that socket, and closing
//! the tab closes the socket, which cancels whatever it started. With HTTP
//! and server-sent events, requests and the event stream would be separate
//! connections that a session id would have to tie together (and a page
//! that leaves sends nothing); browsers also give a site only six HTTP/1
//! connections.
//!
//! Who may connect, checked before the upgrade, in this order:
//! - the `Host` must be a loopback name at the API's port (a DNS-rebinding
//!   page sends its own name), by [`crate::http`]'s server;
//! - a browser's `Origin` must be in `allowed_origins` ([`crate::http::origin`]); a
//!   client that sends none (a program, not a page) passes this step;
//! - the token from `token_file` (`?token=` or `Authorization: Bearer`),
//!   a file readable by the POS app's group `kassa` and by no one else;
//! - at most [`MAX_CLIENTS`] at once.
//!
//! Then every rule of the D-Bus contract holds, because the same core
//! enforces it: one checkout at a time, owner-only actions, the code for
//! the owner alone, the same error names ([`client`], [`protocol`]).

mod client;
pub mod protocol;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::config::PosApiConfig;
use crate::core::{SessionControl, Terminal};
use crate::http::origin::Origin;
use crate::http::{self, AllowedHost, ConnectionMark, refusal};

/// Clients connected at once. A till runs one POS app, perhaps in two
/// windows, plus a tool or two.
pub const MAX_CLIENTS: usize = 8;

/// What every client's task shares.
struct Api {
    terminal: Terminal,
    token: String,
    origins: Vec<Origin>,
    clients: Arc<Semaphore>,
    /// Checkouts begun over this API, by id, until they finish: how
    /// `Cancel`, `Finish` and `TakeCode` find the session they name.
    checkouts: Mutex<HashMap<u64, SessionControl>>,
    next_client: AtomicU64,
    shutdown: CancellationToken,
}

/// The running API; dropping it stops it and closes every client.
pub struct PosApi {
    shutdown: CancellationToken,
}

impl Drop for PosApi {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl PosApi {
    /// Reads the token and starts serving on `config.listen`. Must be
    /// called inside the Tokio runtime.
    ///
    /// # Errors
    ///
    /// A message when the token file cannot be used or the address is
    /// taken.
    pub fn start(config: &PosApiConfig, terminal: Terminal) -> Result<PosApi, String> {
        let token = read_token(&config.token_file)?;
        let listener = http::listen(config.listen)
            .map_err(|e| format!("POS API: cannot listen on {}: {e}", config.listen))?;
        let shutdown = CancellationToken::new();
        let api = Arc::new(Api {
            terminal,
            token,
            origins: config.allowed_origins.clone(),
            clients: Arc::new(Semaphore::new(MAX_CLIENTS)),
            checkouts: Mutex::default(),
            next_client: AtomicU64::new(1),
            shutdown: shutdown.clone(),
        });
        let app = Router::new().route("/v1", get(connect)).with_state(api);
        let site = Arc::new(http::Site {
            name: "POS API",
            other_hosts: " (the POS API answers loopback names only)",
            listen: config.listen,
            hosts: AllowedHost::defaults(config.listen),
        });
        info!("POS API on ws://{}/v1", config.listen);
        tokio::spawn(http::run(listener, app, site, shutdown.clone()));
        Ok(PosApi { shutdown })
    }
}

/// The token in `path`: at least 16 printable ASCII characters, in a file
/// that not every user can read (`kassad --check-config` checks it too).
///
/// # Errors
///
/// A message naming the file and what is wrong with it.
pub fn read_token(path: &std::path::Path) -> Result<String, String> {
    use std::os::unix::fs::PermissionsExt as _;
    let shown = path.display();
    let mode = std::fs::metadata(path)
        .map_err(|e| format!("POS API: cannot read token_file {shown}: {e}"))?
        .permissions()
        .mode();
    if mode & 0o004 != 0 {
        return Err(format!(
            "POS API: token_file {shown} is readable by every user; make it readable by \
             kassad and group kassa only (chmod 0640)"
        ));
    }
    http::token::read(path).map_err(|e| format!("POS API: {e}"))
}

#[derive(Deserialize)]
struct Access {
    token: Option<String>,
}

/// The WebSocket handshake: Origin, then token, then a free place.
async fn connect(
    State(api): State<Arc<Api>>,
    Query(access): Query<Access>,
    headers: HeaderMap,
    mark: Option<axum::Extension<ConnectionMark>>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    if let Some(origin) = headers.get(header::ORIGIN) {
        if !api.origins.iter().any(|o| o.matches(origin.as_bytes())) {
            return refusal(
                StatusCode::FORBIDDEN,
                "kassa POS API: pages from this origin may not use the POS API; add the \
                 page's origin to allowed_origins in [pos_api]\n"
                    .into(),
            );
        }
    }
    if !http::token::presented(&api.token, access.token.as_deref(), &headers) {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "kassa POS API: connect with ?token=… (the token is in the token_file of \
             [pos_api], readable by group kassa)\n"
                .into(),
        );
    }
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            return refusal(
                StatusCode::UPGRADE_REQUIRED,
                format!("kassa POS API: open a WebSocket to /v1 ({rejection})\n"),
            );
        }
    };
    let Ok(place) = api.clients.clone().try_acquire_owned() else {
        return refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("kassa POS API: {MAX_CLIENTS} clients are connected, its cap\n"),
        );
    };
    let hold = mark.map(|axum::Extension(mark)| mark.hold());
    let number = api.next_client.fetch_add(1, Ordering::Relaxed);
    upgrade
        .max_message_size(protocol::MAX_MESSAGE)
        .max_frame_size(protocol::MAX_MESSAGE)
        .max_write_buffer_size(4 * protocol::MAX_MESSAGE)
        .on_upgrade(move |socket| async move {
            client::serve(socket, api, number).await;
            drop(place);
            drop(hold);
        })
        .into_response()
}
