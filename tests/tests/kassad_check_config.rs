//! `kassad --check-config` and simulated devices on the system bus: a
//! config that would hand made-up payment codes to real checkouts, or name
//! a file kassad cannot read, or a secret others can read, fails the check
//! (exit 78, the file and the reason) instead of starting, or of starting
//! a restart loop.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use kassa_tests::bus::workspace_binary;

/// The kassad binary of this build.
fn kassad() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| workspace_binary("kassad"))
}

fn check(config: &Path, extra: &[&str]) -> (i32, String) {
    let out: Output = Command::new(kassad())
        .args(extra)
        .arg("--check-config")
        .arg("--config")
        .arg(config)
        .env("KASSA_LOG", "off")
        .output()
        .expect("run kassad");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

const MOCK: &str =
    "[[scanner]]\nname = \"sim\"\ndriver = \"mock\"\ncodes = [\"134567890123456789\"]\n";

#[test]
fn the_packaged_default_passes_and_names_no_simulated_device() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let default = repo.join("packaging/etc/kassa/kassa.toml");
    let (code, said) = check(&default, &[]);
    assert_eq!(code, 0, "{said}");
    let text = std::fs::read_to_string(&default).unwrap();
    assert!(
        !text.contains("\"mock\""),
        "a simulated device in the default"
    );
    assert!(
        text.contains("listen = \"127.0.0.1:"),
        "the web screen beyond loopback"
    );
}

#[test]
fn simulated_devices_are_refused_on_the_system_bus_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let refused = dir.path().join("refused.toml");
    std::fs::write(&refused, MOCK).unwrap();
    let (code, said) = check(&refused, &[]);
    assert_eq!(code, 78, "{said}");
    assert!(
        said.contains("scanner \"sim\"") && said.contains("allow_simulated = true"),
        "{said}"
    );
    // Also when it is the only kind: a simulated display.
    let display = dir.path().join("display.toml");
    std::fs::write(&display, "[[display]]\nname = \"d\"\ndriver = \"mock\"\n").unwrap();
    assert_eq!(check(&display, &["--system"]).0, 78);

    let allowed = dir.path().join("allowed.toml");
    std::fs::write(&allowed, format!("allow_simulated = true\n{MOCK}")).unwrap();
    let (code, said) = check(&allowed, &[]);
    assert_eq!(code, 0, "{said}");

    // A session or private bus (the demo, the tests) takes them as they are.
    let (code, said) = check(&refused, &["--session"]);
    assert_eq!(code, 0, "{said}");
    let (code, said) = check(&refused, &["--bus", "unix:path=/nonexistent"]);
    assert_eq!(code, 0, "{said}");
}

#[test]
fn every_file_the_config_names_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("backend.token");
    let ca = dir.path().join("ca.pem");
    let logo = dir.path().join("logo.png");
    let config = dir.path().join("kassa.toml");
    std::fs::write(
        &config,
        format!(
            "[[display]]\nname = \"screen\"\ndriver = \"web\"\nlisten = \"127.0.0.1:8787\"\nlogo = \"{}\"\n\n\
             [backend]\norder_query_url = \"https://pos.example/orders?code={{code}}\"\n\
             token_file = \"{}\"\nca_file = \"{}\"\n",
            logo.display(),
            token.display(),
            ca.display()
        ),
    )
    .unwrap();
    // None of the three exists: each is named.
    let (code, said) = check(&config, &[]);
    assert_eq!(code, 78, "{said}");
    for (what, path) in [
        ("[backend] token_file", &token),
        ("[backend] ca_file", &ca),
        ("display \"screen\" logo", &logo),
    ] {
        assert!(
            said.contains(&format!("{what} {}", path.display())),
            "{what} not named: {said}"
        );
    }
    std::fs::write(&ca, "not checked for being a certificate here\n").unwrap();
    std::fs::write(&logo, b"\x89PNG").unwrap();
    std::fs::write(&token, "secret\n").unwrap();
    // A secret every user can read.
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, said) = check(&config, &[]);
    assert_eq!(code, 78, "{said}");
    assert!(said.contains("readable by every user"), "{said}");
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, said) = check(&config, &[]);
    assert_eq!(code, 0, "{said}");
    assert!(
        !said.contains("secret"),
        "the token's content was shown: {said}"
    );

    // As another user than the file's owner, the token is unreadable: the
    // check fails as the service would at start.
    if nix::unistd::Uid::effective().is_root() {
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&logo, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&ca, std::fs::Permissions::from_mode(0o644)).unwrap();
        let binary = dir.path().join("kassad");
        std::fs::copy(kassad(), &binary).unwrap();
        let out = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&binary)
            .arg("--check-config")
            .arg("--config")
            .arg(&config)
            .env("KASSA_LOG", "off")
            .output()
            .expect("setpriv");
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(78), "{said}");
        assert!(said.contains("Permission denied"), "{said}");
    }
}

#[test]
fn the_pos_api_token_is_checked_before_a_restart_needs_it() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("pos-api.token");
    let config = dir.path().join("kassa.toml");
    std::fs::write(
        &config,
        format!(
            "[pos_api]\ntoken_file = {:?}\nallowed_origins = [\"http://localhost:8069\"]\n",
            token.display().to_string()
        ),
    )
    .unwrap();
    let (code, said) = check(&config, &[]);
    assert_eq!(code, 78, "{said}");
    assert!(said.contains("POS API: cannot read token_file"), "{said}");

    std::fs::write(&token, "0123456789abcdef0123456789abcdef\n").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, said) = check(&config, &[]);
    assert_eq!(code, 78, "{said}");
    assert!(said.contains("readable by every user"), "{said}");

    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (code, said) = check(&config, &[]);
    assert_eq!(code, 0, "{said}");
}
