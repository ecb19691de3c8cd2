//! kassad: the kassa device service.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use kassa_daemon::config::{Config, ConfigError, DEFAULT_PATH, DisplayDriver};
use kassa_daemon::dbus::Bus;
use kassa_daemon::service::run;
use tracing::{error, warn};

/// Serves point-of-sale scanners and customer displays on D-Bus as
/// org.kassa.Terminal1.
#[derive(Parser)]
#[command(name = "kassad", version)]
pub(crate) struct Args {
    /// Configuration file.
    #[arg(long, default_value = DEFAULT_PATH)]
    config: PathBuf,
    /// Serve on the system bus (the default).
    #[arg(long, conflicts_with_all = ["session", "bus"])]
    system: bool,
    /// Serve on the session bus.
    #[arg(long, conflicts_with = "bus")]
    session: bool,
    /// Serve on the bus at this address (unix:path=/run/…).
    #[arg(long, value_name = "ADDRESS")]
    bus: Option<String>,
    /// Check the configuration and exit: parse it, refuse simulated devices
    /// on the system bus (unless allow_simulated), and open every file it
    /// names (tokens, CA file, logo). Run as root, it checks as user kassad,
    /// as the service runs. Exits 0 if good, 78 if not.
    #[arg(long)]
    check_config: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    kassa_daemon::logging::init();
    if args.check_config
        && let Some(code) = check_as_service_user(&args.config)
    {
        return code;
    }
    let bus = match (&args.bus, args.session) {
        (Some(address), _) => Bus::Address(address.clone()),
        (None, true) => Bus::Session,
        (None, false) => Bus::System,
    };
    let config = match load(&args.config)
        .map_err(|e| e.to_string())
        .and_then(|c| refuse_simulated(c, &bus, &args.config))
    {
        Ok(config) => config,
        Err(message) => {
            error!("{message}");
            eprintln!("kassad: {message}");
            return ExitCode::from(78); // EX_CONFIG
        }
    };
    if args.check_config {
        let problems = file_problems(&config);
        if !problems.is_empty() {
            for problem in &problems {
                eprintln!("kassad: {}: {problem}", args.config.display());
            }
            return ExitCode::from(78);
        }
        println!("{}: ok", args.config.display());
        return ExitCode::SUCCESS;
    }
    serve(config, bus)
}

/// Reads the configuration.
fn load(path: &std::path::Path) -> Result<Config, ConfigError> {
    if std::env::var_os(CHECKING_AGAIN).is_some() {
        // Checking again as kassad: the file comes on standard input, opened
        // by root, so that a copy kassad may not read (a configuration
        // manager's temporary file) is still checked; the files it names
        // are opened as kassad.
        let mut text = String::new();
        if std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).is_ok() {
            return Config::parse(&text, &path.display().to_string());
        }
    }
    Config::load(path)
}

/// Simulated devices hand out made-up payment codes: refused on the
/// system bus unless the config allows them, and warned about where they
/// run.
fn refuse_simulated(config: Config, bus: &Bus, path: &std::path::Path) -> Result<Config, String> {
    let simulated = simulated_devices(&config);
    if simulated.is_empty() {
        return Ok(config);
    }
    if matches!(bus, Bus::System) && !config.allow_simulated {
        return Err(format!(
            "{}: simulated devices ({}) hand out made-up payment codes and are refused on \
             the system bus: remove them, or, on a test machine only, put \
             `allow_simulated = true` at the top of the file",
            path.display(),
            simulated.join(", ")
        ));
    }
    warn!(
        "simulated devices ({}): every code they read is made up",
        simulated.join(", ")
    );
    Ok(config)
}

/// Runs kassad until SIGTERM or SIGINT.
fn serve(config: Config, bus: Bus) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kassad: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let ready = || {
            if let Err(e) = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]) {
                warn!("sd_notify: {e}");
            }
            start_watchdog();
        };
        run(config, bus, ready, shutdown_signal()).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            eprintln!("kassad: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The user the unit runs kassad as.
const SERVICE_USER: &str = "kassad";
/// Set when `--check-config` runs again as [`SERVICE_USER`].
const CHECKING_AGAIN: &str = "KASSA_CHECKING_AS_SERVICE_USER";

/// Run by root where user kassad exists, `--check-config` runs itself
/// again as that user (its groups included, through util-linux's setpriv),
/// so that a file the service could not read fails the check. `None`: check
/// here, as the user running it.
fn check_as_service_user(config: &std::path::Path) -> Option<ExitCode> {
    if std::env::var_os(CHECKING_AGAIN).is_some() || !running_as_root() {
        return None;
    }
    // Root opens the file itself; unreadable, the check here says why.
    let file = std::fs::File::open(config).ok()?;
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    if !passwd
        .lines()
        .any(|l| l.split(':').next() == Some(SERVICE_USER))
    {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    let status = std::process::Command::new("setpriv")
        .args([
            "--reuid",
            SERVICE_USER,
            "--regid",
            SERVICE_USER,
            "--init-groups",
            "--",
        ])
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(CHECKING_AGAIN, "1")
        .stdin(file)
        .status();
    match status {
        Ok(status) => Some(
            status
                .code()
                .and_then(|c| u8::try_from(c).ok())
                .map_or(ExitCode::FAILURE, ExitCode::from),
        ),
        Err(e) => {
            eprintln!(
                "kassad: cannot check as user {SERVICE_USER} (setpriv: {e}); checking as root"
            );
            None
        }
    }
}

/// Whether the effective user is root (from /proc: no libc call needed).
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
            .unwrap_or(false)
    })
}

