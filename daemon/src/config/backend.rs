//! The `[backend]` section: the platform server's URLs (HTTPS, or plain
//! HTTP to this machine only) and its timeouts.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::values::ms;

/// How the order query is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET` the URL with `{code}` filled in.
    Get,
    /// `POST` `{"payment_code": "…"}` to the URL.
    Post,
}

/// The backend that binds orders to payment codes.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    /// Order query URL; `{code}` is replaced by the payment code.
    pub order_query_url: String,
    /// GET or POST.
    pub order_query_method: Method,
    /// Payment status URL; `{code}` and `{order_id}` are replaced.
    pub payment_status_url: Option<String>,
    /// Face authentication URL: `CaptureFace` posts the face (JPEG) here
    /// and delivers the payment code it answers as a scan with source
    /// `face`.
    pub face_auth_url: Option<String>,
    /// File holding a bearer token (read at start).
    pub token_file: Option<PathBuf>,
    /// PEM file of CA certificates trusted besides the system's (a
    /// platform server with a private CA).
    pub ca_file: Option<PathBuf>,
    /// Longest single request.
    pub request_timeout: Duration,
    /// First wait between polls; it doubles up to [`BackendConfig::poll_max`].
    pub poll_interval: Duration,
    /// Longest wait between polls.
    pub poll_max: Duration,
}

/// `[backend]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBackend {
    order_query_url: String,
    order_query_method: Option<Method>,
    payment_status_url: Option<String>,
    face_auth_url: Option<String>,
    token_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    request_timeout_ms: Option<u64>,
    poll_interval_ms: Option<u64>,
    poll_max_ms: Option<u64>,
}

/// Checks a backend URL: HTTPS, or plain HTTP to this machine only.
pub fn check_url(key: &str, url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(&url.replace("{code}", "0").replace("{order_id}", "0"))
        .map_err(|e| format!("{key}: {url:?} is not a URL: {e}"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err(format!(
            "{key}: plain http is allowed only to this machine (127.0.0.1, ::1, localhost); use https"
        )),
        other => Err(format!("{key}: scheme {other:?} is not http or https")),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl RawBackend {
    /// The validated section.
    pub(super) fn settings(self) -> Result<BackendConfig, String> {
        let method = self.order_query_method.unwrap_or(Method::Get);
        check_url("order_query_url", &self.order_query_url)?;
        if method == Method::Get && !self.order_query_url.contains("{code}") {
            return Err("order_query_url: a GET query needs a {code} placeholder".into());
        }
        if let Some(url) = &self.payment_status_url {
            check_url("payment_status_url", url)?;
        }
        if let Some(url) = &self.face_auth_url {
            check_url("face_auth_url", url)?;
        }
        let request_timeout = ms(self.request_timeout_ms.unwrap_or(5000));
        let poll_interval = ms(self.poll_interval_ms.unwrap_or(250));
        let poll_max = ms(self.poll_max_ms.unwrap_or(2000));
        if request_timeout.is_zero() || poll_interval.is_zero() || poll_max < poll_interval {
            return Err(
                "timeouts must be positive and poll_max_ms at least poll_interval_ms".into(),
            );
        }
        Ok(BackendConfig {
            order_query_url: self.order_query_url,
            order_query_method: method,
            payment_status_url: self.payment_status_url,
            face_auth_url: self.face_auth_url,
            token_file: self.token_file,
            ca_file: self.ca_file,
            request_timeout,
            poll_interval,
            poll_max,
        })
    }
}
