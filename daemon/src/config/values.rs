//! Checks of single values that the drivers' tables share: bytes written
//! as text, milliseconds, the idle gap, scan lengths and display text.

use std::net::SocketAddr;
use std::time::Duration;

use crate::text::MAX_LINE_CHARS;

/// Each character U+0000–U+00FF of a TOML string is one byte (`"\r"`,
/// `"\u0016T\r"`, `"\u0002"`).
pub(super) fn bytes(key: &str, text: &str) -> Result<Vec<u8>, String> {
    text.chars()
        .map(|c| {
            u8::try_from(u32::from(c))
                .map_err(|_| format!("{key}: {c:?} is not a byte (use \\u0000 to \\u00ff)"))
        })
        .collect()
}

pub(super) fn ms(value: u64) -> Duration {
    Duration::from_millis(value)
}

/// Silence that ends a scan, in milliseconds (serial and wedge scanners).
pub(super) const IDLE_GAP_MS: std::ops::RangeInclusive<u64> = 5..=5000;
/// Longest scan a scanner may be set to accept, in bytes.
pub(super) const MAX_SCAN_LEN: std::ops::RangeInclusive<usize> = 1..=65536;

pub(super) fn idle_gap(gap: u64) -> Result<Duration, String> {
    if !IDLE_GAP_MS.contains(&gap) {
        return Err(format!(
            "idle_gap_ms must be {} to {}",
            IDLE_GAP_MS.start(),
            IDLE_GAP_MS.end()
        ));
    }
    Ok(ms(gap))
}

pub(super) fn max_length(value: Option<usize>, default: usize) -> Result<usize, String> {
    let max_len = value.unwrap_or(default);
    if !MAX_SCAN_LEN.contains(&max_len) {
        return Err(format!(
            "max_length must be {} to {}",
            MAX_SCAN_LEN.start(),
            MAX_SCAN_LEN.end()
        ));
    }
    Ok(max_len)
}

/// A line of text for a display: no control or bidi characters, at most
/// [`MAX_LINE_CHARS`], the limit of text a caller sends.
pub(super) fn check_text_line(key: &str, text: &str) -> Result<(), String> {
    if text.chars().nth(MAX_LINE_CHARS).is_some()
        || text.chars().any(kassa_hal::order::is_forbidden_char)
    {
        return Err(format!(
            "{key} must be at most {MAX_LINE_CHARS} characters without control characters"
        ));
    }
    Ok(())
}

/// A server's `listen` key: an address and port (`default` if absent) on
/// loopback only; `remote` says what to do instead of listening elsewhere.
pub(super) fn loopback_listen(
    listen: Option<&str>,
    default: &str,
    remote: &str,
) -> Result<SocketAddr, String> {
    let listen = listen.unwrap_or(default);
    let listen: SocketAddr = listen
        .parse()
        .map_err(|_| format!("listen {listen:?} is not an address and port like \"{default}\""))?;
    if !listen.ip().is_loopback() {
        return Err(format!(
            "listen {listen} is reachable from other machines; {remote}"
        ));
    }
    Ok(listen)
}
