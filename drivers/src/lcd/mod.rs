//! Character LCDs: HD44780 behind a PCF8574 I2C backpack (work in progress).
