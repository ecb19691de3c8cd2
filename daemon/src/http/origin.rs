//! Which web pages may use the POS API: an allow-list of origins.
//!
//! A browser sends the page's origin with every WebSocket it opens, and a
//! page cannot forge it. WebSockets are not bound by the browser's
//! same-origin rules, so this check is what keeps a page from elsewhere
//! (an advert, a phishing page, a DNS-rebinding page) off the till.

use std::fmt;

use url::Url;

/// Most `allowed_origins` entries: a till runs one POS app or two.
pub const MAX_ORIGINS: usize = 32;

/// A web origin the POS API accepts, such as `http://localhost:8069`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`.
    scheme: String,
    /// Lowercase; an IPv6 address in brackets.
    host: String,
    /// Explicit, or the scheme's default.
    port: u16,
}

/// Why an origin is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginError {
    /// Not a URL at all.
    NotAUrl,
    /// A scheme other than `http` or `https`.
    Scheme,
    /// A path, query, fragment or user name: an origin is only scheme,
    /// host and port.
    NotJustAnOrigin,
}

impl fmt::Display for OriginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OriginError::NotAUrl => "is not an origin like \"http://localhost:8069\"",
            OriginError::Scheme => "must start with http:// or https://",
            OriginError::NotJustAnOrigin => {
                "has more than a scheme, host and port (no path, query or user name)"
            }
        })
    }
}

impl std::error::Error for OriginError {}

impl Origin {
    /// Reads `scheme://host[:port]`, with an optional trailing `/`.
    ///
    /// # Errors
    ///
    /// An [`OriginError`] naming what is wrong.
    pub fn parse(text: &str) -> Result<Origin, OriginError> {
        let url = Url::parse(text).map_err(|_| OriginError::NotAUrl)?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(OriginError::Scheme);
        }
        let host = url.host_str().ok_or(OriginError::NotAUrl)?;
        if url.path() != "/"
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
            || text.ends_with("//")
        {
            return Err(OriginError::NotJustAnOrigin);
        }
        Ok(Origin {
            scheme: url.scheme().to_string(),
            host: host.to_ascii_lowercase(),
            port: url.port_or_known_default().ok_or(OriginError::NotAUrl)?,
        })
    }

    /// Whether the `Origin` header `value` names this origin.
    pub fn matches(&self, value: &[u8]) -> bool {
        std::str::from_utf8(value)
            .ok()
            .and_then(|text| Origin::parse(text).ok())
            .is_some_and(|origin| origin == *self)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_scheme_host_and_port_compared_as_the_browser_sends_it() {
        let pos = Origin::parse("http://localhost:8069").unwrap();
        assert!(pos.matches(b"http://localhost:8069"));
        assert!(pos.matches(b"http://LOCALHOST:8069"));
        assert!(!pos.matches(b"http://localhost:8070"));
        assert!(!pos.matches(b"https://localhost:8069"));
        assert!(!pos.matches(b"http://localhost.evil.example:8069"));
        assert!(!pos.matches(b"null"));
        assert!(!pos.matches(b"\xff"));
        // The default port is the same origin, written or not.
        let shop = Origin::parse("https://pos.example.com/").unwrap();
        assert!(shop.matches(b"https://pos.example.com"));
        assert!(shop.matches(b"https://pos.example.com:443"));
        assert!(!shop.matches(b"http://pos.example.com"));
        let v6 = Origin::parse("http://[::1]:3000").unwrap();
        assert!(v6.matches(b"http://[0:0::1]:3000"));
    }

    #[test]
    fn anything_more_or_less_than_an_origin_is_refused() {
        assert_eq!(Origin::parse("localhost:8069"), Err(OriginError::Scheme));
        assert_eq!(Origin::parse("*"), Err(OriginError::NotAUrl));
        assert_eq!(Origin::parse("null"), Err(OriginError::NotAUrl));
        assert_eq!(Origin::parse("file:///pos.html"), Err(OriginError::Scheme));
        for more in [
            "http://localhost:8069/pos",
            "http://localhost:8069/?a=1",
            "http://localhost:8069/#x",
            "http://user@localhost:8069",
        ] {
            assert_eq!(
                Origin::parse(more),
                Err(OriginError::NotJustAnOrigin),
                "{more}"
            );
        }
    }
}
