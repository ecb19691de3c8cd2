//! `org.kassa.Simulator1` on the root object, served only where simulated
//! devices are allowed (any bus but the system bus, or `allow_simulated`):
//! a developer without hardware makes a simulated scanner read a code,
//! unplugs and plugs simulated devices, and makes their next call fail.
//! It acts on simulated devices (`driver = "mock"`) only; a real device's
//! name is `NoDevice`.

use kassa_hal::{ErrorKind, Scan, SourceKind, Symbology, Timestamp};
use zbus::interface;

use super::error::KassaError;
use super::options::quote;
use crate::core::{CoreError, Terminal};
use crate::devices::mock::{Simulator, SimulatorError};

/// The longest scan `InjectScan` takes, in bytes: more than any code a
/// scanner reads.
pub const MAX_INJECTED: usize = 4096;

/// `org.kassa.Simulator1` on the root object.
pub struct SimulatorIface {
    pub(super) terminal: Terminal,
}

impl SimulatorIface {
    fn device(&self, name: &str) -> Result<std::sync::Arc<Simulator>, CoreError> {
        self.terminal.simulator(name).ok_or_else(|| {
            CoreError::NoDevice(format!(
                "no simulated device named {} (driver = \"mock\" in the configuration)",
                quote(name)
            ))
        })
    }
}

fn simulator_error(name: &str, e: SimulatorError) -> CoreError {
    match e {
        SimulatorError::NotConnected => {
            CoreError::NoDevice(format!("{} is not connected", quote(name)))
        }
        SimulatorError::NotAScanner => CoreError::InvalidArgument(format!("{}: {e}", quote(name))),
    }
}

/// The error kinds `FailNext` takes, by name.
const ERRORS: [ErrorKind; 6] = [
    ErrorKind::Disconnected,
    ErrorKind::Timeout,
    ErrorKind::Busy,
    ErrorKind::InvalidData,
    ErrorKind::Unsupported,
    ErrorKind::Other,
];

#[interface(name = "org.kassa.Simulator1")]
impl SimulatorIface {
    /// The simulated scanner `device` reads `data`, as if a customer had
    /// shown it; `symbology` is a name such as `qr` or `ean13`, or empty.
    async fn inject_scan(
        &self,
        device: String,
        data: String,
        symbology: String,
    ) -> Result<(), KassaError> {
        if data.is_empty() || data.len() > MAX_INJECTED {
            return Err(
                CoreError::InvalidArgument(format!("data: 1 to {MAX_INJECTED} bytes")).into(),
            );
        }
        let symbology = match symbology.as_str() {
            "" => Symbology::Unknown,
            name => Symbology::from_name(name).ok_or_else(|| {
                let names: Vec<_> = Symbology::ALL.iter().map(|s| s.as_str()).collect();
                CoreError::InvalidArgument(format!(
                    "symbology {} is none of {}",
                    quote(name),
                    names.join(", ")
                ))
            })?,
        };
        let mut scan = Scan::new(data.into_bytes(), SourceKind::Mock, Timestamp::now());
        scan.symbology = symbology;
        self.device(&device)?
            .inject(scan)
            .map_err(|e| simulator_error(&device, e))?;
        Ok(())
    }

    /// Plugs the simulated device in (`true`) or unplugs it (`false`).
    async fn set_connected(&self, device: String, connected: bool) -> Result<(), KassaError> {
        self.device(&device)?.set_connected(connected);
        Ok(())
    }

    /// The simulated device's next call fails with `error`: `disconnected`,
    /// `timeout`, `busy`, `invalid data`, `unsupported` or `other`.
    async fn fail_next(&self, device: String, error: String) -> Result<(), KassaError> {
        let kind = ERRORS
            .into_iter()
            .find(|kind| kind.as_str() == error)
            .ok_or_else(|| {
                let names: Vec<_> = ERRORS.iter().map(|k| k.as_str()).collect();
                CoreError::InvalidArgument(format!(
                    "error {} is none of {}",
                    quote(&error),
                    names.join(", ")
                ))
            })?;
        self.device(&device)?
            .fail_next(kind)
            .map_err(|e| simulator_error(&device, e))?;
        Ok(())
    }
}
