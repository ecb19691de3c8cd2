//! The POS API: kassad's contract over a WebSocket on loopback, for web
//! and Electron POS apps. A web page from an allowed origin runs a whole
//! checkout in headless Chromium through js/kassa.mjs; a page from any
//! other origin, a wrong Host or a missing token gets nothing; and the
//! D-Bus contract's rules hold between WebSocket clients.

use std::net::SocketAddr;
use std::time::Duration;

use kassa_tests::backend::{Options as BackendOptions, SampleBackend};
use kassa_tests::browser::Browser;
use kassa_tests::bus::{Kassad, PrivateBus};
use kassa_tests::pos_api::{self, Client, PageServer, TOKEN};
use kassa_tests::rig::{LONG, WECHAT, order_json};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// kassad with a mock scanner that reads `WECHAT` 1 ms after it is
/// triggered, a mock display, the sample backend binding an order to any
/// code, and the POS API allowing `origins`.
struct Till {
    api: SocketAddr,
    backend: SampleBackend,
    _kassad: Kassad,
    _bus: PrivateBus,
    _dir: tempfile::TempDir,
}

async fn till(origins: &[&str]) -> Till {
    let dir = tempfile::tempdir().unwrap();
    let token_file = pos_api::token_file(dir.path());
    let backend = SampleBackend::start(BackendOptions {
        auto_bind: Some(order_json("W-1")),
        ..BackendOptions::default()
    })
    .await
    .unwrap();
    let port = kassa_tests::free_port();
    let config = format!(
        "[[scanner]]\nname = \"sim\"\ndriver = \"mock\"\ncodes = [\"{WECHAT}\"]\ndelay_ms = 1\n\n\
         [[display]]\nname = \"screen\"\ndriver = \"mock\"\n\n\
         [backend]\norder_query_url = \"{}/orders?payment_code={{code}}\"\nrequest_timeout_ms = 2000\n{}",
        backend.url(),
        pos_api::section(port, &token_file, origins),
    );
    let bus = PrivateBus::start();
    let kassad = Kassad::start(&config, &bus).await;
    Till {
        api: SocketAddr::from(([127, 0, 0, 1], port)),
        backend,
        _kassad: kassad,
        _bus: bus,
        _dir: dir,
    }
}

/// The POS page: a whole checkout through kassa.mjs, its outcome in
/// `window.kassaResult`.
const POS_PAGE: &str = r#"<!doctype html>
<meta charset="utf-8"><title>POS</title>
<script type="module">
import { connect } from "/kassa.mjs";
const params = new URLSearchParams(location.search);
try {
  const kassa = await connect({ token: params.get("token"), url: params.get("api") });
  const checkout = await kassa.beginCheckout({ amount: 3600, currency: "CNY" });
  const events = [];
  checkout.on((e) => events.push(e.event));
  const { code, channel, source } = await checkout.code();
  const order = await checkout.order();
  await checkout.finish("paid", "Thank you");
  const end = await checkout.finished;
  let refused = null;
  try {
    await kassa.showPaymentResult("maybe");
  } catch (e) {
    refused = e.name;
  }
  window.kassaResult = { code, channel, source, order: order.id, end, refused, events };
} catch (e) {
  window.kassaResult = { failed: e.name, reason: e.message };
}
</script>
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_pos_page_runs_a_whole_checkout_and_a_foreign_page_is_refused() {
    let pos = PageServer::start(POS_PAGE.to_string()).await;
    let foreign = PageServer::start(POS_PAGE.to_string()).await;
    let till = till(&[&pos.origin()]).await;
    let browser = Browser::start(800, 600).await;
    let query = format!("/?token={TOKEN}&api=ws://{}/v1", till.api);

    browser.goto(&format!("{}{query}", pos.origin())).await;
    browser
        .wait_for("window.kassaResult", LONG, "the POS page's checkout")
        .await;
    let result = browser.eval("return window.kassaResult", json!([])).await;
    assert_eq!(result["code"], WECHAT, "{result}");
    assert_eq!(result["channel"], "wechat", "{result}");
    assert_eq!(result["source"], "mock", "{result}");
    assert_eq!(result["order"], "W-1", "the backend's order: {result}");
    assert_eq!(
        result["end"],
        json!({"state": "paid", "message": "Thank you"})
    );
    assert_eq!(result["refused"], "org.kassa.Error.InvalidArgument");
    // The checkout's events in order; its state changes come between
    // them, as many as the watch saw.
    let signals: Vec<_> = result["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| *e != "CheckoutState")
        .collect();
    assert_eq!(
        signals,
        [
            &json!("CodeScanned"),
            &json!("OrderShown"),
            &json!("Finished")
        ],
        "{result}"
    );
    assert!(till.backend.queries() >= 1);

    // The same page from another origin, with the right token: refused
    // before the upgrade.
    browser.goto(&format!("{}{query}", foreign.origin())).await;
    browser
        .wait_for("window.kassaResult", LONG, "the foreign page's attempt")
        .await;
    let result = browser.eval("return window.kassaResult", json!([])).await;
    assert_eq!(result["failed"], "kassa.Disconnected", "{result}");
}

/// The status line kassad answers a handshake of `request` with.
async fn handshake_status(api: SocketAddr, request: String) -> String {
    let mut socket = tokio::net::TcpStream::connect(api).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0; 1024];
    let n = tokio::time::timeout(LONG, socket.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).to_string();
    answer.lines().next().unwrap_or_default().to_string()
}

