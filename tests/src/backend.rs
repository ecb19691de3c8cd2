//! The sample backend: a small stand-in for a POS platform server, on
//! loopback only. The demo runs it as `kassa-sample-backend`; the tests
//! start it in-process and inject faults.
//!
//! | request | answer |
//! |---|---|
//! | `POST /bind` `{"code": "…", "order": {…}}` | binds an order to a payment code (what the POS's server does) |
//! | `GET /orders?payment_code=CODE` | `200` + the bound order, or `404` while unbound |
//! | `POST /orders` `{"payment_code": "…"}` | the same, for `order_query_method = "POST"` (the query string is ignored) |
//! | `GET /payments/CODE/status` | `{"status": "pending"\|"paid"\|"failed"\|"cancelled", "message": "…"}` |
//! | `POST /payments/CODE/status` `{"status": …, "message": …}` | sets it |
//! | `POST /fault` `{"fault": "none"\|"failing"\|"malformed"\|"slow:MS"}` | makes every order and status answer misbehave |

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// A misbehaviour of the order and payment status routes, for tests and
/// for developers trying their error handling.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Fault {
    /// Behave.
    #[default]
    None,
    /// Answer `500`.
    ServerError,
    /// Answer `200` with a body that is not JSON.
    Malformed,
    /// Answer `200` with the order as `text/html`.
    WrongContentType,
    /// Wait this long before answering.
    Slow(Duration),
}

impl Fault {
    /// Reads `none`, `failing` (500), `malformed`, `wrong-type` or
    /// `slow:MS`.
    ///
    /// # Errors
    ///
    /// A message naming the forms it takes.
    pub fn parse(text: &str) -> Result<Fault, String> {
        match text {
            "none" => Ok(Fault::None),
            "failing" => Ok(Fault::ServerError),
            "malformed" => Ok(Fault::Malformed),
            "wrong-type" => Ok(Fault::WrongContentType),
            _ => text
                .strip_prefix("slow:")
                .and_then(|ms| ms.parse::<u64>().ok())
                .filter(|ms| *ms <= 600_000)
                .map(|ms| Fault::Slow(Duration::from_millis(ms)))
                .ok_or_else(|| {
                    format!(
                        "fault {text:?}: none, failing, malformed, wrong-type or slow:MS \
                         (up to 600000)"
                    )
                }),
        }
    }
}

/// How the backend behaves on its own (for the demo).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Bind this order to any code queried, `bind_after` after its first query.
    pub auto_bind: Option<Value>,
    /// Delay of `auto_bind`.
    pub bind_after: Duration,
    /// Mark a payment paid this long after its order was first returned.
    pub auto_pay_after: Option<Duration>,
    /// Require `Authorization: Bearer TOKEN`.
    pub token: Option<String>,
}

#[derive(Default)]
struct Inner {
    orders: HashMap<String, Value>,
    statuses: HashMap<String, (String, String)>,
    first_query: HashMap<String, tokio::time::Instant>,
    fault: Fault,
    queries: usize,
    last_authorization: Option<String>,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    options: Arc<Options>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running sample backend; stops when dropped.
pub struct SampleBackend {
    addr: SocketAddr,
    scheme: &'static str,
    shared: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl SampleBackend {
    /// Starts on `127.0.0.1` at a free port.
    ///
    /// # Errors
    ///
    /// When the port cannot be bound.
    pub async fn start(options: Options) -> std::io::Result<SampleBackend> {
        SampleBackend::start_at(
            "127.0.0.1:0".parse().map_err(std::io::Error::other)?,
            options,
        )
        .await
    }

    /// Starts at `addr`, which must be a loopback address.
    ///
    /// # Errors
    ///
    /// When `addr` is not loopback or cannot be bound.
    pub async fn start_at(addr: SocketAddr, options: Options) -> std::io::Result<SampleBackend> {
        SampleBackend::serve(addr, options, None).await
    }

    /// Starts on `127.0.0.1` at a free port, serving HTTPS with the PEM
    /// certificate chain and key given.
    ///
    /// # Errors
    ///
    /// When the certificate or key is unusable or the port cannot be bound.
    pub async fn start_tls(
        options: Options,
        cert_chain_pem: &str,
        key_pem: &str,
    ) -> std::io::Result<SampleBackend> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let _ = rustls::crypto::ring::default_provider().install_default();
        let chain = CertificateDer::pem_slice_iter(cert_chain_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(std::io::Error::other)?;
        let key =
            PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(std::io::Error::other)?;
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(std::io::Error::other)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        SampleBackend::serve(
            "127.0.0.1:0".parse().map_err(std::io::Error::other)?,
            options,
            Some(acceptor),
        )
        .await
    }

    async fn serve(
        addr: SocketAddr,
        options: Options,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> std::io::Result<SampleBackend> {
        if !addr.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the sample backend listens on loopback addresses only",
            ));
        }
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Shared {
            inner: Arc::default(),
            options: Arc::new(options),
        };
        let app = Router::new()
            .route("/bind", post(bind))
            .route("/orders", get(order_by_query).post(order_by_body))
            .route(
                "/payments/{code}/status",
                get(payment_status).post(set_payment_status),
            )
            .route("/fault", post(set_fault))
            .with_state(shared.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let stopped = async {
            let _ = stopped.await;
        };
        match tls {
            None => tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await;
            }),
            Some(acceptor) => tokio::spawn(async move {
                let listener = TlsListener { listener, acceptor };
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await;
            }),
        };
        Ok(SampleBackend {
            addr,
            scheme,
            shared,
            stop: Some(stop),
        })
    }

    /// `http://127.0.0.1:PORT`, or `https://…` when serving TLS.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Binds `order` to `code`.
    pub fn bind(&self, code: &str, order: Value) {
        self.shared.lock().orders.insert(code.into(), order);
    }

    /// Sets the payment status of `code`.
    pub fn set_status(&self, code: &str, status: &str, message: &str) {
        self.shared
            .lock()
            .statuses
            .insert(code.into(), (status.into(), message.into()));
    }

    /// Makes the order routes misbehave.
    pub fn set_fault(&self, fault: Fault) {
        self.shared.lock().fault = fault;
    }

    /// Order queries answered so far.
    pub fn queries(&self) -> usize {
        self.shared.lock().queries
    }

    /// The `Authorization` header of the last order query.
    pub fn last_authorization(&self) -> Option<String> {
        self.shared.lock().last_authorization.clone()
    }
}

