//! Recorded key-event streams (`tests/data/wedge/`) and a FIFO to play them
//! into the reader a real evdev device goes through.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kassa_drivers::wedge::{
    DecoderConfig, Keymap, LayoutName, Recording, Terminator, WedgeDecoder,
};

/// `tests/data/wedge/`.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/wedge")
}

/// Every recording, by file name, sorted.
///
/// # Panics
///
/// When a file cannot be read or is not in the format (README.md there).
pub fn recordings() -> Vec<(String, Recording)> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir())
        .expect("tests/data/wedge")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let rec = recording(&name);
            (name, rec)
        })
        .collect()
}

/// One recording by file name.
///
/// # Panics
///
/// When it cannot be read or parsed.
pub fn recording(name: &str) -> Recording {
    let text = std::fs::read_to_string(data_dir().join(name)).expect("read recording");
    Recording::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The decoder settings a recording's header asks for.
///
/// # Panics
///
/// For an unknown terminator.
pub fn config_of(rec: &Recording) -> (LayoutName, DecoderConfig) {
    let terminator = match rec.terminator.as_str() {
        "enter" => Terminator::Enter,
        "tab" => Terminator::Tab,
        "none" => Terminator::None,
        other => panic!("terminator {other:?}"),
    };
    let mut config = DecoderConfig::new(terminator);
    config.aim_ids = rec.aim_ids;
    (LayoutName::with_variant(&rec.layout, &rec.variant), config)
}

/// A decoder set up as the recording's header asks.
///
/// # Panics
///
/// When the layout does not compile.
pub fn decoder_for(rec: &Recording) -> WedgeDecoder {
    let (layout, config) = config_of(rec);
    WedgeDecoder::new(Keymap::new(&layout).expect("layout"), config)
}

/// A named pipe that stands in for `/dev/input/eventN`: kassa opens its
/// path, the test writes raw `input_event` records into it.
pub struct EventFifo {
    path: PathBuf,
    writer: Option<File>,
    _dir: tempfile::TempDir,
}

impl EventFifo {
    /// Creates one. The test's own end is opened read-write, so that
    /// neither side waits for the other to open and the reader sees no end
    /// of stream until [`EventFifo::close`].
    ///
    /// # Panics
    ///
    /// When the FIFO cannot be made.
    pub fn new() -> EventFifo {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("event-scanner");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .expect("mkfifo");
        let writer = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("open the FIFO");
        EventFifo {
            path,
            writer: Some(writer),
            _dir: dir,
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` (raw records).
    ///
    /// # Panics
    ///
    /// When closed or the write fails.
    pub fn send(&mut self, bytes: &[u8]) {
        let w = self.writer.as_mut().expect("FIFO open");
        w.write_all(bytes).expect("write to the FIFO");
    }

    /// Plays `rec` as a device would: its records with their recorded
    /// spacing, shifted so that the first event is stamped `start`.
    ///
    /// # Panics
    ///
    /// When the write fails.
    pub fn play(&mut self, rec: &Recording, start: Duration) {
        let first = rec.events.first().map_or(Duration::ZERO, |e| e.time);
        let mut shifted = rec.clone();
        for e in &mut shifted.events {
            e.time = e.time - first + start;
        }
        self.send(&shifted.to_input_events());
    }

    /// Closes the test's end: the reader sees the end of the stream, as
    /// when a device is unplugged.
    pub fn close(&mut self) {
        self.writer = None;
    }
}

impl Default for EventFifo {
    fn default() -> Self {
        EventFifo::new()
    }
}
