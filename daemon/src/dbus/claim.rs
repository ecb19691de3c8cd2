//! `org.kassa.Claim1`, one object per scanner claim, and the task that
//! forwards the claim's scans to the claimant as `Scanned` signals.

use tokio_util::sync::CancellationToken;
use tracing::debug;
use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::OwnedObjectPath;
use zbus::{Connection, interface};

use super::ROOT;
use super::caller::{emitter_for, sender};
use super::error::KassaError;
use crate::core::{ClaimHandle, Terminal};

/// `org.kassa.Claim1`.
pub struct ClaimIface {
    terminal: Terminal,
    id: u64,
}

#[interface(name = "org.kassa.Claim1")]
impl ClaimIface {
    /// Give the scanner back.
    async fn release(&self, #[zbus(header)] header: Header<'_>) -> Result<(), KassaError> {
        Ok(self.terminal.release_claim(self.id, &sender(&header))?)
    }

    /// Take scans again after an auto-disable.
    async fn enable(&self, #[zbus(header)] header: Header<'_>) -> Result<(), KassaError> {
        Ok(self.terminal.enable_claim(self.id, &sender(&header))?)
    }

    /// Whether scans are delivered now.
    #[zbus(property)]
    async fn enabled(&self) -> bool {
        self.terminal.claim_enabled(self.id)
    }

    /// A scan (sent to the claimant only).
    #[zbus(signal)]
    async fn scanned(
        emitter: &SignalEmitter<'_>,
        data: &str,
        symbology: &str,
        source: &str,
    ) -> zbus::Result<()>;
}

/// Serves the claim of `handle` on a new object, forwards its scans until
/// it ends, then removes the object.
pub(super) async fn serve_claim(
    conn: &Connection,
    terminal: Terminal,
    mut handle: ClaimHandle,
    stop: CancellationToken,
) -> zbus::Result<OwnedObjectPath> {
    let path = OwnedObjectPath::try_from(format!("{ROOT}/claim/{}", handle.id))?;
    conn.object_server()
        .at(
            path.clone(),
            ClaimIface {
                terminal,
                id: handle.id,
            },
        )
        .await?;
    let emitter = emitter_for(conn, &path, &handle.owner)?;
    let conn = conn.clone();
    let removal_path = path.clone();
    tokio::spawn(stop.run_until_cancelled_owned(async move {
        while let Some(scan) = handle.scans.recv().await {
            let text = scan.text();
            if let Err(e) = ClaimIface::scanned(
                &emitter,
                &text,
                scan.symbology.as_str(),
                scan.source.as_str(),
            )
            .await
            {
                debug!("claim signal not delivered: {e}");
            }
        }
        if let Err(e) = conn
            .object_server()
            .remove::<ClaimIface, _>(removal_path)
            .await
        {
            debug!("removing claim object: {e}");
        }
    }));
    Ok(path)
}
