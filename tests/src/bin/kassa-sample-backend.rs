//! kassa-sample-backend: a stand-in POS platform server on loopback, for the
//! demo and for trying kassad's backend settings.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use kassa_tests::backend::{Options, SampleBackend};

/// Binds orders to payment codes and answers kassad's order and payment
/// status queries, on a loopback address.
#[derive(Parser)]
#[command(version)]
struct Args {
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
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let auto_bind = match &args.auto_bind {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Some(serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let options = Options {
        auto_bind,
        bind_after: Duration::from_millis(args.bind_after_ms),
        auto_pay_after: args.auto_pay_after_ms.map(Duration::from_millis),
        token: args.token,
    };
    let backend = SampleBackend::start_at(args.listen, options)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    println!("kassa-sample-backend listening on {}", backend.url());
    let _ = tokio::signal::ctrl_c().await;
    Ok(())
}
