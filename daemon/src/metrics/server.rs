//! `GET /metrics` on loopback, served by kassad's hardened HTTP server
//! ([`crate::http`]): its connection cap, header timeout and `Host` check
//! hold here too, so a local user flooding the endpoint takes no more than
//! it would from the web screen.
//!
//! No token: an exposition holds counts and configured device names, no
//! payment code or order, and every local user may read it, as every
//! local user may read kassad's device properties on the bus.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::exposition::CONTENT_TYPE;
use crate::http::{self, AllowedHost, refusal};

/// Settings of the metrics endpoint (`[metrics]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// A loopback address and port.
    pub listen: SocketAddr,
}

/// What a scrape returns: the exposition, or `None` once kassad is
/// stopping.
pub type Scrape = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// The running endpoint; dropping it stops it.
pub struct MetricsEndpoint {
    shutdown: CancellationToken,
}

impl Drop for MetricsEndpoint {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl MetricsEndpoint {
    /// Starts serving `scrape` at `http://{config.listen}/metrics`. Must be
    /// called inside the Tokio runtime.
    ///
    /// # Errors
    ///
    /// A message when the address cannot be listened on (taken, or not
    /// this machine's).
    pub fn start(config: &MetricsConfig, scrape: Scrape) -> Result<MetricsEndpoint, String> {
        let listener = http::listen(config.listen)
            .map_err(|e| format!("metrics: cannot listen on {}: {e}", config.listen))?;
        let shutdown = CancellationToken::new();
        let app = Router::new()
            .route("/metrics", get(metrics))
            .fallback(not_found)
            .with_state(scrape);
        let site = Arc::new(http::Site {
            name: "metrics",
            other_hosts: " (the metrics answer loopback names only)",
            listen: config.listen,
            hosts: AllowedHost::defaults(config.listen),
        });
        info!("metrics on http://{}/metrics", config.listen);
        tokio::spawn(http::run(listener, app, site, shutdown.clone()));
        Ok(MetricsEndpoint { shutdown })
    }
}

async fn metrics(State(scrape): State<Scrape>) -> Response {
    let Some(text) = scrape() else {
        return refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "kassa metrics: kassad is stopping\n".into(),
        );
    };
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn not_found() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "kassa metrics: the exposition is at /metrics\n".into(),
    )
}
