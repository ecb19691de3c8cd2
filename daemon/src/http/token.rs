//! Access tokens: read from a file, compared in constant time, and found
//! in a request (`?token=` or `Authorization: Bearer`).

use std::path::Path;

use axum::http::{HeaderMap, header};

/// The token in `path`: at least 16 printable ASCII characters, around
/// which whitespace is ignored.
///
/// # Errors
///
/// A message naming the file and what is wrong.
pub fn read(path: &Path) -> Result<String, String> {
    let token = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read token_file {}: {e}", path.display()))?;
    let token = token.trim();
    if token.len() < 16 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "token_file {}: the token must be at least 16 printable ASCII characters",
            path.display()
        ));
    }
    Ok(token.to_string())
}

/// Compares in time independent of where the strings differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Whether a request carries `token`, as its `?token=` (`query`) or as
/// `Authorization: Bearer`.
pub fn presented(token: &str, query: Option<&str>, headers: &HeaderMap) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    [query, bearer]
        .into_iter()
        .flatten()
        .any(|given| same(given, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_taken_from_the_query_or_the_bearer_header() {
        let token = "0123456789abcdef";
        let mut headers = HeaderMap::new();
        assert!(presented(token, Some(token), &headers));
        assert!(!presented(token, Some("0123456789abcdeX"), &headers));
        assert!(!presented(token, Some("0123456789abcde"), &headers));
        assert!(!presented(token, None, &headers));
        headers.insert(
            header::AUTHORIZATION,
            "Bearer 0123456789abcdef".parse().unwrap(),
        );
        assert!(presented(token, None, &headers));
        headers.insert(
            header::AUTHORIZATION,
            "Basic 0123456789abcdef".parse().unwrap(),
        );
        assert!(!presented(token, None, &headers));
    }
}
