//! `org.kassa.Error.*`: the errors kassad answers on the bus, one for each
//! [`CoreError`].

use crate::core::CoreError;

/// Errors on the bus: `org.kassa.Error.*`.
#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.kassa.Error")]
pub enum KassaError {
    /// A transport error inside zbus.
    #[zbus(error)]
    ZBus(zbus::Error),
    /// A deadline passed.
    Timeout(String),
    /// Cancelled.
    Cancelled(String),
    /// A checkout is already running or the scanner is claimed.
    Busy(String),
    /// The order was rejected; the message names the field.
    InvalidOrder(String),
    /// A bad option or argument.
    InvalidArgument(String),
    /// No device can do it.
    NoDevice(String),
    /// The backend failed.
    Backend(String),
    /// The backend bound no order before the deadline.
    NotBound(String),
    /// Not the caller's session or claim.
    AccessDenied(String),
}

impl From<CoreError> for KassaError {
    fn from(e: CoreError) -> KassaError {
        match e {
            CoreError::Timeout(m) => KassaError::Timeout(m),
            CoreError::Cancelled(m) => KassaError::Cancelled(m),
            CoreError::Busy(m) => KassaError::Busy(m),
            CoreError::InvalidOrder(m) => KassaError::InvalidOrder(m),
            CoreError::InvalidArgument(m) => KassaError::InvalidArgument(m),
            CoreError::NoDevice(m) => KassaError::NoDevice(m),
            CoreError::Backend(m) => KassaError::Backend(m),
            CoreError::NotBound(m) => KassaError::NotBound(m),
            CoreError::AccessDenied(m) => KassaError::AccessDenied(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use zbus::DBusError as _;

    use super::*;

    /// kassa-client mirrors these errors on the caller's side: every
    /// error kassad can answer must become its own variant there, never
    /// `Other`, with the same name and message.
    #[test]
    fn every_error_kassad_answers_is_typed_in_kassa_client() {
        let all = [
            CoreError::Timeout("m".into()),
            CoreError::Cancelled("m".into()),
            CoreError::Busy("m".into()),
            CoreError::InvalidOrder("m".into()),
            CoreError::InvalidArgument("m".into()),
            CoreError::NoDevice("m".into()),
            CoreError::Backend("m".into()),
            CoreError::NotBound("m".into()),
            CoreError::AccessDenied("m".into()),
        ];
        let call = zbus::Message::method_call("/org/kassa/Terminal1", "ShowOrder")
            .and_then(|b| b.build(&()))
            .unwrap();
        for e in all {
            let core_name = e.name();
            let e = KassaError::from(e);
            let name = e.name().to_string();
            // The POS API answers the core's names: the same on both.
            assert_eq!(name, core_name);
            let reply = zbus::Message::error(&call.header(), name.as_str())
                .and_then(|b| b.build(&("m",)))
                .unwrap();
            let typed = kassa_client::Error::from(zbus::Error::from(reply));
            assert!(
                !matches!(typed, kassa_client::Error::Other(_)),
                "{name} is not typed in kassa-client"
            );
            assert_eq!(typed.name(), Some(name.as_str()));
            assert_eq!(typed.message(), "m");
        }
    }
}
