//! kassad: the kassa device service.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use kassa_daemon::config::{Config, DEFAULT_PATH};
use kassa_daemon::dbus::{Bus, run};
use tracing::{error, warn};

/// Serves point-of-sale scanners and customer displays on D-Bus as
/// org.kassa.Terminal1.
#[derive(Parser)]
#[command(name = "kassad", version)]
pub(crate) struct Args {
    /// Configuration file.
    #[arg(long, default_value = DEFAULT_PATH)]
    config: PathBuf,
    /// Serve on the system bus (the default).
    #[arg(long, conflicts_with_all = ["session", "bus"])]
    system: bool,
    /// Serve on the session bus.
    #[arg(long, conflicts_with = "bus")]
    session: bool,
    /// Serve on the bus at this address (unix:path=/run/…).
    #[arg(long, value_name = "ADDRESS")]
    bus: Option<String>,
    /// Check the configuration and exit.
    #[arg(long)]
    check_config: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    kassa_daemon::logging::init();
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(e) => {
            error!("{e}");
            eprintln!("kassad: {e}");
            return ExitCode::from(78); // EX_CONFIG
        }
    };
    if args.check_config {
        println!("{}: ok", args.config.display());
        return ExitCode::SUCCESS;
    }
    let bus = match (args.bus, args.session) {
        (Some(address), _) => Bus::Address(address),
        (None, true) => Bus::Session,
        (None, false) => Bus::System,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kassad: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let ready = || {
            if let Err(e) = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]) {
                warn!("sd_notify: {e}");
            }
            start_watchdog();
        };
        run(config, bus, ready, shutdown_signal()).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            eprintln!("kassad: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Pings systemd's watchdog at half its interval, from the runtime: a hung
/// runtime stops the pings and systemd restarts kassad.
fn start_watchdog() {
    let mut usec = 0u64;
    if !sd_notify::watchdog_enabled(false, &mut usec) || usec == 0 {
        return;
    }
    let interval = Duration::from_micros(usec / 2);
    let Some(ping) = WatchdogPing::open() else {
        warn!("watchdog: cannot reach NOTIFY_SOCKET; no pings");
        return;
    };
    tokio::spawn(async move {
        loop {
            ping.send();
            tokio::time::sleep(interval).await;
        }
    });
}

/// `WATCHDOG=1` datagrams to systemd, sent without blocking: a notify
/// socket whose queue is full (a manager that does not read) must not
/// stall a runtime thread, or tasks queued on it would never run.
struct WatchdogPing {
    socket: std::os::unix::net::UnixDatagram,
    to: std::os::unix::net::SocketAddr,
}

impl WatchdogPing {
    fn open() -> Option<WatchdogPing> {
        use std::os::linux::net::SocketAddrExt;
        let path = std::env::var_os("NOTIFY_SOCKET")?;
        let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
        let to = match bytes.strip_prefix(b"@") {
            Some(name) => std::os::unix::net::SocketAddr::from_abstract_name(name).ok()?,
            None => std::os::unix::net::SocketAddr::from_pathname(&path).ok()?,
        };
        let socket = std::os::unix::net::UnixDatagram::unbound().ok()?;
        socket.set_nonblocking(true).ok()?;
        Some(WatchdogPing { socket, to })
    }

    fn send(&self) {
        // A ping that does not fit is simply missed; the next one follows.
        let _ = self.socket.send_to_addr(b"WATCHDOG=1", &self.to);
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
}
