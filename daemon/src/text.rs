//! Text from outside, made safe to quote in an error or a log line.

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
