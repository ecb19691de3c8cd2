//! The `[pos_api]` section: the WebSocket API for browser and Electron POS
//! apps, off unless the section is there.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use crate::http::origin::{MAX_ORIGINS, Origin};

/// Where the POS API listens unless `listen` says otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8766";

/// Settings of the POS API (`[pos_api]`).
#[derive(Debug, Clone)]
pub struct PosApiConfig {
    /// A loopback address and port.
    pub listen: SocketAddr,
    /// File holding the token clients present.
    pub token_file: PathBuf,
    /// Origins of the web pages that may connect.
    pub allowed_origins: Vec<Origin>,
}

/// `[pos_api]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPosApi {
    listen: Option<String>,
    token_file: Option<PathBuf>,
    allowed_origins: Option<Vec<String>>,
}

impl RawPosApi {
    /// The validated section.
    pub(super) fn settings(self) -> Result<PosApiConfig, String> {
        let listen = super::values::loopback_listen(
            self.listen.as_deref(),
            DEFAULT_LISTEN,
            "the POS API serves \
                 this machine only: use 127.0.0.1 or [::1]",
        )?;
        let token_file = self.token_file.ok_or(
            "token_file is required: the file holding the token POS apps present \
             (readable by group kassa only)",
        )?;
        let entries = self.allowed_origins.unwrap_or_default();
        if entries.len() > MAX_ORIGINS {
            return Err(format!("allowed_origins has at most {MAX_ORIGINS} entries"));
        }
        let allowed_origins = entries
            .iter()
            .map(|entry| {
                Origin::parse(entry).map_err(|e| {
                    format!(
                        "allowed_origins entry {entry:?} {e}; write the origin of the POS \
                         app's pages, like \"http://localhost:8069\""
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(PosApiConfig {
            listen,
            token_file,
            allowed_origins,
        })
    }
}