impl Drop for SampleBackend {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn is_code(code: &str) -> bool {
    (10..=32).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit())
}

async fn bind(State(shared): State<Shared>, body: axum::Json<Value>) -> StatusCode {
    let (Some(code), Some(order)) = (body.get("code").and_then(Value::as_str), body.get("order"))
    else {
        return StatusCode::BAD_REQUEST;
    };
    if !is_code(code) {
        return StatusCode::BAD_REQUEST;
    }
    shared.lock().orders.insert(code.into(), order.clone());
    StatusCode::NO_CONTENT
}

async fn order_by_query(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let code = query.get("payment_code").cloned().unwrap_or_default();
    answer_order(shared, headers, code).await
}

async fn order_by_body(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> Response {
    let code = body
        .get("payment_code")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    answer_order(shared, headers, code).await
}

async fn answer_order(shared: Shared, headers: HeaderMap, code: String) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let fault = {
        let mut inner = shared.lock();
        inner.queries += 1;
        inner.last_authorization = authorization.clone();
        inner.fault.clone()
    };
    if let Some(token) = &shared.options.token {
        if authorization.as_deref() != Some(&format!("Bearer {token}")) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
    }
    if !is_code(&code) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    match fault {
        Fault::None | Fault::WrongContentType => {}
        Fault::ServerError => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Fault::Malformed => {
            return (
                [(header::CONTENT_TYPE, "application/json")],
                "{\"id\": \"A-1\", \"items\": [",
            )
                .into_response();
        }
        Fault::Slow(delay) => tokio::time::sleep(delay).await,
    }
    let order = {
        let mut inner = shared.lock();
        if !inner.orders.contains_key(&code) {
            if let Some(order) = &shared.options.auto_bind {
                let first = *inner
                    .first_query
                    .entry(code.clone())
                    .or_insert_with(tokio::time::Instant::now);
                if first.elapsed() >= shared.options.bind_after {
                    inner.orders.insert(code.clone(), order.clone());
                }
            }
        }
        inner.orders.get(&code).cloned()
    };
    let Some(order) = order else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(after) = shared.options.auto_pay_after {
        let shared = shared.clone();
        let code = code.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            shared
                .lock()
                .statuses
                .entry(code)
                .or_insert_with(|| ("paid".into(), "Thank you".into()));
        });
    }
    let content_type = if fault == Fault::WrongContentType {
        "text/html"
    } else {
        "application/json"
    };
    ([(header::CONTENT_TYPE, content_type)], order.to_string()).into_response()
}

async fn set_fault(State(shared): State<Shared>, body: axum::Json<Value>) -> Response {
    match body.get("fault").and_then(Value::as_str).map(Fault::parse) {
        Some(Ok(fault)) => {
            shared.lock().fault = fault;
            StatusCode::NO_CONTENT.into_response()
        }
        Some(Err(e)) => (StatusCode::BAD_REQUEST, e).into_response(),
        None => (StatusCode::BAD_REQUEST, "{\"fault\": \"…\"}").into_response(),
    }
}

async fn payment_status(State(shared): State<Shared>, Path(code): Path<String>) -> Response {
    let fault = shared.lock().fault.clone();
    match fault {
        Fault::ServerError => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Fault::Malformed => {
            return (
                [(header::CONTENT_TYPE, "application/json")],
                "{\"status\": ",
            )
                .into_response();
        }
        Fault::Slow(delay) => tokio::time::sleep(delay).await,
        Fault::None | Fault::WrongContentType => {}
    }
    let inner = shared.lock();
    match inner.statuses.get(&code) {
        Some((status, message)) => {
            axum::Json(json!({"status": status, "message": message})).into_response()
        }
        None if inner.orders.contains_key(&code) => {
            axum::Json(json!({"status": "pending"})).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn set_payment_status(
    State(shared): State<Shared>,
    Path(code): Path<String>,
    body: axum::Json<Value>,
) -> StatusCode {
    let Some(status) = body.get("status").and_then(Value::as_str) else {
        return StatusCode::BAD_REQUEST;
    };
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    shared
        .lock()
        .statuses
        .insert(code, (status.into(), message.into()));
    StatusCode::NO_CONTENT
}

/// A TCP listener whose connections are TLS: a client that fails the
/// handshake (an unknown certificate, say) is dropped and the next accepted.
struct TlsListener {
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}
