//! kassad's errors, typed: one variant per `org.kassa.Error.*` name.

use std::fmt;

/// The prefix of every error kassad answers with.
const PREFIX: &str = "org.kassa.Error.";

/// What a call to kassad failed with.
///
/// The proxies return [`zbus::Error`]; `?` or [`Error::from`] turns one into
/// this type, so that a program can tell kassad's answers apart without
/// comparing error names. Each `org.kassa.Error.*` variant carries kassad's
/// message; anything else (another D-Bus error such as the bus refusing the
/// call, or kassad not running, or a transport failure) is [`Error::Other`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// `org.kassa.Error.Timeout`: a deadline passed (no code was scanned in
    /// time, a checkout expired).
    Timeout(String),
    /// `org.kassa.Error.Cancelled`: the call or checkout was cancelled.
    Cancelled(String),
    /// `org.kassa.Error.Busy`: a checkout is already running or the scanner
    /// is claimed.
    Busy(String),
    /// `org.kassa.Error.InvalidOrder`: the order was rejected; the message
    /// names the field.
    InvalidOrder(String),
    /// `org.kassa.Error.InvalidArgument`: a bad option or argument.
    InvalidArgument(String),
    /// `org.kassa.Error.NoDevice`: no device can do it.
    NoDevice(String),
    /// `org.kassa.Error.Backend`: the platform backend failed.
    Backend(String),
    /// `org.kassa.Error.NotBound`: the backend bound no order before the
    /// deadline.
    NotBound(String),
    /// `org.kassa.Error.AccessDenied`: not the caller's session or claim.
    AccessDenied(String),
    /// Any other error: another D-Bus error reply, or the connection's.
    Other(zbus::Error),
}

impl Error {
    /// The D-Bus error name (`org.kassa.Error.Busy`), if the error is a
    /// reply that has one.
    pub fn name(&self) -> Option<&str> {
        Some(match self {
            Error::Timeout(_) => "org.kassa.Error.Timeout",
            Error::Cancelled(_) => "org.kassa.Error.Cancelled",
            Error::Busy(_) => "org.kassa.Error.Busy",
            Error::InvalidOrder(_) => "org.kassa.Error.InvalidOrder",
            Error::InvalidArgument(_) => "org.kassa.Error.InvalidArgument",
            Error::NoDevice(_) => "org.kassa.Error.NoDevice",
            Error::Backend(_) => "org.kassa.Error.Backend",
            Error::NotBound(_) => "org.kassa.Error.NotBound",
            Error::AccessDenied(_) => "org.kassa.Error.AccessDenied",
            Error::Other(zbus::Error::MethodError(name, _, _)) => name.as_str(),
            Error::Other(_) => return None,
        })
    }

    /// kassad's message for an `org.kassa.Error.*`; for any other error,
    /// the text of the reply or of the transport error.
    pub fn message(&self) -> String {
        match self {
            Error::Timeout(m)
            | Error::Cancelled(m)
            | Error::Busy(m)
            | Error::InvalidOrder(m)
            | Error::InvalidArgument(m)
            | Error::NoDevice(m)
            | Error::Backend(m)
            | Error::NotBound(m)
            | Error::AccessDenied(m) => m.clone(),
            Error::Other(e) => error_message(e),
        }
    }
}

impl From<zbus::Error> for Error {
    fn from(e: zbus::Error) -> Error {
        let zbus::Error::MethodError(name, message, _) = &e else {
            return Error::Other(e);
        };
        let Some(short) = name.as_str().strip_prefix(PREFIX) else {
            return Error::Other(e);
        };
        let message = message.clone().unwrap_or_default();
        match short {
            "Timeout" => Error::Timeout(message),
            "Cancelled" => Error::Cancelled(message),
            "Busy" => Error::Busy(message),
            "InvalidOrder" => Error::InvalidOrder(message),
            "InvalidArgument" => Error::InvalidArgument(message),
            "NoDevice" => Error::NoDevice(message),
            "Backend" => Error::Backend(message),
            "NotBound" => Error::NotBound(message),
            "AccessDenied" => Error::AccessDenied(message),
            // A name a newer kassad may answer with.
            _ => Error::Other(e),
        }
    }
}

