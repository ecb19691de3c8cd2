//! Capture and the camera scanner, fed by the player: the consumer code
//! that runs with a V4L2 camera, without one.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kassa_hal::blocking::Scanner as _;
use kassa_hal::{Error as _, ErrorKind, SourceKind, Symbology};

use super::synth::{empty_frame, qr_frame};
use super::*;

const WECHAT: &str = "134567890123456789";

#[test]
fn the_scanner_reads_a_code_held_in_view_once_and_closes_when_disarmed() {
    let code = qr_frame(WECHAT, 640, 360, 5).unwrap();
    let empty = empty_frame(640, 360);
    let frames = vec![empty.clone(), code.clone(), code.clone(), code, empty];
    let player = Player::new(frames, 200);
    let (led, starts) = (player.led(), player.starts());
    let mut scanner = CameraScanner::new(player, PipelineConfig::default());
    assert!(!led.load(Ordering::Relaxed), "closed until armed");
    assert_eq!(scanner.poll_scan(Duration::from_millis(10)).unwrap(), None);
    scanner.set_armed(true).unwrap();
    assert!(led.load(Ordering::Relaxed));
    let mut scans = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Some(scan) = scanner.poll_scan(Duration::from_millis(100)).unwrap() {
            scans.push(scan);
        }
    }
    // Five frames at 200 fps loop ~120 times in 3 s: the code comes into
    // view once per loop, and is read at most once per loop.
    assert!(!scans.is_empty());
    let stats = scanner.stats();
    assert!(
        scans.len() as u64 <= stats.captured / 5 + 1,
        "{} {stats:?}",
        scans.len()
    );
    for scan in &scans {
        assert_eq!(scan.data, WECHAT.as_bytes());
        assert_eq!(
            (scan.symbology, scan.source),
            (Symbology::Qr, SourceKind::Camera)
        );
    }
    scanner.set_armed(false).unwrap();
    assert!(!led.load(Ordering::Relaxed), "device closed when disarmed");
    assert!(!scanner.is_open());
    scanner.set_armed(true).unwrap();
    assert_eq!(starts.load(Ordering::Relaxed), 2);
    assert!(scanner.release().is_some());
}

#[test]
fn empty_frames_give_no_read_at_all() {
    let player = Player::new(vec![empty_frame(640, 360), empty_frame(320, 240)], 500);
    let mut scanner = CameraScanner::new(player, PipelineConfig::default());
    scanner.set_armed(true).unwrap();
    let deadline = Instant::now() + Duration::from_millis(800);
    while Instant::now() < deadline {
        assert_eq!(scanner.poll_scan(Duration::from_millis(50)).unwrap(), None);
    }
    assert!(scanner.stats().captured > 10);
}

#[test]
fn the_blocking_scanner_trait_arms_reads_and_disarms() {
    let player = Player::new(
        vec![qr_frame("2812345678901234", 320, 240, 4).unwrap()],
        100,
    );
    let led = player.led();
    let mut scanner = CameraScanner::new(player, PipelineConfig::default());
    // Disarmed: closed, and a poll waits about its wait for nothing.
    let asked = Instant::now();
    let none = kassa_hal::blocking::Scanner::poll_scan(&mut scanner, Duration::from_millis(50));
    assert_eq!(none.unwrap(), None);
    assert!(asked.elapsed() >= Duration::from_millis(45));
    assert!(!led.load(Ordering::Relaxed));
    scanner.set_trigger(true).unwrap();
    assert!(led.load(Ordering::Relaxed) && scanner.is_open());
    let deadline = Instant::now() + Duration::from_secs(5);
    let scan = loop {
        assert!(Instant::now() < deadline, "no scan");
        let polled =
            kassa_hal::blocking::Scanner::poll_scan(&mut scanner, Duration::from_millis(100));
        if let Some(scan) = polled.unwrap() {
            break scan;
        }
    };
    assert_eq!(scan.data, b"2812345678901234");
    assert_eq!(scan.source, SourceKind::Camera);
    scanner.set_trigger(false).unwrap();
    assert!(!led.load(Ordering::Relaxed) && !scanner.is_open());
}

#[test]
fn a_slow_consumer_gets_the_newest_frame_and_stale_ones_are_dropped() {
    let frames = (0..4).map(|_| empty_frame(64, 48)).collect();
    let capture = Capture::start(Player::new(frames, 1000)).unwrap();
    let mut last_seq = 0;
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(30));
        let frame = capture.newest(Duration::from_secs(1)).unwrap().unwrap();
        assert!(frame.seq > last_seq + 1, "{} after {last_seq}", frame.seq);
        last_seq = frame.seq;
        // The newest: at most a couple of frames behind what was captured.
        assert!(
            capture.stats().captured - frame.seq < 3,
            "{:?}",
            capture.stats()
        );
    }
    let stats = capture.stats();
    assert!(stats.dropped > 50, "{stats:?}");
    let player = capture.stop().unwrap();
    assert!(!player.led().load(Ordering::Relaxed));
}

/// What the kernel says when a camera is unplugged under an open
/// descriptor (`ENODEV`); without `linux`, a missing node.
fn unplugged() -> std::io::Error {
    #[cfg(feature = "linux")]
    let e = std::io::Error::from(nix::errno::Errno::ENODEV);
    #[cfg(not(feature = "linux"))]
    let e = std::io::Error::from(std::io::ErrorKind::NotFound);
    e
}

/// A camera that delivers a few frames and then fails, like one unplugged.
struct Failing {
    left: u32,
}

impl FrameSource for Failing {
    fn start(&mut self) -> Result<(), CaptureError> {
        if self.left == 0 {
            return Err(CaptureError::Open {
                path: "/dev/video9".into(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
        Ok(())
    }
    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        if self.left == 0 {
            return Err(CaptureError::Stream {
                path: "/dev/video9".into(),
                source: unplugged(),
            });
        }
        self.left -= 1;
        std::thread::sleep(Duration::from_millis(5));
        Ok(Some(empty_frame(16, 16)))
    }
    fn stop(&mut self) {}
    fn name(&self) -> String {
        "/dev/video9".into()
    }
}

#[test]
fn a_failing_camera_is_closed_with_its_error_and_can_be_retried() {
    let mut scanner = CameraScanner::new(Failing { left: 3 }, PipelineConfig::default());
    scanner.set_armed(true).unwrap();
    let err = loop {
        match kassa_hal::blocking::Scanner::poll_scan(&mut scanner, Duration::from_millis(100)) {
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), ErrorKind::Disconnected);
    assert!(
        err.to_string()
            .starts_with("camera /dev/video9 stopped streaming"),
        "{err}"
    );
    assert!(!scanner.is_open() && scanner.is_armed());
    let again = scanner.set_armed(true).unwrap_err();
    assert!(
        again.to_string().contains("(is the camera plugged in?)"),
        "{again}"
    );
}
