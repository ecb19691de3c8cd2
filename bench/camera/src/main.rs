//! Side-by-side camera decoding benchmark: kassa's pipeline, zxing-cpp
//! (bundled build) and zbar (libzbar), on the same 8-bit grey pixels, on
//! one thread, in one run: the generated 1280×720 frames, then the real
//! photos of `../shared/camera-photos/`, each turned 0, 90, 180 and 270°.
//! See bench/RESULTS.md ("Camera decoding").
//!
//! ```text
//! kassa-camera-bench [--per-category N] [--empty N] [--only CATEGORY]
//!                    [--photos DIR] [--folder NAME] [--rotations 0,90,...]
//!                    [--no-synthetic] [--no-photos] [--inverted] [--repeat N]
//! ```
//!
//! `--repeat N` calls each decoder N times on each frame and counts its
//! fastest call (kassa reset before each): on a machine shared with other
//! work, the slower calls measure the other work.
//!
//! `--inverted` also runs every photo with its grey levels inverted (the
//! code light on dark, as on a phone in dark mode), as folders of their own.
//!
//! Environment: `NO_NORM`, `NO_FULL`, `NO_LINEAR` switch kassa's pipeline
//! passes off (ablation); `VERBOSE` names every frame and photo kassa
//! missed, with what the others did on it; `TIMES` prints every photo's
//! kassa and zxing-cpp time and the pass of kassa's pipeline that read it
//! (to find the photos that make a p95).

mod decoders;
mod photos;
mod tally;

use std::path::PathBuf;

use kassa_camera_frames::{Category, SEED, generate};

use decoders::{Decoders, Reads};
use tally::{Row, add_row, print_header, print_row};

const WIDTH: usize = 1280;
const HEIGHT: usize = 720;
const ROTATIONS: [u32; 4] = [0, 90, 180, 270];

struct Args {
    per_category: u64,
    empty: u64,
    only: Option<String>,
    photos: PathBuf,
    folder: Option<String>,
    rotations: Vec<u32>,
    synthetic: bool,
    real: bool,
    inverted: bool,
    repeat: u32,
}

fn args() -> Args {
    let mut a = Args {
        per_category: 45,
        empty: 60,
        only: None,
        photos: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/camera-photos"
        )),
        folder: None,
        rotations: ROTATIONS.to_vec(),
        synthetic: true,
        real: true,
        inverted: false,
        repeat: 1,
    };
    let usage = || -> ! {
        eprintln!(
            "usage: kassa-camera-bench [--per-category N] [--empty N] [--only CATEGORY] \
             [--photos DIR] [--folder NAME] [--rotations 0,90,180,270] [--no-synthetic] [--no-photos] [--inverted] [--repeat N]"
        );
        std::process::exit(2)
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--per-category" => a.per_category = value().parse().unwrap_or_else(|_| usage()),
            "--empty" => a.empty = value().parse().unwrap_or_else(|_| usage()),
            "--only" => a.only = Some(value()),
            "--photos" => a.photos = PathBuf::from(value()),
            "--folder" => a.folder = Some(value()),
            "--rotations" => {
                a.rotations = value()
                    .split(',')
                    .map(|r| match r.parse() {
                        Ok(d @ (0 | 90 | 180 | 270)) => d,
                        _ => usage(),
                    })
                    .collect()
            }
            "--no-synthetic" => a.synthetic = false,
            "--no-photos" => a.real = false,
            "--inverted" => a.inverted = true,
            "--repeat" => a.repeat = value().parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    a
}

fn main() {
    let args = args();
    let mut decoders = Decoders::new();
    decoders.repeat = args.repeat;
    let verbose = std::env::var_os("VERBOSE").is_some();
    if args.synthetic {
        synthetic(&args, &mut decoders, verbose);
    }
    if args.real {
        if args.synthetic {
            println!();
        }
        real(&args, &mut decoders, verbose);
    }
}

/// The generated 1280×720 frames, per category.
fn synthetic(args: &Args, decoders: &mut Decoders, verbose: bool) {
    println!("Generated 1280×720 frames (seed {SEED}):");
    println!();
    print_header("category");
    let mut totals = Row::default();
    for category in Category::ALL {
        if args.only.as_deref().is_some_and(|o| o != category.name()) {
            continue;
        }
        let n = if category == Category::Empty {
            args.empty
        } else {
            args.per_category
        };
        let mut row = Row::default();
        for i in 0..n {
            let s = generate(category, i, SEED, WIDTH, HEIGHT);
            let expected: Vec<&str> = s.expected.iter().map(|(text, _)| text.as_str()).collect();
            let reads = decoders.run(&s.luma, WIDTH, HEIGHT, &expected, &mut row);
            if std::env::var_os("TIMES").is_some() {
                report_time(&format!("{} #{i}", category.name()), &reads);
            }
            if verbose {
                report_miss(&format!("{} #{i}", category.name()), &expected, &reads);
            }
        }
        print_row(category.name(), category == Category::Empty, &row);
        add_row(&mut totals, &row);
    }
    print_row("all", false, &totals);
}

