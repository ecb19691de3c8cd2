//! Text from outside: its limits, and how to quote it safely in an error
//! or a log line.

/// The longest line of display text, in characters: a line a caller sends
/// on the bus and a line written in `kassa.toml` alike.
pub const MAX_LINE_CHARS: usize = 256;

/// At most the first 32 characters of caller text, escaped, for an error
/// message or a log line.
pub fn quote(text: &str) -> String {
    const SHOWN: usize = 32;
    let mut out: String = text
        .chars()
        .take(SHOWN)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(SHOWN).is_some() {
        out.push('…');
    }
    format!("\"{out}\"")
}
