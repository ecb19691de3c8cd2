//! The Debian package as `scripts/build-deb` makes it (from the debug
//! binaries, to keep the test quick): lintian finds no error, it holds
//! every file the install guide lists with root's ownership and the right
//! modes, `/etc/kassa/kassa.toml` is its one conffile and passes
//! `--check-config`, its maintainer scripts do what the guide says, and its
//! sysusers file makes the two groups apart.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds the package once for every test of this file; its path.
fn deb() -> &'static Path {
    static DEB: OnceLock<PathBuf> = OnceLock::new();
    DEB.get_or_init(|| {
        let out = Command::new(repo().join("scripts/build-deb"))
            .args(["--debug", "--lintian"])
            .current_dir(repo())
            .output()
            .expect("scripts/build-deb (scripts/setup-debian.sh installs dpkg-dev and lintian)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "scripts/build-deb --debug --lintian failed (lintian errors fail it):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = stdout.lines().last().expect("the .deb's path, last");
        repo().join(path.trim())
    })
}

fn dpkg_deb(args: &[&str]) -> String {
    let out = Command::new("dpkg-deb")
        .args(args)
        .arg(deb())
        .output()
        .expect("dpkg-deb");
    assert!(out.status.success(), "dpkg-deb {args:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn field(name: &str) -> String {
    dpkg_deb(&["-f"])
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} field"))
        .to_string()
}

#[test]
fn the_package_holds_every_file_owned_by_root_with_its_mode() {
    let listing = dpkg_deb(&["-c"]);
    // "-rwxr-xr-x root/root 123 2026-01-01 00:00 ./usr/bin/kassad"
    let entries: Vec<(&str, &str, &str)> = listing
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 6).then(|| (f[0], f[1], f[5]))
        })
        .collect();
    for (mode, owner, path) in &entries {
        assert_eq!(*owner, "root/root", "{path} belongs to {owner}");
        assert!(
            !mode.contains('s') && !mode.contains('S'),
            "{path} is setuid/setgid"
        );
        assert!(
            !mode.ends_with('w') && mode.chars().nth(5) != Some('w'),
            "{path} is writable by others or the group: {mode}"
        );
    }
    let mode_of = |wanted: &str| {
        entries
            .iter()
            .find(|(_, _, p)| p.trim_start_matches('.') == wanted)
            .map(|(m, _, _)| *m)
            .unwrap_or_else(|| panic!("{wanted} is not in the package:\n{listing}"))
    };
    for bin in ["/usr/bin/kassad", "/usr/bin/kassactl"] {
        assert_eq!(mode_of(bin), "-rwxr-xr-x", "{bin}");
    }
    for file in [
        "/lib/systemd/system/kassad.service",
        "/usr/share/dbus-1/system.d/org.kassa.Terminal1.conf",
        "/usr/share/dbus-1/system-services/org.kassa.Terminal1.service",
        "/usr/share/dbus-1/interfaces/org.kassa.Terminal1.xml",
        "/usr/share/dbus-1/interfaces/org.kassa.Checkout1.xml",
        "/usr/share/dbus-1/interfaces/org.kassa.Claim1.xml",
        "/usr/share/dbus-1/interfaces/org.kassa.Device1.xml",
        "/usr/share/dbus-1/interfaces/org.kassa.Simulator1.xml",
        "/usr/lib/sysusers.d/kassa.conf",
        "/usr/lib/tmpfiles.d/kassa.conf",
        "/usr/lib/udev/rules.d/70-kassa-scanners.rules",
        "/etc/kassa/kassa.toml",
        "/usr/share/doc/kassa/copyright",
        "/usr/share/doc/kassa/changelog.gz",
        "/usr/share/doc/kassa/README.md",
        "/usr/share/doc/kassa/docs/install.md",
        "/usr/share/doc/kassa/docs/config.md",
        "/usr/share/doc/kassa/docs/many-tills.md",
        "/usr/share/doc/kassa/examples/kassa.toml.example",
        "/usr/share/doc/kassa/docs/pos-api.md",
        "/usr/share/doc/kassa/examples/java/Checkout.java",
        "/usr/share/doc/kassa/examples/c/checkout.c",
        "/usr/share/doc/kassa/examples/node/checkout.mjs",
        "/usr/share/doc/kassa/examples/python/checkout.py",
        "/usr/share/kassa/js/kassa.mjs",
        "/usr/share/kassa/js/kassa.d.ts",
        "/usr/share/man/man8/kassad.8.gz",
        "/usr/share/man/man1/kassactl.1.gz",
        "/usr/share/man/man1/kassactl-scan.1.gz",
        "/usr/share/bash-completion/completions/kassactl",
        "/usr/share/bash-completion/completions/kassad",
        "/usr/share/zsh/vendor-completions/_kassactl",
        "/usr/share/zsh/vendor-completions/_kassad",
    ] {
        assert_eq!(mode_of(file), "-rw-r--r--", "{file}");
    }
    // The unit's Documentation= names a file the package installs.
    let unit = std::fs::read_to_string(repo().join("packaging/lib/systemd/system/kassad.service"))
        .unwrap();
    for line in unit.lines().filter(|l| l.starts_with("Documentation=")) {
        for url in line["Documentation=".len()..].split_whitespace() {
            if let Some(path) = url.strip_prefix("file://") {
                mode_of(path);
            }
        }
    }
}

