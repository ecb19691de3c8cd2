//! Character LCDs (HD44780 behind a PCF8574 backpack) on an I2C bus.

use std::path::{Path, PathBuf};

use kassa_drivers::lcd::linux::{self, Delay, I2cBus, OpenError};
use kassa_drivers::lcd::{LcdConfig, LcdDisplay};

use super::worker::Open;

/// Opens a character LCD.
#[derive(Debug)]
pub struct LcdOpen {
    path: PathBuf,
    lcd: LcdConfig,
}

impl LcdOpen {
    /// The LCD described by `lcd` on the I2C bus at `path`.
    pub fn new(path: &Path, lcd: &LcdConfig) -> LcdOpen {
        LcdOpen {
            path: path.to_path_buf(),
            lcd: lcd.clone(),
        }
    }
}

impl Open for LcdOpen {
    type Device = LcdDisplay<I2cBus, Delay>;
    type Error = OpenError;

    fn open(&mut self) -> Result<Self::Device, OpenError> {
        linux::open(&self.path, self.lcd.clone())
    }
}