/// The simulated devices of `config`, as "scanner \"sim\"".
fn simulated_devices(config: &Config) -> Vec<String> {
    let scanners = config
        .scanners
        .iter()
        .filter(|s| s.driver_name() == "mock")
        .map(|s| format!("scanner {:?}", s.name));
    let displays = config
        .displays
        .iter()
        .filter(|d| matches!(d.driver, DisplayDriver::Mock))
        .map(|d| format!("display {:?}", d.name));
    scanners.chain(displays).collect()
}

/// Every file the configuration names, read as kassad will read it; and
/// secrets readable by more than the service: each problem as a line.
fn file_problems(config: &Config) -> Vec<String> {
    let mut files: Vec<(String, &std::path::Path, bool)> = Vec::new();
    if let Some(backend) = &config.backend {
        if let Some(path) = &backend.token_file {
            files.push(("[backend] token_file".into(), path, true));
        }
        if let Some(path) = &backend.ca_file {
            files.push(("[backend] ca_file".into(), path, false));
        }
    }
    for display in &config.displays {
        if let DisplayDriver::Web(web) = &display.driver {
            if let Some(path) = &web.token_file {
                files.push((format!("display {:?} token_file", display.name), path, true));
            }
            if let Some(path) = &web.logo {
                files.push((format!("display {:?} logo", display.name), path, false));
            }
        }
    }
    let mut problems = Vec::new();
    // Group kassa (the POS apps) may read the POS API's token; every user
    // may not.
    if let Some(api) = &config.pos_api
        && let Err(e) = kassa_daemon::pos_api::read_token(&api.token_file)
    {
        problems.push(e);
    }
    for (what, path, secret) in files {
        if let Err(e) = std::fs::read(path) {
            problems.push(format!("{what} {}: {e}", path.display()));
        } else if secret && let Some(why) = exposed(path) {
            problems.push(format!(
                "{what} {} is {why}: a secret is root's, group kassad, mode 0640 \
                 (chown root:kassad; chmod 0640)",
                path.display()
            ));
        }
    }
    problems
}

/// Why a secret is readable by more than kassad: by every user, or by
/// group kassa, the POS programs that call kassad.
fn exposed(path: &std::path::Path) -> Option<&'static str> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(path).ok()?;
    if meta.mode() & 0o004 != 0 {
        return Some("readable by every user");
    }
    if meta.mode() & 0o040 != 0 {
        let groups = std::fs::read_to_string("/etc/group").unwrap_or_default();
        let gid = meta.gid().to_string();
        let callers = groups.lines().any(|l| {
            let mut fields = l.split(':');
            fields.next() == Some("kassa") && fields.nth(1) == Some(gid.as_str())
        });
        if callers {
            return Some("readable by group kassa (every POS program)");
        }
    }
    None
}

/// Pings systemd's watchdog at half its interval, from the runtime: a hung
/// runtime stops the pings and systemd restarts kassad.
fn start_watchdog() {
    let mut usec = 0u64;
    if !sd_notify::watchdog_enabled(false, &mut usec) || usec == 0 {
        return;
    }
    let interval = Duration::from_micros(usec / 2);
    let Some(ping) = WatchdogPing::open() else {
        warn!("watchdog: cannot reach NOTIFY_SOCKET; no pings");
        return;
    };
    tokio::spawn(async move {
        loop {
            ping.send();
            tokio::time::sleep(interval).await;
        }
    });
}

/// `WATCHDOG=1` datagrams to systemd, sent without blocking: a notify
/// socket whose queue is full (a manager that does not read) must not
/// stall a runtime thread, or tasks queued on it would never run.
struct WatchdogPing {
    socket: std::os::unix::net::UnixDatagram,
    to: std::os::unix::net::SocketAddr,
}

impl WatchdogPing {
    fn open() -> Option<WatchdogPing> {
        use std::os::linux::net::SocketAddrExt;
        let path = std::env::var_os("NOTIFY_SOCKET")?;
        let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
        let to = match bytes.strip_prefix(b"@") {
            Some(name) => std::os::unix::net::SocketAddr::from_abstract_name(name).ok()?,
            None => std::os::unix::net::SocketAddr::from_pathname(&path).ok()?,
        };
        let socket = std::os::unix::net::UnixDatagram::unbound().ok()?;
        socket.set_nonblocking(true).ok()?;
        Some(WatchdogPing { socket, to })
    }

    fn send(&self) {
        // A ping that does not fit is simply missed; the next one follows.
        let _ = self.socket.send_to_addr(b"WATCHDOG=1", &self.to);
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
}
