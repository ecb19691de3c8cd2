//! The web second screen: an HTTP server inside kassad that serves one
//! read-only page for a kiosk browser and pushes every view to it as a
//! server-sent event.
//!
//! The page, its script and style, the logo and every QR code come from
//! kassad itself, so the screen works with no internet. A page that loads
//! mid-checkout is sent the current view first. Bound beyond loopback, the
//! server wants an access token (`?token=` in the kiosk's URL).
//!
//! Any local user can reach the screen, so it runs on [`crate::http`]'s
//! server: it answers only its own `Host` names and keeps its connections,
//! streams and timeouts within fixed bounds; whatever it is sent, the rest
//! of kassad keeps its descriptors.

mod language;
mod model;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{Stream, StreamExt};
use kassa_hal::View;
use serde::Deserialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::http::{self as server, AllowedHost};
pub use language::{Language, Languages};
pub use model::{Branding, qr_svg, view_json, view_json_in};
pub use server::{
    HEADER_READ_TIMEOUT, MAX_CONNECTIONS, MAX_EVENT_STREAMS, MAX_REQUEST_HEAD, MAX_REQUEST_HEADERS,
    WRITE_STALL_TIMEOUT,
};

/// Settings of a web screen.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// File holding the access token; required beyond loopback.
    pub token_file: Option<PathBuf>,
    /// Merchant name on the idle screen.
    pub merchant: String,
    /// PNG, JPEG, SVG or WebP shown on the idle screen.
    pub logo: Option<PathBuf>,
    /// Names the screen answers to besides its listen address and the
    /// loopback names (`allowed_hosts`).
    pub allowed_hosts: Vec<AllowedHost>,
    /// The languages of the fixed strings and amounts (`language`).
    pub languages: Languages,
}

/// Largest logo file served.
const MAX_LOGO: u64 = 2 * 1024 * 1024;

const PAGE: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/screen.js");
const STYLE: &str = include_str!("assets/screen.css");

/// What the server shares with the display worker.
struct Screen {
    /// The page, in the screen's languages.
    page: String,
    /// The current view as JSON.
    view: watch::Sender<Arc<str>>,
    token: Option<String>,
    logo: Option<(Vec<u8>, &'static str)>,
    /// The event streams open, capped.
    streams: Arc<server::EventStreams>,
    shutdown: CancellationToken,
}

/// A web screen's error.
#[derive(Debug)]
pub enum Error {
    /// The token or logo file cannot be used.
    File(String),
    /// The listen address cannot be taken.
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
    /// The server stopped.
    Stopped,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::File(e) => f.write_str(e),
            Error::Listen { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            Error::Stopped => f.write_str("the web server stopped"),
        }
    }
}

impl std::error::Error for Error {}

impl kassa_hal::Error for Error {
    fn kind(&self) -> kassa_hal::ErrorKind {
        match self {
            Error::Listen { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse => {
                kassa_hal::ErrorKind::Busy
            }
            Error::Stopped => kassa_hal::ErrorKind::Disconnected,
            _ => kassa_hal::ErrorKind::Other,
        }
    }
}

/// The web screen as its display worker drives it: a server, and the view
/// it sends to every page.
pub struct WebScreen {
    config: WebConfig,
    server: tokio::task::JoinHandle<()>,
    screen: Arc<Screen>,
    seq: u64,
    /// Ends the server and every open event stream.
    shutdown: CancellationToken,
}

fn branding(config: &WebConfig) -> Branding {
    Branding {
        merchant: config.merchant.clone(),
        logo: config.logo.is_some(),
    }
}

impl Drop for WebScreen {
    fn drop(&mut self) {
        // Pages see their stream end and reconnect to whoever listens next.
        self.shutdown.cancel();
        // Aborting the accept loop frees the port at once; connections
        // already open see the cancellation and close within a second.
        self.server.abort();
    }
}

fn read_logo(path: &Path) -> Result<(Vec<u8>, &'static str), String> {
    let kind = match path.extension().and_then(|e| e.to_str()) {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("svg") => "image/svg+xml",
        Some("webp") => "image/webp",
        _ => {
            return Err(format!(
                "logo {}: use a .png, .jpg, .svg or .webp file",
                path.display()
            ));
        }
    };
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read logo {}: {e}", path.display()))?
        .len();
    if size > MAX_LOGO {
        return Err(format!("logo {}: larger than 2 MiB", path.display()));
    }
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read logo {}: {e}", path.display()))?;
    Ok((bytes, kind))
}

impl WebScreen {
    /// Starts the screen's server on `runtime`.
    ///
    /// # Errors
    ///
    /// The token or logo file cannot be used, or the address is taken.
    pub fn start(config: &WebConfig, runtime: &tokio::runtime::Handle) -> Result<WebScreen, Error> {
        let token = config
            .token_file
            .as_deref()
            .map(server::token::read)
            .transpose()
            .map_err(Error::File)?;
        let logo = config
            .logo
            .as_deref()
            .map(read_logo)
            .transpose()
            .map_err(Error::File)?;
        let _runtime = runtime.enter();
        let listener = server::listen(config.listen).map_err(|source| Error::Listen {
            addr: config.listen,
            source,
        })?;
        let current = Arc::from(
            view_json_in(&View::Idle, &branding(config), &config.languages, 0).to_string(),
        );
        let shutdown = CancellationToken::new();
        let streams = Arc::new(server::EventStreams::default());
        let screen = Arc::new(Screen {
            page: page(&config.languages),
            view: watch::Sender::new(current),
            token,
            logo,
            streams,
            shutdown: shutdown.clone(),
        });
        // The page, its events and the logo want the token; the script and
        // style hold nothing of the till's.
        let guarded = Router::new()
            .route("/", get(page_file))
            .route("/events", get(events))
            .route("/logo", get(logo_file))
            .route_layer(axum::middleware::from_fn_with_state(screen.clone(), guard));
        let app = guarded
            .route(
                "/screen.js",
                get(|| asset(SCRIPT, "text/javascript; charset=utf-8")),
            )
            .route(
                "/screen.css",
                get(|| asset(STYLE, "text/css; charset=utf-8")),
            )
            .with_state(screen.clone());
        let mut hosts = AllowedHost::defaults(config.listen);
        hosts.extend(config.allowed_hosts.iter().cloned());
        let site = Arc::new(server::Site {
            name: "web screen",
            other_hosts: " (other names go in the display's allowed_hosts)",
            listen: config.listen,
            hosts,
        });
        info!("web screen on http://{}/", config.listen);
        let server = runtime.spawn(server::run(listener, app, site, shutdown.clone()));
        Ok(WebScreen {
            config: config.clone(),
            server,
            screen,
            seq: 0,
            shutdown,
        })
    }
}

impl kassa_hal::ErrorType for WebScreen {
    type Error = Error;
}

impl kassa_hal::blocking::CustomerDisplay for WebScreen {
    fn capabilities(&self) -> kassa_hal::Capabilities {
        kassa_hal::Capabilities {
            lines: u8::MAX,
            columns: u8::MAX,
            graphics: true,
            qr: true,
            colour: true,
            charset: kassa_hal::Charset::Unicode,
        }
    }

