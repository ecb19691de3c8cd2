//! The web second screen: its server lives in `crate::web`; opening it
//! starts the server on the runtime.

use super::worker::Open;
use crate::web::{Error, WebConfig, WebScreen};

/// Opens the web screen.
pub struct WebOpen {
    config: WebConfig,
    runtime: tokio::runtime::Handle,
}

impl WebOpen {
    /// A web screen served on `runtime` once opened.
    pub fn new(config: WebConfig, runtime: tokio::runtime::Handle) -> WebOpen {
        WebOpen { config, runtime }
    }
}

impl Open for WebOpen {
    type Device = WebScreen;
    type Error = Error;

    fn open(&mut self) -> Result<WebScreen, Error> {
        WebScreen::start(&self.config, &self.runtime)
    }
}
