//! Which `Host` names the web screen answers to.
//!
//! A page from anywhere on the web, open in a browser on the till, can make
//! its own name resolve to 127.0.0.1 (DNS rebinding) and then read the
//! screen as if it were its own origin. The browser still sends the page's
//! name as `Host`, so the screen answers only the names it is reached by:
//! its listen address, the loopback names, the address the connection came
//! in on, and the names in `allowed_hosts`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Longest host name DNS allows.
const MAX_NAME: usize = 253;

/// A host and port the web screen answers to, such as `kiosk.local:8787`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    host: Host,
    port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    /// Compared as an address, so `[::1]` and `[0:0::1]` are one.
    Ip(IpAddr),
    /// Lowercase.
    Name(String),
}

/// Why a host name is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// Nothing at all.
    Empty,
    /// The port is not a number from 1 to 65535.
    BadPort,
    /// An IPv6 address that is not in brackets, or does not parse.
    BadAddress,
    /// Characters a host name cannot hold, or longer than 253.
    BadName,
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HostError::Empty => "is empty",
            HostError::BadPort => "has a port that is not a number from 1 to 65535",
            HostError::BadAddress => {
                "is not a valid address (write an IPv6 address in brackets, like \"[fe80::1]:8787\")"
            }
            HostError::BadName => {
                "is not a host name (letters, digits, '-', '.' and '_', at most 253 characters)"
            }
        })
    }
}

impl std::error::Error for HostError {}

impl AllowedHost {
    /// Reads `name`, `name:port`, `a.b.c.d[:port]` or `[v6][:port]`; with
    /// no port, `default_port`.
    ///
    /// # Errors
    ///
    /// A [`HostError`] naming what is wrong.
    pub fn parse(text: &str, default_port: u16) -> Result<AllowedHost, HostError> {
        if text.is_empty() {
            return Err(HostError::Empty);
        }
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (address, after) = rest.split_once(']').ok_or(HostError::BadAddress)?;
            let address: Ipv6Addr = address.parse().map_err(|_| HostError::BadAddress)?;
            (Host::Ip(IpAddr::V6(address).to_canonical()), after)
        } else {
            let (name, after) = match text.find(':') {
                Some(colon) => text.split_at(colon),
                None => (text, ""),
            };
            (host_name(name)?, after)
        };
        let port = match port {
            "" => default_port,
            port => port
                .strip_prefix(':')
                .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|digits| digits.parse::<u16>().ok())
                .filter(|&port| port != 0)
                .ok_or(HostError::BadPort)?,
        };
        Ok(AllowedHost { host, port })
    }

    /// The names every web screen answers to: its listen address (unless
    /// that is the any-address), `localhost`, `127.0.0.1` and `[::1]`, on
    /// the port it listens on.
    pub(crate) fn defaults(listen: SocketAddr) -> Vec<AllowedHost> {
        let port = listen.port();
        let mut hosts = vec![
            AllowedHost {
                host: Host::Name("localhost".into()),
                port,
            },
            AllowedHost {
                host: Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                port,
            },
            AllowedHost {
                host: Host::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
                port,
            },
        ];
        let own = AllowedHost::address(listen);
        if !listen.ip().is_unspecified() && !hosts.contains(&own) {
            hosts.push(own);
        }
        hosts
    }

    /// An address and port, as a browser that was given it would send it.
    pub(crate) fn address(address: SocketAddr) -> AllowedHost {
        AllowedHost {
            host: Host::Ip(address.ip().to_canonical()),
            port: address.port(),
        }
    }
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Host::Ip(IpAddr::V6(address)) => write!(f, "[{address}]:{}", self.port),
            Host::Ip(IpAddr::V4(address)) => write!(f, "{address}:{}", self.port),
            Host::Name(name) => write!(f, "{name}:{}", self.port),
        }
    }
}

fn host_name(name: &str) -> Result<Host, HostError> {
    if name.is_empty() {
        return Err(HostError::Empty);
    }
    if let Ok(address) = name.parse::<Ipv4Addr>() {
        return Ok(Host::Ip(IpAddr::V4(address)));
    }
    let fits = name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        // A trailing dot names the same host to DNS but is another origin
        // to a browser: not the name the kiosk uses.
        && !name.starts_with('.')
        && !name.ends_with('.');
    if !fits {
        return Err(HostError::BadName);
    }
    Ok(Host::Name(name.to_ascii_lowercase()))
}

