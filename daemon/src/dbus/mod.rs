//! The D-Bus face of kassad: `org.kassa.Terminal1`, `org.kassa.Checkout1`,
//! `org.kassa.Claim1` and `org.kassa.Device1`, plus the ObjectManager on
//! the root. These types only translate between the bus and
//! [`crate::core::Terminal`]; signals that carry a payment code or a scan go
//! to the owning caller alone.
//!
//! One file per interface, each with the task that serves its object:
//!
//! - `mod.rs` (here): the bus name and root path, [`Bus`], and [`serve`],
//!   which puts every object on the bus and takes the name;
//! - `terminal.rs`: [`TerminalIface`] (`org.kassa.Terminal1` on the root),
//!   and the task sending its `State` changes;
//! - `checkout.rs`: [`CheckoutIface`] (`org.kassa.Checkout1`), one object
//!   per checkout, the task forwarding its session's events and snapshot to
//!   the owner, and how many finished checkouts stay on the bus;
//! - `claim.rs`: [`ClaimIface`] (`org.kassa.Claim1`), one object per claim,
//!   and the task forwarding its scans to the claimant;
//! - `simulator.rs`: [`SimulatorIface`] (`org.kassa.Simulator1` on the
//!   root), only where simulated devices are allowed;
//! - `device.rs`: [`DeviceIface`] (`org.kassa.Device1`), one object per
//!   device, and the task sending its status changes (counters
//!   rate-limited);
//! - `properties.rs`: `PropertiesChanged` from the difference between two
//!   snapshots, for both checkouts and devices;
//! - `caller.rs`: who is calling (the sender, the callers to notice when
//!   they leave the bus) and signals addressed to one caller alone;
//! - `error.rs`: [`KassaError`], the `org.kassa.Error.*` errors;
//! - [`options`]: the callers' `a{sv}` options and words, read into the
//!   core's typed requests (one reader for each).

use tokio_util::sync::CancellationToken;
use zbus::{Connection, connection};

use crate::core::Terminal;

mod caller;
mod checkout;
mod claim;
mod device;
mod error;
pub mod options;
mod properties;
mod simulator;
mod terminal;

pub use checkout::CheckoutIface;
pub use claim::ClaimIface;
pub use device::DeviceIface;
pub use error::KassaError;
pub use simulator::{MAX_INJECTED, SimulatorIface};
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

/// Serves every object of `terminal` on a new connection to `bus` and
/// claims the name; the objects' tasks end when `stop` is cancelled.
/// `simulator` serves `org.kassa.Simulator1` too.
///
/// # Errors
///
/// When the bus cannot be reached or the name is taken.
pub async fn serve(
    bus: &Bus,
    terminal: &Terminal,
    simulator: bool,
    stop: &CancellationToken,
) -> Result<Connection, zbus::Error> {
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
    if simulator {
        conn.object_server()
            .at(
                ROOT,
                SimulatorIface {
                    terminal: terminal.clone(),
                },
            )
            .await?;
    }
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

/// Takes the terminal's interfaces off the bus, for a stop: calls already
/// running still get their answers. The terminal interface holds a proxy
/// on `conn` (to ask the bus about callers), so until it is gone
/// `Connection::graceful_shutdown`, which waits for every other handle on
/// the connection, would wait for ever.
pub async fn withdraw(conn: &Connection) {
    let server = conn.object_server();
    let _ = server.remove::<SimulatorIface, _>(ROOT).await;
    let _ = server.remove::<TerminalIface, _>(ROOT).await;
}