    fn show(&mut self, view: &View) -> Result<(), Error> {
        if self.server.is_finished() {
            return Err(Error::Stopped);
        }
        self.seq += 1;
        let doc = view_json_in(
            view,
            &branding(&self.config),
            &self.config.languages,
            self.seq,
        )
        .to_string();
        self.screen.view.send_replace(Arc::from(doc));
        Ok(())
    }
}

#[derive(Deserialize)]
struct Access {
    token: Option<String>,
}

/// Lets a request through if the screen has no token, or the request
/// carries it (`?token=` or `Authorization: Bearer`).
async fn guard(
    State(screen): State<Arc<Screen>>,
    Query(access): Query<Access>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(token) = &screen.token {
        if !server::token::presented(token, access.token.as_deref(), request.headers()) {
            return denied();
        }
    }
    next.run(request).await
}

fn denied() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        "kassa web screen: open the URL with ?token=… (the token is in the display's token_file)\n",
    )
        .into_response()
}

/// Headers every response carries: nothing cached, nothing from elsewhere,
/// the token never sent on as a referrer.
fn hardened(mut response: Response, content_type: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn asset(body: &'static str, content_type: &'static str) -> Response {
    hardened(body.into_response(), content_type)
}

/// The page with its languages filled in: the `lang` attribute, and the
/// strings as a JSON data block (not a script: the page's CSP runs none
/// inline) that cannot close its element.
fn page(languages: &Languages) -> String {
    PAGE.replace("{{lang}}", languages.first.tag()).replace(
        "{{strings}}",
        &language::json_for_html(&languages.page_strings()),
    )
}

async fn page_file(State(screen): State<Arc<Screen>>) -> Response {
    hardened(
        screen.page.clone().into_response(),
        "text/html; charset=utf-8",
    )
}

async fn logo_file(State(screen): State<Arc<Screen>>) -> Response {
    match &screen.logo {
        Some((bytes, kind)) => hardened(bytes.clone().into_response(), kind),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn events(State(screen): State<Arc<Screen>>, request: Request) -> Response {
    // Over the cap, this stream ends the oldest one.
    let slot = screen.streams.open(
        request
            .extensions()
            .get::<server::ConnectionMark>()
            .cloned(),
    );
    let replaced = slot.ended();
    let stopped = screen.shutdown.clone().cancelled_owned();
    let views = view_stream(screen.view.subscribe(), slot).take_until(async move {
        tokio::select! {
            () = replaced => {}
            () = stopped => {}
        }
    });
    let mut response = Sse::new(views)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The current view, then every new one; a slow page skips to the newest.
/// The stream holds its `slot` until it is dropped.
fn view_stream(
    rx: watch::Receiver<Arc<str>>,
    slot: server::StreamSlot,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    futures_util::stream::unfold((rx, true, slot), |(mut rx, first, slot)| async move {
        if !first && rx.changed().await.is_err() {
            return None;
        }
        let doc = rx.borrow_and_update().clone();
        let mut event = Event::default().event("view").data(&*doc);
        if first {
            event = event.retry(Duration::from_secs(1));
        }
        Some((Ok(event), (rx, false, slot)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_carries_its_languages() {
        let page = page(&Languages {
            first: Language::Ja,
            second: Some(Language::En),
        });
        assert!(page.contains("<html lang=\"ja\">"), "{page}");
        assert!(!page.contains("{{"), "{page}");
        let start = page.find("type=\"application/json\">").unwrap() + 24;
        let end = start + page[start..].find("</script>").unwrap();
        let strings: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
        assert_eq!(strings["t"]["welcome"][0], "いらっしゃいませ");
        assert_eq!(strings["t"]["welcome"][1], "Welcome");
        assert_eq!(strings["second"], "en");
        // As it always was, unless configured.
        let page = super::page(&Languages::default());
        assert!(page.contains("<html lang=\"en\">"));
        assert!(page.contains("扫码支付"));
    }
}
