//! A [`FrameSource`] that plays generated or recorded frames, for tests
//! and demos: the same consumer code as with a camera, no camera.
//!
//! A recording is a directory of frames played in file-name order: `.pgm`
//! files (binary greymap, `P5`, 8 bits) and `.jpg`/`.jpeg` files (decoded
//! to luma as MJPEG frames are). Frames loop until the source is stopped.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::Frame;
use super::luma::jpeg_to_frame;
use super::source::{CaptureError, FrameSource};

/// The largest recorded frame accepted (4K).
const MAX_PIXELS: usize = 3840 * 2160;

/// Where the frames come from.
#[derive(Debug, Clone)]
enum Reel {
    Frames(Vec<Frame>),
    Directory(PathBuf),
}

/// Plays frames at a fixed rate, looping.
#[derive(Debug)]
pub struct Player {
    reel: Reel,
    loaded: Vec<Frame>,
    interval: Duration,
    next: usize,
    seq: u64,
    due: Option<Instant>,
    led: Arc<AtomicBool>,
    starts: Arc<AtomicU64>,
}

impl Player {
    /// Plays `frames` at `fps` frames per second (at least 1).
    pub fn new(frames: Vec<Frame>, fps: u32) -> Player {
        Player::with_reel(Reel::Frames(frames), fps)
    }

    /// Plays the `.pgm` and `.jpg` files of `dir` in name order; they are
    /// read on every `start`, so a test can change them between runs.
    pub fn from_dir(dir: impl Into<PathBuf>, fps: u32) -> Player {
        Player::with_reel(Reel::Directory(dir.into()), fps)
    }

    fn with_reel(reel: Reel, fps: u32) -> Player {
        Player {
            reel,
            loaded: Vec::new(),
            interval: Duration::from_secs(1) / fps.max(1),
            next: 0,
            seq: 0,
            due: None,
            led: Arc::default(),
            starts: Arc::default(),
        }
    }

    /// Whether the "device" is open now, as a camera's LED would show.
    pub fn led(&self) -> Arc<AtomicBool> {
        self.led.clone()
    }

    /// How often it was started.
    pub fn starts(&self) -> Arc<AtomicU64> {
        self.starts.clone()
    }
}

impl FrameSource for Player {
    fn start(&mut self) -> Result<(), CaptureError> {
        self.loaded = match &self.reel {
            Reel::Frames(frames) => frames.clone(),
            Reel::Directory(dir) => load_dir(dir)?,
        };
        if self.loaded.is_empty() {
            return Err(CaptureError::Recording {
                path: PathBuf::from(self.name()),
                detail: "no frames (.pgm or .jpg files) to play".into(),
            });
        }
        self.next = 0;
        self.due = Some(Instant::now());
        self.led.store(true, Ordering::Relaxed);
        self.starts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        let Some(due) = self.due else {
            return Ok(None);
        };
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        self.due = Some(due + self.interval);
        let Some(frame) = self.loaded.get(self.next % self.loaded.len().max(1)) else {
            return Ok(None);
        };
        self.next = self.next.wrapping_add(1);
        self.seq += 1;
        Ok(Some(Frame {
            seq: self.seq,
            ..frame.clone()
        }))
    }

    fn stop(&mut self) {
        self.due = None;
        self.loaded = Vec::new();
        self.led.store(false, Ordering::Relaxed);
    }

    fn name(&self) -> String {
        match &self.reel {
            Reel::Frames(frames) => format!("{} generated frames", frames.len()),
            Reel::Directory(dir) => dir.display().to_string(),
        }
    }
}

fn load_dir(dir: &Path) -> Result<Vec<Frame>, CaptureError> {
    let fail = |detail: String| CaptureError::Recording {
        path: dir.to_path_buf(),
        detail,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| fail(e.to_string()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pgm" | "jpg" | "jpeg")
            )
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).map_err(|e| CaptureError::Recording {
                path: path.clone(),
                detail: e.to_string(),
            })?;
            let frame = if path.extension().is_some_and(|e| e == "pgm") {
                parse_pgm(&bytes)
            } else {
                jpeg_to_frame(&bytes, MAX_PIXELS, 0).map_err(|e| e.to_string())
            };
            frame.map_err(|detail| CaptureError::Recording {
                path: path.clone(),
                detail,
            })
        })
        .collect()
}

