//! kassad's life: build the terminal from the config (devices, backend),
//! wait for the devices' first status, serve the bus (and the POS API and
//! the metrics, if configured), wait for the stop, stop the devices. `main` calls [`run`]; so do the tests, on a private
//! bus.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::backend::{Backend, HttpBackend};
use crate::config::Config;
use crate::core::{Parts, Terminal, WeakTerminal};
use crate::dbus::{BUS_NAME, Bus};
use crate::devices::{Devices, ScanSink};
use crate::metrics::{MetricsEndpoint, Scrape};
use crate::pos_api::PosApi;

/// How long kassad waits at start for its devices' first status before it
/// takes its name anyway; a device still silent then reports
/// `still opening` until its worker knows better.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(2);

/// Why kassad could not run.
#[derive(Debug)]
pub enum RunError {
    /// The devices or backend could not be set up.
    Setup(String),
    /// The bus refused us.
    Bus(zbus::Error),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Setup(m) => f.write_str(m),
            RunError::Bus(zbus::Error::NameTaken) => {
                write!(
                    f,
                    "the name {BUS_NAME} is taken: is another kassad running?"
                )
            }
            RunError::Bus(e) => write!(f, "D-Bus: {e}"),
        }
    }
}

impl std::error::Error for RunError {}

impl From<zbus::Error> for RunError {
    fn from(e: zbus::Error) -> Self {
        RunError::Bus(e)
    }
}

/// Serves kassad on `bus` until `shutdown` completes. `ready` is called
/// once the name is owned and every object is served.
///
/// # Errors
///
/// [`RunError`] when the devices, the backend or the bus cannot be set up.
pub async fn run(
    config: Config,
    bus: Bus,
    ready: impl FnOnce(),
    shutdown: impl Future<Output = ()>,
) -> Result<(), RunError> {
    let pos_api_config = config.pos_api.clone();
    let metrics_config = config.metrics.clone();
    let simulator = simulator_allowed(&bus, &config);
    let terminal = start_terminal(config).map_err(RunError::Setup)?;
    // The name is taken (and systemd told we are ready) only once every
    // device has said whether it is there: a POS calling at once must not
    // get NoDevice for a scanner that is plugged in.
    terminal.devices_known(STARTUP_DEADLINE).await;
    let stop = CancellationToken::new();
    let conn = match crate::dbus::serve(&bus, &terminal, simulator, &stop).await {
        Ok(conn) => conn,
        Err(e) => {
            // The devices are running already: stop them before failing.
            stop_devices(&terminal, &stop).await;
            return Err(e.into());
        }
    };
    // The POS API, if configured, is up before systemd hears we are ready.
    let pos_api = match pos_api_config.map(|c| PosApi::start(&c, terminal.clone())) {
        Some(Err(e)) => {
            stop_devices(&terminal, &stop).await;
            return Err(RunError::Setup(e));
        }
        started => started.and_then(Result::ok),
    };
    let metrics = match metrics_config.map(|c| MetricsEndpoint::start(&c, scrape(&terminal))) {
        Some(Err(e)) => {
            drop(pos_api);
            stop_devices(&terminal, &stop).await;
            return Err(RunError::Setup(e));
        }
        started => started.and_then(Result::ok),
    };
    info!(
        "kassad {} serving {BUS_NAME} on {bus:?}",
        env!("CARGO_PKG_VERSION")
    );
    ready();
    shutdown.await;
    info!("kassad stopping");
    // Its clients are told kassad is stopping, and their checkouts end.
    drop(pos_api);
    drop(metrics);
    let _ = conn.release_name(BUS_NAME).await;
    stop_devices(&terminal, &stop).await;
    crate::dbus::withdraw(&conn).await;
    // Calls still running are answered first, but a stop is not held up
    // for longer than systemd would wait.
    if tokio::time::timeout(Duration::from_secs(5), conn.graceful_shutdown())
        .await
        .is_err()
    {
        warn!("stopping with method calls still unanswered");
    }
    Ok(())
}

/// Whether `org.kassa.Simulator1` is served: only where simulated devices
/// may serve, any bus but the system bus, or with `allow_simulated`.
fn simulator_allowed(bus: &Bus, config: &Config) -> bool {
    !matches!(bus, Bus::System) || config.allow_simulated
}

/// What the metrics endpoint serves: the terminal's exposition, while the
/// terminal lives.
fn scrape(terminal: &Terminal) -> Scrape {
    let terminal = terminal.downgrade();
    Arc::new(move || terminal.upgrade().map(|t| t.metrics_text()))
}

/// Starts the devices of `config` and the terminal over them. Must be
/// called inside a tokio runtime.
///
/// # Errors
///
/// A message when the backend cannot be set up (token file, CA file).
pub fn start_terminal(config: Config) -> Result<Terminal, String> {
    let backend = match config.backend {
        Some(c) => Some(Arc::new(HttpBackend::new(c)?) as Arc<dyn Backend>),
        None => None,
    };
    // Scans are routed on the worker's thread, to a terminal that exists
    // only once the devices run: the sink finds it through a weak handle
    // set just after.
    let target: Arc<OnceLock<WeakTerminal>> = Arc::default();
    let sink: ScanSink = {
        let target = target.clone();
        Arc::new(move |routed| {
            if let Some(terminal) = target.get().and_then(WeakTerminal::upgrade) {
                terminal.route(routed);
            }
        })
    };
    let devices = Devices::start(&config.scanners, &config.displays, sink);
    let terminal = Terminal::new(Parts {
        devices,
        checkout: config.checkout,
        channels: config.channels,
        backend,
    });
    let _ = target.set(terminal.downgrade());
    Ok(terminal)
}

/// Ends the bus-side tasks and stops the device workers (off the runtime:
/// it blocks until they have ended).
async fn stop_devices(terminal: &Terminal, stop: &CancellationToken) {
    stop.cancel();
    let devices = terminal.clone();
    if tokio::task::spawn_blocking(move || devices.shutdown())
        .await
        .is_err()
    {
        warn!("stopping the devices failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulator_is_served_only_where_simulated_devices_may_serve() {
        let plain = Config::parse("", "kassa.toml").unwrap();
        let allowed = Config::parse("allow_simulated = true\n", "kassa.toml").unwrap();
        assert!(!simulator_allowed(&Bus::System, &plain));
        assert!(simulator_allowed(&Bus::System, &allowed));
        assert!(simulator_allowed(&Bus::Session, &plain));
        assert!(simulator_allowed(
            &Bus::Address("unix:path=/x".into()),
            &plain
        ));
    }
}