fn upgrade(host: &str, target: &str, origin: Option<&str>) -> String {
    let origin = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
    format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{origin}\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_may_connect_is_decided_before_the_upgrade() {
    let till = till(&["http://localhost:8069"]).await;
    let host = till.api.to_string();
    let with_token = format!("/v1?token={TOKEN}");
    let cases = [
        // A DNS-rebinding page sends its own name.
        (upgrade("pos.evil.example", &with_token, None), "421"),
        // A page from elsewhere, even with the token.
        (
            upgrade(&host, &with_token, Some("http://evil.example")),
            "403",
        ),
        (upgrade(&host, &with_token, Some("null")), "403"),
        // The allowed page, without the token or with a wrong one.
        (upgrade(&host, "/v1", Some("http://localhost:8069")), "401"),
        (
            upgrade(&host, "/v1?token=0f1e2d3c4b5a69788796a5b4c3d2e1f1", None),
            "401",
        ),
        // Not a WebSocket.
        (
            format!("GET {with_token} HTTP/1.1\r\nHost: {host}\r\n\r\n"),
            "426",
        ),
        (
            upgrade(&host, &with_token, Some("http://localhost:8069")),
            "101",
        ),
        // A program sends no Origin: the token is enough.
        (
            upgrade(&format!("localhost:{}", till.api.port()), &with_token, None),
            "101",
        ),
    ];
    for (request, status) in cases {
        let line = handshake_status(till.api, request.clone()).await;
        assert!(line.contains(status), "{request:?} → {line}");
    }

    // At most eight clients; the ninth is told so, and a place frees when
    // one leaves.
    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(Client::connect(till.api, TOKEN, None).await.unwrap());
    }
    assert_eq!(
        Client::connect(till.api, TOKEN, None).await.err(),
        Some(503)
    );
    clients.pop().unwrap().close().await;
    let mut again = None;
    for _ in 0..100 {
        if let Ok(client) = Client::connect(till.api, TOKEN, None).await {
            again = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut again = again.expect("a place once a client left");
    let terminal = again.call("GetTerminal", json!({})).await.unwrap();
    assert_eq!(terminal["state"], "idle");
    assert_eq!(terminal["devices"][0]["name"], "sim");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_d_bus_rules_hold_between_websocket_clients() {
    let till = till(&[]).await;
    let mut owner = Client::connect(till.api, TOKEN, None).await.unwrap();
    let mut stranger = Client::connect(till.api, TOKEN, None).await.unwrap();

    // A garbled message, a binary one and an unknown method: named errors,
    // and the connection stays.
    owner.send_text("{\"id\": 1, \"method\": ".into()).await;
    let answer = owner.receive().await.unwrap();
    assert_eq!(answer["id"], json!(null));
    assert_eq!(answer["error"]["name"], "org.kassa.Error.InvalidArgument");
    let e = owner.call("Launch", json!({})).await.unwrap_err();
    assert_eq!(e.name, "org.kassa.Error.InvalidArgument");
    assert!(e.message.contains("unknown method"), "{e:?}");

    let checkout = owner
        .call("BeginCheckout", json!({"options": {"timeout_ms": 10000}}))
        .await
        .unwrap()["checkout"]
        .clone();
    // One checkout at a time, and only its owner acts on it.
    let e = stranger.call("BeginCheckout", json!({})).await.unwrap_err();
    assert_eq!(e.name, "org.kassa.Error.Busy");
    for (method, params) in [
        ("Cancel", json!({"checkout": checkout})),
        ("TakeCode", json!({"checkout": checkout})),
        ("Finish", json!({"checkout": checkout, "status": "paid"})),
        ("ShowText", json!({"lines": ["free coffee"]})),
    ] {
        let e = stranger.call(method, params).await.unwrap_err();
        assert_eq!(e.name, "org.kassa.Error.AccessDenied", "{method}: {e:?}");
    }
    let scanned = owner.event("CodeScanned").await;
    assert_eq!(scanned["code"], WECHAT);
    assert_eq!(scanned["checkout"], checkout);
    // Taken once more through TakeCode, as a late listener would.
    let taken = owner
        .call("TakeCode", json!({"checkout": checkout}))
        .await
        .unwrap();
    assert_eq!(taken["code"], WECHAT);
    // The stranger saw the terminal's state change, never the code.
    let seen = stranger.events_within(Duration::from_millis(300)).await;
    assert!(
        seen.iter().all(|e| !e.to_string().contains(WECHAT)),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|e| e["event"] == "TerminalState"),
        "{seen:?}"
    );

    // Leaving cancels: the owner's socket closes, the checkout ends, and
    // another client may begin one.
    owner.close().await;
    let mut began = None;
    for _ in 0..100 {
        match stranger.call("BeginCheckout", json!({})).await {
            Ok(result) => {
                began = Some(result);
                break;
            }
            Err(e) => assert_eq!(e.name, "org.kassa.Error.Busy"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let began = began.expect("the owner's leaving ended its checkout");
    let cancelled = stranger
        .call("Cancel", json!({"checkout": began["checkout"]}))
        .await;
    assert_eq!(cancelled, Ok(json!(null)));
    let finished = stranger.event("Finished").await;
    assert_eq!(finished["state"], "cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_cap_closes_the_connection_and_nothing_else() {
    let till = till(&[]).await;
    let mut greedy = Client::connect(till.api, TOKEN, None).await.unwrap();
    let mut other = Client::connect(till.api, TOKEN, None).await.unwrap();
    let huge = format!(
        "{{\"id\": 1, \"method\": \"ShowText\", \"params\": {{\"lines\": [\"{}\"]}}}}",
        "x".repeat(kassa_daemon::pos_api::protocol::MAX_MESSAGE)
    );
    greedy.send_text(huge).await;
    assert_eq!(greedy.receive().await, None, "closed");
    let terminal = other.call("GetTerminal", json!({})).await.unwrap();
    assert_eq!(terminal["state"], "idle");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_requests_is_answered_and_leaving_after_it_still_frees_everything() {
    let till = till(&[]).await;
    let mut flooder = Client::connect(till.api, TOKEN, None).await.unwrap();
    let claim = flooder.call("ClaimScanner", json!({})).await.unwrap();
    assert!(claim["claim"].is_u64(), "{claim}");
    // 300 calls sent at once, and 100 messages that are not requests: more
    // than the 16 answered at a time and the 64 queued. Each gets its
    // answer: a result, Busy (over 16 in flight) or InvalidArgument.
    for id in 0..300 {
        flooder
            .send_text(
                json!({"id": 1000 + id, "method": "ShowText", "params": {"lines": ["flood"]}})
                    .to_string(),
            )
            .await;
    }
    for _ in 0..100 {
        flooder.send_text("not a request".into()).await;
    }
    let (mut answered, mut busy, mut invalid) = (0, 0, 0);
    while answered + busy + invalid < 400 {
        let message = flooder
            .receive()
            .await
            .expect("every answer before a close");
        match message["error"]["name"].as_str() {
            None if message.get("event").is_none() => answered += 1,
            None => {}
            Some("org.kassa.Error.Busy") => busy += 1,
            Some("org.kassa.Error.InvalidArgument") => invalid += 1,
            Some(other) => panic!("{other}: {message}"),
        }
    }
    assert_eq!((answered + busy, invalid), (300, 100));
    assert!(answered >= 16, "{answered} answered, {busy} busy");

    // Leaving after the flood ends the claim, as it would have without it.
    flooder.close().await;
    let mut other = Client::connect(till.api, TOKEN, None).await.unwrap();
    let mut claimed = None;
    for _ in 0..100 {
        match other.call("ClaimScanner", json!({})).await {
            Ok(result) => {
                claimed = Some(result);
                break;
            }
            Err(e) => assert_eq!(e.name, "org.kassa.Error.Busy"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(claimed.is_some(), "the flooder's claim outlived its socket");
}
