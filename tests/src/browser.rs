//! Headless Chromium driven over WebDriver (Debian's chromium and
//! chromium-driver), for the web customer screen's tests and benchmark.
//!
//! Chromium runs with a fresh profile and without any background
//! networking, so it talks to nothing but the page under test.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// A browser session; Chromium and chromedriver end when it is dropped.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    base: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium window of
    /// `width`×`height` CSS pixels.
    ///
    /// # Panics
    ///
    /// If chromium or chromedriver is missing (scripts/setup-debian.sh
    /// installs them) or does not start.
    pub async fn start(width: u32, height: u32) -> Browser {
        let _ = rustls::crypto::ring::default_provider().install_default();
        for binary in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            assert!(
                std::path::Path::new(binary).exists(),
                "{binary} is missing: run scripts/setup-debian.sh (packages chromium, chromium-driver)"
            );
        }
        let port = crate::free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http.get(format!("{base}/status")).send().await;
            if let Ok(r) = ready {
                let status: Value = r.json().await.unwrap_or_default();
                if status["value"]["ready"] == true {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().expect("a profile directory");
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--hide-scrollbars".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args},
        }}});
        let mut browser = Browser {
            http,
            session: String::new(),
            driver,
            base,
            _profile: profile,
        };
        let created = browser.call("POST", "/session", capabilities).await;
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_string();
        browser
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let response = request.send().await.expect("chromedriver answers");
        let reply: Value = response.json().await.expect("chromedriver sends JSON");
        let value = reply["value"].clone();
        if let Some(error) = value.get("error") {
            panic!("WebDriver {method} {path}: {error}: {}", value["message"]);
        }
        value
    }

    /// Loads `url` and waits for its load event.
    pub async fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url })).await;
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the
    /// page and returns what it returns.
    pub async fn eval(&self, script: &str, args: Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": args }),
        )
        .await
    }

    /// Waits up to `timeout` for `condition` (an expression) to be true.
    ///
    /// # Panics
    ///
    /// At the deadline, with `what` and the page's text.
    pub async fn wait_for(&self, condition: &str, timeout: Duration, what: &str) {
        let deadline = Instant::now() + timeout;
        let script = format!("return !!({condition});");
        while self.eval(&script, json!([])).await != true {
            if Instant::now() > deadline {
                let text = self.eval("return document.body.innerText", json!([])).await;
                panic!("timed out waiting for {what} ({condition}); the page says: {text}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The text of the element `selector` (as rendered: hidden text left out).
    pub async fn text(&self, selector: &str) -> String {
        let value = self
            .eval(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;",
                json!([selector]),
            )
            .await;
        value
            .as_str()
            .unwrap_or_else(|| panic!("no element {selector}"))
            .to_string()
    }

    /// Resizes the window so that the page's viewport is `width`×`height`
    /// CSS pixels (a kiosk's screen: 1280×800, 800×480, 800×1280).
    ///
    /// # Panics
    ///
    /// If Chromium does not reach that size.
    pub async fn resize(&self, width: u32, height: u32) {
        let want = (i64::from(width), i64::from(height));
        let (mut outer_w, mut outer_h) = want;
        let mut inner = (0, 0);
        for _ in 0..5 {
            self.call(
                "POST",
                "/window/rect",
                json!({ "width": outer_w, "height": outer_h }),
            )
            .await;
            // The page sees the new size a little later on a busy machine.
            let deadline = Instant::now() + Duration::from_secs(2);
            loop {
                let size = self
                    .eval("return [window.innerWidth, window.innerHeight]", json!([]))
                    .await;
                inner = (size[0].as_i64().unwrap_or(0), size[1].as_i64().unwrap_or(0));
                if inner == want || Instant::now() > deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if inner == want {
                return;
            }
            // Window decorations, if any, come on top of the viewport.
            if inner.0 > 0 && inner.1 > 0 {
                outer_w += want.0 - inner.0;
                outer_h += want.1 - inner.1;
            }
        }
        panic!(
            "Chromium's viewport did not become {width}×{height} (it is {}×{})",
            inner.0, inner.1
        );
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        let data = self.call("GET", "/screenshot", Value::Null).await;
        base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("base64 PNG"))
            .expect("valid base64")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session closes Chromium (a plain blocking request:
        // drop cannot await); chromedriver goes with us.
        if !self.session.is_empty() {
            use std::io::{Read, Write};
            let host = self.base.trim_start_matches("http://");
            if let Ok(mut stream) = std::net::TcpStream::connect(host) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let request = format!(
                    "DELETE /session/{} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
                    self.session
                );
                if stream.write_all(request.as_bytes()).is_ok() {
                    let _ = stream.read_to_end(&mut Vec::new());
                }
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
