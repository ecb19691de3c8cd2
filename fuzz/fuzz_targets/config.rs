//! The configuration file (`kassa.toml`), which an installer or a local
//! administrator writes: parsing never panics, and an error names the
//! file, a line that exists in it, and a reason.
#![no_main]

use kassa_daemon::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(e) = Config::parse(text, "kassa.toml") {
        assert_eq!(e.file, "kassa.toml");
        if let Some(line) = e.line {
            let lines = text.split('\n').count();
            assert!((1..=lines).contains(&line), "line {line} of {lines}");
        }
        assert!(!e.message.is_empty());
        assert!(e.to_string().starts_with("kassa.toml:"));
    }
});
