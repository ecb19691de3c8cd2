//! `kassa-bench camera-armed`: what a camera costs kassad while a checkout
//! waits for a code it never sees (issue 17, point 4), and while it is
//! configured but not armed.
//!
//! kassad plays a directory of 1280×720 frames without a code (generated
//! empty counter scenes) at 30 frames a second through its camera driver,
//! as it would a camera's stream. The bench measures, over `seconds`:
//! kassad's whole CPU time (/proc/PID/stat), the camera worker thread's
//! (`scanner-camera`, which waits for the newest frame and decodes it) and
//! the capture thread's (`camera-capture`, which takes the frames from the
//! source) from their /proc/PID/task/TID/schedstat run times, context
//! switches, and RSS. How many frames the worker decoded and how many the
//! capture thread replaced before the worker took them ("dropped as stale")
//! comes from kassad's own log line when the checkout is cancelled and the
//! camera closes.
//!
//! The player holds all of its frames in memory while the camera is open
//! (60 × 1280×720 bytes = 52.7 MiB by default): most of the armed RSS is
//! that reel, which a V4L2 camera does not have.
//!
//! kassad's frame player reads the whole directory when the camera opens:
//! `.jpg` frames are decoded to luma then, once, not frame by frame as a
//! V4L2 camera's MJPEG stream is. So the `.jpg` run measures the same
//! per-frame work as the `.pgm` run; what MJPEG adds per frame is measured
//! here separately, in this process, with the function kassad's V4L2 path
//! calls on every frame (`jpeg_to_frame`), on the same JPEG files.

use std::path::Path;
use std::time::{Duration, Instant};

use kassa_camera_frames::{Category, SEED, generate};
use kassa_client::{CheckoutProxy, DeviceProxy};
use kassa_drivers::camera::{Frame, jpeg_to_frame, player::to_pgm};
use zbus::zvariant::Value;

use crate::{context_switches, cpu_ticks, rss_kib, start, task_switches};

const WIDTH: usize = 1280;
const HEIGHT: usize = 720;
const FPS: u32 = 30;
/// The camera's configured name; its worker thread is `scanner-camera`.
const CAMERA: &str = "camera";
/// After arming, before measuring: the first frames, the pipeline's buffers.
const WARM_UP: Duration = Duration::from_secs(3);
/// JPEG quality of the `.jpg` frames, about what UVC cameras send.
const JPEG_QUALITY: u8 = 80;

/// Measures every format of `formats` (`pgm`, `jpg`) not armed, then armed,
/// for `seconds` each, over `frames` distinct frames.
pub async fn run(seconds: u64, formats: &[&str], frames: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    for &format in formats {
        let reel = dir.path().join(format);
        std::fs::create_dir(&reel).expect("frames dir");
        let bytes = write_frames(&reel, format, frames);
        measure(&reel, format, seconds, frames, bytes).await;
        if format == "jpg" {
            mjpeg_luma(&reel);
        }
    }
}

/// Writes `count` empty counter scenes into `dir` as `format` files;
/// returns their total size in bytes.
fn write_frames(dir: &Path, format: &str, count: u64) -> u64 {
    let mut total = 0;
    for i in 0..count {
        let sample = generate(Category::Empty, i, SEED, WIDTH, HEIGHT);
        let bytes = match format {
            "pgm" => to_pgm(&Frame::packed(WIDTH, HEIGHT, sample.luma, 0).expect("frame")),
            "jpg" => mjpeg(&sample.luma, WIDTH, HEIGHT),
            other => panic!("--format {other}: pgm, jpg or both"),
        };
        total += bytes.len() as u64;
        std::fs::write(dir.join(format!("frame-{i:04}.{format}")), bytes).expect("frame file");
    }
    total
}

/// A grey frame as a UVC camera's MJPEG frame: colour (the grey in all
/// three channels), 4:2:2 chroma, quality 80.
fn mjpeg(luma: &[u8], width: usize, height: usize) -> Vec<u8> {
    let rgb: Vec<u8> = luma.iter().flat_map(|&y| [y, y, y]).collect();
    let mut jpeg = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, JPEG_QUALITY);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_2);
    encoder
        .encode(
            &rgb,
            u16::try_from(width).expect("width"),
            u16::try_from(height).expect("height"),
            jpeg_encoder::ColorType::Rgb,
        )
        .expect("JPEG encoding");
    jpeg
}

/// Nanoseconds a thread has run (the first field of its schedstat).
fn run_ns(pid: u32, tid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The thread of `pid` named `name`, if there is one.
fn thread(pid: u32, name: &str) -> Option<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
        .find(|task| {
            std::fs::read_to_string(task.path().join("comm")).is_ok_and(|c| c.trim_end() == name)
        })
        .and_then(|task| task.file_name().to_str()?.parse().ok())
}

