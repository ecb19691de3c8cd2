//! udev/70-kassa-scanners.rules: the same scanners as the driver's own
//! list, well-formed by a parser of our own and by udev's (udevadm 252 has
//! no `verify`; `udevadm test` parses every rules file and names the line of
//! each error, so it runs in a private mount namespace with the repo's
//! rules in /etc/udev/rules.d and a scratch /run/udev).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use kassa_drivers::usb::{KNOWN_SCANNERS, UsbId};

fn rules_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../udev/70-kassa-scanners.rules")
}

fn rules() -> String {
    std::fs::read_to_string(rules_path()).expect("udev/70-kassa-scanners.rules")
}

/// One `KEY{attr}OP"value"` of a rule line.
#[derive(Debug)]
struct Pair {
    key: String,
    attr: Option<String>,
    op: String,
    value: String,
}

/// Splits a rule line the way udev does; an error names what is wrong.
fn parse_line(line: &str) -> Result<Vec<Pair>, String> {
    let mut pairs = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let key_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .ok_or_else(|| format!("no operator after {rest:?}"))?;
        let key = &rest[..key_end];
        rest = &rest[key_end..];
        let mut attr = None;
        if let Some(after) = rest.strip_prefix('{') {
            let close = after.find('}').ok_or("unclosed {")?;
            attr = Some(after[..close].to_string());
            rest = &after[close + 1..];
        }
        let op = ["==", "!=", "+=", "-=", ":=", "="]
            .into_iter()
            .find(|op| rest.starts_with(op))
            .ok_or_else(|| format!("no operator after {key}"))?;
        rest = rest[op.len()..]
            .strip_prefix('"')
            .ok_or("value not quoted")?;
        let close = rest.find('"').ok_or("unclosed quote")?;
        pairs.push(Pair {
            key: key.to_string(),
            attr,
            op: op.to_string(),
            value: rest[..close].to_string(),
        });
        rest = rest[close + 1..].trim_start();
        if !rest.is_empty() {
            rest = rest
                .strip_prefix(',')
                .ok_or("pairs not separated by a comma")?
                .trim_start();
        }
    }
    Ok(pairs)
}

fn rule_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

#[test]
fn every_line_is_well_formed() {
    let match_keys = ["ACTION", "SUBSYSTEM", "KERNEL", "KERNELS", "ATTRS", "ENV"];
    let assign_keys = ["ENV", "GROUP", "MODE", "SYMLINK", "GOTO", "LABEL"];
    let text = rules();
    let mut labels = BTreeSet::new();
    let mut gotos = BTreeSet::new();
    for (n, line) in rule_lines(&text) {
        let pairs = parse_line(line).unwrap_or_else(|e| panic!("line {n}: {e}: {line}"));
        for p in &pairs {
            let matching = p.op == "==" || p.op == "!=";
            let known = if matching {
                &match_keys[..]
            } else {
                &assign_keys[..]
            };
            assert!(
                known.contains(&p.key.as_str()),
                "line {n}: {} {} is unexpected",
                p.key,
                p.op
            );
            assert_eq!(
                p.attr.is_some(),
                matches!(p.key.as_str(), "ATTRS" | "ENV"),
                "line {n}: {}",
                p.key
            );
            match p.key.as_str() {
                "LABEL" => assert!(labels.insert(p.value.clone()), "line {n}: label twice"),
                "GOTO" => {
                    gotos.insert(p.value.clone());
                }
                _ => {}
            }
        }
    }
    assert_eq!(
        gotos, labels,
        "every GOTO has its LABEL and every LABEL is used"
    );
    for required in [
        "ENV{LIBINPUT_IGNORE_DEVICE}=\"1\"",
        "GROUP=\"kassad\"",
        "MODE=\"0660\"",
        "SYMLINK+=\"kassa/wedge-",
        "SYMLINK+=\"kassa/hidraw-",
    ] {
        assert!(text.contains(required), "{required}");
    }
    assert!(
        !text.contains("uaccess"),
        "access is by the service's group, not by seat"
    );
}

