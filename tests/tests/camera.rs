//! kassad's camera end to end, without a camera: a directory of generated
//! frames is played to the camera scanner through the same capture and
//! decoding code a V4L2 camera feeds, on a private bus.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use kassa_client::{DeviceProxy, TerminalProxy, error_message, error_name};
use kassa_drivers::camera::Frame;
use kassa_drivers::camera::player::to_pgm;
use kassa_drivers::camera::synth::{empty_frame, face_frame, qr_frame};
use kassa_tests::bus::{Kassad, PrivateBus};
use zbus::zvariant::{OwnedValue, Value};

const WECHAT: &str = "134567890123456789";

fn write_frames(dir: &Path, frames: &[Frame]) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, frame) in frames.iter().enumerate() {
        std::fs::write(dir.join(format!("{i:03}.pgm")), to_pgm(frame)).unwrap();
    }
}

/// A frame holding the faces of `a` and `b` (drawn on the same empty
/// scene).
fn two_faces(a: &Frame, b: &Frame) -> Frame {
    let background = empty_frame(a.width, a.height);
    let luma: Vec<u8> = a
        .luma
        .iter()
        .zip(b.luma.iter())
        .zip(background.luma.iter())
        .map(|((&a, &b), &bg)| if a != bg { a } else { b })
        .collect();
    Frame {
        luma: luma.into(),
        ..background
    }
}

fn config(frames: &Path) -> String {
    format!(
        r#"
[[scanner]]
name = "door"
driver = "camera"
path = "{}"
width = 640
height = 360
fps = 15
formats = ["qr", "code128"]

[[display]]
name = "screen"
driver = "mock"
"#,
        frames.display()
    )
}

async fn terminal(bus: &PrivateBus) -> TerminalProxy<'static> {
    TerminalProxy::new(&bus.connect().await).await.unwrap()
}

async fn device(bus: &PrivateBus) -> DeviceProxy<'static> {
    DeviceProxy::builder(&bus.connect().await)
        .path("/org/kassa/Terminal1/devices/door")
        .unwrap()
        .build()
        .await
        .unwrap()
}

