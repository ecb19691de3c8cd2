//! What kassactl prints, and how it fails: exit codes from kassad's
//! errors, and text from elsewhere escaped before it reaches a terminal.

use kassa_client::{error_message, error_name};
use kassa_hal::Order;

/// A failure with the exit code scripts see.
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

impl From<zbus::Error> for Failure {
    fn from(e: zbus::Error) -> Failure {
        // kassad's own errors, typed by kassa-client; what remains is the
        // bus's, or a name newer than this kassactl.
        let e = match kassa_client::Error::from(e) {
            kassa_client::Error::Other(e) => e,
            kassa => {
                let name = kassa.name().unwrap_or_default();
                let short = name.strip_prefix("org.kassa.Error.").unwrap_or(name);
                return Failure::new(exit_code(&kassa), format!("{short}: {}", kassa.message()));
            }
        };
        let Some((name, text)) = dbus_error(&e) else {
            // Not an error reply: the connection itself failed.
            return match &e {
                zbus::Error::InputOutput(_) => {
                    Failure::new(10, format!("lost the connection to the bus: {e}"))
                }
                _ => Failure::new(1, e.to_string()),
            };
        };
        let code = match name.as_str() {
            "org.freedesktop.DBus.Error.AccessDenied" => 9,
            "org.freedesktop.DBus.Error.ServiceUnknown"
            | "org.freedesktop.DBus.Error.NameHasNoOwner"
            | "org.freedesktop.DBus.Error.NoReply"
            | "org.freedesktop.DBus.Error.Disconnected" => 10,
            n if n.starts_with("org.freedesktop.DBus.Error.Spawn.")
                || n.starts_with("org.freedesktop.systemd1.") =>
            {
                10
            }
            _ => 1,
        };
        let message = if let Some(newer) = name.strip_prefix("org.kassa.Error.") {
            format!("{newer}: {text}")
        } else if name == "org.freedesktop.DBus.Error.AccessDenied" {
            // The bus's policy refused the call (dbus-daemon's "Rejected
            // send message, …"): the user is not in group kassa.
            let user = std::env::var("USER").unwrap_or_else(|_| "this user".into());
            format!(
                "the bus does not let {user} call kassad: only root and members of group \
                 kassa may (sudo usermod -aG kassa {user}, then log in again)"
            )
        } else if name == "org.freedesktop.DBus.Error.UnknownInterface"
            && text.contains("Simulator1")
        {
            "kassad serves no simulator here: simulated devices are allowed on any bus but \
             the system bus, or with allow_simulated = true in its configuration"
                .to_string()
        } else if code == 10 {
            match name.as_str() {
                "org.freedesktop.DBus.Error.NoReply"
                | "org.freedesktop.DBus.Error.Disconnected" => {
                    "kassad went away before it answered (systemctl status kassad; \
                     journalctl -u kassad)"
                        .to_string()
                }
                _ => "kassad is not running (no org.kassa.Terminal1 on this bus): \
                      sudo systemctl start kassad; systemctl status kassad"
                    .to_string(),
            }
        } else {
            format!("{text} ({name})")
        };
        Failure { code, message }
    }
}

/// The exit code the help gives for one of kassad's errors.
fn exit_code(e: &kassa_client::Error) -> u8 {
    use kassa_client::Error as E;
    match e {
        E::Timeout(_) => 3,
        E::Cancelled(_) => 4,
        E::Busy(_) => 5,
        E::InvalidOrder(_) | E::InvalidArgument(_) => 6,
        E::NoDevice(_) => 7,
        E::Backend(_) | E::NotBound(_) => 8,
        E::AccessDenied(_) => 9,
        _ => 1,
    }
}

/// The name and text of a D-Bus error reply, whichever way zbus carries
/// it: a method's error, or one of the bus's own (a property read, the
/// object manager).
fn dbus_error(e: &zbus::Error) -> Option<(String, String)> {
    use zbus::DBusError as _;
    match e {
        zbus::Error::MethodError(..) => Some((error_name(e).unwrap_or_default(), error_message(e))),
        zbus::Error::FDO(fdo) => Some((
            fdo.name().to_string(),
            fdo.description().unwrap_or_default().to_string(),
        )),
        _ => None,
    }
}

pub(crate) type Outcome = Result<u8, Failure>;

/// `text` with control, bidi and line-separator characters escaped
/// (`\u{1b}`), but for those in `keep`: what kassad passes on from
/// scanners, the backend or another caller cannot drive the terminal.
pub(crate) fn escaped(text: &str, keep: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if kassa_hal::order::is_forbidden_char(c) && !keep.contains(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes `line` to standard output. When no one reads it any more (a
/// pipe into `head` that has closed), kassactl ends at once, quietly, with
/// 0: what it printed was wanted only that far. Its bus connection closes
/// with it, and kassad ends whatever kassactl had started.
pub(crate) fn out(line: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        note(&format!("kassactl: standard output: {e}"));
        std::process::exit(1);
    }
}

/// Writes `line` to standard error, never failing (a closed standard error
/// is no reason to stop a checkout).
pub(crate) fn note(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

pub(crate) fn device_line(d: &serde_json::Value) -> String {
    let connected = d["connected"].as_bool().unwrap_or(false);
    let mut line = format!(
        "{:<12} {:<8} {:<8} {:<10} {}",
        d["name"].as_str().unwrap_or(""),
        d["role"].as_str().unwrap_or(""),
        d["driver"].as_str().unwrap_or(""),
        if connected { "connected" } else { "offline" },
        d["path"].as_str().unwrap_or("")
    );
    if d["role"] == "scanner" {
        line.push_str(&format!("  scans: {}", d["scan_count"]));
    }
    if let Some(e) = d["last_error"].as_str().filter(|e| !e.is_empty()) {
        line.push_str(&format!("  last error: {e}"));
    }
    line
}

pub(crate) fn order_line(json: &str) -> String {
    match Order::from_json(json) {
        Ok(order) => format!(
            "{}: {} item(s), total {}",
            order.id,
            order.items.len(),
            order.total_money()
        ),
        Err(_) => json.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::escaped;

    #[test]
    fn scanned_escapes_cannot_drive_the_terminal() {
        let scan = "\u{1b}]52;c;aGk=\u{7}\u{1b}[2JMEMBER-1\n134567890123456789\tqr";
        let shown = escaped(scan, "");
        assert!(!shown.contains(['\u{1b}', '\u{7}', '\n', '\t']), "{shown}");
        assert!(shown.starts_with(r"\u{1b}]52;c;aGk=\u{7}"), "{shown}");
        assert_eq!(escaped("a\nb\tc\u{202e}", "\n\t"), "a\nb\tc\\u{202e}");
    }
}