#[test]
fn the_rules_and_the_driver_know_the_same_scanners() {
    let text = rules();
    let mut input = BTreeSet::new();
    let mut hidraw = BTreeSet::new();
    for (n, line) in rule_lines(&text) {
        let pairs = parse_line(line).unwrap_or_else(|e| panic!("line {n}: {e}"));
        let attr = |name: &str| {
            pairs
                .iter()
                .find(|p| p.key == "ATTRS" && p.attr.as_deref() == Some(name))
                .map(|p| p.value.clone())
        };
        if let (Some(v), Some(p)) = (attr("id/vendor"), attr("id/product")) {
            let id = UsbId::parse(&format!("{v}:{p}")).unwrap_or_else(|| panic!("line {n}"));
            assert_eq!(
                format!("{v}:{p}"),
                id.to_string(),
                "line {n}: sysfs ids are lower case"
            );
            input.insert(id);
        }
        if let Some(k) = pairs.iter().find(|p| p.key == "KERNELS") {
            // ????:VVVV:PPPP.*
            let parts: Vec<&str> = k.value.split([':', '.']).collect();
            let [_, v, p, _] = parts[..] else {
                panic!("line {n}: {}", k.value)
            };
            assert_eq!(
                v,
                v.to_uppercase(),
                "line {n}: HID device names are upper case"
            );
            hidraw.insert(UsbId::parse(&format!("{v}:{p}")).unwrap_or_else(|| panic!("line {n}")));
        }
    }
    let driver: BTreeSet<UsbId> = KNOWN_SCANNERS.iter().map(|k| k.id).collect();
    assert_eq!(input, driver, "input rules vs KNOWN_SCANNERS");
    assert_eq!(hidraw, driver, "hidraw rules vs KNOWN_SCANNERS");
}

#[test]
fn udevadm_parses_the_rules_without_complaint() {
    let udev_dir = rules_path()
        .parent()
        .expect("udev/")
        .canonicalize()
        .unwrap();
    // The repo's rules stand in for /etc/udev/rules.d, a tmpfs for /run
    // (udevadm test writes its database to /run/udev, which a machine where
    // udevd never ran does not have); the device is the loopback
    // interface, which has no /dev node to touch.
    let script = format!(
        "mount -t tmpfs tmpfs /run && mkdir /run/udev && mount --bind '{}' /etc/udev/rules.d && \
         udevadm test --action=add /sys/class/net/lo",
        udev_dir.display()
    );
    let out = Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .output()
        .expect("unshare (util-linux; scripts/setup-debian.sh installs it)");
    let log =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "udevadm test failed:\n{log}");
    let ours: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("70-kassa-scanners.rules"))
        .collect();
    assert!(
        ours.iter().any(|l| l.starts_with("Reading rules file")),
        "udevadm did not read the rules:\n{log}"
    );
    let complaints: Vec<&&str> = ours
        .iter()
        .filter(|l| !l.starts_with("Reading rules file"))
        // The build machine has no group kassad; the package creates it.
        .filter(|l| !l.ends_with("Unknown group 'kassad', ignoring"))
        .collect();
    assert!(complaints.is_empty(), "udevadm complains:\n{complaints:#?}");
}

#[test]
fn the_syntax_check_catches_a_broken_rule() {
    // The parser above is no rubber stamp.
    assert!(parse_line("ATTRS{id/vendor}==\"05e0\" ENV{X}=\"1\"").is_err());
    assert!(parse_line("ATTRS{id/vendor}==05e0").is_err());
    assert!(parse_line("GROUP=\"kassa").is_err());
    assert_eq!(
        parse_line("KERNEL==\"event*\", GOTO=\"x\"").unwrap().len(),
        2
    );
}
