//! What an armed camera that sees no code costs: the loop kassad's camera
//! thread runs (newest frame, decode), fed 1280×720 frames without a code
//! at 30 frames a second for ten seconds. Prints the decode time per frame
//! and the CPU the process used (the frame player's thread included, as
//! kassad's capture thread would be), as a share of one core.
//!
//! A measurement, not a check to run on every build:
//! `cargo test --release -p kassa-drivers --features camera --test
//! camera_idle_cpu -- --ignored --nocapture`. In a release build it also
//! asserts issue 17's budget: p95 ≤ 15 ms a frame.
#![cfg(all(feature = "camera", target_os = "linux"))]

use std::time::{Duration, Instant};

use kassa_camera_frames::{Category, SEED, generate};
use kassa_drivers::camera::{CameraScanner, Frame, PipelineConfig, Player};

/// User + system CPU time of this process so far, from /proc/self/stat.
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which may hold spaces, in brackets).
    let rest = &stat[stat.rfind(')').expect("a command name") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // The kernel's USER_HZ, 100 on every Linux kassa runs on.
    Duration::from_millis(ticks * 10)
}

#[test]
#[ignore = "a ten-second measurement; run it in release with --ignored --nocapture"]
fn armed_camera_without_a_code() {
    const FPS: u32 = 30;
    let (w, h) = (1280, 720);
    let frames: Vec<Frame> = (0..30)
        .map(|i| {
            let s = generate(Category::Empty, i, SEED, w, h);
            Frame::packed(w, h, s.luma, i).unwrap()
        })
        .collect();
    let player = Player::new(frames, FPS);
    let mut scanner = CameraScanner::new(player, PipelineConfig::default());
    scanner.set_armed(true).unwrap();
    // Warm up (first frames, allocations), then measure.
    let warm = Instant::now() + Duration::from_secs(1);
    while Instant::now() < warm {
        if let Some(frame) = scanner.newest_frame(Duration::from_millis(100)).unwrap() {
            assert!(scanner.decode(&frame).is_none());
        }
    }
    let cpu0 = process_cpu();
    let start = Instant::now();
    let mut times = Vec::new();
    while start.elapsed() < Duration::from_secs(10) {
        let Some(frame) = scanner.newest_frame(Duration::from_millis(100)).unwrap() else {
            continue;
        };
        let t = Instant::now();
        let scan = scanner.decode(&frame);
        times.push(t.elapsed());
        assert!(scan.is_none(), "a read from a frame without a code");
    }
    let wall = start.elapsed();
    let cpu = process_cpu() - cpu0;
    scanner.set_armed(false).unwrap();
    times.sort();
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
    let (p50, p95, max) = (at(0.5), at(0.95), at(1.0));
    println!(
        "armed, no code, {w}x{h} at {FPS} fps for {:.1} s: {} frames decoded, \
         decode ms p50 {p50:.1} / p95 {p95:.1} / max {max:.1}; \
         process CPU {:.2} s = {:.0} % of one core",
        wall.as_secs_f64(),
        times.len(),
        cpu.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
    );
    assert!(times.len() as u32 >= FPS * 10 / 2, "frames were dropped");
    if !cfg!(debug_assertions) {
        assert!(
            p95 <= 15.0,
            "p95 {p95:.1} ms over one frame interval's budget"
        );
    }
}