/// Whether a `Host` header value (or the authority of an absolute-form
/// request target) is one of `allowed`; no port means port 80, as for
/// any `http:` URL.
pub(crate) fn is_allowed(value: &[u8], allowed: &[AllowedHost]) -> bool {
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| AllowedHost::parse(text, 80).ok())
        .is_some_and(|host| allowed.contains(&host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(listen: &str, extra: &[&str]) -> Vec<AllowedHost> {
        let listen: SocketAddr = listen.parse().unwrap();
        let mut hosts = AllowedHost::defaults(listen);
        for entry in extra {
            hosts.push(AllowedHost::parse(entry, listen.port()).unwrap());
        }
        hosts
    }

    #[test]
    fn the_loopback_names_and_the_listen_address_on_its_port() {
        let hosts = allowed("127.0.0.1:8787", &[]);
        for good in [
            "127.0.0.1:8787",
            "localhost:8787",
            "LocalHost:8787",
            "[::1]:8787",
            "[0:0:0:0:0:0:0:1]:8787",
        ] {
            assert!(is_allowed(good.as_bytes(), &hosts), "{good}");
        }
        for bad in [
            "",
            "evil.example",
            "evil.example:8787",
            "localhost",
            "localhost:80",
            "localhost.:8787",
            "localhost:8787:8787",
            "localhost:+8787",
            "localhost:08787x",
            "127.0.0.1:8787@evil.example",
            "127.0.0.2:8787",
            "[::1]",
            "::1:8787",
            "[::1]8787",
            "0.0.0.0:8787",
        ] {
            assert!(!is_allowed(bad.as_bytes(), &hosts), "{bad:?}");
        }
        assert!(!is_allowed(b"localhost:8787\xff", &hosts));
    }

    #[test]
    fn listed_names_and_a_listen_address_beyond_loopback() {
        let hosts = allowed("192.168.1.20:8787", &["kiosk.local", "Till-7:9000"]);
        for good in [
            "192.168.1.20:8787",
            "kiosk.local:8787",
            "till-7:9000",
            "localhost:8787",
        ] {
            assert!(is_allowed(good.as_bytes(), &hosts), "{good}");
        }
        for bad in ["kiosk.local:9000", "till-7:8787", "192.168.1.21:8787"] {
            assert!(!is_allowed(bad.as_bytes(), &hosts), "{bad}");
        }
        // Port 80 may be left out, as browsers do.
        let hosts = allowed("127.0.0.1:80", &[]);
        assert!(is_allowed(b"localhost", &hosts));
        assert!(
            !allowed("0.0.0.0:8787", &[])
                .contains(&AllowedHost::address("0.0.0.0:8787".parse().unwrap()))
        );
    }

    #[test]
    fn bad_entries_are_named() {
        assert_eq!(AllowedHost::parse("", 1), Err(HostError::Empty));
        assert_eq!(AllowedHost::parse(":8787", 1), Err(HostError::Empty));
        assert_eq!(AllowedHost::parse("kiosk:0", 1), Err(HostError::BadPort));
        assert_eq!(AllowedHost::parse("kiosk:", 1), Err(HostError::BadPort));
        assert_eq!(
            AllowedHost::parse("kiosk:65536", 1),
            Err(HostError::BadPort)
        );
        assert_eq!(
            AllowedHost::parse("kiosk local", 1),
            Err(HostError::BadName)
        );
        assert_eq!(AllowedHost::parse("*", 1), Err(HostError::BadName));
        assert_eq!(AllowedHost::parse("fe80::1", 1), Err(HostError::BadPort));
        assert_eq!(
            AllowedHost::parse("[fe80::1", 1),
            Err(HostError::BadAddress)
        );
        assert_eq!(
            AllowedHost::parse("[kiosk]:1", 1),
            Err(HostError::BadAddress)
        );
        assert_eq!(
            AllowedHost::parse(&"a".repeat(254), 1),
            Err(HostError::BadName)
        );
        assert_eq!(
            AllowedHost::parse("[fe80::1]:8787", 1).unwrap().to_string(),
            "[fe80::1]:8787"
        );
        assert_eq!(
            AllowedHost::parse("Kiosk.Local", 8787).unwrap().to_string(),
            "kiosk.local:8787"
        );
    }
}
