//! Side-by-side camera decoding benchmark: kassa's rxing pipeline, zxing-cpp
//! (bundled build) and zbar (libzbar), on the same generated frames, on one
//! thread, in one run. See bench/RESULTS.md ("Camera decoding").
//!
//! `kassa-camera-bench [--per-category N] [--empty N] [--only CATEGORY]`;
//! environment `NO_NORM`, `NO_FULL`, `NO_LINEAR` switch pipeline passes off
//! (ablation), `VERBOSE` names the frames the pipeline missed.

use std::time::{Duration, Instant};

use kassa_camera_frames::{Category, Drawn, SEED, generate};
use kassa_drivers::camera::Frame;
use kassa_drivers::camera::decode::{CodeFormat, Pipeline, PipelineConfig};

const WIDTH: usize = 1280;
const HEIGHT: usize = 720;

#[derive(Default)]
struct Tally {
    frames: usize,
    read: usize,
    misread: usize,
    false_positive: usize,
    times: Vec<Duration>,
}

impl Tally {
    fn record(&mut self, expected: Option<&str>, got: Option<String>, took: Duration) {
        self.frames += 1;
        self.times.push(took);
        match (expected, got) {
            (Some(e), Some(g)) if e == g => self.read += 1,
            (Some(_), Some(_)) => self.misread += 1,
            (None, Some(_)) => self.false_positive += 1,
            _ => {}
        }
    }

    fn percentile(&self, p: f64) -> f64 {
        let mut t: Vec<f64> = self.times.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        t.sort_by(f64::total_cmp);
        if t.is_empty() {
            return 0.0;
        }
        let i = ((t.len() as f64 - 1.0) * p).round() as usize;
        t[i]
    }
}

fn zxing_reader() -> zxingcpp::BarcodeReader {
    zxingcpp::read()
        .formats([
            zxingcpp::BarcodeFormat::QRCode,
            zxingcpp::BarcodeFormat::Code128,
        ])
        .max_number_of_symbols(1)
}

fn zxing_decode(reader: &zxingcpp::BarcodeReader, luma: &[u8]) -> Option<String> {
    let view = zxingcpp::ImageView::from_slice(
        luma,
        WIDTH as i32,
        HEIGHT as i32,
        zxingcpp::ImageFormat::Lum,
    )
    .ok()?;
    reader.from(view).ok()?.into_iter().next().map(|b| b.text())
}

fn zbar_scanner() -> zbar_rust::ZBarImageScanner {
    use zbar_rust::{ZBarConfig, ZBarSymbolType};
    let mut s = zbar_rust::ZBarImageScanner::new();
    let _ = s.set_config(ZBarSymbolType::ZBarNone, ZBarConfig::ZBarCfgEnable, 0);
    let _ = s.set_config(ZBarSymbolType::ZBarQRCode, ZBarConfig::ZBarCfgEnable, 1);
    let _ = s.set_config(ZBarSymbolType::ZBarCode128, ZBarConfig::ZBarCfgEnable, 1);
    s
}

fn main() {
    let mut per_category = 45u64;
    let mut empty = 60u64;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--per-category" => {
                per_category = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(per_category)
            }
            "--empty" => empty = args.next().and_then(|v| v.parse().ok()).unwrap_or(empty),
            "--only" => only = args.next(),
            _ => {
                eprintln!(
                    "usage: kassa-camera-bench [--per-category N] [--empty N] [--only CATEGORY]"
                );
                std::process::exit(2);
            }
        }
    }
    let mut pipeline = Pipeline::new(PipelineConfig {
        formats: vec![CodeFormat::Qr, CodeFormat::Code128],
        normalize: std::env::var_os("NO_NORM").is_none(),
        full_resolution: std::env::var_os("NO_FULL").is_none(),
        ..PipelineConfig::default()
    });
    if std::env::var_os("NO_LINEAR").is_some() {
        pipeline = Pipeline::new(PipelineConfig {
            formats: vec![CodeFormat::Qr],
            ..pipeline.config().clone()
        });
    }
    let zxing = zxing_reader();
    let mut zbar = zbar_scanner();
    let verbose = std::env::var_os("VERBOSE").is_some();

    println!(
        "| category | frames | ours: read | zxing-cpp: read | zbar: read | ours: misread / FP | zxing-cpp: misread / FP | zbar: misread / FP | ours ms p50 / p95 / max | zxing-cpp ms p50 / p95 / max | zbar ms p50 / p95 / max | ours / zxing-cpp time (p50, p95) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut totals = [Tally::default(), Tally::default(), Tally::default()];
    for category in Category::ALL {
        if only.as_deref().is_some_and(|o| o != category.name()) {
            continue;
        }
        let n = if category == Category::Empty {
            empty
        } else {
            per_category
        };
        let mut t = [Tally::default(), Tally::default(), Tally::default()];
        for i in 0..n {
            let s = generate(category, i, SEED, WIDTH, HEIGHT);
            let expected = s.expected.as_ref().map(|(text, _)| text.as_str());
            let _ = s.expected.as_ref().map(|(_, d)| *d == Drawn::Qr);
            let frame = match Frame::packed(WIDTH, HEIGHT, s.luma.clone(), i) {
                Ok(f) => f,
                Err(e) => panic!("{e}"),
            };
            // Every frame stands alone: no region of interest or hypothesis
            // from the frame before (they are unrelated scenes).
            pipeline.reset();
            let start = Instant::now();
            let ours = pipeline.process(&frame).map(|d| d.text);
            let took = start.elapsed();
            if verbose && ours.as_deref() != expected {
                eprintln!(
                    "{} #{i}: ours {:?}",
                    category.name(),
                    ours.as_ref().map(|_| "wrong")
                );
            }
            t[0].record(expected, ours.clone(), took);
            let start = Instant::now();
            let z = zxing_decode(&zxing, &s.luma);
            if verbose && ours.is_none() { eprintln!("  zxing on #{i}: {:?}", z.as_deref() == expected); }
            t[1].record(expected, z, start.elapsed());
            let start = Instant::now();
            let zb = zbar
                .scan_y800(&s.luma, WIDTH as u32, HEIGHT as u32)
                .ok()
                .and_then(|r| r.into_iter().next())
                .map(|r| String::from_utf8_lossy(&r.data).into_owned());
            t[2].record(expected, zb, start.elapsed());
        }
        print_row(category.name(), category == Category::Empty, &t);
        for (total, t) in totals.iter_mut().zip(t) {
            total.frames += t.frames;
            total.read += t.read;
            total.misread += t.misread;
            total.false_positive += t.false_positive;
            total.times.extend(t.times);
        }
    }
    print_row("all", false, &totals);
}

fn print_row(name: &str, empty: bool, t: &[Tally; 3]) {
    let read = |t: &Tally| {
        if empty {
            "—".to_owned()
        } else {
            format!("{}/{}", t.read, t.frames)
        }
    };
    let errs = |t: &Tally| format!("{} / {}", t.misread, t.false_positive);
    let times = |t: &Tally| {
        format!(
            "{:.1} / {:.1} / {:.1}",
            t.percentile(0.5),
            t.percentile(0.95),
            t.percentile(1.0)
        )
    };
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    println!(
        "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2}, {:.2} |",
        t[0].frames,
        read(&t[0]),
        read(&t[1]),
        read(&t[2]),
        errs(&t[0]),
        errs(&t[1]),
        errs(&t[2]),
        times(&t[0]),
        times(&t[1]),
        times(&t[2]),
        ratio(t[0].percentile(0.5), t[1].percentile(0.5)),
        ratio(t[0].percentile(0.95), t[1].percentile(0.95)),
    );
}
