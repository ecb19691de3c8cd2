//! The metrics end to end: kassad with a simulated scanner, a backend that
//! cannot be reached and `[metrics]` on loopback; a checkout over the bus
//! that the backend fails and one the POS cancels; then the exposition
//! over HTTP, as Prometheus scrapes it, with the real counts in it, and
//! the hardened server's refusals in front of it.

use std::time::Duration;

use futures_util::StreamExt;
use kassa_client::TerminalProxy;
use kassa_tests::bus::{Kassad, PrivateBus, mock_config};
use kassa_tests::rig::{LONG, WECHAT, checkout_proxy, options};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// GET /metrics: the body, after checking the status and content type.
async fn scrape(port: u16) -> String {
    let response = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .expect("the metrics answer");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    response.text().await.unwrap()
}

/// Scrapes until `series` has `expected`, for at most [`LONG`]: the
/// worker thread that hands a code over times it just after the
/// checkout's task has it. Returns the last scrape.
async fn scrape_until(port: u16, series: &str, expected: f64) -> String {
    let deadline = std::time::Instant::now() + LONG;
    loop {
        let text = scrape(port).await;
        if value(&text, series) == expected || std::time::Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The value of `series` (name and labels, exactly as written) in `text`.
fn value(text: &str, series: &str) -> f64 {
    let found: Vec<f64> = text
        .lines()
        .filter_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().expect("a number"))
        .collect();
    assert_eq!(found.len(), 1, "{series} in\n{text}");
    found[0]
}

/// The status line kassad answers `request` with.
async fn raw(port: u16, request: &str) -> String {
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(LONG, socket.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    answer.lines().next().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkouts_scans_and_backend_failures_are_counted_and_scraped() {
    // Nothing listens on the backend's port: every order query fails.
    let dead_backend = kassa_tests::free_port();
    let port = kassa_tests::free_port();
    let config = format!(
        "{}\n[backend]\norder_query_url = \"http://127.0.0.1:{dead_backend}/orders?payment_code={{code}}\"\n\
         request_timeout_ms = 2000\n\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n",
        mock_config(WECHAT, 300)
    );
    let bus = PrivateBus::start();
    let kassad = Kassad::start(&config, &bus).await;

    let before = scrape(port).await;
    assert_eq!(
        value(
            &before,
            r#"kassa_device_connected{device="sim",role="scanner",driver="mock"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &before,
            r#"kassa_device_connects_total{device="sim",role="scanner"}"#
        ),
        1.0
    );
    assert_eq!(
        value(&before, r#"kassa_checkouts_total{result="failed"}"#),
        0.0
    );

    // A checkout: the simulated scanner reads the code 300 ms after its
    // trigger, and the order query fails.
    let conn = bus.connect().await;
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    let path = terminal.begin_checkout(options(&[])).await.unwrap();
    let session = checkout_proxy(&conn, path.as_str()).await;
    let mut finished = session.receive_finished().await.unwrap();
    let end = tokio::time::timeout(LONG, finished.next())
        .await
        .expect("the checkout ends")
        .unwrap();
    let end = end.args().unwrap();
    assert_eq!(end.state(), "failed", "{}", end.message());
    assert!(end.message().contains("unreachable"), "{}", end.message());

    let text = scrape_until(port, r#"kassa_scan_delivery_seconds_count{to="code"}"#, 1.0).await;
    let v = |series| value(&text, series);
    assert_eq!(v(r#"kassa_scans_total{device="sim",source="mock"}"#), 1.0);
    assert_eq!(v(r#"kassa_checkouts_total{result="failed"}"#), 1.0);
    assert_eq!(v(r#"kassa_checkouts_total{result="cancelled"}"#), 0.0);
    assert_eq!(v(r#"kassa_checkouts_total{result="paid"}"#), 0.0);
    assert_eq!(v(r#"kassa_backend_queries_total{query="order"}"#), 1.0);
    assert_eq!(
        v(r#"kassa_backend_errors_total{query="order",kind="unreachable"}"#),
        1.0
    );
    assert_eq!(
        v(r#"kassa_scans_dropped_total{device="sim",reason="unwanted"}"#),
        0.0
    );
    // The code's hand-over was timed: in the histogram's count, and well
    // under a second on any machine.
    assert_eq!(v(r#"kassa_scan_delivery_seconds_count{to="code"}"#), 1.0);
    assert_eq!(
        v(r#"kassa_scan_delivery_seconds_bucket{to="code",le="1"}"#),
        1.0
    );
    assert!(v(r#"kassa_scan_delivery_seconds_sum{to="code"}"#) < 1.0);
    assert_eq!(v(r#"kassa_scan_delivery_seconds_count{to="claim"}"#), 0.0);
    assert_eq!(
        v(r#"kassa_device_disconnects_total{device="screen",role="display"}"#),
        0.0
    );
    // The payment code is a secret: not in the exposition.
    assert!(!text.contains(WECHAT), "{text}");

    // A second checkout, cancelled by the POS (whether or not its code
    // came first).
    let path = terminal.begin_checkout(options(&[])).await.unwrap();
    checkout_proxy(&conn, path.as_str())
        .await
        .cancel()
        .await
        .unwrap();
    let text = scrape_until(port, r#"kassa_checkouts_total{result="cancelled"}"#, 1.0).await;
    assert_eq!(
        value(&text, r#"kassa_checkouts_total{result="cancelled"}"#),
        1.0
    );
    assert_eq!(
        value(&text, r#"kassa_checkouts_total{result="failed"}"#),
        1.0
    );

    // The endpoint is kassad's hardened server: a foreign Host, another
    // method or another path get nothing.
    let refused = raw(
        port,
        "GET /metrics HTTP/1.1\r\nHost: metrics.example\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(refused.starts_with("HTTP/1.1 421"), "{refused}");
    let refused = raw(
        port,
        &format!("POST /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert!(refused.starts_with("HTTP/1.1 405"), "{refused}");
    let missing = raw(
        port,
        &format!("GET /debug HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");

    // Gone as kassad stops: the endpoint closes before kassad waits for
    // its bus calls.
    drop(kassad);
    let deadline = std::time::Instant::now() + LONG;
    while reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .is_ok()
    {
        assert!(std::time::Instant::now() < deadline, "still served");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_metrics_address_stops_kassad_with_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let config = format!(
        "{}\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n",
        mock_config(WECHAT, 300)
    );
    let config = kassa_daemon::config::Config::parse(&config, "test.toml").unwrap();
    let bus = PrivateBus::start();
    let e = kassa_daemon::service::run(
        config,
        kassa_daemon::dbus::Bus::Address(bus.address().into()),
        || {},
        std::future::pending(),
    )
    .await
    .unwrap_err();
    let e = e.to_string();
    assert!(
        e.starts_with(&format!("metrics: cannot listen on 127.0.0.1:{port}: ")),
        "{e}"
    );
}
