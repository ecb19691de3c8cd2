//! The web second screen in real headless Chromium: kassad is driven over
//! D-Bus and the page's DOM is read back; every view is screenshotted to
//! target/screenshots/ (KASSA_UPDATE_SCREENSHOTS=1 also refreshes
//! docs/screenshots/, which the docs link).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use kassa_client::{CheckoutProxy, DeviceProxy, TerminalProxy};
use kassa_tests::browser::Browser;
use kassa_tests::bus::{Kassad, PrivateBus};
use kassa_tests::{Pty, free_port};
use serde_json::json;
use zbus::zvariant::Value;

const WECHAT: &str = "134567890123456789";
const WAIT: Duration = Duration::from_secs(10);

fn web_config(port: u16, extra: &str, scanner_delay_ms: u64) -> String {
    format!(
        "[[scanner]]\nname = \"sim\"\ndriver = \"mock\"\ncodes = [\"{WECHAT}\"]\ndelay_ms = {scanner_delay_ms}\n\n\
         [[display]]\nname = \"screen\"\ndriver = \"web\"\nlisten = \"127.0.0.1:{port}\"\n{extra}\n"
    )
}

fn save_screenshot(name: &str, png: &[u8]) {
    assert!(png.starts_with(b"\x89PNG"), "{name} is not a PNG");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut dirs = vec![root.join("target/screenshots")];
    if std::env::var_os("KASSA_UPDATE_SCREENSHOTS").is_some() {
        dirs.push(root.join("docs/screenshots"));
    }
    for dir in dirs {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

/// Waits for the page to show a view newer than `after` of kind `view`;
/// returns its sequence number.
async fn wait_view(browser: &Browser, view: &str, after: i64) -> i64 {
    browser
        .wait_for(
            &format!(
                "document.body.dataset.view === '{view}' && Number(document.body.dataset.seq) > {after}"
            ),
            WAIT,
            &format!("the {view} view"),
        )
        .await;
    let seq = browser
        .eval("return Number(document.body.dataset.seq)", json!([]))
        .await;
    seq.as_i64().unwrap()
}

fn long_order(lines: usize) -> String {
    let names = [
        "拿铁 Latte",
        "可颂 Croissant",
        "苹果 Apples",
        "Espresso doppio",
        "抹茶蛋糕 Matcha cake",
    ];
    let items: Vec<_> = (0..lines)
        .map(|i| json!({"name": format!("{} #{}", names[i % names.len()], i + 1), "quantity": "1", "unit_price": 1250, "total": 1250}))
        .collect();
    json!({"id": "L-1", "currency": "CNY", "items": items, "total": 1250 * lines as i64})
        .to_string()
}

const ORDER_WITH_QR: &str = r#"{"id": "A-1001", "currency": "CNY",
 "items": [{"name": "拿铁 Latte", "quantity": "2", "unit_price": 1800, "total": 3600},
           {"name": "可颂 Croissant", "quantity": "1", "unit_price": 1500, "total": 1500},
           {"name": "苹果 Apples", "quantity": "0.455", "unit": "kg", "unit_price": 1800, "total": 819}],
 "discount": 500, "tax": 0, "total": 5419,
 "payment_qr": "https://qr.example/pay?o=A-1001&amount=54.19"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_view_in_chromium() {
    let bus = PrivateBus::start();
    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("logo.svg");
    std::fs::write(
        &logo,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 120"><circle cx="60" cy="60" r="56" fill="#1769e0"/><text x="60" y="78" font-size="52" text-anchor="middle" fill="#fff" font-family="sans-serif">K</text></svg>"##,
    )
    .unwrap();
    let port = free_port();
    let extra = format!(
        "merchant = \"Café Kassa 咖啡\"\nlogo = \"{}\"",
        logo.display()
    );
    // The customer shows the code 6 s after the prompt: time enough to
    // check the prompt, even on a loaded machine.
    let kassad = Kassad::start(&web_config(port, &extra, 6000), &bus).await;
    let conn = bus.connect().await;
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    let browser = Browser::start(1280, 800).await;
    // The page's viewport, not only the window, is the screen's size.
    browser.resize(1280, 800).await;
    let url = format!("http://127.0.0.1:{port}/");

    // Idle: merchant name and logo, both served by kassad.
    browser.goto(&url).await;
    let mut seq = wait_view(&browser, "idle", -1).await;
    assert_eq!(browser.text("#merchant").await, "Café Kassa 咖啡");
    browser
        .wait_for(
            "document.getElementById('logo').naturalWidth > 0",
            WAIT,
            "the logo",
        )
        .await;
    save_screenshot("idle", &browser.screenshot().await);

    // Prompt with the amount, when a checkout starts.
    let path = terminal
        .begin_checkout(HashMap::from([("amount", Value::I64(5419))]))
        .await
        .unwrap();
    let prompt_seq = wait_view(&browser, "prompt", seq).await;
    assert_eq!(browser.text("#prompt-amount").await, "¥54.19");
    assert_eq!(
        browser.text("#prompt-text").await,
        "Please present your payment code"
    );
    save_screenshot("prompt", &browser.screenshot().await);

    // A page loaded mid-checkout is sent the current view at once.
    browser.goto(&url).await;
    seq = wait_view(&browser, "prompt", -1).await;
    assert_eq!(seq, prompt_seq, "the same view, replayed");
    assert_eq!(browser.text("#prompt-amount").await, "¥54.19");

    // The customer's code is read; it never reaches the page.
    let session = CheckoutProxy::builder(&conn)
        .path(path.as_str().to_string())
        .unwrap()
        .build()
        .await
        .unwrap();
    let mut codes = session.receive_code_scanned().await.unwrap();
    tokio::time::timeout(WAIT, codes.next())
        .await
        .unwrap()
        .unwrap();

    // The order, with its payment QR drawn by kassad as SVG.
    terminal.show_order(ORDER_WITH_QR).await.unwrap();
    seq = wait_view(&browser, "order", seq).await;
    let rows = browser
        .eval(
            "return [...document.querySelectorAll('#order-lines tr')].map(r => [...r.cells].map(c => c.innerText))",
            json!([]),
        )
        .await;
    assert_eq!(rows[0], json!(["拿铁 Latte", "2", "¥18.00", "¥36.00"]));
    assert_eq!(
        rows[2].as_array().unwrap()[1..],
        json!(["0.455", "¥18.00", "¥8.19"]).as_array().unwrap()[..]
    );
    let apples = rows[2][0].as_str().unwrap();
    assert!(
        apples.starts_with("苹果 Apples") && apples.ends_with("kg"),
        "{apples}"
    );
    assert_eq!(browser.text("#order-total").await, "¥54.19");
    assert!(browser.text("#order-adjustments").await.contains("-¥5.00"));
    let qr = browser
        .eval(
            "const s = document.querySelector('#order-qr svg'); return s && !document.getElementById('order-qr').hidden ? s.getAttribute('viewBox') : null",
            json!([]),
        )
        .await;
    assert!(
        qr.as_str().is_some_and(|v| v.starts_with("0 0 ")),
        "no QR code: {qr}"
    );
    save_screenshot("order-qr", &browser.screenshot().await);
    let body = browser
        .eval("return document.body.innerText", json!([]))
        .await;
    let body = body.as_str().unwrap();
    assert!(
        !body.contains(WECHAT) && !body.contains(&WECHAT[14..]),
        "{body}"
    );

    // The result ends the checkout.
    terminal
        .show_payment_result("paid", "Thank you 谢谢")
        .await
        .unwrap();
    seq = wait_view(&browser, "result", seq).await;
    assert!(browser.text("#result-title").await.starts_with("Paid"));
    assert_eq!(browser.text("#result-message").await, "Thank you 谢谢");
    save_screenshot("result-paid", &browser.screenshot().await);
    terminal
        .show_payment_result("failed", "Card declined, try again")
        .await
        .unwrap();
    seq = wait_view(&browser, "result", seq).await;
    assert!(
        browser
            .text("#result-title")
            .await
            .starts_with("Payment failed")
    );
    save_screenshot("result-failed", &browser.screenshot().await);

    // A long order scrolls: the latest line and the total stay in view.
    terminal.show_order(&long_order(60)).await.unwrap();
    seq = wait_view(&browser, "order", seq).await;
    let visible = browser
        .eval(
            "const rows = document.querySelectorAll('#order-lines tr');
             const last = rows[rows.length - 1].getBoundingClientRect();
             const box = document.getElementById('order-scroll').getBoundingClientRect();
             const total = document.getElementById('order-total').getBoundingClientRect();
             return [rows.length, rows[rows.length - 1].cells[0].innerText,
                     last.top >= box.top && last.bottom <= box.bottom + 1,
                     total.bottom <= window.innerHeight && total.top >= 0];",
            json!([]),
        )
        .await;
    assert_eq!(visible, json!([60, "抹茶蛋糕 Matcha cake #60", true, true]));
    assert_eq!(browser.text("#order-total").await, "¥750.00");
    save_screenshot("order-long", &browser.screenshot().await);

    // Text.
    terminal
        .show_text(&["Welcome back", "欢迎再次光临"])
        .await
        .unwrap();
    seq = wait_view(&browser, "text", seq).await;
    assert_eq!(
        browser.text("#text-lines").await,
        "Welcome back\n欢迎再次光临"
    );
    save_screenshot("text", &browser.screenshot().await);

    // And back to idle.
    terminal.clear_display().await.unwrap();
    wait_view(&browser, "idle", seq).await;
    drop(browser);
    kassad.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_reconnects_when_kassad_comes_back() {
    let bus = PrivateBus::start();
    let port = free_port();
    let config = web_config(port, "", 1000);
    let kassad = Kassad::start(&config, &bus).await;
    let browser = Browser::start(800, 600).await;
    browser.goto(&format!("http://127.0.0.1:{port}/")).await;
    wait_view(&browser, "idle", -1).await;

    kassad.stop().await;
    browser
        .wait_for(
            "document.body.classList.contains('offline')",
            WAIT,
            "the offline notice",
        )
        .await;
    let kassad = Kassad::start(&config, &bus).await;
    let conn = bus.connect().await;
    TerminalProxy::new(&conn)
        .await
        .unwrap()
        .show_text(&["Back again"])
        .await
        .unwrap();
    browser
        .wait_for(
            "document.body.dataset.view === 'text' && !document.body.classList.contains('offline')",
            WAIT,
            "the text view after reconnecting",
        )
        .await;
    assert_eq!(browser.text("#text-lines").await, "Back again");
    drop(browser);
    kassad.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_guards_the_screen() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let bus = PrivateBus::start();
    let dir = tempfile::tempdir().unwrap();
    let token = "s3cret-kiosk-token-0123456789";
    let token_file = dir.path().join("screen.token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let port = free_port();
    let extra = format!("token_file = \"{}\"", token_file.display());
    let kassad = Kassad::start(&web_config(port, &extra, 1000), &bus).await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("http://127.0.0.1:{port}{path}")).send();

    for path in ["/", "/events", "/logo", "/?token=wrong-token-0123456789"] {
        assert_eq!(get(path).await.unwrap().status(), 401, "{path}");
    }
    let page = get(&format!("/?token={token}")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let events = http
        .get(format!("http://127.0.0.1:{port}/events"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    // The script and style are public: they hold nothing of the till's.
    assert_eq!(get("/screen.js").await.unwrap().status(), 200);
    kassad.stop().await;
}

/// Reads server-sent events from the web screen.
struct Events(reqwest::Response, String);

impl Events {
    async fn open(port: u16) -> Events {
        let response = reqwest::get(format!("http://127.0.0.1:{port}/events"))
            .await
            .unwrap();
        Events(response, String::new())
    }

    /// The next view document.
    async fn next(&mut self) -> serde_json::Value {
        loop {
            if let Some(end) = self.1.find("\n\n") {
                let event: String = self.1.drain(..end + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                    return serde_json::from_str(data).unwrap();
                }
                continue;
            }
            let chunk = tokio::time::timeout(WAIT, self.0.chunk())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            self.1.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_display_does_not_hold_up_the_others() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let bus = PrivateBus::start();
    let mut pole = Pty::open();
    let port = free_port();
    let config = format!(
        "{}\n[[display]]\nname = \"pole\"\ndriver = \"vfd\"\npath = \"{}\"\ncommand_set = \"cd5220\"\n\
         flow_control = \"software\"\ndeadline_ms = 500\n",
        web_config(port, "", 1000),
        pole.path().display()
    );
    let kassad = Kassad::start(&config, &bus).await;
    let conn = bus.connect().await;
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    let pole_device = DeviceProxy::builder(&conn)
        .path("/org/kassa/Terminal1/devices/pole")
        .unwrap()
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .unwrap();
    let mut events = Events::open(port).await;
    assert_eq!(events.next().await["view"], "idle");
    pole.receive(1, WAIT).unwrap(); // the pole was initialised

    // The pole display stops taking data (XOFF, as a display whose buffer
    // is full does): the web screen still gets every view at once.
    pole.send(b"\x13");
    tokio::time::sleep(Duration::from_millis(100)).await;
    for i in 0..3 {
        let line = format!("view {i}");
        terminal.show_text(&[&line]).await.unwrap();
        let shown = events.next().await;
        assert_eq!(shown["lines"], json!([line]));
    }
    // Its deadline passes: Device1 says why.
    let mut waited = Duration::ZERO;
    while !pole_device
        .last_error()
        .await
        .unwrap()
        .contains("timed out")
    {
        assert!(
            waited < WAIT,
            "LastError: {:?}",
            pole_device.last_error().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }

    // It takes data again (XON): it is brought back and shows the newest view.
    pole.send(b"\x11");
    let mut shown = Vec::new();
    while !String::from_utf8_lossy(&shown).contains("view 2") {
        match pole.receive(1, WAIT) {
            Ok(bytes) => shown.extend(bytes),
            Err(e) => panic!(
                "the pole display got {:?} then {e}",
                String::from_utf8_lossy(&shown)
            ),
        }
    }
    let mut waited = Duration::ZERO;
    while !pole_device.connected().await.unwrap() {
        assert!(waited < WAIT, "the pole display did not come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    kassad.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_lcd_says_why_and_the_web_screen_goes_on() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let bus = PrivateBus::start();
    let port = free_port();
    let config = format!(
        "{}\n[[display]]\nname = \"lcd\"\ndriver = \"lcd\"\npath = \"/dev/i2c-kassa-test-none\"\nrows = 4\ncolumns = 20\n",
        web_config(port, "", 1000),
    );
    let kassad = Kassad::start(&config, &bus).await;
    let conn = bus.connect().await;
    let lcd = DeviceProxy::builder(&conn)
        .path("/org/kassa/Terminal1/devices/lcd")
        .unwrap()
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .unwrap();
    assert_eq!(lcd.driver().await.unwrap(), "lcd");
    assert_eq!(lcd.path().await.unwrap(), "/dev/i2c-kassa-test-none");
    let mut waited = Duration::ZERO;
    let error = loop {
        let error = lcd.last_error().await.unwrap();
        if !error.is_empty() {
            break error;
        }
        assert!(waited < WAIT, "no LastError");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    };
    assert!(
        error.contains("/dev/i2c-kassa-test-none") && error.contains("i2c-dev"),
        "{error}"
    );
    assert!(!lcd.connected().await.unwrap());

    let mut events = Events::open(port).await;
    assert_eq!(events.next().await["view"], "idle");
    TerminalProxy::new(&conn)
        .await
        .unwrap()
        .show_text(&["still here"])
        .await
        .unwrap();
    assert_eq!(events.next().await["lines"], json!(["still here"]));
    kassad.stop().await;
}

/// One screen per language, all showing the same views.
struct Market {
    /// How the screen is configured (`language = …`; empty: the default).
    language: &'static str,
    /// Names the screenshots.
    name: &'static str,
    /// The order table's column headers.
    headers: [&'static str; 4],
    /// A quantity of 0.455 (kg), as this market writes it.
    apples: &'static str,
    /// The order's total of €1,234.56, as this market writes it.
    eur_total: &'static str,
    /// The order's total of ¥3,280 (yen have no minor unit).
    jpy_total: &'static str,
    /// The headline under the payment QR.
    scan_to_pay: &'static str,
    /// The title of a paid result.
    paid: &'static str,
}

const MARKETS: [Market; 6] = [
    Market {
        language: "",
        name: "en-zh",
        apples: "0.455",
        headers: ["Item", "Qty", "Price", "Amount"],
        eur_total: "€1,234.56",
        jpy_total: "¥3,280",
        scan_to_pay: "Scan to pay · 扫码支付",
        paid: "Paid · 支付成功",
    },
    Market {
        language: "language = \"fr\"",
        name: "fr",
        apples: "0,455",
        headers: ["Article", "Qté", "Prix", "Montant"],
        eur_total: "1\u{202f}234,56\u{a0}€",
        jpy_total: "3\u{202f}280\u{a0}¥",
        scan_to_pay: "Scannez pour payer",
        paid: "Paiement accepté",
    },
    Market {
        language: "language = \"de\"",
        name: "de",
        apples: "0,455",
        headers: ["Artikel", "Menge", "Preis", "Betrag"],
        eur_total: "1.234,56\u{a0}€",
        jpy_total: "3.280\u{a0}¥",
        scan_to_pay: "Zum Bezahlen scannen",
        paid: "Bezahlt",
    },
    Market {
        language: "language = \"es\"",
        name: "es",
        apples: "0,455",
        headers: ["Artículo", "Cant.", "Precio", "Importe"],
        eur_total: "1234,56\u{a0}€",
        jpy_total: "3280\u{a0}¥",
        scan_to_pay: "Escanee para pagar",
        paid: "Pago realizado",
    },
    Market {
        language: "language = \"ja\"",
        name: "ja",
        apples: "0.455",
        headers: ["商品", "数量", "単価", "金額"],
        eur_total: "€1,234.56",
        jpy_total: "¥3,280",
        scan_to_pay: "スキャンしてお支払い",
        paid: "お支払い完了",
    },
    Market {
        language: "language = [\"zh\", \"en\"]",
        name: "zh-en",
        apples: "0.455",
        headers: ["商品", "数量", "单价", "金额"],
        eur_total: "€1,234.56",
        jpy_total: "¥3,280",
        scan_to_pay: "扫码支付 · Scan to pay",
        paid: "支付成功 · Paid",
    },
];

/// The kiosk screens the page is checked on: a 10" landscape tablet, a
/// 7" panel, and a 10" panel turned on its side.
const SCREENS: [(u32, u32); 3] = [(1280, 800), (800, 480), (800, 1280)];

/// Everything wrong with the layout of the view on screen, as sentences:
/// an element past the viewport's edges (or, in the order's table, past
/// the table's box), a box that cuts its content sideways, blocks of the
/// view that overlap.
const LAYOUT_PROBLEMS: &str = r#"
const W = window.innerWidth, H = window.innerHeight;
const section = document.getElementById(document.body.dataset.view);
const scroller = document.getElementById('order-scroll');
const box = scroller.getBoundingClientRect();
const problems = [];
const name = (e) => (e.id ? '#' + e.id : e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))
  + ' "' + (e.innerText || '').slice(0, 24) + '"';
const shown = (e) => !e.closest('[hidden]') && e.getClientRects().length > 0;
if (document.documentElement.scrollWidth > W) problems.push('the page is ' + document.documentElement.scrollWidth + ' px wide');
for (const e of [section, ...section.querySelectorAll('*')]) {
  if (!shown(e) || (e.closest('svg') && e.tagName !== 'svg')) continue;
  const r = e.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  if (r.left < -1 || r.right > W + 1) problems.push(name(e) + ' spans x ' + r.left + '..' + r.right);
  const scrolled = e !== scroller && scroller.contains(e);
  // Text in a box that shows its first lines only (the note) is cut there
  // by design; the box itself must fit.
  const clamped = e.parentElement && e.parentElement.closest('.clamp') && section.contains(e.parentElement.closest('.clamp'));
  if (scrolled && (r.left < box.left - 1 || r.right > box.right + 1)) problems.push(name(e) + ' is cut by the table box');
  if (!scrolled && !clamped && (r.top < -1 || r.bottom > H + 1)) problems.push(name(e) + ' spans y ' + r.top + '..' + r.bottom);
  if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
    problems.push(name(e) + ' cuts its content: ' + e.scrollWidth + ' > ' + e.clientWidth);
}
const blocks = [...section.children]
  .flatMap((c) => c.classList.contains('order-body') ? [...c.children] : [c])
  .filter(shown);
for (let i = 0; i < blocks.length; i++) for (let j = i + 1; j < blocks.length; j++) {
  const a = blocks[i].getBoundingClientRect(), b = blocks[j].getBoundingClientRect();
  if (a.width && b.width && a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
    problems.push(name(blocks[i]) + ' overlaps ' + name(blocks[j]));
}
return problems;
"#;

/// The order's last row and its Amount cell: whether the cell is wholly
/// inside the table's box and the viewport, and its text.
const LAST_AMOUNT: &str = r#"
const rows = document.querySelectorAll('#order-lines tr');
const cell = rows[rows.length - 1].cells[3];
const r = cell.getBoundingClientRect();
const box = document.getElementById('order-scroll').getBoundingClientRect();
const head = document.querySelector('#order th.total').getBoundingClientRect();
return [r.width > 0 && r.left >= box.left - 1 && r.right <= box.right + 1 && r.right <= window.innerWidth
        && r.top >= box.top - 1 && r.bottom <= box.bottom + 1,
        head.width > 0 && head.right <= box.right + 1,
        cell.innerText];
"#;

fn eur_order() -> String {
    json!({
        "id": "F-17", "currency": "EUR",
        "items": [
            {"name": "Café crème", "quantity": "2", "unit_price": 350, "total": 700},
            {"name": "Croissant au beurre AOP Charentes-Poitou, double fournée du matin", "quantity": "3", "unit_price": 180, "total": 540},
            {"name": "Ensemble cadeau", "quantity": "1", "unit_price": 122_516, "total": 122_516},
            {"name": "Pommes Golden", "quantity": "0.455", "unit": "kg", "unit_price": 440, "total": 200}
        ],
        "discount": 500, "tax": 0, "total": 123_456,
        "note": "Table 12 — sans sucre, s'il vous plaît. <b>not bold</b> & <script>alert(1)</script>",
        "payment_qr": "https://qr.example/pay?o=F-17&amount=1234.56"
    })
    .to_string()
}

fn jpy_order() -> String {
    json!({
        "id": "J-3", "currency": "JPY",
        "items": [
            {"name": "抹茶ラテ", "quantity": "2", "unit_price": 580, "total": 1160},
            {"name": "どら焼き", "quantity": "4", "unit_price": 530, "total": 2120}
        ],
        "total": 3280,
        // The longest note an order may carry, with no space to break at.
        "note": "お持ち帰り".repeat(40) + &"x".repeat(312)
    })
    .to_string()
}

fn long_eur_order(lines: usize) -> String {
    let names = [
        "Baguette tradition",
        "Pain au chocolat",
        "Tarte aux pommes, part",
        "Schwarzwälder Kirschtorte (Stück)",
        "Empanada de atún",
    ];
    let items: Vec<_> = (0..lines)
        .map(|i| json!({"name": format!("{} #{}", names[i % names.len()], i + 1), "quantity": "1", "unit_price": 1250, "total": 1250}))
        .collect();
    json!({"id": "L-2", "currency": "EUR", "items": items, "total": 1250 * lines as i64})
        .to_string()
}

/// One view as every market shows it on every screen: laid out without
/// overflow or overlap, in the market's strings; screenshotted to
/// target/screenshots/markets/MARKET-WxH-VIEW.png (and the ones in
/// `docs` to docs/screenshots/).
async fn check_view(
    browser: &Browser,
    ports: &[u16],
    view: &str,
    ready: &str,
    check: impl AsyncFn(&Market) -> (),
    docs: &[&str],
) {
    for (width, height) in SCREENS {
        browser.resize(width, height).await;
        for (market, port) in MARKETS.iter().zip(ports) {
            browser.goto(&format!("http://127.0.0.1:{port}/")).await;
            let what = format!("the {view} view ({}, {width}×{height})", market.name);
            browser
                .wait_for(
                    &format!("document.body.dataset.view && ({ready})"),
                    WAIT,
                    &what,
                )
                .await;
            let problems = browser.eval(LAYOUT_PROBLEMS, json!([])).await;
            assert_eq!(problems, json!([]), "{what}");
            check(market).await;
            let name = format!("{}-{width}x{height}-{view}", market.name);
            let png = browser.screenshot().await;
            assert!(png.starts_with(b"\x89PNG"), "{name} is not a PNG");
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let mut dirs = vec![root.join("target/screenshots/markets")];
            if docs.contains(&name.as_str())
                && std::env::var_os("KASSA_UPDATE_SCREENSHOTS").is_some()
            {
                dirs.push(root.join("docs/screenshots"));
            }
            for dir in dirs {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_market_on_every_screen() {
    let bus = PrivateBus::start();
    let ports: Vec<u16> = MARKETS.iter().map(|_| free_port()).collect();
    let mut config = format!(
        "[checkout]\ncurrency = \"EUR\"\nresult_display_ms = 600000\n\n\
         [[scanner]]\nname = \"sim\"\ndriver = \"mock\"\ncodes = [\"{WECHAT}\"]\ndelay_ms = 600000\n"
    );
    for (market, port) in MARKETS.iter().zip(&ports) {
        config += &format!(
            "\n[[display]]\nname = \"screen_{}\"\ndriver = \"web\"\nlisten = \"127.0.0.1:{port}\"\n\
             merchant = \"Boulangerie Kassa — Müller & Fils\"\n{}\n",
            market.name.replace('-', "_"),
            market.language
        );
    }
    let kassad = Kassad::start(&config, &bus).await;
    let conn = bus.connect().await;
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    let browser = Browser::start(1280, 800).await;
    let text = |selector: &'static str| {
        let browser = &browser;
        async move { browser.text(selector).await }
    };

    check_view(
        &browser,
        &ports,
        "idle",
        "document.body.dataset.view === 'idle'",
        async |m: &Market| {
            let welcome = text(".welcome").await;
            assert!(!welcome.is_empty() && !welcome.contains('{'), "{welcome}");
            if m.name == "en-zh" {
                assert_eq!(welcome, "Welcome · 欢迎光临");
            }
        },
        &[],
    )
    .await;

    terminal.show_order(&eur_order()).await.unwrap();
    check_view(
        &browser,
        &ports,
        "order",
        "document.body.dataset.view === 'order' && document.querySelectorAll('#order-lines tr').length === 4",
        async |m: &Market| {
            let headers = browser
                .eval(
                    "return [...document.querySelectorAll('#order th')].map(h => h.innerText)",
                    json!([]),
                )
                .await;
            assert_eq!(headers, json!(m.headers), "{}", m.name);
            assert_eq!(text("#order-lines tr:last-child td.qty").await, m.apples);
            assert_eq!(text("#order-total").await, m.eur_total, "{}", m.name);
            // The same as Chromium's own CLDR data writes it.
            let intl = browser
                .eval(
                    "const f = new Intl.NumberFormat(document.documentElement.lang, {style: 'currency', currency: 'EUR'});
                     return [f.format(1234.56), f.format(-5)]",
                    json!([]),
                )
                .await;
            assert_eq!(intl[0], m.eur_total, "{}", m.name);
            assert!(
                text("#order-adjustments").await.contains(intl[1].as_str().unwrap()),
                "{}: {}",
                m.name,
                intl[1]
            );
            assert_eq!(text("#order-qr p").await, m.scan_to_pay);
            // The note is drawn, as text: its markup stays letters.
            let note = text("#order-note-text").await;
            assert!(note.starts_with("Table 12") && note.contains("<b>not bold</b>"), "{note}");
            let injected = browser
                .eval("return document.querySelectorAll('#order b, #order script').length", json!([]))
                .await;
            assert_eq!(injected, 0);
            let amount = browser.eval(LAST_AMOUNT, json!([])).await;
            assert_eq!(amount[0], true, "{}: the last Amount cell is cut: {amount}", m.name);
            assert_eq!(amount[1], true, "{}: the Amount header is cut", m.name);
            // It fits as laid out: the table's type was not shrunk to fit.
            let shrunk = browser
                .eval("return document.querySelector('#order table').style.fontSize", json!([]))
                .await;
            assert_eq!(shrunk, "", "{}: the table was shrunk to fit", m.name);
        },
        &["fr-800x1280-order", "de-800x480-order", "ja-1280x800-order"],
    )
    .await;

    terminal.show_order(&long_eur_order(40)).await.unwrap();
    check_view(
        &browser,
        &ports,
        "order-long",
        "document.body.dataset.view === 'order' && document.querySelectorAll('#order-lines tr').length === 40",
        async |m: &Market| {
            let amount = browser.eval(LAST_AMOUNT, json!([])).await;
            assert_eq!(amount[0], true, "{}: the last line is not in view: {amount}", m.name);
        },
        &["es-800x1280-order-long"],
    )
    .await;

    terminal.show_order(&jpy_order()).await.unwrap();
    check_view(
        &browser,
        &ports,
        "order-jpy",
        "document.body.dataset.view === 'order' && document.querySelectorAll('#order-lines tr').length === 2",
        async |m: &Market| {
            assert_eq!(text("#order-total").await, m.jpy_total, "{}", m.name);
            // No QR code; the note at its longest keeps to three lines,
            // so the order stays in view.
            let layout = browser
                .eval(
                    "const note = document.getElementById('order-note');
                     const line = parseFloat(getComputedStyle(note).lineHeight) || parseFloat(getComputedStyle(note).fontSize) * 1.5;
                     return [document.getElementById('order-qr').hidden, note.hidden,
                             note.getBoundingClientRect().height <= 3 * line + 40]",
                    json!([]),
                )
                .await;
            assert_eq!(layout, json!([true, false, true]), "{}", m.name);
        },
        &[],
    )
    .await;

    terminal
        .show_payment_result("paid", "Merci ! Danke! ¡Gracias! ありがとうございました")
        .await
        .unwrap();
    check_view(
        &browser,
        &ports,
        "paid",
        "document.getElementById('result').dataset.status === 'paid'",
        async |m: &Market| {
            assert_eq!(text("#result-title").await, m.paid, "{}", m.name);
        },
        &["ja-800x480-paid"],
    )
    .await;

    terminal
        .show_payment_result("failed", "Karte abgelehnt, bitte erneut versuchen")
        .await
        .unwrap();
    check_view(
        &browser,
        &ports,
        "failed",
        "document.getElementById('result').dataset.status === 'failed'",
        async |_: &Market| {},
        &["de-1280x800-failed"],
    )
    .await;

    terminal
        .begin_checkout(HashMap::from([("amount", Value::I64(99_999_999_999))]))
        .await
        .unwrap();
    check_view(
        &browser,
        &ports,
        "prompt",
        "document.body.dataset.view === 'prompt'",
        async |_: &Market| {},
        &["fr-800x1280-prompt"],
    )
    .await;

    drop(browser);
    kassad.stop().await;
}
