//! kassactl's command line: its options and subcommands (also read by
//! the man page and completion generator, so this file stands alone).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Talk to kassad, the kassa device service, over D-Bus.
///
/// Exit codes: 0 ok (a checkout: paid), 1 other error, 2 usage, 3 timeout or
/// expired, 4 cancelled, 5 busy, 6 invalid order or argument, 7 no device,
/// 8 backend or not bound, 9 access denied (not in group kassa, or not the
/// checkout's owner), 10 kassad not reachable, 11 payment failed. Output
/// read no further (a pipe into head) ends kassactl quietly with 0.
/// Commands that wait (scan, show-order-for-code, capture-face) say on
/// standard error what they wait for.
#[derive(Parser)]
#[command(name = "kassactl", version)]
pub(crate) struct Cli {
    /// Use the system bus (the default; kassad installed as a service).
    #[arg(long, global = true, conflicts_with_all = ["session", "bus"])]
    pub(crate) system: bool,
    /// Use the session bus.
    #[arg(long, global = true, conflicts_with = "bus")]
    pub(crate) session: bool,
    /// Use the bus at this address (also $KASSA_BUS_ADDRESS).
    #[arg(long, global = true, value_name = "ADDRESS", env = "KASSA_BUS_ADDRESS")]
    pub(crate) bus: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Amount and prompt options shared by `scan` and `checkout`.
#[derive(clap::Args)]
pub(crate) struct Prompt {
    /// Amount due, as a decimal (36.00).
    #[arg(long)]
    pub(crate) amount: Option<String>,
    /// ISO 4217 currency of --amount.
    #[arg(long, default_value = "CNY")]
    pub(crate) currency: String,
    /// What the display asks of the customer.
    #[arg(long)]
    pub(crate) prompt: Option<String>,
    /// How long to wait for the code, in milliseconds.
    #[arg(long)]
    pub(crate) timeout_ms: Option<u32>,
    /// Only accept codes from these sources (serial, wedge, hidpos, camera, face, mock).
    #[arg(long = "source")]
    pub(crate) sources: Vec<String>,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// kassad's version, state and devices.
    Status,
    /// The devices and their health.
    Devices,
    /// Check one device.
    Health {
        /// Device name.
        name: String,
    },
    /// Wait for one payment code and print it.
    Scan(Prompt),
    /// Run a whole checkout, printing each step; Ctrl-C cancels it.
    Checkout {
        #[command(flatten)]
        prompt: Prompt,
        /// How long to wait for the backend to bind the order, in milliseconds.
        #[arg(long)]
        order_timeout_ms: Option<u32>,
        /// Print the payment code in full (it is masked by default).
        #[arg(long)]
        show_code: bool,
    },
    /// Show an order document (a file, or - for standard input).
    ShowOrder {
        /// The order JSON file.
        file: PathBuf,
    },
    /// Show the order the backend bound to a payment code.
    ShowOrderForCode {
        /// The payment code.
        code: String,
        /// How long to wait for the binding, in milliseconds.
        #[arg(long)]
        timeout_ms: Option<u32>,
    },
    /// Show a payment result: paid, failed or cancelled.
    Result {
        /// paid, failed or cancelled.
        status: String,
        /// A line for the customer.
        #[arg(default_value = "")]
        message: String,
    },
    /// Show lines of text.
    Text {
        /// The lines.
        lines: Vec<String>,
    },
    /// Show the idle screen.
    Clear,
    /// Claim the scanner and print every scan until Ctrl-C (or --count).
    Claim {
        /// Stop after this many scans.
        #[arg(long)]
        count: Option<usize>,
        /// Only scans from these sources.
        #[arg(long = "source")]
        sources: Vec<String>,
    },
    /// Show what kassad logs, or change it at run time (root only): debug,
    /// info, warn, error, or a filter such as info,kassa_daemon::core=debug.
    LogLevel {
        /// The new filter; without it, the current one is shown.
        filter: Option<String>,
    },
    /// List the input and hidraw devices plugged in, whether each looks
    /// like a scanner kassa can use, and the configuration lines for it
    /// (reads /sys; needs no kassad).
    Discover,
    /// Find out which keyboard layout a keyboard-mode scanner types in: it
    /// scans a test code shown in the terminal (needs no kassad; stop kassad
    /// if it holds the scanner; root or group kassad).
    DetectLayout {
        /// The scanner's event node (default: the first known scanner).
        path: Option<PathBuf>,
        /// How long to wait for the scan, in milliseconds.
        #[arg(long, default_value_t = 60_000)]
        timeout_ms: u32,
    },
    /// Drive kassad's simulated devices (driver = "mock"), where they are
    /// allowed: any bus but the system bus, or allow_simulated.
    #[command(subcommand)]
    Simulate(Simulate),
    /// Capture the best face frame.
    CaptureFace {
        /// How long to look, in milliseconds.
        #[arg(long)]
        timeout_ms: Option<u32>,
        /// Where to write the JPEG.
        #[arg(long, default_value = "face.jpg")]
        output: PathBuf,
    },
}

/// What `kassactl simulate` does.
#[derive(Subcommand)]
pub(crate) enum Simulate {
    /// A simulated scanner reads DATA, as if a customer had shown it.
    Scan {
        /// The simulated scanner's name.
        device: String,
        /// What it reads: a payment code, a product's EAN-13, …
        data: String,
        /// qr, code128, ean13, ean8, datamatrix, pdf417, …
        #[arg(long, default_value = "")]
        symbology: String,
    },
    /// Unplug a simulated device.
    Disconnect {
        /// The simulated device's name.
        device: String,
    },
    /// Plug a simulated device back in.
    Connect {
        /// The simulated device's name.
        device: String,
    },
    /// Make the simulated device's next call fail.
    Fail {
        /// The simulated device's name.
        device: String,
        /// disconnected, timeout, busy, "invalid data", unsupported or other.
        error: String,
    },
}
