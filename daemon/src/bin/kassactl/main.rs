//! kassactl: drive kassad from the command line or a script.
//!
//! - `cli`: the options and subcommands;
//! - `commands`: one function per subcommand that makes a call;
//! - `session`: `checkout` and `claim`, which follow signals;
//! - `prompt`: amounts and prompts as kassad's `a{sv}` options;
//! - `output`: what is printed, and the exit codes;
//! - `local` and `discover`: the commands on this machine's devices that
//!   need no kassad.

use std::process::ExitCode;

use clap::Parser as _;

mod cli;
mod commands;
#[cfg(feature = "usb")]
mod discover;
#[cfg(feature = "usb")]
mod local;
mod output;
mod prompt;
mod session;

use cli::Cli;
use output::{Failure, escaped, note};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = local_command(&cli).unwrap_or_else(|| on_the_bus(&cli));
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            note(&format!("kassactl: {}", escaped(&failure.message, "")));
            ExitCode::from(failure.code)
        }
    }
}

/// The commands on this machine's devices, which need no bus; `None` for
/// the others.
#[cfg(feature = "usb")]
fn local_command(cli: &Cli) -> Option<Result<u8, Failure>> {
    let printer = commands::Printer { json: cli.json };
    match &cli.command {
        cli::Command::Discover => {
            local::discover(printer);
            Some(Ok(0))
        }
        cli::Command::DetectLayout { path, timeout_ms } => {
            let timeout = std::time::Duration::from_millis(u64::from(*timeout_ms));
            Some(local::detect_layout(path.as_ref(), timeout, printer))
        }
        _ => None,
    }
}

/// Without USB devices in the build, those commands say so.
#[cfg(not(feature = "usb"))]
fn local_command(cli: &Cli) -> Option<Result<u8, Failure>> {
    matches!(
        cli.command,
        cli::Command::Discover | cli::Command::DetectLayout { .. }
    )
    .then(|| {
        Err(Failure::new(
            7,
            "USB devices are not in this build (built without cargo feature usb)",
        ))
    })
}

/// Runs a command that calls kassad.
fn on_the_bus(cli: &Cli) -> Result<u8, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(1, e.to_string()))?;
    runtime.block_on(async {
        let conn = connect(cli).await?;
        commands::run(cli, &conn).await
    })
}

/// The bus `--bus`, `--session` or `--system` (the default) names.
async fn connect(cli: &Cli) -> Result<zbus::Connection, Failure> {
    let builder = match (&cli.bus, cli.session) {
        (Some(address), _) => zbus::connection::Builder::address(address.as_str()),
        (None, true) => zbus::connection::Builder::session(),
        (None, false) => zbus::connection::Builder::system(),
    };
    let connection = match builder {
        Ok(builder) => builder.build().await,
        Err(e) => Err(e),
    };
    connection.map_err(|e| Failure::new(10, format!("cannot connect to the bus: {e}")))
}
