//! kassa-sample-backend: a stand-in POS platform server on loopback, for the
//! demo and for developing against kassad without a real platform.
//!
//! ```sh
//! kassa-sample-backend --listen 127.0.0.1:8788            # serve
//! kassa-sample-backend bind 134567890123456789 order.json  # bind an order to a code
//! kassa-sample-backend status 134567890123456789 declined  # answer its payment status
//! kassa-sample-backend fault slow:3000                     # delay every answer 3 s
//! ```
//!
//! docs/sample-backend.md has the routes and each command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use kassa_tests::backend::{Fault, Options, SampleBackend};
use serde_json::{Value, json};

/// Binds orders to payment codes and answers kassad's order and payment
/// status queries, on a loopback address; its commands change what a
/// running one answers.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    command: Option<Tool>,
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:8788")]
    listen: SocketAddr,
    /// Bind this order document to every payment code that is queried.
    #[arg(long, value_name = "FILE")]
    auto_bind: Option<PathBuf>,
    /// How long after a code's first query the automatic binding happens.
    #[arg(long, default_value_t = 1500)]
    bind_after_ms: u64,
    /// Mark payments paid this long after their order was first returned.
    #[arg(long)]
    auto_pay_after_ms: Option<u64>,
    /// Require this bearer token.
    #[arg(long)]
    token: Option<String>,
    /// Misbehave from the start: failing (HTTP 500), malformed, wrong-type
    /// or slow:MS.
    #[arg(long, default_value = "none")]
    fault: String,
}

/// Commands to a running sample backend.
#[derive(Subcommand)]
enum Tool {
    /// Bind an order document to a payment code, as the POS's server does
    /// when the cashier rings up the sale.
    Bind {
        /// The payment code (10 to 32 digits).
        code: String,
        /// The order document (JSON; docs/order-schema.md).
        order: PathBuf,
        #[command(flatten)]
        to: Target,
    },
    /// Set a code's payment status: paid, declined, failed or cancelled.
    Status {
        /// The payment code.
        code: String,
        /// paid, declined (failed, "Card declined"), failed or cancelled.
        status: String,
        /// What the customer is told.
        message: Option<String>,
        #[command(flatten)]
        to: Target,
    },
    /// Make every order and status answer misbehave: none, failing (HTTP
    /// 500), malformed, wrong-type or slow:MS.
    Fault {
        /// What to do.
        fault: String,
        #[command(flatten)]
        to: Target,
    },
}

#[derive(clap::Args)]
struct Target {
    /// The running sample backend.
    #[arg(long, default_value = "http://127.0.0.1:8788")]
    url: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    match args.command {
        None => serve(args).await,
        Some(Tool::Bind { code, order, to }) => {
            let order: Value = read_json(&order)?;
            post(&to, "/bind", json!({"code": code, "order": order})).await
        }
        Some(Tool::Status {
            code,
            status,
            message,
            to,
        }) => {
            let (status, default) = match status.as_str() {
                "paid" => ("paid", "Thank you"),
                "declined" => ("failed", "Card declined"),
                "failed" => ("failed", "Payment failed"),
                "cancelled" => ("cancelled", "Payment cancelled"),
                other => {
                    return Err(format!(
                        "status {other:?}: paid, declined, failed or cancelled"
                    ));
                }
            };
            let message = message.unwrap_or_else(|| default.to_string());
            let path = format!("/payments/{code}/status");
            post(&to, &path, json!({"status": status, "message": message})).await
        }
        Some(Tool::Fault { fault, to }) => {
            Fault::parse(&fault)?;
            post(&to, "/fault", json!({ "fault": fault })).await
        }
    }
}

async fn serve(args: Args) -> Result<(), String> {
    let auto_bind = args.auto_bind.as_deref().map(read_json).transpose()?;
    let fault = Fault::parse(&args.fault)?;
    let options = Options {
        auto_bind,
        bind_after: Duration::from_millis(args.bind_after_ms),
        auto_pay_after: args.auto_pay_after_ms.map(Duration::from_millis),
        token: args.token,
    };
    let backend = SampleBackend::start_at(args.listen, options)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    backend.set_fault(fault);
    println!("kassa-sample-backend listening on {}", backend.url());
    let _ = tokio::signal::ctrl_c().await;
    Ok(())
}

fn read_json(path: &std::path::Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// POSTs `body` to the running backend at `to`, and says what it answered.
async fn post(to: &Target, path: &str, body: Value) -> Result<(), String> {
    let url = format!("{}{path}", to.url.trim_end_matches('/'));
    // reqwest's TLS wants a process-wide provider, even for http:// URLs.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let answer = reqwest::Client::new()
        .post(&url)
        .json(&body)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| format!("{url}: {e} (is kassa-sample-backend running there?)"))?;
    let status = answer.status();
    if status.is_success() {
        println!("POST {url}: {status}");
        Ok(())
    } else {
        let text = answer.text().await.unwrap_or_default();
        Err(format!("{url}: {status} {text}"))
    }
}
