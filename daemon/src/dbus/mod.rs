//! The D-Bus face of kassad: `org.kassa.Terminal1`, `org.kassa.Checkout1`,
//! `org.kassa.Claim1` and `org.kassa.Device1`, plus the ObjectManager on
//! the root. These types only translate between the bus and
//! [`crate::core::Terminal`]; signals that carry a payment code or a scan go
//! to the owning caller alone.
//!
//! One file per interface, each with the task that serves its object:
//!
//! - `mod.rs` (here): the bus name and root path, [`Bus`], [`RunError`] and
//!   [`run`], kassad's start and stop sequence;
//! - `terminal.rs`: [`TerminalIface`] (`org.kassa.Terminal1` on the root),
//!   and the task sending its `State` changes;
//! - `checkout.rs`: [`CheckoutIface`] (`org.kassa.Checkout1`), one object
//!   per checkout, the task forwarding its session's events and snapshot to
//!   the owner, and how many finished checkouts stay on the bus;
//! - `claim.rs`: [`ClaimIface`] (`org.kassa.Claim1`), one object per claim,
//!   and the task forwarding its scans to the claimant;
//! - `device.rs`: [`DeviceIface`] (`org.kassa.Device1`), one object per
//!   device, and the task sending its status changes (counters
//!   rate-limited);
//! - `properties.rs`: `PropertiesChanged` from the difference between two
//!   snapshots, for both checkouts and devices;
//! - `caller.rs`: who is calling (the sender, the callers to notice when
//!   they leave the bus) and signals addressed to one caller alone;
//! - `error.rs`: [`KassaError`], the `org.kassa.Error.*` errors.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use zbus::{Connection, connection};

use crate::config::Config;
use crate::core::Terminal;

mod caller;
mod checkout;
mod claim;
mod device;
mod error;
mod properties;
mod terminal;

pub use checkout::CheckoutIface;
pub use claim::ClaimIface;
pub use device::DeviceIface;
pub use error::KassaError;
pub use terminal::TerminalIface;

use caller::{Presence, watch_owners};
use checkout::Finished;
use device::serve_device;
use terminal::watch_state;

/// The well-known name.
pub const BUS_NAME: &str = "org.kassa.Terminal1";
/// The root object.
pub const ROOT: &str = "/org/kassa/Terminal1";

/// Which bus to serve on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bus {
    /// The system bus (installed).
    System,
    /// The session bus.
    Session,
    /// A bus at this address.
    Address(String),
}

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

/// How long kassad waits at start for its devices' first status before it
/// takes its name anyway; a device still silent then reports
/// `still opening` until its worker knows better.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(2);

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
    let terminal = Terminal::start(config).map_err(RunError::Setup)?;
    // The name is taken (and systemd told we are ready) only once every
    // device has said whether it is there: a POS calling at once must not
    // get NoDevice for a scanner that is plugged in.
    terminal.devices_known(STARTUP_DEADLINE).await;
    let stop = CancellationToken::new();
    let conn = match serve(&bus, &terminal, &stop).await {
        Ok(conn) => conn,
        Err(e) => {
            // The devices are running already: stop them before failing.
            stop_devices(&terminal, &stop).await;
            return Err(e);
        }
    };
    info!(
        "kassad {} serving {BUS_NAME} on {bus:?}",
        env!("CARGO_PKG_VERSION")
    );
    ready();
    shutdown.await;
    info!("kassad stopping");
    let _ = conn.release_name(BUS_NAME).await;
    stop_devices(&terminal, &stop).await;
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

/// Serves every object on a new connection to `bus` and claims the name.
async fn serve(
    bus: &Bus,
    terminal: &Terminal,
    stop: &CancellationToken,
) -> Result<Connection, RunError> {
    let builder = match bus {
        Bus::System => connection::Builder::system()?,
        Bus::Session => connection::Builder::session()?,
        Bus::Address(address) => connection::Builder::address(address.as_str())?,
    };
    let conn = builder
        .serve_at(ROOT, zbus::fdo::ObjectManager)?
        .build()
        .await?;
    let presence = Presence::new(&conn).await?;
    watch_owners(&conn, presence.clone(), stop.clone()).await?;
    conn.object_server()
        .at(
            ROOT,
            TerminalIface {
                terminal: terminal.clone(),
                presence,
                stop: stop.clone(),
                finished: Finished::default(),
            },
        )
        .await?;
    for device in terminal.devices() {
        serve_device(&conn, device, stop.clone()).await?;
    }
    watch_state(&conn, terminal.clone(), stop.clone()).await?;
    // Claim the name last, so that a client that sees it finds every object.
    // Not queued behind another kassad: that would look ready and serve
    // nothing (NameTaken instead).
    conn.request_name_with_flags(BUS_NAME, zbus::fdo::RequestNameFlags::DoNotQueue.into())
        .await?;
    Ok(conn)
}
