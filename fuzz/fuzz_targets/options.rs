//! The D-Bus `a{sv}` options of kassad's methods, as any local program on
//! the bus may send them: the fuzz input is the message body as the bus
//! delivers it (D-Bus marshalling, little-endian), deserialised as zbus
//! does, then read by every option reader. Accepted options are in range
//! and only known keys; a refusal is `InvalidArgument` with a short
//! message free of raw control characters, whatever the caller sent.
#![no_main]

use std::time::Duration;

use kassa_daemon::core::CoreError;
use kassa_daemon::dbus::options::{self, MAX_FACE_WAIT, MAX_ORDER_WAIT, MAX_WAIT, Options};
use libfuzzer_sys::fuzz_target;
use zbus::zvariant::serialized::{Context, Data};
use zbus::zvariant::{LE, Value};

/// Longer than any message the readers write: the list of known keys and
/// a quoted prefix of 32 escaped characters.
const MAX_MESSAGE: usize = 512;

fuzz_target!(|body: &[u8]| {
    let data = Data::new(body, Context::new_dbus(LE, 0));
    let Ok((options, _)) = data.deserialize::<Options>() else {
        return;
    };
    check(options::scan(&options), |o| {
        within(o.timeout, MAX_WAIT);
        assert!(o.order_timeout.is_none());
        bounded(&o.sources);
    });
    check(options::checkout(&options), |o| {
        within(o.timeout, MAX_WAIT);
        within(o.order_timeout, MAX_WAIT);
        bounded(&o.sources);
    });
    check(options::claim(&options), |o| bounded(&o.sources));
    check(options::order_wait(&options), |d| {
        within(*d, MAX_ORDER_WAIT)
    });
    check(options::face_wait(&options), |d| within(*d, MAX_FACE_WAIT));
    for (key, value) in &options {
        quoted(key);
        if let Value::Str(word) = &**value {
            quoted(word.as_str());
            let _ = options::payment_status(word.as_str());
        }
    }
});

fn check<T>(result: Result<T, CoreError>, accepted: impl FnOnce(&T)) {
    match result {
        Ok(value) => accepted(&value),
        Err(CoreError::InvalidArgument(message)) => {
            assert!(message.len() <= MAX_MESSAGE, "{} bytes", message.len());
            assert!(!message.chars().any(char::is_control), "{message:?}");
        }
        Err(other) => panic!("not InvalidArgument: {other:?}"),
    }
}

fn within(duration: Option<Duration>, max: Duration) {
    if let Some(d) = duration {
        assert!(d >= Duration::from_millis(1) && d <= max, "{d:?}");
    }
}

fn bounded<T>(sources: &Option<Vec<T>>) {
    assert!(sources.as_ref().is_none_or(|s| s.len() <= 8));
}

/// What ends up in logs and error messages: a short, escaped prefix.
fn quoted(text: &str) {
    let q = options::quote(text);
    assert!(q.chars().count() <= 2 + 32 * 10 + 1, "{q}");
    assert!(!q.chars().any(char::is_control), "{q:?}");
}
