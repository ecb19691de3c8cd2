//! The web second screen against hostile local clients: a wrong `Host`
//! (DNS rebinding), slowloris connections, and thousands of idle and
//! half-open connections while kassad has only 1,024 file descriptors, a
//! payment going on meanwhile.
//!
//! kassad runs inside the test process (as in every end-to-end test), so
//! the 1,024-descriptor limit is set on this process; the hostile
//! connections come from a child process (this test binary again, running
//! `hostile_client_process`) with a limit of its own.

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kassa_client::TerminalProxy;
use kassa_tests::backend::{Options as BackendOptions, SampleBackend};
use kassa_tests::bus::{Kassad, PrivateBus};
use kassa_tests::{Pty, free_port};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zbus::zvariant::Value;

const WECHAT: &str = "134567890123456789";
/// The web screen's header read timeout (`daemon/src/web/server.rs`).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(3);
/// Its cap on open connections.
const MAX_CONNECTIONS: usize = 64;
/// Its cap on event streams.
const MAX_EVENT_STREAMS: usize = 16;

/// The test that counts this process's descriptors runs alone: the
/// others take this to read, it takes it to write.
static ALONE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

fn web_config(port: u16, extra: &str) -> String {
    format!(
        "[[scanner]]\nname = \"sim\"\ndriver = \"mock\"\ncodes = [\"{WECHAT}\"]\ndelay_ms = 1000\n\n\
         [[display]]\nname = \"screen\"\ndriver = \"web\"\nlisten = \"127.0.0.1:{port}\"\n{extra}\n"
    )
}

/// Sends `request` as it is on a new connection and reads the answer until
/// the server closes the connection (every request here asks it to), within
/// 5 s. Returns the status code and the whole response.
async fn raw(port: u16, request: &str) -> (u16, String) {
    let exchange = async {
        let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect to the web screen");
        socket.write_all(request.as_bytes()).await.expect("send");
        let mut answer = Vec::new();
        socket.read_to_end(&mut answer).await.expect("read");
        String::from_utf8_lossy(&answer).into_owned()
    };
    let answer = tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .unwrap_or_else(|_| panic!("no complete answer within 5 s to {request:?}"));
    let status = answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer to {request:?}: {answer:?}"));
    (status, answer)
}

