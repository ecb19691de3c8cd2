//! kassad's POS API from the outside: its configuration, a WebSocket
//! client that speaks its messages, and a web server for POS pages.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The token the tests' kassad wants.
pub const TOKEN: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// Writes [`TOKEN`] to `dir/pos-api.token`, readable by its owner only.
pub fn token_file(dir: &Path) -> PathBuf {
    let path = dir.join("pos-api.token");
    std::fs::write(&path, format!("{TOKEN}\n")).expect("token file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

/// A `[pos_api]` section on `port` with `token_file`, allowing `origins`.
pub fn section(port: u16, token_file: &Path, origins: &[&str]) -> String {
    let origins: Vec<String> = origins.iter().map(|o| format!("{o:?}")).collect();
    format!(
        "\n[pos_api]\nlisten = \"127.0.0.1:{port}\"\ntoken_file = \"{}\"\nallowed_origins = [{}]\n",
        token_file.display(),
        origins.join(", ")
    )
}

/// An error kassad answered: its name and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// `org.kassa.Error.*`.
    pub name: String,
    /// What went wrong.
    pub message: String,
}

/// A client of the POS API: calls in order, events kept until asked for.
pub struct Client {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next: u64,
    events: VecDeque<Value>,
}

impl Client {
    /// Connects to `ws://addr/v1` with `token`, sending `origin` as a
    /// browser would. `Err` holds the HTTP status of a refusal.
    pub async fn connect(
        addr: SocketAddr,
        token: &str,
        origin: Option<&str>,
    ) -> Result<Client, u16> {
        let mut request = format!("ws://{addr}/v1?token={token}")
            .into_client_request()
            .expect("a request");
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("Origin", origin.parse().expect("an origin header"));
        }
        // Without Nagle's delay, as browsers open theirs.
        match tokio_tungstenite::connect_async_with_config(request, None, true).await {
            Ok((socket, _)) => Ok(Client {
                socket,
                next: 1,
                events: VecDeque::new(),
            }),
            Err(WsError::Http(response)) => Err(response.status().as_u16()),
            Err(e) => panic!("connecting to the POS API: {e}"),
        }
    }

    /// Sends a raw text message.
    pub async fn send_text(&mut self, text: String) {
        self.socket
            .send(Message::Text(text.into()))
            .await
            .expect("send");
    }

    /// The next message, `None` once the socket is closed.
    pub async fn receive(&mut self) -> Option<Value> {
        loop {
            match tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("a message within 10 s")
            {
                Some(Ok(Message::Text(text))) => {
                    return Some(serde_json::from_str(text.as_str()).expect("JSON from kassad"));
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => return None,
                Some(Ok(_)) => {}
            }
        }
    }

    /// Calls `method`; events that arrive meanwhile are kept.
    pub async fn call(&mut self, method: &str, params: Value) -> Result<Value, Answered> {
        let id = self.next;
        self.next += 1;
        self.send_text(json!({ "id": id, "method": method, "params": params }).to_string())
            .await;
        loop {
            let message = self
                .receive()
                .await
                .expect("an answer before the socket closed");
            if message.get("event").is_some() {
                self.events.push_back(message);
            } else if message["id"] == id {
                return match message.get("error") {
                    Some(error) => Err(Answered {
                        name: error["name"].as_str().unwrap_or_default().to_string(),
                        message: error["message"].as_str().unwrap_or_default().to_string(),
                    }),
                    None => Ok(message["result"].clone()),
                };
            }
        }
    }

    /// The next event named `name`, skipping others.
    pub async fn event(&mut self, name: &str) -> Value {
        loop {
            let event = match self.events.pop_front() {
                Some(event) => event,
                None => self
                    .receive()
                    .await
                    .expect("an event before the socket closed"),
            };
            if event["event"] == name {
                return event;
            }
        }
    }

    /// Every event received so far, and any that arrive within `wait`.
    pub async fn events_within(&mut self, wait: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some(Ok(message))) =
            tokio::time::timeout_at(deadline, self.socket.next()).await
        {
            if let Message::Text(text) = message {
                self.events
                    .push_back(serde_json::from_str(text.as_str()).expect("JSON from kassad"));
            }
        }
        self.events.drain(..).collect()
    }

    /// Closes the socket, as a tab that is closed does.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// A web server for POS pages: `/` is `page`, `/kassa.mjs` the client
/// module as the project ships it.
pub struct PageServer {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl PageServer {
    /// Serves `page` on a free loopback port.
    pub async fn start(page: String) -> PageServer {
        let module =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../js/kassa.mjs"))
                .expect("js/kassa.mjs");
        let app = axum::Router::new()
            .route(
                "/",
                axum::routing::get(move || async move {
                    ([("content-type", "text/html; charset=utf-8")], page)
                }),
            )
            .route(
                "/kassa.mjs",
                axum::routing::get(move || async move {
                    ([("content-type", "text/javascript; charset=utf-8")], module)
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("its address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        PageServer { addr, task }
    }

    /// Its origin, as a browser names it.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
