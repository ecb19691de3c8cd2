//! HID POS (placeholder)