/// The real photos: per folder and rotation, then per kind (QR, Code 128)
/// and rotation.
fn real(args: &Args, decoders: &mut Decoders, verbose: bool) {
    let folders = match photos::folders(&args.photos) {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "failed to list the real photos in {}: {e} (skipped)",
                args.photos.display()
            );
            return;
        }
    };
    println!(
        "Real photos ({}), each turned {}°:",
        args.photos.display(),
        args.rotations
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join("/")
    );
    println!();
    print_header("folder, rotation");
    // Per kind, per rotation (index into args.rotations).
    // [plain, inverted]
    let mut qr = [
        vec![Row::default(); args.rotations.len()],
        vec![Row::default(); args.rotations.len()],
    ];
    let mut code128 = qr.clone();
    for dir in folders {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if args.folder.as_deref().is_some_and(|f| f != name) {
            continue;
        }
        let photos = match photos::load_folder(&dir) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{e} (folder skipped)");
                continue;
            }
        };
        if photos.is_empty() {
            continue;
        }
        for inverted in [false, true] {
            if inverted && !args.inverted {
                continue;
            }
            let kind = if name.starts_with("code128") {
                &mut code128[usize::from(inverted)]
            } else {
                &mut qr[usize::from(inverted)]
            };
            let name = if inverted {
                format!("{name} inverted")
            } else {
                name.clone()
            };
            run_folder(args, decoders, verbose, &name, &photos, inverted, kind);
        }
    }
    println!();
    print_header("kind, rotation");
    // [plain, inverted]
    let mut all = [Row::default(), Row::default()];
    for (label, rows, inverted) in [
        ("QR", &qr[0], 0),
        ("Code 128", &code128[0], 0),
        ("QR inverted", &qr[1], 1),
        ("Code 128 inverted", &code128[1], 1),
    ] {
        let mut total = Row::default();
        for (r, row) in rows.iter().enumerate() {
            if row[0].frames > 0 {
                print_row(&format!("{label} {}°", args.rotations[r]), false, row);
                add_row(&mut total, row);
            }
        }
        if total[0].frames > 0 {
            print_row(&format!("**{label} all**"), false, &total);
            add_row(&mut all[inverted], &total);
        }
    }
    print_row("**all photos**", false, &all[0]);
    if all[1][0].frames > 0 {
        print_row("**all photos inverted**", false, &all[1]);
    }
}

/// One folder's photos at every rotation: a row per rotation and one for
/// the folder; each rotation's row is also added to `kind`.
fn run_folder(
    args: &Args,
    decoders: &mut Decoders,
    verbose: bool,
    name: &str,
    photos: &[photos::Photo],
    inverted: bool,
    kind: &mut [Row],
) {
    let mut folder_total = Row::default();
    for (r, &degrees) in args.rotations.iter().enumerate() {
        let mut row = Row::default();
        for photo in photos {
            let mut img = photo.image.rotated(degrees);
            if inverted {
                img.luma.iter_mut().for_each(|p| *p = 255 - *p);
            }
            let expected = photo.expected();
            let reads = decoders.run(&img.luma, img.width, img.height, &expected, &mut row);
            if std::env::var_os("TIMES").is_some() {
                report_time(&format!("{name}/{} {degrees}°", photo.name), &reads);
            }
            if verbose {
                report_miss(
                    &format!("{name}/{} at {degrees}°", photo.name),
                    &expected,
                    &reads,
                );
            }
        }
        print_row(&format!("{name} {degrees}°"), false, &row);
        add_row(&mut folder_total, &row);
        add_row(&mut kind[r], &row);
    }
    if args.rotations.len() > 1 {
        print_row(&format!("**{name} all**"), false, &folder_total);
    }
}

/// With `TIMES`: kassa's and zxing-cpp's time on a frame, and the pass of
/// kassa's pipeline that read it.
fn report_time(what: &str, reads: &Reads) {
    eprintln!(
        "time {what} kassa {:.2} ms {:?} {}, zxing-cpp {:.2} ms {}",
        reads.kassa_time.as_secs_f64() * 1e3,
        reads.kassa_stage,
        if reads.kassa.is_some() { "read" } else { "none" },
        reads.zxing_time.as_secs_f64() * 1e3,
        if reads.zxing.is_some() { "read" } else { "none" },
    );
}

/// With `VERBOSE`: a line for each frame kassa did not read right.
fn report_miss(what: &str, expected: &[&str], reads: &Reads) {
    let verdict = |got: &Option<String>| match got.as_deref() {
        None if expected.is_empty() => "right (none)",
        None => "none",
        Some(g) if expected.contains(&g) => "read",
        Some(_) if !expected.is_empty() => "WRONG",
        Some(_) => "FALSE POSITIVE",
    };
    if matches!(verdict(&reads.kassa), "read" | "right (none)") {
        return;
    }
    eprintln!(
        "{what}: kassa {}, zxing-cpp {}, zbar {}",
        verdict(&reads.kassa),
        verdict(&reads.zxing),
        verdict(&reads.zbar)
    );
    if let (Some(got), Some(want)) = (reads.kassa.as_deref(), expected.first())
        && verdict(&reads.kassa) == "WRONG"
    {
        eprintln!("  kassa read {got:?}\n  expected   {want:?}");
    }
}