fn number(info: &HashMap<String, OwnedValue>, key: &str) -> f64 {
    let value = info
        .get(key)
        .unwrap_or_else(|| panic!("no {key} in {info:?}"));
    match &**value {
        Value::U32(v) => f64::from(*v),
        Value::U64(v) => *v as f64,
        Value::F64(v) => *v,
        other => panic!("{key} is {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_gets_the_exact_code_from_camera_frames() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    // The phone comes into view after a few empty frames, and leaves.
    let empty = empty_frame(640, 360);
    let code = qr_frame(WECHAT, 640, 360, 4).unwrap();
    write_frames(
        &frames,
        &[empty.clone(), empty.clone(), code.clone(), code, empty],
    );
    let bus = PrivateBus::start();
    let kassad = Kassad::start(&config(&frames), &bus).await;
    let device = device(&bus).await;
    assert_eq!(device.role().await.unwrap(), "camera");
    assert_eq!(device.driver().await.unwrap(), "camera");
    assert!(device.connected().await.unwrap());

    let terminal = terminal(&bus).await;
    let options = HashMap::from([
        ("timeout_ms", Value::from(10_000u32)),
        ("sources", Value::from(vec!["camera"])),
    ]);
    let (code, channel, source) = terminal.scan_payment_code(options).await.unwrap();
    assert_eq!(
        (code.as_str(), channel.as_str(), source.as_str()),
        (WECHAT, "wechat", "camera")
    );
    // ScanCount arrives with PropertiesChanged; the proxy caches it.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while device.scan_count().await.unwrap() != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "ScanCount stayed below 1"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kassad.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_frames_give_no_code_and_no_face() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    write_frames(&frames, &[empty_frame(640, 360), empty_frame(640, 360)]);
    let bus = PrivateBus::start();
    let kassad = Kassad::start(&config(&frames), &bus).await;
    let terminal = terminal(&bus).await;

    let options = HashMap::from([("timeout_ms", Value::from(1500u32))]);
    let err = terminal.scan_payment_code(options).await.unwrap_err();
    assert_eq!(
        error_name(&err),
        Some("org.kassa.Error.Timeout".into()),
        "{err}"
    );

    let options = HashMap::from([("timeout_ms", Value::from(800u32))]);
    let err = terminal.capture_face(options).await.unwrap_err();
    assert_eq!(
        error_name(&err),
        Some("org.kassa.Error.Timeout".into()),
        "{err}"
    );
    assert!(
        error_message(&err).contains("saw no face within 800 ms"),
        "{err}"
    );
    kassad.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_face_returns_the_largest_face_as_jpeg_with_its_box() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    // Both faces in one frame, so that which frames the worker happens to
    // sample (it skips stale ones when the machine is busy) cannot decide
    // which face it saw.
    write_frames(
        &frames,
        &[
            empty_frame(640, 360),
            two_faces(
                &face_frame(640, 360, 180.0, 180.0, 80.0),
                &face_frame(640, 360, 420.0, 180.0, 120.0),
            ),
        ],
    );
    let bus = PrivateBus::start();
    let kassad = Kassad::start(&config(&frames), &bus).await;
    let terminal = terminal(&bus).await;
    let options = HashMap::from([("timeout_ms", Value::from(1500u32))]);
    let (jpeg, info) = terminal.capture_face(options).await.unwrap();
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "a JPEG");
    let face = kassa_drivers::camera::jpeg_to_frame(&jpeg, 1 << 20, 0).unwrap();
    assert_eq!(face.width as f64, number(&info, "crop_width"));
    assert_eq!(face.height as f64, number(&info, "crop_height"));
    // The larger face, on the right.
    let centre = number(&info, "x") + number(&info, "width") / 2.0;
    assert!((centre - 420.0).abs() < 40.0, "{info:?}");
    assert!(number(&info, "width") > 100.0, "{info:?}");
    assert_eq!(
        (number(&info, "frame_width"), number(&info, "frame_height")),
        (640.0, 360.0)
    );
    assert!(number(&info, "frames") >= 1.0, "{info:?}");
    for key in ["score", "confidence", "size", "sharpness", "frontal"] {
        let v = number(&info, key);
        assert!(v > 0.0 && v <= 1.0, "{key} = {v}");
    }

    let bad = HashMap::from([("timeout_ms", Value::from(120_000u32))]);
    let err = terminal.capture_face(bad).await.unwrap_err();
    assert_eq!(
        error_name(&err),
        Some("org.kassa.Error.InvalidArgument".into())
    );
    kassad.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_camera_is_named_and_capture_face_says_no_device() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("video9");
    let bus = PrivateBus::start();
    let kassad = Kassad::start(&config(&missing), &bus).await;
    let device = device(&bus).await;
    assert!(!device.connected().await.unwrap());
    let health = device.check_health().await.unwrap();
    assert!(health.contains("(is the camera plugged in?)"), "{health}");
    let terminal = terminal(&bus).await;
    let options = HashMap::from([("timeout_ms", Value::from(500u32))]);
    let err = terminal.capture_face(options).await.unwrap_err();
    assert_eq!(
        error_name(&err),
        Some("org.kassa.Error.NoDevice".into()),
        "{err}"
    );
    // The reason is the camera's own: its node is not there.
    assert!(
        error_message(&err).contains("is not there (is the camera plugged in?)"),
        "{err}"
    );
    // Asked again while kassad waits to retry the open, the answer is the
    // same, at once. (This once deadlocked the camera worker.)
    let options = HashMap::from([("timeout_ms", Value::from(500u32))]);
    let again = tokio::time::timeout(Duration::from_secs(5), terminal.capture_face(options))
        .await
        .expect("CaptureFace answered")
        .unwrap_err();
    assert_eq!(
        error_name(&again),
        Some("org.kassa.Error.NoDevice".into()),
        "{again}"
    );
    // Without a camera or a config that names one, CaptureFace has no device.
    kassad.stop().await;
    let bus = PrivateBus::start();
    let kassad = Kassad::start(&kassa_tests::bus::mock_config(WECHAT, 50), &bus).await;
    let err = terminal_capture(&bus).await;
    assert_eq!(
        error_name(&err),
        Some("org.kassa.Error.NoDevice".into()),
        "{err}"
    );
    kassad.stop().await;
    tokio::time::sleep(Duration::from_millis(10)).await;
}

async fn terminal_capture(bus: &PrivateBus) -> zbus::Error {
    terminal(bus)
        .await
        .capture_face(HashMap::new())
        .await
        .unwrap_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_camera_follows_its_device_node_and_is_read_once_plugged_in() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    let bus = PrivateBus::start();
    let kassad = Kassad::start(&config(&frames), &bus).await;
    let device = device(&bus).await;
    assert!(!device.connected().await.unwrap());
    // Plugged in: the frames appear, and the idle camera is seen within
    // a second or so, without being opened.
    write_frames(&frames, &[qr_frame(WECHAT, 640, 360, 4).unwrap()]);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !device.connected().await.unwrap() {
        assert!(std::time::Instant::now() < deadline, "never seen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let options = HashMap::from([("timeout_ms", Value::from(10_000u32))]);
    let (code, _, source) = terminal(&bus)
        .await
        .scan_payment_code(options)
        .await
        .unwrap();
    assert_eq!((code.as_str(), source.as_str()), (WECHAT, "camera"));
    kassad.stop().await;
}

/// kassad with a camera that sees a face and no code, and a face-auth
/// backend that knows it.
async fn face_auth_kassad() -> (PrivateBus, Kassad, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    write_frames(&frames, &[face_frame(640, 360, 320.0, 180.0, 120.0)]);
    let token = dir.path().join("token");
    std::fs::write(&token, "face-secret\n").unwrap();
    let url = face_backend().await;
    let config = format!(
        "{}\n[backend]\norder_query_url = \"{url}/orders/{{code}}\"\nface_auth_url = \"{url}/face\"\ntoken_file = \"{}\"\n",
        config(&frames),
        token.display()
    );
    let bus = PrivateBus::start();
    let kassad = Kassad::start(&config, &bus).await;
    (bus, kassad, dir)
}

/// A face-auth backend on loopback: a JPEG in, a payment code out.
async fn face_backend() -> String {
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/face",
        post(|headers: HeaderMap, body: axum::body::Bytes| async move {
            let jpeg = headers
                .get("content-type")
                .is_some_and(|v| v == "image/jpeg")
                && body.starts_with(&[0xFF, 0xD8]);
            let bearer = headers
                .get("authorization")
                .is_some_and(|v| v == "Bearer face-secret");
            if jpeg && bearer {
                (
                    StatusCode::OK,
                    [("content-type", "application/json")],
                    format!(r#"{{"payment_code": "{WECHAT}"}}"#),
                )
            } else {
                (
                    StatusCode::BAD_REQUEST,
                    [("content-type", "text/plain")],
                    String::new(),
                )
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn face_auth_delivers_the_backends_payment_code_as_a_face_scan() {
    let (bus, kassad, _dir) = face_auth_kassad().await;
    // One POS program waits for the code and captures the face (only the
    // owner of a running wait may capture: a face can pay).
    let pos = terminal(&bus).await;
    let waiting = {
        let terminal = pos.clone();
        tokio::spawn(async move {
            let options = HashMap::from([("timeout_ms", Value::from(15_000u32))]);
            terminal.scan_payment_code(options).await
        })
    };
    // The frames hold a face and no code: only face auth can answer.
    kassa_tests::rig::wait_for_state(&pos, "scanning").await;
    let options = HashMap::from([("timeout_ms", Value::from(1000u32))]);
    let other = terminal(&bus).await.capture_face(options.clone()).await;
    assert_eq!(
        other.map(drop).map_err(|e| error_name(&e)),
        Err(Some("org.kassa.Error.AccessDenied".into())),
        "another caller captured a face during the wait"
    );
    let (_, info) = pos.capture_face(options).await.unwrap();
    let outcome = info.get("face_auth").and_then(|v| match &**v {
        Value::Str(s) => Some(s.to_string()),
        _ => None,
    });
    assert_eq!(outcome.as_deref(), Some("delivered"), "{info:?}");
    let (code, channel, source) = waiting.await.unwrap().unwrap();
    assert_eq!(
        (code.as_str(), channel.as_str(), source.as_str()),
        (WECHAT, "wechat", "face")
    );
    kassad.stop().await;
}

/// The payment code a face is worth goes only to the capturing caller's
/// own wait for one: never to a claim, never without a wait. Face
/// captures run one at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_face_pays_only_into_the_callers_own_wait() {
    use futures_util::StreamExt;
    let (bus, kassad, _dir) = face_auth_kassad().await;
    let conn = bus.connect().await;
    let thief = TerminalProxy::new(&conn).await.unwrap();
    let path = thief.claim_scanner(HashMap::new()).await.unwrap();
    let claim = kassa_tests::rig::claim_proxy(&conn, path.as_str()).await;
    let mut scanned = claim.receive_scanned().await.unwrap();
    let options = HashMap::from([("timeout_ms", Value::from(1000u32))]);
    let second = {
        let thief = thief.clone();
        let options = options.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            thief.capture_face(options).await
        }
    };
    let (first, second) = tokio::join!(thief.capture_face(options), second);
    let (_, info) = first.unwrap();
    let outcome = match info.get("face_auth").map(|v| &**v) {
        Some(Value::Str(s)) => s.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(
        outcome.starts_with("failed: no payment code wait"),
        "{outcome}"
    );
    let e = second.unwrap_err();
    assert_eq!(error_name(&e), Some("org.kassa.Error.Busy".into()), "{e}");
    assert!(
        tokio::time::timeout(Duration::from_millis(500), scanned.next())
            .await
            .is_err(),
        "the face's payment code reached a claim"
    );
    kassad.stop().await;
}