impl fmt::Display for Error {
    /// `org.kassa.Error.Busy: a checkout is already running`; any other
    /// error as zbus shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Other(e) => write!(f, "{e}"),
            kassa => {
                let name = kassa.name().unwrap_or_default();
                write!(f, "{name}: {}", kassa.message())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Other(e) => Some(e),
            _ => None,
        }
    }
}

/// The name of a D-Bus error reply (`org.kassa.Error.Busy`), if `e` is one.
pub fn error_name(e: &zbus::Error) -> Option<String> {
    match e {
        zbus::Error::MethodError(name, _, _) => Some(name.to_string()),
        _ => None,
    }
}

/// The message of a D-Bus error reply; for any other error, its text.
pub fn error_message(e: &zbus::Error) -> String {
    match e {
        zbus::Error::MethodError(_, Some(message), _) => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error reply kassad would send, named `name`, as zbus hands it to
    /// a proxy's caller.
    fn reply(name: &str, message: &str) -> zbus::Error {
        let call = zbus::Message::method_call("/org/kassa/Terminal1", "ShowOrder")
            .and_then(|b| b.build(&()))
            .expect("a method call");
        let error = zbus::Message::error(&call.header(), name)
            .and_then(|b| b.build(&(message,)))
            .expect("an error reply");
        let e = zbus::Error::from(error);
        assert!(matches!(e, zbus::Error::MethodError(..)), "{e:?}");
        e
    }

    #[test]
    fn every_kassa_error_name_has_its_variant() {
        let names = [
            "Timeout",
            "Cancelled",
            "Busy",
            "InvalidOrder",
            "InvalidArgument",
            "NoDevice",
            "Backend",
            "NotBound",
            "AccessDenied",
        ];
        for short in names {
            let name = format!("org.kassa.Error.{short}");
            let e = Error::from(reply(&name, "why"));
            // Not `Other`, and the variant's own name is the reply's: the
            // name became its variant.
            assert!(!matches!(e, Error::Other(_)), "{name} became {e:?}");
            assert!(format!("{e:?}").starts_with(short), "{name} became {e:?}");
            assert_eq!(e.name(), Some(name.as_str()));
            assert_eq!(e.message(), "why");
            assert_eq!(e.to_string(), format!("{name}: why"));
        }
    }

    #[test]
    fn other_names_and_transport_errors_are_other() {
        for name in [
            "org.freedesktop.DBus.Error.AccessDenied",
            "org.freedesktop.DBus.Error.ServiceUnknown",
            "org.kassa.Error.SomethingNew",
        ] {
            let e = Error::from(reply(name, "refused"));
            assert!(
                matches!(&e, Error::Other(zbus::Error::MethodError(n, _, _)) if n.as_str() == name),
                "{name} became {e:?}"
            );
            assert_eq!(e.name(), Some(name));
            assert_eq!(e.message(), "refused");
            assert_eq!(e.to_string(), format!("{name}: refused"));
        }
        let e = Error::from(zbus::Error::InterfaceNotFound);
        assert!(
            matches!(e, Error::Other(zbus::Error::InterfaceNotFound)),
            "{e:?}"
        );
        assert_eq!(e.name(), None);
        assert_eq!(e.to_string(), zbus::Error::InterfaceNotFound.to_string());
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn helpers_read_a_reply() {
        let e = reply("org.kassa.Error.Busy", "a checkout is running");
        assert_eq!(error_name(&e).as_deref(), Some("org.kassa.Error.Busy"));
        assert_eq!(error_message(&e), "a checkout is running");
        assert_eq!(error_name(&zbus::Error::InvalidReply), None);
    }
}
