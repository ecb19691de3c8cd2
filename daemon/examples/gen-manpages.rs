//! Writes the man pages and shell completions of kassad and kassactl from
//! their command-line definitions, so that they never drift from `--help`:
//!
//! ```sh
//! cargo run -p kassa-daemon --example gen-manpages -- OUT
//! ```
//!
//! makes `OUT/man/kassad.8`, `OUT/man/kassactl.1` (and a page per
//! subcommand, `kassactl-scan.1`, …), and
//! `OUT/completions/{bash,zsh}/…`. scripts/build-deb runs it for the Debian
//! package.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

// The binaries' own argument definitions (their `main`s are not used here).
#[allow(dead_code)]
#[path = "../src/bin/kassactl/cli.rs"]
mod kassactl;
#[allow(dead_code)]
#[path = "../src/bin/kassad.rs"]
mod kassad;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: gen-manpages OUTPUT_DIRECTORY")?;
    let pages = [
        (kassad::Args::command(), "8"),
        (kassactl::Cli::command(), "1"),
    ];
    for (command, section) in pages {
        write_page(&out.join("man"), command.clone(), section)?;
        for shell in [Shell::Bash, Shell::Zsh] {
            let dir = out.join("completions").join(shell.to_string());
            std::fs::create_dir_all(&dir)?;
            let mut command = command.clone();
            let name = command.get_name().to_string();
            clap_complete::generate_to(shell, &mut command, name, &dir)?;
        }
    }
    Ok(())
}

/// `NAME.SECTION`, and a page `NAME-SUB.SECTION` for every subcommand
/// (which the main page's SUBCOMMANDS section names).
fn write_page(dir: &Path, mut command: clap::Command, section: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    command.build();
    let name = command.get_name().to_string();
    let render = |command: clap::Command, file: String| -> std::io::Result<()> {
        let man = clap_mangen::Man::new(command)
            .section(section)
            .source(format!("kassa {}", env!("CARGO_PKG_VERSION")))
            .manual("kassa");
        let mut page = Vec::new();
        man.render(&mut page)?;
        std::fs::write(dir.join(file), page)
    };
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        // clap takes only 'static names (without its "string" feature).
        let full: &'static str = Box::leak(format!("{name}-{}", sub.get_name()).into_boxed_str());
        render(sub.clone().name(full), format!("{full}.{section}"))?;
    }
    render(command, format!("{name}.{section}"))
}