/// Parses a binary greymap (`P5`, maxval ≤ 255).
///
/// # Errors
///
/// A message saying what is wrong with the file.
pub fn parse_pgm(bytes: &[u8]) -> Result<Frame, String> {
    let mut fields = Vec::with_capacity(4);
    let mut at = 0;
    while fields.len() < 4 {
        // Whitespace and comments between header fields.
        while at < bytes.len() {
            match bytes[at] {
                b'#' => {
                    while at < bytes.len() && bytes[at] != b'\n' {
                        at += 1;
                    }
                }
                b if b.is_ascii_whitespace() => at += 1,
                _ => break,
            }
        }
        let start = at;
        while at < bytes.len() && !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if start == at {
            return Err("truncated PGM header".into());
        }
        fields.push(&bytes[start..at]);
    }
    if fields[0] != b"P5" {
        return Err("not a binary PGM (P5) file".into());
    }
    let number = |field: &[u8], what: &str| -> Result<usize, String> {
        std::str::from_utf8(field)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("PGM {what} is not a number"))
    };
    let width = number(fields[1], "width")?;
    let height = number(fields[2], "height")?;
    let maxval = number(fields[3], "maxval")?;
    if maxval == 0 || maxval > 255 {
        return Err(format!("PGM maxval {maxval} is not 1-255 (8-bit only)"));
    }
    if width.saturating_mul(height) > MAX_PIXELS {
        return Err(format!("PGM of {width}x{height} is too large"));
    }
    // Exactly one whitespace byte ends the header.
    let pixels = bytes.get(at + 1..).unwrap_or_default();
    Frame::packed(width, height, pixels.to_vec(), 0)
}

/// Writes `frame` as a binary greymap (`P5`).
pub fn to_pgm(frame: &Frame) -> Vec<u8> {
    let mut out = format!("P5\n{} {}\n255\n", frame.width, frame.height).into_bytes();
    for y in 0..frame.height {
        if let Some(row) = frame.row(y) {
            out.extend_from_slice(row);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(value: u8) -> Frame {
        Frame::packed(4, 3, vec![value; 12], 0).unwrap()
    }

    #[test]
    fn plays_in_order_looping_with_increasing_seq_and_led() {
        let mut player = Player::new(vec![frame(1), frame(2)], 1000);
        let led = player.led();
        assert!(!led.load(Ordering::Relaxed));
        assert_eq!(player.next_frame().unwrap().map(|f| f.seq), None);
        player.start().unwrap();
        assert!(led.load(Ordering::Relaxed));
        let played: Vec<(u8, u64)> = (0..5)
            .map(|_| {
                let f = player.next_frame().unwrap().unwrap();
                (f.luma[0], f.seq)
            })
            .collect();
        assert_eq!(played, [(1, 1), (2, 2), (1, 3), (2, 4), (1, 5)]);
        player.stop();
        assert!(!led.load(Ordering::Relaxed));
        assert!(Player::new(Vec::new(), 30).start().is_err());
    }

    #[test]
    fn pgm_round_trips_and_bad_files_are_named_errors() {
        let original = Frame::packed(3, 2, vec![0, 50, 100, 150, 200, 250], 0).unwrap();
        let parsed = parse_pgm(&to_pgm(&original)).unwrap();
        assert_eq!(&parsed.luma[..], &original.luma[..]);
        assert_eq!((parsed.width, parsed.height), (3, 2));
        let commented = b"P5\n# made by hand\n2 1\n255\n\x01\x02";
        assert_eq!(&parse_pgm(commented).unwrap().luma[..], &[1, 2]);
        assert!(parse_pgm(b"P2\n2 1\n255\n1 2").is_err());
        assert!(parse_pgm(b"P5\n2 2\n255\n\x01").is_err());
        assert!(parse_pgm(b"P5\n2").is_err());
        assert!(parse_pgm(b"P5\n2 1\n65535\n\x01\x02\x03\x04").is_err());
        assert!(parse_pgm(b"P5\n99999 99999\n255\n").is_err());
    }

    #[test]
    fn a_directory_plays_its_frames_in_name_order() {
        let dir = std::env::temp_dir().join(format!("kassa-player-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("b.pgm"), to_pgm(&frame(2))).unwrap();
        std::fs::write(dir.join("a.pgm"), to_pgm(&frame(1))).unwrap();
        std::fs::write(dir.join("notes.txt"), b"ignored").unwrap();
        let mut player = Player::from_dir(&dir, 1000);
        player.start().unwrap();
        let first = player.next_frame().unwrap().unwrap();
        let second = player.next_frame().unwrap().unwrap();
        assert_eq!((first.luma[0], second.luma[0]), (1, 2));
        std::fs::write(dir.join("c.jpg"), b"broken").unwrap();
        let err = Player::from_dir(&dir, 10).start().unwrap_err().to_string();
        assert!(err.contains("c.jpg"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
        let missing = Player::from_dir(&dir, 10).start().unwrap_err().to_string();
        assert!(missing.starts_with("cannot play frames from "), "{missing}");
    }
}
