//! The three decoders, each handed the same packed 8-bit grey pixels and
//! timed per call.

use std::time::{Duration, Instant};

use kassa_drivers::camera::Frame;
use kassa_drivers::camera::decode::{CodeFormat, Pipeline, PipelineConfig, Stage};

use crate::tally::Row;

/// What each decoder returned for one frame.
pub struct Reads {
    pub kassa: Option<String>,
    pub zxing: Option<String>,
    pub zbar: Option<String>,
    /// kassa's and zxing-cpp's fastest call.
    pub kassa_time: Duration,
    pub zxing_time: Duration,
    /// The pass of kassa's pipeline that read the code.
    pub kassa_stage: Option<Stage>,
}

pub struct Decoders {
    pipeline: Pipeline,
    zxing: zxingcpp::BarcodeReader,
    zbar: zbar_rust::ZBarImageScanner,
    seq: u64,
    /// Calls per decoder and frame; the fastest counts (`--repeat`).
    pub repeat: u32,
}

impl Decoders {
    /// kassa with kassad's default formats (QR and Code 128); environment
    /// `NO_NORM`, `NO_FULL`, `NO_LINEAR` switch pipeline passes off
    /// (ablation). zxing-cpp with the same formats, first symbol only (its
    /// defaults: try harder, rotate, invert, downscale). zbar with QR and
    /// Code 128 only.
    pub fn new() -> Decoders {
        let mut formats = vec![CodeFormat::Qr, CodeFormat::Code128];
        if std::env::var_os("NO_LINEAR").is_some() {
            formats.retain(|f| *f != CodeFormat::Code128);
        }
        let pipeline = Pipeline::new(PipelineConfig {
            formats,
            normalize: std::env::var_os("NO_NORM").is_none(),
            full_resolution: std::env::var_os("NO_FULL").is_none(),
            ..PipelineConfig::default()
        });
        let zxing = zxingcpp::read()
            .formats([
                zxingcpp::BarcodeFormat::QRCode,
                zxingcpp::BarcodeFormat::Code128,
            ])
            .max_number_of_symbols(1);
        use zbar_rust::{ZBarConfig, ZBarSymbolType};
        let mut zbar = zbar_rust::ZBarImageScanner::new();
        let _ = zbar.set_config(ZBarSymbolType::ZBarNone, ZBarConfig::ZBarCfgEnable, 0);
        let _ = zbar.set_config(ZBarSymbolType::ZBarQRCode, ZBarConfig::ZBarCfgEnable, 1);
        let _ = zbar.set_config(ZBarSymbolType::ZBarCode128, ZBarConfig::ZBarCfgEnable, 1);
        Decoders {
            pipeline,
            zxing,
            zbar,
            seq: 0,
            repeat: 1,
        }
    }

    /// Runs every decoder on the `width`×`height` image `luma` and records
    /// the results against `expected` (the right texts; none for a frame
    /// without a code) in `row`. Every image stands alone:
    /// kassa's pipeline is reset first (no region of interest or pending
    /// read from an unrelated image).
    pub fn run(
        &mut self,
        luma: &[u8],
        width: usize,
        height: usize,
        expected: &[&str],
        row: &mut Row,
    ) -> Reads {
        self.seq += 1;
        let frame = match Frame::packed(width, height, luma.to_vec(), self.seq) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        let repeat = self.repeat.max(1);
        // Each decoder `repeat` times on the frame, the fastest call counted:
        // on a shared machine, a slower call is another process's time.
        let fastest = |f: &mut dyn FnMut() -> Option<String>| {
            let mut best = (None, Duration::MAX);
            for _ in 0..repeat {
                let start = Instant::now();
                let got = f();
                let took = start.elapsed();
                if took < best.1 {
                    best = (got, took);
                }
            }
            best
        };
        let (kassa, took) = fastest(&mut || {
            self.pipeline.reset();
            self.pipeline.process(&frame).map(|d| d.text)
        });
        row[0].record(expected, kassa.as_deref(), took);
        let (kassa_time, kassa_stage) = (took, self.pipeline.last_stage());

        let (zxing, took) = fastest(&mut || {
            zxingcpp::ImageView::from_slice(
                luma,
                width as i32,
                height as i32,
                zxingcpp::ImageFormat::Lum,
            )
            .ok()
            .and_then(|view| self.zxing.from(view).ok())
            .and_then(|found| found.into_iter().next())
            .map(|b| b.text())
        });
        row[1].record(expected, zxing.as_deref(), took);
        let zxing_time = took;

        let (zbar, took) = fastest(&mut || {
            self.zbar
                .scan_y800(luma, width as u32, height as u32)
                .ok()
                .and_then(|r| r.into_iter().next())
                .map(|r| String::from_utf8_lossy(&r.data).into_owned())
        });
        row[2].record(expected, zbar.as_deref(), took);
        Reads {
            kassa,
            zxing,
            zbar,
            kassa_time,
            zxing_time,
            kassa_stage,
        }
    }
}
