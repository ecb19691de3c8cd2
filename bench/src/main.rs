//! kassa-bench: measures kassad as a separate process, over a private
//! dbus-daemon, with a serial scanner on a real pty. See bench/RESULTS.md.
//!
//! ```sh
//! cargo build --release --bins
//! target/release/kassa-bench latency --scans 1000 --interval-ms 1000
//! target/release/kassa-bench latency --scans 1000 --interval-ms 0
//! target/release/kassa-bench show-order --calls 200 --lines 100
//! target/release/kassa-bench memory --checkouts 10000
//! target/release/kassa-bench camera-armed --seconds 30
//! ```

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use futures_util::StreamExt;
use kassa_client::{CheckoutProxy, TerminalProxy};
use kassa_tests::Pty;
use zbus::zvariant::Value;

mod camera_armed;
mod face;
mod startup;
mod wedge;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Last byte of a scan written into the pty → CodeScanned at the client.
    Latency {
        #[arg(long, default_value_t = 1000)]
        scans: usize,
        /// Pause between scans (1000 = 1 scan/s; 0 = a burst).
        #[arg(long, default_value_t = 1000)]
        interval_ms: u64,
        /// Which API the client uses: `dbus` (the CodeScanned signal),
        /// `websocket` (the POS API's CodeScanned event), or `both`, in
        /// turn, checkout by checkout, in one run.
        #[arg(long, default_value = "dbus")]
        via: String,
    },
    /// ShowOrder call → reply, for an order of `lines` items.
    ShowOrder {
        #[arg(long, default_value_t = 200)]
        calls: usize,
        #[arg(long, default_value_t = 100)]
        lines: usize,
    },
    /// ShowOrder call → the web screen's DOM updated in headless Chromium.
    WebUpdate {
        #[arg(long, default_value_t = 100)]
        updates: usize,
        #[arg(long, default_value_t = 20)]
        lines: usize,
        /// Pause between updates.
        #[arg(long, default_value_t = 100)]
        interval_ms: u64,
    },
    /// A serial scanner spewing garbage: kassad's CPU use, its log's
    /// growth and the reads it counted as dropped, then whether a checkout
    /// still gets its code (and how fast).
    Garbage {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Bytes a second written into the pty.
        #[arg(long, default_value_t = 6_600_000)]
        rate: u64,
    },
    /// kassad's start: process start → READY=1 (sd_notify), and → the
    /// first call answered, with its devices present and absent.
    Startup {
        #[arg(long, default_value_t = 50)]
        runs: usize,
    },
    /// kassad's CPU time while idle with a serial scanner connected.
    Idle {
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// The keyboard-wedge decoder: key events per second over every recorded
    /// stream, and the time from the terminator's key event to the Scan
    /// (in the decoder alone, and through the device reader from a FIFO).
    /// Needs no kassad.
    Wedge {
        #[arg(long, default_value_t = 2000)]
        rounds: usize,
    },
    /// Face detection time per frame (the detector CaptureFace runs), on
    /// drawn faces and empty scenes. Needs no kassad.
    Face {
        #[arg(long, default_value_t = 200)]
        frames: usize,
        #[arg(long, default_value_t = 640)]
        width: usize,
        #[arg(long, default_value_t = 360)]
        height: usize,
    },
    /// kassad's CPU use with a camera (a directory of 1280×720 frames
    /// without a code, played at 30 fps) configured but not armed, then
    /// armed by a checkout that waits for a code it never sees; with the
    /// camera thread's own share, frames decoded and dropped, wake-ups.
    CameraArmed {
        /// Length of each measurement (not armed, armed).
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// `pgm` (raw luma, as from a YUYV camera), `jpg` (MJPEG files) or
        /// `both`, one after the other.
        #[arg(long, default_value = "both")]
        format: String,
        /// Distinct frames played in a loop.
        #[arg(long, default_value_t = 60)]
        frames: u64,
    },
    /// kassad's RSS idle, and after many checkouts.
    Memory {
        #[arg(long, default_value_t = 10_000)]
        checkouts: usize,
        /// `checkout` (BeginCheckout, code, Cancel), `scan` (ScanPaymentCode)
        /// or `cancel` (BeginCheckout, Cancel).
        #[arg(long, default_value = "checkout")]
        mode: String,
    },
}

