//! [`HttpBackend`]: the backend over HTTP(S), as `[backend]` in the config
//! describes it.
//!
//! `200` with an order document means bound; `404` means not bound yet, so
//! the client polls with backoff until the caller's deadline; anything else
//! is an error naming the status. Every request is bounded by the request
//! timeout and by what is left of the deadline.

use std::time::Duration;

use kassa_hal::order::MAX_DOCUMENT_BYTES;
use kassa_hal::{Order, PaymentCode, PaymentStatus};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use tokio::time::Instant;
use tracing::debug;

use super::{Answer, Backend, BackendError, PaymentOutcome};
use crate::config::{BackendConfig, Method};

/// What one request came to.
enum Reply {
    /// 200 with a JSON body.
    Json(Vec<u8>),
    /// 404.
    NotFound,
}

/// A configured backend over HTTP(S).
#[derive(Debug, Clone)]
pub struct HttpBackend {
    client: reqwest::Client,
    config: BackendConfig,
    authorization: Option<HeaderValue>,
}

impl HttpBackend {
    /// A client for `config`; reads the token file.
    ///
    /// # Errors
    ///
    /// A message naming the token file or the TLS set-up that failed.
    pub fn new(config: BackendConfig) -> Result<HttpBackend, String> {
        // One process-wide crypto provider for rustls; a second call finds it
        // installed already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let authorization = match &config.token_file {
            Some(path) => {
                let token = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read token_file {}: {e}", path.display()))?;
                let token = token.trim();
                if token.is_empty() {
                    return Err(format!("token_file {} is empty", path.display()));
                }
                let mut value =
                    HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                        format!(
                            "token_file {}: the token is not a valid header value",
                            path.display()
                        )
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let mut builder = reqwest::Client::builder();
        if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read ca_file {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .ok()
                .filter(|certs| !certs.is_empty())
                .ok_or_else(|| format!("ca_file {}: no PEM certificate in it", path.display()))?;
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .user_agent(concat!("kassad/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            // The URLs carry payment codes and the requests the bearer
            // token: never to a proxy named by kassad's environment.
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(HttpBackend {
            client,
            config,
            authorization,
        })
    }

    /// Posts a face picture (JPEG) to the face authentication URL; the
    /// backend answers `200` with `{"payment_code": "…"}` for a face it
    /// knows, `404` for one it does not.
    ///
    /// # Errors
    ///
    /// [`BackendError`]: `Status(404)` for an unknown face, `Malformed` for
    /// an answer without a valid payment code, and the transport errors.
    async fn post_face(&self, jpeg: Vec<u8>) -> Result<PaymentCode, BackendError> {
        let Some(url) = &self.config.face_auth_url else {
            return Err(BackendError::Malformed(
                "no face_auth_url configured".into(),
            ));
        };
        let request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "image/jpeg")
            .body(jpeg);
        let deadline = Instant::now() + self.config.request_timeout;
        match self.send(request, deadline).await? {
            Some(Reply::Json(body)) => parse_face_answer(&body),
            Some(Reply::NotFound) => Err(BackendError::Status(404)),
            None => Err(BackendError::NoAnswer(self.config.request_timeout)),
        }
    }

    /// Polls the order query until the backend returns the order bound to
    /// `code` or `deadline` passes.
    ///
    /// # Errors
    ///
    /// [`BackendError::NotBound`] at the deadline; the others as they occur.
    async fn poll_order(
        &self,
        code: &PaymentCode,
        deadline: Instant,
    ) -> Result<Order, BackendError> {
        let started = Instant::now();
        let url = self.config.order_query_url.replace("{code}", code.as_str());
        let mut wait = self.config.poll_interval;
        loop {
            let request = match self.config.order_query_method {
                Method::Get => self.client.get(&url),
                Method::Post => self
                    .client
                    .post(&url)
                    .json(&serde_json::json!({ "payment_code": code.as_str() })),
            };
            match self.send(request, deadline).await? {
                Some(Reply::Json(body)) => {
                    let text = std::str::from_utf8(&body)
                        .map_err(|_| BackendError::Malformed("order is not UTF-8".into()))?;
                    return Order::from_json(text)
                        .map_err(|e| BackendError::Malformed(format!("order rejected: {e}")));
                }
                Some(Reply::NotFound) => debug!("order for {} not bound yet", code.masked()),
                None => return Err(BackendError::NotBound(started.elapsed())),
            }
            if !sleep_before(deadline, wait).await {
                return Err(BackendError::NotBound(started.elapsed()));
            }
            wait = (wait * 2).min(self.config.poll_max);
        }
    }

    /// Polls the payment status URL until the payment is final or `deadline`
    /// passes. `404` and `"pending"` mean not yet.
    ///
    /// # Errors
    ///
    /// [`BackendError::NotBound`] at the deadline; the others as they occur.
    async fn poll_outcome(
        &self,
        code: &PaymentCode,
        order_id: &str,
        deadline: Instant,
    ) -> Result<PaymentOutcome, BackendError> {
        let started = Instant::now();
        let Some(template) = &self.config.payment_status_url else {
            return Err(BackendError::Unreachable(
                "no payment_status_url configured".into(),
            ));
        };
        let order_id: String = url::form_urlencoded::byte_serialize(order_id.as_bytes()).collect();
        let url = template
            .replace("{code}", code.as_str())
            .replace("{order_id}", &order_id);
        let mut wait = self.config.poll_interval;
        loop {
            match self.send(self.client.get(&url), deadline).await? {
                Some(Reply::Json(body)) => {
                    if let Some(outcome) = parse_status(&body)? {
                        return Ok(outcome);
                    }
                }
                Some(Reply::NotFound) => {}
                None => return Err(BackendError::NotBound(started.elapsed())),
            }
            if !sleep_before(deadline, wait).await {
                return Err(BackendError::NotBound(started.elapsed()));
            }
            wait = (wait * 2).min(self.config.poll_max);
        }
    }

    /// Sends one request within the request timeout and the deadline.
    /// `Ok(None)`: the deadline passed first.
    async fn send(
        &self,
        mut request: reqwest::RequestBuilder,
        deadline: Instant,
    ) -> Result<Option<Reply>, BackendError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let limit = self.config.request_timeout.min(left);
        if let Some(auth) = &self.authorization {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        let exchange = async {
            let response = request.send().await.map_err(describe)?;
            let status = response.status().as_u16();
            match status {
                200 => {}
                404 => return Ok(Reply::NotFound),
                other => return Err(BackendError::Status(other)),
            }
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            let essence = content_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(BackendError::Malformed(format!(
                    "content type {:?}, expected application/json",
                    if essence.is_empty() {
                        "none"
                    } else {
                        essence.as_str()
                    }
                )));
            }
            read_limited(response).await.map(Reply::Json)
        };
        match tokio::time::timeout(limit, exchange).await {
            Ok(answer) => answer.map(Some),
            Err(_) if limit < self.config.request_timeout => Ok(None),
            Err(_) => Err(BackendError::NoAnswer(limit)),
        }
    }
}

impl Backend for HttpBackend {
    fn query_order<'a>(&'a self, code: &'a PaymentCode, deadline: Instant) -> Answer<'a, Order> {
        Box::pin(self.poll_order(code, deadline))
    }

    fn has_payment_status(&self) -> bool {
        self.config.payment_status_url.is_some()
    }

    fn payment_outcome<'a>(
        &'a self,
        code: &'a PaymentCode,
        order_id: &'a str,
        deadline: Instant,
    ) -> Answer<'a, PaymentOutcome> {
        Box::pin(self.poll_outcome(code, order_id, deadline))
    }