/// Context switches of one thread so far.
fn thread_switches(pid: u32, tid: u32) -> u64 {
    task_switches(Path::new(&format!("/proc/{pid}/task/{tid}")))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// What one window cost.
struct Window {
    seconds: f64,
    kassad_ticks: u64,
    worker_ns: u64,
    capture_ns: Option<u64>,
    switches: u64,
    worker_switches: u64,
}

/// Samples kassad, its camera worker and (when armed) its capture thread
/// over `length`.
async fn window(pid: u32, worker: u32, capture: Option<u32>, length: Duration) -> Window {
    let started = Instant::now();
    let (ticks, switches) = (cpu_ticks(pid), context_switches(pid));
    let (worker_ns, worker_switches) = (run_ns(pid, worker), thread_switches(pid, worker));
    let capture_ns = capture.map(|tid| run_ns(pid, tid));
    tokio::time::sleep(length).await;
    Window {
        kassad_ticks: cpu_ticks(pid) - ticks,
        switches: context_switches(pid) - switches,
        worker_ns: run_ns(pid, worker) - worker_ns,
        worker_switches: thread_switches(pid, worker) - worker_switches,
        capture_ns: capture
            .zip(capture_ns)
            .map(|(tid, ns)| run_ns(pid, tid) - ns),
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn percent_of_core(ns: u64, seconds: f64) -> f64 {
    ns as f64 / 1e9 / seconds * 100.0
}

async fn measure(reel: &Path, format: &str, seconds: u64, frames: u64, bytes: u64) {
    let log_dir = tempfile::tempdir().expect("tempdir");
    let log = log_dir.path().join("kassad.log");
    let camera = format!(
        "\n[[scanner]]\nname = \"{CAMERA}\"\ndriver = \"camera\"\npath = \"{}\"\nwidth = {WIDTH}\nheight = {HEIGHT}\nfps = {FPS}\n",
        reel.display()
    );
    let rig = start(None, None, Some(&log), &camera).await;
    let pid = rig.kassad.id();
    // The camera's open and close lines are at debug.
    rig.terminal
        .set_log_level("info,kassa_daemon::devices::camera=debug")
        .await
        .expect("SetLogLevel");
    let device = DeviceProxy::builder(&rig.conn)
        .path(format!("/org/kassa/Terminal1/devices/{CAMERA}"))
        .expect("path")
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .expect("device proxy");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !device.connected().await.unwrap_or(false) {
        assert!(Instant::now() < deadline, "the camera did not connect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let worker_name = format!("scanner-{CAMERA}");
    let worker = thread(pid, &worker_name).expect("the camera's worker thread");
    let common = serde_json::json!({
        "bench": "camera_armed",
        "format": format,
        "size": format!("{WIDTH}x{HEIGHT}"),
        "fps": FPS,
        "frames_in_reel": frames,
        "mean_frame_kib": bytes as f64 / frames as f64 / 1024.0,
    });

    // Configured, not armed: the camera is closed between checkouts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let load_before = load_average();
    let idle = window(pid, worker, None, Duration::from_secs(seconds)).await;
    let mut out = common.clone();
    out["armed"] = false.into();
    out["seconds"] = idle.seconds.into();
    out["kassad_cpu_percent"] = (idle.kassad_ticks as f64 / idle.seconds).into();
    out["camera_thread_cpu_percent"] = percent_of_core(idle.worker_ns, idle.seconds).into();
    out["wakeups_per_second"] = (idle.switches as f64 / idle.seconds).into();
    out["camera_thread_wakeups_per_second"] = (idle.worker_switches as f64 / idle.seconds).into();
    out["rss_kib"] = rss_kib(pid).into();
    out["load_average"] = format!("{load_before} → {}", load_average()).into();
    println!("{out}");

    // Armed: a checkout waits for a code the camera never sees.
    let load_before = load_average();
    let timeout_ms = u32::try_from((WARM_UP.as_secs() + seconds + 60) * 1000)
        .unwrap_or(600_000)
        .min(600_000);
    let mut options = kassa_client::Options::new();
    options.insert("timeout_ms", Value::U32(timeout_ms));
    let armed_at = Instant::now();
    let path = rig
        .terminal
        .begin_checkout(options)
        .await
        .expect("BeginCheckout");
    let session = CheckoutProxy::builder(&rig.conn)
        .path(path)
        .expect("path")
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
        .expect("checkout proxy");
    // The capture thread starts once the frames are loaded (a .jpg reel is
    // decoded first).
    let deadline = Instant::now() + Duration::from_secs(20);
    let capture = loop {
        if let Some(tid) = thread(pid, "camera-capture") {
            break tid;
        }
        assert!(Instant::now() < deadline, "the camera did not open");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let opened = armed_at.elapsed();
    let streaming = Instant::now();
    tokio::time::sleep(WARM_UP).await;
    let armed = window(pid, worker, Some(capture), Duration::from_secs(seconds)).await;
    let rss = rss_kib(pid);
    let state = session.state().await.unwrap_or_default();
    session
        .cancel()
        .await
        .expect("Cancel (the checkout ended early?)");
    let streamed = streaming.elapsed().as_secs_f64();
    let (captured, dropped) = closed_line(&log).await;
    // Whether the frames' memory goes back once the camera is closed.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_closed = rss_kib(pid);
    let processed = captured.saturating_sub(dropped);
    let per_second = processed as f64 / streamed;
    let worker_percent = percent_of_core(armed.worker_ns, armed.seconds);
    let mut out = common;
    out["armed"] = true.into();
    out["seconds"] = armed.seconds.into();
    out["state_before_cancel"] = state.into();
    out["arm_to_stream_ms"] = (opened.as_secs_f64() * 1000.0).into();
    out["kassad_cpu_percent"] = (armed.kassad_ticks as f64 / armed.seconds).into();
    out["camera_thread_cpu_percent"] = worker_percent.into();
    out["capture_thread_cpu_percent"] = armed
        .capture_ns
        .map(|ns| percent_of_core(ns, armed.seconds))
        .into();
    out["streamed_seconds"] = streamed.into();
    out["frames_captured"] = captured.into();
    out["frames_dropped_stale"] = dropped.into();
    out["frames_decoded_per_second"] = per_second.into();
    out["camera_thread_cpu_ms_per_frame"] = (worker_percent * 10.0 / per_second).into();
    out["wakeups_per_second"] = (armed.switches as f64 / armed.seconds).into();
    out["camera_thread_wakeups_per_second"] = (armed.worker_switches as f64 / armed.seconds).into();
    out["rss_kib"] = rss.into();
    out["rss_after_close_kib"] = rss_closed.into();
    out["load_average"] = format!("{load_before} → {}", load_average()).into();
    println!("{out}");
}

/// The counts of kassad's "closed (N frames captured, M dropped as stale)"
/// line, waiting up to 5 s for it.
async fn closed_line(log: &Path) -> (u64, u64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(counts) = text.lines().rev().find_map(parse_closed) {
            return counts;
        }
        assert!(
            Instant::now() < deadline,
            "no \"closed (… frames captured …)\" line in kassad's log:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn parse_closed(line: &str) -> Option<(u64, u64)> {
    let (_, rest) = line.split_once(": closed (")?;
    let (captured, rest) = rest.split_once(" frames captured, ")?;
    let (dropped, _) = rest.split_once(" dropped as stale)")?;
    Some((captured.parse().ok()?, dropped.parse().ok()?))
}

/// What decoding the `.jpg` frames to luma costs per frame, as kassad's
/// V4L2 path does for every MJPEG frame (on its capture thread): each
/// frame five times, in this process, one thread.
fn mjpeg_luma(reel: &Path) {
    let mut paths: Vec<_> = std::fs::read_dir(reel)
        .expect("frames dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.sort();
    let files: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| std::fs::read(p).expect("frame file"))
        .collect();
    let mut times = Vec::with_capacity(files.len() * 5);
    for _ in 0..5 {
        for jpeg in &files {
            let started = Instant::now();
            let frame = jpeg_to_frame(jpeg, WIDTH * HEIGHT, 0).expect("JPEG decodes");
            times.push(started.elapsed());
            assert_eq!((frame.width, frame.height), (WIDTH, HEIGHT));
        }
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean = times.iter().map(|&d| ms(d)).sum::<f64>() / times.len() as f64;
    println!(
        "{}",
        serde_json::json!({
            "bench": "mjpeg_luma",
            "size": format!("{WIDTH}x{HEIGHT}"),
            "quality": JPEG_QUALITY,
            "chroma": "4:2:2",
            "n": times.len(),
            "mean_ms": mean,
            "p50_ms": ms(crate::percentile(&times, 0.50)),
            "p95_ms": ms(crate::percentile(&times, 0.95)),
            "max_ms": ms(*times.last().unwrap_or(&Duration::ZERO)),
            "cpu_percent_at_fps": mean * f64::from(FPS) / 10.0,
        })
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closed_line_is_parsed() {
        let line = "2026-12-03T18:00:00.000000Z DEBUG scanner \"camera\": closed (991 frames captured, 3 dropped as stale)";
        assert_eq!(parse_closed(line), Some((991, 3)));
        assert_eq!(parse_closed("scanner \"camera\": opened"), None);
    }

    #[test]
    fn mjpeg_frames_decode_to_their_grey() {
        let (w, h) = (320, 240);
        let luma: Vec<u8> = (0..w * h).map(|i| (i / 7 % 200) as u8).collect();
        let frame = jpeg_to_frame(&mjpeg(&luma, w, h), w * h, 0).unwrap();
        assert_eq!((frame.width, frame.height), (w, h));
        let off = frame
            .luma
            .iter()
            .zip(&luma)
            .map(|(a, b)| a.abs_diff(*b) as u64)
            .sum::<u64>() as f64
            / luma.len() as f64;
        assert!(off < 4.0, "mean difference {off}");
    }
}