struct Rig {
    bus: Child,
    kassad: Child,
    pty: Pty,
    conn: zbus::Connection,
    terminal: TerminalProxy<'static>,
    _dir: tempfile::TempDir,
}

impl Drop for Rig {
    fn drop(&mut self) {
        // SIGTERM first: kassad stops cleanly (and a profiler wrapping it
        // writes its report).
        let _ = Command::new("kill")
            .arg(self.kassad.id().to_string())
            .status();
        for _ in 0..100 {
            if matches!(self.kassad.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.kassad.kill();
        let _ = self.kassad.wait();
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

/// kassad next to this binary, or $KASSA_BENCH_KASSAD (a wrapper that runs
/// it under a profiler, say).
fn kassad_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("KASSA_BENCH_KASSAD") {
        return PathBuf::from(path);
    }
    let me = std::env::current_exe().expect("own path");
    me.with_file_name("kassad")
}

fn order_json(id: &str, lines: usize) -> String {
    let items: Vec<serde_json::Value> = (0..lines)
        .map(|i| serde_json::json!({"name": format!("商品 item {i}"), "quantity": "1", "unit_price": 100 + i, "total": 100 + i}))
        .collect();
    let total: usize = (0..lines).map(|i| 100 + i).sum();
    serde_json::json!({"id": id, "currency": "CNY", "items": items, "total": total}).to_string()
}

/// Milliseconds since the Unix epoch, the clock the page's
/// `performance.timeOrigin + performance.now()` reads too.
fn epoch_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
        * 1000.0
}

/// A dbus-daemon of the bench's own, on a socket in `dir`, and its address.
fn private_bus(dir: &std::path::Path) -> (Child, String) {
    let mut bus = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
        .arg(format!("--address=unix:path={}", dir.join("bus").display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon");
    let mut address = String::new();
    BufReader::new(bus.stdout.take().expect("stdout"))
        .read_line(&mut address)
        .expect("bus address");
    (bus, address.trim().to_string())
}

/// Starts kassad; with `log`, its log (at the default level) goes to that
/// file, else only warnings, to nowhere. `extra` is appended to its
/// configuration (more devices).
async fn start(
    web_port: Option<u16>,
    pos_api_port: Option<u16>,
    log: Option<&std::path::Path>,
    extra: &str,
) -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let (bus, address) = private_bus(dir.path());
    let mut pty = Pty::open();
    let config = dir.path().join("kassa.toml");
    let pos_api = pos_api_port.map_or(String::new(), |port| {
        kassa_tests::pos_api::section(port, &kassa_tests::pos_api::token_file(dir.path()), &[])
    });
    std::fs::write(
        &config,
        format!(
            "[[scanner]]\nname = \"counter\"\ndriver = \"serial\"\npath = \"{}\"\n\n[[display]]\nname = \"screen\"\ndriver = \"mock\"\n{}{pos_api}{extra}",
            pty.path().display(),
            web_port.map_or(String::new(), |port| format!(
                "\n[[display]]\nname = \"web\"\ndriver = \"web\"\nlisten = \"127.0.0.1:{port}\"\n"
            )),
        ),
    )
    .expect("config");
    let kassad = Command::new(kassad_binary())
        .arg("--config")
        .arg(&config)
        .arg("--bus")
        .arg(&address)
        .env("KASSA_LOG", if log.is_some() { "info" } else { "warn" })
        .stderr(match log {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("log file")),
            None => Stdio::null(),
        })
        .spawn()
        .expect("kassad next to kassa-bench (cargo build --release --bins)");
    let conn = zbus::connection::Builder::address(address.as_str())
        .expect("address")
        .build()
        .await
        .expect("bus");
    let terminal = TerminalProxy::builder(&conn)
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .expect("proxy");
    let deadline = Instant::now() + Duration::from_secs(10);
    while terminal.version().await.is_err() {
        assert!(Instant::now() < deadline, "kassad did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    pty.release_slave();
    Rig {
        bus,
        kassad,
        pty,
        conn,
        terminal,
        _dir: dir,
    }
}

fn no_options() -> HashMap<&'static str, Value<'static>> {
    HashMap::new()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(name: &str, mut samples: Vec<Duration>) -> serde_json::Value {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let out = serde_json::json!({
        "bench": name,
        "n": samples.len(),
        "p50_ms": ms(percentile(&samples, 0.50)),
        "p99_ms": ms(percentile(&samples, 0.99)),
        "max_ms": ms(*samples.last().unwrap_or(&Duration::ZERO)),
    });
    println!("{out}");
    out
}

/// User + system CPU time of `pid`, in clock ticks (utime + stime of
/// /proc/PID/stat; 100 ticks a second on Linux).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the
    // 12th and 13th of those.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// Context switches of all of a process's threads so far: each is a
/// thread waking up (voluntary: it slept and was woken; involuntary: it was
/// preempted).
fn context_switches(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .map(|task| task_switches(&task.path()))
        .sum()
}

/// Context switches of one thread (its /proc/PID/task/TID directory) so far.
fn task_switches(task: &std::path::Path) -> u64 {
    std::fs::read_to_string(task.join("status"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("ctxt_switches:"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// One checkout whose code comes through the pty; returns the latency from
/// the code's last byte to CodeScanned.
async fn one_checkout(
    conn: &zbus::Connection,
    terminal: &TerminalProxy<'_>,
    pty: &mut Pty,
    code: &str,
) -> Duration {
    let path = terminal
        .begin_checkout(no_options())
        .await
        .expect("BeginCheckout");
    let session = CheckoutProxy::builder(conn)
        .path(path)
        .expect("path")
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .expect("proxy");
    let mut codes = session.receive_code_scanned().await.expect("subscribe");
    pty.send(format!("{code}\r").as_bytes());
    let written = Instant::now();
    let _ = codes.next().await.expect("CodeScanned");
    let latency = written.elapsed();
    session.cancel().await.expect("Cancel");
    latency
}

/// The same as [`one_checkout`], over the POS API: last byte of the scan
/// → the CodeScanned event at the WebSocket client.
async fn one_checkout_ws(
    client: &mut kassa_tests::pos_api::Client,
    pty: &mut Pty,
    code: &str,
) -> Duration {
    let begun = client
        .call("BeginCheckout", serde_json::json!({}))
        .await
        .expect("BeginCheckout");
    pty.send(format!("{code}\r").as_bytes());
    let written = Instant::now();
    let scanned = client.event("CodeScanned").await;
    let latency = written.elapsed();
    assert_eq!(scanned["code"], code);
    client
        .call("Cancel", serde_json::json!({"checkout": begun["checkout"]}))
        .await
        .expect("Cancel");
    client.event("Finished").await;
    latency
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    if let Bench::Wedge { rounds } = cli.command {
        wedge::run(rounds);
        return;
    }
    if let Bench::Startup { runs } = cli.command {
        startup::run(runs).await;
        return;
    }
    if let Bench::Face {
        frames,
        width,
        height,
    } = cli.command
    {
        face::run(frames, width, height);
        return;
    }
    if let Bench::CameraArmed {
        seconds,
        format,
        frames,
    } = &cli.command
    {
        let formats: &[&str] = match format.as_str() {
            "both" => &["pgm", "jpg"],
            "pgm" => &["pgm"],
            "jpg" => &["jpg"],
            other => panic!("--format {other}: pgm, jpg or both"),
        };
        camera_armed::run(*seconds, formats, *frames).await;
        return;
    }
    let web_port = matches!(cli.command, Bench::WebUpdate { .. }).then(kassa_tests::free_port);
    let log_dir = tempfile::tempdir().expect("tempdir");
    let log =
        matches!(cli.command, Bench::Garbage { .. }).then(|| log_dir.path().join("kassad.log"));
    let pos_api_port = matches!(cli.command, Bench::Latency { .. }).then(kassa_tests::free_port);
    let mut rig = start(web_port, pos_api_port, log.as_deref(), "").await;
    let (conn, terminal) = (rig.conn.clone(), rig.terminal.clone());
    match cli.command {
        Bench::Latency {
            scans,
            interval_ms,
            via,
        } => {
            let (dbus, websocket) = match via.as_str() {
                "dbus" => (true, false),
                "websocket" => (false, true),
                "both" => (true, true),
                other => panic!("--via {other}: dbus, websocket or both"),
            };
            let api = std::net::SocketAddr::from(([127, 0, 0, 1], pos_api_port.expect("port")));
            let mut client = match websocket {
                true => Some(
                    kassa_tests::pos_api::Client::connect(api, kassa_tests::pos_api::TOKEN, None)
                        .await
                        .expect("the POS API"),
                ),
                false => None,
            };
            let (mut over_dbus, mut over_ws) = (Vec::new(), Vec::new());
            for i in 0..scans {
                let code = format!("13{:016}", i);
                if dbus {
                    over_dbus.push(one_checkout(&conn, &terminal, &mut rig.pty, &code).await);
                    tokio::time::sleep(Duration::from_millis(interval_ms)).await;
                }
                if let Some(client) = client.as_mut() {
                    over_ws.push(one_checkout_ws(client, &mut rig.pty, &code).await);
                    tokio::time::sleep(Duration::from_millis(interval_ms)).await;
                }
            }
            if dbus {
                report(
                    &format!("scan_to_code_scanned interval_ms={interval_ms}"),
                    over_dbus,
                );
            }
            if websocket {
                report(
                    &format!("scan_to_code_scanned_websocket interval_ms={interval_ms}"),
                    over_ws,
                );
            }
        }
        Bench::Garbage { seconds, rate } => {
            let log = log.expect("log file");
            garbage(&mut rig, &log, seconds, rate).await;
        }
        Bench::Idle { seconds } => {
            let pid = rig.kassad.id();
            tokio::time::sleep(Duration::from_secs(2)).await;
            let (before, switches) = (cpu_ticks(pid), context_switches(pid));
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            let used = cpu_ticks(pid) - before;
            let wakeups = context_switches(pid) - switches;
            let percent = used as f64 / (seconds as f64 * 100.0) * 100.0;
            println!(
                "{}",
                serde_json::json!({"bench": "idle_cpu", "seconds": seconds, "cpu_ticks": used, "cpu_percent": percent, "wakeups": wakeups, "wakeups_per_second": wakeups as f64 / seconds as f64, "rss_kib": rss_kib(pid)})
            );
        }
        Bench::WebUpdate {
            updates,
            lines,
            interval_ms,
        } => {
            let port = web_port.expect("web screen configured");
            let browser = kassa_tests::browser::Browser::start(1280, 800).await;
            browser.goto(&format!("http://127.0.0.1:{port}/")).await;
            browser
                .wait_for(
                    "document.body.dataset.view === 'idle'",
                    Duration::from_secs(10),
                    "the idle screen",
                )
                .await;
            let first_seq = browser
                .eval(
                    "return Number(document.body.dataset.seq)",
                    serde_json::json!([]),
                )
                .await
                .as_i64()
                .expect("seq");
            let mut sent = Vec::with_capacity(updates);
            for i in 0..updates {
                let order = order_json(&format!("W-{i}"), lines);
                sent.push(epoch_ms());
                terminal.show_order(&order).await.expect("ShowOrder");
                tokio::time::sleep(Duration::from_millis(interval_ms)).await;
            }
            let last = first_seq + updates as i64;
            browser
                .wait_for(
                    &format!("Number(document.body.dataset.seq) >= {last}"),
                    Duration::from_secs(10),
                    "the last update",
                )
                .await;
            let renders = browser
                .eval(
                    "return window.kassaRenders.map(r => [r.seq, r.at])",
                    serde_json::json!([]),
                )
                .await;
            let renders: HashMap<i64, f64> = renders
                .as_array()
                .expect("renders")
                .iter()
                .filter_map(|r| Some((r[0].as_i64()?, r[1].as_f64()?)))
                .collect();
            let samples: Vec<Duration> = sent
                .iter()
                .enumerate()
                .map(|(i, at)| {
                    let seq = first_seq + 1 + i as i64;
                    let shown = renders
                        .get(&seq)
                        .unwrap_or_else(|| panic!("update {seq} never rendered (skipped?)"));
                    Duration::from_secs_f64((shown - at).max(0.0) / 1000.0)
                })
                .collect();
            report(&format!("show_order_to_dom lines={lines}"), samples);
        }
        Bench::ShowOrder { calls, lines } => {
            let order = order_json("BENCH", lines);
            let mut samples = Vec::with_capacity(calls);
            for _ in 0..calls {
                let started = Instant::now();
                terminal.show_order(&order).await.expect("ShowOrder");
                samples.push(started.elapsed());
            }
            report(
                &format!("show_order lines={lines} bytes={}", order.len()),
                samples,
            );
        }
        Bench::Wedge { .. }
        | Bench::Face { .. }
        | Bench::Startup { .. }
        | Bench::CameraArmed { .. } => {}
        Bench::Memory { checkouts, mode } => {
            let pid = rig.kassad.id();
            tokio::time::sleep(Duration::from_secs(2)).await;
            let idle = rss_kib(pid);
            let mut marks = Vec::new();
            for i in 1..=checkouts {
                let code = format!("28{:014}", i);
                match mode.as_str() {
                    "scan" => {
                        let call = terminal.scan_payment_code(no_options());
                        let write = async {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            rig.pty.send(format!("{code}\r").as_bytes());
                        };
                        let (result, ()) = tokio::join!(call, write);
                        result.expect("ScanPaymentCode");
                    }
                    "cancel" => {
                        let path = terminal
                            .begin_checkout(no_options())
                            .await
                            .expect("BeginCheckout");
                        CheckoutProxy::builder(&conn)
                            .path(path)
                            .expect("path")
                            .build()
                            .await
                            .expect("proxy")
                            .cancel()
                            .await
                            .expect("Cancel");
                    }
                    _ => {
                        one_checkout(&conn, &terminal, &mut rig.pty, &code).await;
                    }
                }
                if i % 1000 == 0 {
                    marks.push((i, rss_kib(pid)));
                }
            }
            let after = rss_kib(pid);
            // Finished sessions stay on the bus for 15 s for their owners.
            tokio::time::sleep(Duration::from_secs(17)).await;
            let settled = rss_kib(pid);
            let manager = zbus::fdo::ObjectManagerProxy::builder(&conn)
                .destination("org.kassa.Terminal1")
                .expect("name")
                .path("/org/kassa/Terminal1")
                .expect("path")
                .build()
                .await
                .expect("proxy");
            let objects = manager
                .get_managed_objects()
                .await
                .map(|o| o.len())
                .unwrap_or(0);
            println!(
                "{}",
                serde_json::json!({"bench": "memory", "mode": mode, "objects_left": objects, "idle_rss_kib": idle, "after_checkouts_rss_kib": after,
                    "after_linger_rss_kib": settled, "checkouts": checkouts, "every_1000": marks})
            );
        }
    }
}

/// Writes pseudo-random bytes into the scanner's pty at `rate` bytes a
/// second for `seconds`, and reports what that cost kassad.
async fn garbage(rig: &mut Rig, log: &std::path::Path, seconds: u64, rate: u64) {
    let pid = rig.kassad.id();
    let device = kassa_client::DeviceProxy::builder(&rig.conn)
        .path("/org/kassa/Terminal1/devices/counter")
        .expect("path")
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .expect("device proxy");
    let log_before = std::fs::metadata(log).map(|m| m.len()).unwrap_or(0);
    let ticks_before = cpu_ticks(pid);
    let started = Instant::now();
    let chunk = 16 * 1024;
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut written: u64 = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        let bytes: Vec<u8> = (0..chunk)
            .map(|_| {
                // xorshift64: cheap, reproducible noise.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        rig.pty.send(&bytes);
        written += chunk as u64;
        let due = Duration::from_secs_f64(written as f64 / rate as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let used = cpu_ticks(pid) - ticks_before;
    let log_growth = std::fs::metadata(log).map(|m| m.len()).unwrap_or(0) - log_before;
    let dropped = device.dropped_count().await.unwrap_or(0);
    // Then a customer pays: the code must still come through. A return
    // first ends whatever half frame the noise left.
    rig.pty.send(b"\r");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let latency = one_checkout(&rig.conn, &rig.terminal, &mut rig.pty, "134567890123456789").await;
    println!(
        "{}",
        serde_json::json!({
            "bench": "scanner_garbage",
            "seconds": elapsed,
            "bytes_per_second": written as f64 / elapsed,
            "cpu_percent": used as f64 / (elapsed * 100.0) * 100.0,
            "log_bytes": log_growth,
            "log_bytes_per_second": log_growth as f64 / elapsed,
            "dropped_reads": dropped,
            "checkout_after_ms": latency.as_secs_f64() * 1000.0,
        })
    );
}