    fn has_face_auth(&self) -> bool {
        self.config.face_auth_url.is_some()
    }

    fn face_auth(&self, jpeg: Vec<u8>) -> Answer<'_, PaymentCode> {
        Box::pin(self.post_face(jpeg))
    }
}

/// Sleeps `wait`, or until just before the deadline; false when no time is
/// left for another request.
async fn sleep_before(deadline: Instant, wait: Duration) -> bool {
    let now = Instant::now();
    if now >= deadline {
        return false;
    }
    tokio::time::sleep_until((now + wait).min(deadline)).await;
    Instant::now() < deadline
}

/// The error and its causes, without the URL: the URL holds the payment
/// code, and this message reaches logs.
fn describe(e: reqwest::Error) -> BackendError {
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(inner) = source {
        message = format!("{message}: {inner}");
        source = inner.source();
    }
    BackendError::Unreachable(message)
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, BackendError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(describe)? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err(BackendError::Malformed(format!(
                "body larger than {MAX_DOCUMENT_BYTES} bytes"
            )));
        }
    }
    Ok(body)
}

/// The face authentication answer: `{"payment_code": "…"}`. Public so that
/// the fuzz target reaches it without a server.
///
/// # Errors
///
/// [`BackendError::Malformed`] for anything but an object whose
/// `payment_code` is a valid payment code.
pub fn parse_face_answer(body: &[u8]) -> Result<PaymentCode, BackendError> {
    #[derive(serde::Deserialize)]
    struct FaceAnswer {
        payment_code: String,
    }
    let answer: FaceAnswer = serde_json::from_slice(body)
        .map_err(|e| BackendError::Malformed(format!("face answer: {e}")))?;
    PaymentCode::parse(answer.payment_code.as_bytes())
        .map_err(|e| BackendError::Malformed(format!("face answer: payment_code: {e}")))
}