fn get(path: &str, host: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_screens_own_host_names_are_answered() {
    let _shared = ALONE.read().await;
    let bus = PrivateBus::start();
    let port = free_port();
    let extra = format!("allowed_hosts = [\"kiosk.local:{port}\", \"Till-7\"]");
    let kassad = Kassad::start(&web_config(port, &extra), &bus).await;

    // The page's own names: what the kiosk has in its address bar.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LOCALHOST:{port}"),
        format!("[::1]:{port}"),
        format!("kiosk.local:{port}"),
        format!("till-7:{port}"),
    ] {
        let (status, answer) = raw(port, &get("/", &host)).await;
        assert_eq!(status, 200, "Host {host}: {answer}");
    }

    // A page of evil.example that rebinds its name to 127.0.0.1 sends its
    // own name: refused before anything else, for every path.
    for (request, what) in [
        (get("/", "evil.example"), "another name"),
        (
            get("/", &format!("evil.example:{port}")),
            "another name, same port",
        ),
        (
            get("/events", &format!("evil.example:{port}")),
            "another name, events",
        ),
        (get("/screen.js", "evil.example"), "another name, script"),
        (
            get("/nowhere", "evil.example"),
            "another name, no such page",
        ),
        (get("/", "localhost"), "the right name, the wrong port"),
        (
            get("/", &format!("kiosk.local:{}", port ^ 1)),
            "a listed name, the wrong port",
        ),
        (get("/", &format!("localhost.:{port}")), "a trailing dot"),
        (
            get("/", &format!("127.0.0.1:{port}@evil.example")),
            "userinfo",
        ),
        (
            "GET / HTTP/1.1\r\nConnection: close\r\n\r\n".to_string(),
            "no Host at all",
        ),
        (
            format!(
                "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
            ),
            "two Hosts",
        ),
        (
            format!(
                "GET http://evil.example/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
            ),
            "an absolute URL naming another host",
        ),
    ] {
        let (status, answer) = raw(port, &request).await;
        assert_eq!(status, 421, "{what}: {answer}");
        assert!(answer.contains("allowed_hosts"), "{what}: {answer}");
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{what}: {answer}"
        );
    }

    // Nothing takes a body.
    let (status, answer) = raw(
        port,
        &format!(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
        ),
    )
    .await;
    assert_eq!(status, 413, "{answer}");
    let (status, answer) = raw(
        port,
        &format!(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(status, 413, "{answer}");
    let (status, answer) = raw(
        port,
        &format!("DELETE / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(status, 405, "{answer}");
    kassad.stop().await;
}

/// Waits until the server closes `socket` (EOF or reset); returns how long
/// after `start` that was, or `None` if it was still open `limit` after it.
fn closed_within(socket: &mut TcpStream, start: Instant, limit: Duration) -> Option<Duration> {
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(start.elapsed());
        if left.is_zero() {
            return None;
        }
        socket.set_read_timeout(Some(left)).unwrap();
        match socket.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionReset) => {
                return Some(start.elapsed());
            }
            Err(_) => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed() {
    let _shared = ALONE.read().await;
    let bus = PrivateBus::start();
    let port = free_port();
    let kassad = Kassad::start(&web_config(port, ""), &bus).await;
    let limit = HEADER_READ_TIMEOUT + Duration::from_secs(2);

    let checks = tokio::task::spawn_blocking(move || {
        let connect = || TcpStream::connect(("127.0.0.1", port)).unwrap();
        let start = Instant::now();
        // Silent: connects and sends nothing.
        let mut silent = connect();
        // Half a request line.
        let mut half = connect();
        half.write_all(b"GET / HT").unwrap();
        // A whole request head but the blank line that ends it.
        let mut unfinished = connect();
        unfinished
            .write_all(format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n").as_bytes())
            .unwrap();
        // Headers trickled a byte every 300 ms, never finishing.
        let trickled = Arc::new(AtomicBool::new(true));
        let mut trickle = connect();
        trickle
            .write_all(format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ").as_bytes())
            .unwrap();
        let mut writer = trickle.try_clone().unwrap();
        let going = trickled.clone();
        let trickler = std::thread::spawn(move || {
            while going.load(Ordering::Relaxed) && writer.write_all(b"a").is_ok() {
                std::thread::sleep(Duration::from_millis(300));
            }
        });
        // A finished request, then an idle keep-alive connection.
        let mut kept = connect();
        kept.write_all(
            format!("GET /screen.css HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes(),
        )
        .unwrap();

        let mut results = Vec::new();
        for (name, socket) in [
            ("silent", &mut silent),
            ("half a request line", &mut half),
            ("unfinished head", &mut unfinished),
            ("trickled headers", &mut trickle),
            ("idle keep-alive", &mut kept),
        ] {
            results.push((name, closed_within(socket, start, limit)));
        }
        trickled.store(false, Ordering::Relaxed);
        let _ = trickler.join();
        results
    });
    let results = checks.await.unwrap();
    for (name, closed) in &results {
        let closed = closed.unwrap_or_else(|| panic!("{name}: still open after {limit:?}"));
        println!("{name}: closed by kassad {closed:?} after it was opened");
    }
    kassad.stop().await;
}

/// Reads the first view document from an event stream on `socket`.
async fn first_view(socket: &mut tokio::net::TcpStream) -> Option<serde_json::Value> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen);
        if let Some(line) = text.lines().find(|l| l.starts_with("data: ")) {
            if let Ok(doc) = serde_json::from_str(&line["data: ".len()..]) {
                return Some(doc);
            }
        }
    }
}

/// Whether the server ended the response or connection on `socket` within
/// `limit`: a closed connection or the last chunk of a chunked body.
async fn stream_ended(socket: &mut tokio::net::TcpStream, limit: Duration) -> bool {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(n) => {
                    seen.extend_from_slice(&buf[..n]);
                    if seen == b"0\r\n\r\n" || seen.ends_with(b"\r\n0\r\n\r\n") {
                        return true;
                    }
                }
            }
        }
    })
    .await
    .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_event_stream_over_the_cap_ends_the_oldest() {
    let _shared = ALONE.read().await;
    let bus = PrivateBus::start();
    let port = free_port();
    let kassad = Kassad::start(&web_config(port, ""), &bus).await;
    let mut streams = Vec::new();
    for _ in 0..MAX_EVENT_STREAMS {
        let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        socket
            .write_all(format!("GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let view = tokio::time::timeout(Duration::from_secs(5), first_view(&mut socket))
            .await
            .expect("a view within 5 s");
        assert_eq!(view.expect("a view")["view"], "idle");
        streams.push(socket);
    }
    // One more: the kiosk reconnecting while someone holds every stream.
    let mut newest = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    newest
        .write_all(format!("GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let view = tokio::time::timeout(Duration::from_secs(5), first_view(&mut newest))
        .await
        .expect("a view within 5 s");
    assert_eq!(view.expect("the newest stream gets a view")["view"], "idle");
    assert!(
        stream_ended(&mut streams[0], Duration::from_secs(2)).await,
        "the oldest stream was not ended"
    );
    assert!(
        !stream_ended(&mut streams[1], Duration::from_millis(300)).await,
        "the second oldest stream was ended too"
    );
    kassad.stop().await;
}

/// The descriptor limits of this process: (soft, hard).
fn open_file_limits() -> (u64, u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files in /proc/self/limits");
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|word| {
            if word == "unlimited" {
                Some(u64::MAX)
            } else {
                word.parse().ok()
            }
        })
        .collect();
    (numbers[0], numbers[1])
}

/// Descriptors open in this process; `None` when not even the directory
/// listing them can be opened (the limit is reached).
fn open_fds() -> Option<usize> {
    std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|entries| entries.count())
}

/// The hostile client, run as a child process by
/// `payments_go_on_while_thousands_of_connections_hammer_the_web_screen`
/// (it does nothing when run otherwise).
///
/// It opens `KASSA_HOSTILE_COUNT` connections to `KASSA_HOSTILE_TARGET`,
/// a fifth each silent, half a request line, an unfinished head, an event
/// stream it never reads, and a request for another Host; reports
/// `hostile: opened N failed M`; then keeps reopening (at most 1,000 a
/// second) whatever kassad closes until its stdin ends, and reports
/// `hostile: connects N closed_by_kassad M open_at_end K`.
#[test]
#[ignore = "run by payments_go_on_while_thousands_of_connections_hammer_the_web_screen"]
fn hostile_client_process() {
    let (Ok(target), Ok(count)) = (
        std::env::var("KASSA_HOSTILE_TARGET"),
        std::env::var("KASSA_HOSTILE_COUNT"),
    ) else {
        return;
    };
    let target: SocketAddr = target.parse().unwrap();
    let count: usize = count.parse().unwrap();
    let host = format!("127.0.0.1:{}", target.port());
    let opening = |kind: usize| -> String {
        match kind % 5 {
            0 => String::new(),
            1 => "GET / HT".to_string(),
            2 => format!("GET / HTTP/1.1\r\nHost: {host}\r\nX-Slow: a"),
            3 => format!("GET /events HTTP/1.1\r\nHost: {host}\r\n\r\n"),
            _ => format!(
                "GET / HTTP/1.1\r\nHost: evil.example:{}\r\n\r\n",
                target.port()
            ),
        }
    };
    let open = |kind: usize| -> Option<TcpStream> {
        let socket = TcpStream::connect_timeout(&target, Duration::from_millis(300)).ok()?;
        let _ = (&socket).write_all(opening(kind).as_bytes());
        socket.set_nonblocking(true).ok()?;
        Some(socket)
    };
    // Whether kassad closed the socket (reading whatever it sent first).
    let closed = |socket: &mut TcpStream| -> bool {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match socket.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
                Err(_) => return true,
            }
        }
    };

    let deadline = Instant::now() + Duration::from_secs(15);
    let mut held: Vec<(usize, Option<TcpStream>)> = Vec::with_capacity(count);
    let mut failed = 0;
    for kind in 0..count {
        if Instant::now() > deadline {
            break;
        }
        match open(kind) {
            Some(socket) => held.push((kind, Some(socket))),
            None => {
                failed += 1;
                held.push((kind, None));
            }
        }
    }
    println!("hostile: opened {} failed {failed}", count - failed);
    std::io::stdout().flush().unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let stopper = stop.clone();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        stopper.store(true, Ordering::Relaxed);
    });
    let mut connects = count - failed;
    let mut closed_by_kassad = 0;
    let mut next = 0;
    while !stop.load(Ordering::Relaxed) {
        // Reopen at most 100 per 100 ms, round the whole set.
        let mut reopened = 0;
        let start = next;
        let total = held.len();
        while total > 0 && reopened < 100 {
            let (kind, slot) = &mut held[next];
            next = (next + 1) % total;
            let gone = match slot {
                Some(socket) => closed(socket),
                None => true,
            };
            if gone {
                if slot.is_some() {
                    closed_by_kassad += 1;
                }
                *slot = open(*kind);
                if slot.is_some() {
                    connects += 1;
                }
                reopened += 1;
            }
            if next == start {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut open_at_end = 0;
    for (_, slot) in &mut held {
        if let Some(socket) = slot {
            if closed(socket) {
                closed_by_kassad += 1;
            } else {
                open_at_end += 1;
            }
        }
    }
    println!(
        "hostile: connects {connects} closed_by_kassad {closed_by_kassad} open_at_end {open_at_end}"
    );
    std::io::stdout().flush().unwrap();
}

/// The hostile child: started, its first report read.
struct Hostile {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Hostile {
    fn start(port: u16, count: usize, fd_limit: u64) -> Hostile {
        let exe = std::env::current_exe().unwrap();
        let mut child = Command::new("prlimit")
            .arg(format!("--nofile={fd_limit}:"))
            .arg("--")
            .arg(exe)
            .args([
                "hostile_client_process",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("KASSA_HOSTILE_TARGET", format!("127.0.0.1:{port}"))
            .env("KASSA_HOSTILE_COUNT", count.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("prlimit (util-linux) and this test binary");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                // libtest's "test … ... " may come first on the line.
                if let Some(at) = line.find("hostile: ") {
                    let _ = tx.send(line[at + "hostile: ".len()..].to_string());
                }
            }
        });
        Hostile { child, lines }
    }

    fn report(&self, within: Duration) -> HashMap<String, usize> {
        let line = self
            .lines
            .recv_timeout(within)
            .unwrap_or_else(|_| panic!("the hostile client did not report within {within:?}"));
        let words: Vec<&str> = line.split_whitespace().collect();
        words
            .chunks(2)
            .map(|pair| (pair[0].to_string(), pair[1].parse().unwrap()))
            .collect()
    }

    fn stop(mut self) -> HashMap<String, usize> {
        drop(self.child.stdin.take());
        let report = self.report(Duration::from_secs(20));
        let _ = self.child.wait();
        report
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_go_on_while_thousands_of_connections_hammer_the_web_screen() {
    let _alone = ALONE.write().await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    // kassad's unit runs with 1,024 descriptors; kassad runs in this
    // process, so this process gets that limit.
    let (_, hard) = open_file_limits();
    let kassad_limit = hard.min(1024);
    let status = Command::new("prlimit")
        .arg(format!("--pid={}", std::process::id()))
        .arg(format!("--nofile={kassad_limit}:"))
        .status()
        .expect("prlimit (util-linux)");
    assert!(status.success(), "prlimit failed");
    assert_eq!(open_file_limits().0, kassad_limit);
    // The attacker has more: three connections for every descriptor kassad
    // has, where the hard limit allows.
    let attacker_limit = hard.min(4096);
    let count = usize::try_from(attacker_limit)
        .unwrap()
        .saturating_sub(100)
        .min(3000);

    let dir = tempfile::tempdir().unwrap();
    let mut scanner = Pty::open();
    let link = dir.path().join("scanner");
    std::os::unix::fs::symlink(scanner.path(), &link).unwrap();
    let backend = SampleBackend::start(BackendOptions::default())
        .await
        .unwrap();
    backend.bind(
        WECHAT,
        json!({"id": "H-1", "currency": "CNY",
               "items": [{"name": "拿铁 Latte", "quantity": "1", "unit_price": 1800, "total": 1800}],
               "total": 1800}),
    );
    let port = free_port();
    let config = format!(
        r#"
[[scanner]]
name = "counter"
driver = "serial"
path = "{scanner}"
trigger_on = "\u0016T\r"
trigger_off = "\u0016U\r"

[[display]]
name = "screen"
driver = "web"
listen = "127.0.0.1:{port}"

[backend]
order_query_url = "{url}/orders?payment_code={{code}}"
request_timeout_ms = 2000
"#,
        scanner = link.display(),
        url = backend.url(),
    );
    let bus = PrivateBus::start();
    let kassad = Kassad::start(&config, &bus).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let page = format!("http://127.0.0.1:{port}/");
    assert_eq!(http.get(&page).send().await.unwrap().status(), 200);
    let before = open_fds().unwrap();

    // Count this process's descriptors (kassad's, and the test's few) all
    // along.
    let peak = Arc::new(AtomicUsize::new(before));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        let limit = usize::try_from(kassad_limit).unwrap();
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(open_fds().unwrap_or(limit), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    // The attack: thousands of connections, kept up.
    let started = Instant::now();
    let hostile = Hostile::start(port, count, attacker_limit);
    let opened = tokio::task::block_in_place(|| hostile.report(Duration::from_secs(30)));
    println!(
        "hostile client: {opened:?} in {:?} (kassad's limit {kassad_limit}, {before} descriptors open before)",
        started.elapsed()
    );

    // The kiosk's own page still loads.
    for _ in 0..3 {
        let answer = http
            .get(&page)
            .send()
            .await
            .unwrap_or_else(|e| panic!("the kiosk's GET / during the attack: {e:?}"));
        assert_eq!(answer.status(), 200);
        assert!(answer.text().await.unwrap().contains("<html"));
    }
    let kiosk_page = started.elapsed();

    // A POS program connects to kassad over D-Bus and takes a payment: the
    // scanner is triggered, the customer's code read, the order fetched
    // from the backend.
    let conn = tokio::time::timeout(Duration::from_secs(5), bus.connect())
        .await
        .expect("a new D-Bus connection within 5 s");
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    let scan = tokio::spawn({
        let terminal = terminal.clone();
        async move {
            terminal
                .scan_payment_code(HashMap::from([
                    ("amount", Value::I64(1800)),
                    ("timeout_ms", Value::U32(10_000)),
                ]))
                .await
        }
    });
    // kassad sends the trigger-off sequence to every scanner it opens (a
    // known state), then the trigger for the wait.
    let trigger =
        tokio::task::block_in_place(|| scanner.receive(6, Duration::from_secs(5))).unwrap();
    assert_eq!(trigger, b"\x16U\r\x16T\r", "the scanner was triggered");
    scanner.send(format!("{WECHAT}\r").as_bytes());
    let (code, channel, source) = tokio::time::timeout(Duration::from_secs(5), scan)
        .await
        .expect("ScanPaymentCode answers within 5 s")
        .unwrap()
        .expect("ScanPaymentCode");
    assert_eq!(
        (code.as_str(), channel.as_str(), source.as_str()),
        (WECHAT, "wechat", "serial")
    );
    let order = tokio::time::timeout(
        Duration::from_secs(5),
        terminal.show_order_for_code(WECHAT, HashMap::from([("timeout_ms", Value::U32(3000))])),
    )
    .await
    .expect("ShowOrderForCode answers within 5 s")
    .expect("ShowOrderForCode");
    assert!(order.contains("H-1"), "{order}");
    let payment = started.elapsed();

    // The screen itself still gets its views.
    let mut events = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    events
        .write_all(format!("GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let view = tokio::time::timeout(Duration::from_secs(5), first_view(&mut events))
        .await
        .expect("a view within 5 s during the attack")
        .expect("a view");
    assert!(view["view"].is_string(), "{view}");
    drop(events);

    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let during = open_fds().unwrap();
    let peak = peak.load(Ordering::Relaxed);
    let totals = tokio::task::block_in_place(|| hostile.stop());
    println!(
        "kassad under attack: kiosk page after {kiosk_page:?}, payment done after {payment:?}; \
         descriptors {before} before, {during} during, {peak} at most; hostile client: {totals:?}"
    );
    // The web screen holds at most its cap of connections, and one more for
    // the moment an evicted connection takes to close; the test's own
    // clients (bus, page, events, the pipes to the hostile client) and
    // kassad's backend connection a few. Unbounded, it took all 1,024.
    assert!(
        peak <= before + MAX_CONNECTIONS + 1 + 16,
        "{peak} descriptors open at most, {before} before the attack"
    );
    assert!(
        totals["closed_by_kassad"] > 0,
        "kassad closed nothing: {totals:?}"
    );
    kassad.stop().await;
}