#[test]
fn the_control_file_names_the_package_its_version_and_dependencies() {
    assert_eq!(field("Package"), "kassa");
    let cargo = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let version = cargo
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap();
    assert_eq!(field("Version"), version);
    let depends = field("Depends");
    for dependency in [
        "libc6",
        "libudev1",
        "libxkbcommon0",
        "systemd",
        "dbus",
        "udev",
    ] {
        assert!(depends.contains(dependency), "Depends: {depends}");
    }
    let info = dpkg_deb(&["-I"]);
    for script in ["postinst", "prerm", "postrm", "conffiles", "md5sums"] {
        assert!(info.contains(script), "no {script}:\n{info}");
    }
}

/// The control area and the files, extracted.
fn extracted() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let control = dir.path().join("DEBIAN");
    for (flag, to) in [("-x", &root), ("-e", &control)] {
        let status = Command::new("dpkg-deb")
            .arg(flag)
            .arg(deb())
            .arg(to)
            .status()
            .expect("dpkg-deb");
        assert!(status.success(), "dpkg-deb {flag}");
    }
    (dir, root, control)
}

#[test]
fn the_maintainer_scripts_do_what_the_install_guide_says() {
    let (_dir, root, control) = extracted();
    let conffiles = std::fs::read_to_string(control.join("conffiles")).unwrap();
    assert_eq!(conffiles.trim(), "/etc/kassa/kassa.toml");
    for script in ["postinst", "prerm", "postrm"] {
        let path = control.join(script);
        let status = Command::new("sh").arg("-n").arg(&path).status().unwrap();
        assert!(status.success(), "{script}: sh -n");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("set -e"), "{script}");
    }
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    let at = |needle: &str| {
        postinst
            .find(needle)
            .unwrap_or_else(|| panic!("postinst does not run {needle}"))
    };
    at("systemd-sysusers kassa.conf");
    at("systemd-tmpfiles --create kassa.conf");
    at("udevadm control --reload-rules");
    at("udevadm trigger");
    at("org.freedesktop.DBus.ReloadConfig");
    at("deb-systemd-helper enable kassad.service");
    assert!(
        at("kassad --check-config") < at("deb-systemd-invoke restart kassad.service"),
        "the service is started before its configuration is checked"
    );
    let postrm = std::fs::read_to_string(control.join("postrm")).unwrap();
    assert!(
        postrm.contains("rm -rf /etc/kassa /var/lib/kassa"),
        "{postrm}"
    );
    assert!(
        postrm.contains("deb-systemd-helper purge kassad.service"),
        "{postrm}"
    );
    let prerm = std::fs::read_to_string(control.join("prerm")).unwrap();
    assert!(
        prerm.contains("deb-systemd-invoke stop kassad.service"),
        "{prerm}"
    );

    // The packaged binaries name themselves, and the packaged default
    // passes their own check (no simulated device, on the system bus).
    for bin in ["kassad", "kassactl"] {
        let out = Command::new(root.join("usr/bin").join(bin))
            .arg("--version")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.starts_with(&format!("{bin} ")),
            "{bin} --version: {said}"
        );
    }
    let out = Command::new(root.join("usr/bin/kassad"))
        .args(["--check-config", "--config"])
        .arg(root.join("etc/kassa/kassa.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the packaged default fails --check-config: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bash = root.join("usr/share/bash-completion/completions/kassactl");
    assert!(
        Command::new("bash")
            .arg("-n")
            .arg(&bash)
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn sysusers_makes_the_daemons_group_and_the_callers_group_apart() {
    let (_dir, root, _control) = extracted();
    let status = Command::new("systemd-sysusers")
        .arg(format!("--root={}", root.display()))
        .output()
        .expect("systemd-sysusers");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let group = std::fs::read_to_string(root.join("etc/group")).unwrap();
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    let members = |name: &str| -> Vec<String> {
        let line = group
            .lines()
            .find(|l| l.split(':').next() == Some(name))
            .unwrap_or_else(|| panic!("no group {name}:\n{group}"));
        line.rsplit(':')
            .next()
            .unwrap()
            .split(',')
            .filter(|m| !m.is_empty())
            .map(String::from)
            .collect()
    };
    // kassad is not a caller, and no one is put in group kassa.
    assert!(members("kassa").is_empty(), "{group}");
    for supplementary in ["dialout", "video"] {
        assert_eq!(members(supplementary), ["kassad"], "{group}");
    }
    let kassad = passwd
        .lines()
        .find(|l| l.starts_with("kassad:"))
        .expect("user kassad");
    let gid = kassad.split(':').nth(3).unwrap();
    let own = group
        .lines()
        .find(|l| l.starts_with("kassad:"))
        .expect("group kassad");
    assert_eq!(own.split(':').nth(2), Some(gid), "kassad's group is kassad");

    // What the groups guard: the scanners' nodes and the secrets go to
    // kassad's group, which the unit runs as; group kassa only calls.
    let rules =
        std::fs::read_to_string(root.join("usr/lib/udev/rules.d/70-kassa-scanners.rules")).unwrap();
    assert!(
        !rules.contains("GROUP=\"kassa\""),
        "a scanner node for group kassa"
    );
    assert!(rules.contains("GROUP=\"kassad\""));
    let tmpfiles = std::fs::read_to_string(root.join("usr/lib/tmpfiles.d/kassa.conf")).unwrap();
    assert!(
        tmpfiles.contains("z /etc/kassa/backend.token 0640 root kassad"),
        "{tmpfiles}"
    );
    // The POS API's token: kassad checks it, group kassa presents it.
    assert!(
        tmpfiles.contains("z /etc/kassa/pos-api.token 0640 kassad kassa"),
        "{tmpfiles}"
    );
    let unit = std::fs::read_to_string(root.join("lib/systemd/system/kassad.service")).unwrap();
    assert!(unit.contains("\nGroup=kassad\n"), "the unit's group");
    assert!(
        !unit
            .lines()
            .any(|l| l.starts_with("SupplementaryGroups=") && l.contains("kassa"))
    );
    let policy =
        std::fs::read_to_string(root.join("usr/share/dbus-1/system.d/org.kassa.Terminal1.conf"))
            .unwrap();
    assert!(policy.contains("<policy group=\"kassa\">"));
}