/// The payment status answer: `{"status": "paid" | "failed" | "cancelled" |
/// "pending", "message": "…"}`; `None` while pending. Public so that the
/// fuzz target reaches it without a server.
///
/// # Errors
///
/// [`BackendError::Malformed`] for anything but an object with one of
/// those statuses.
pub fn parse_status(body: &[u8]) -> Result<Option<PaymentOutcome>, BackendError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| BackendError::Malformed(format!("payment status is not JSON: {e}")))?;
    let status = value
        .get("status")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| BackendError::Malformed("payment status has no \"status\" string".into()))?;
    let message = value
        .get("message")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .chars()
        .filter(|c| !kassa_hal::order::is_forbidden_char(*c))
        .take(200)
        .collect();
    if status == "pending" {
        return Ok(None);
    }
    let status = PaymentStatus::from_name(status).ok_or_else(|| {
        BackendError::Malformed(format!(
            "payment status {} is not pending, paid, failed or cancelled",
            crate::text::quote(status)
        ))
    })?;
    Ok(Some(PaymentOutcome { status, message }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_status_documents() {
        assert_eq!(parse_status(br#"{"status":"pending"}"#), Ok(None));
        assert_eq!(
            parse_status(br#"{"status":"paid","message":"Thank you\u0007"}"#),
            Ok(Some(PaymentOutcome {
                status: PaymentStatus::Paid,
                message: "Thank you".into()
            }))
        );
        assert!(matches!(
            parse_status(br#"{"status":"done"}"#),
            Err(BackendError::Malformed(_))
        ));
        assert!(matches!(
            parse_status(b"<html>"),
            Err(BackendError::Malformed(_))
        ));
    }

    #[test]
    fn an_unusable_ca_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("ca.pem");
        std::fs::write(&garbage, "not a certificate\n").unwrap();
        let config = |ca_file| BackendConfig {
            order_query_url: "https://pos.example/orders/{code}".into(),
            order_query_method: crate::config::Method::Get,
            payment_status_url: None,
            face_auth_url: None,
            token_file: None,
            ca_file,
            request_timeout: Duration::from_secs(1),
            poll_interval: Duration::from_millis(250),
            poll_max: Duration::from_secs(1),
        };
        let e = HttpBackend::new(config(Some(garbage.clone())))
            .err()
            .unwrap();
        assert!(
            e.contains("no PEM certificate") && e.contains("ca.pem"),
            "{e}"
        );
        let e = HttpBackend::new(config(Some(dir.path().join("missing.pem"))))
            .err()
            .unwrap();
        assert!(e.starts_with("cannot read ca_file"), "{e}");
    }
}
