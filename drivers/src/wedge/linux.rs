//! Wedge scanners on Linux: evdev devices, grabbed.
//!
//! [`WedgeDevice`] reads raw `input_event` records from the device node and
//! feeds their key events to a [`WedgeDecoder`]: the same records, parser
//! and decoder as a replayed stream, which is why a FIFO carrying recorded
//! records opens here too (without a grab: a FIFO has none). On a real
//! evdev device it holds `EVIOCGRAB`, so while kassad has the scanner no
//! code reaches the focused window; the grab ends when the device is
//! dropped (stop, error or unplug).
//!
//! [`WedgeScanner`] pairs a device with its decoder and is what kassad
//! drives: a [`kassa_hal::blocking::Scanner`] whose errors say by their
//! [`kind`](kassa_hal::Error::kind) what to do (drop the scan, reopen the
//! device).

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kassa_hal::{ErrorKind, Scan};
use nix::errno::Errno;

use super::decoder::{DecodeError, DecoderConfig, WedgeDecoder};
use super::keymap::{Keymap, LayoutError, LayoutName};
use super::keys::{EV_SYN, SYN_DROPPED};
use super::record::{RECORD_LEN, RecordParser};

/// Whether `e` says the device node is gone: missing (`ENOENT`) or
/// unplugged under an open descriptor (`ENODEV`, `ENXIO`).
fn is_gone(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound
        || e.raw_os_error()
            .is_some_and(|n| matches!(Errno::from_raw(n), Errno::ENODEV | Errno::ENXIO))
}

/// A device that could not be opened.
#[derive(Debug)]
pub struct OpenError {
    /// The path.
    pub path: PathBuf,
    /// What failed.
    pub reason: OpenFailure,
}

/// Why a device could not be opened.
#[derive(Debug)]
pub enum OpenFailure {
    /// Opening the node failed.
    Open(io::Error),
    /// The node is not an evdev device, so it cannot be grabbed.
    NotEvdev(io::Error),
    /// Another program holds the grab.
    Grab(io::Error),
    /// The keyboard layout could not be compiled (only from
    /// [`WedgeScanner::open`]).
    Layout(LayoutError),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.reason {
            OpenFailure::Open(e) => {
                write!(f, "failed to open input device {path}: {e}")?;
                match e.kind() {
                    io::ErrorKind::PermissionDenied => f.write_str(
                        " (is kassad in group kassa, and are the udev rules installed?)",
                    ),
                    io::ErrorKind::NotFound => f.write_str(" (is the scanner plugged in?)"),
                    _ => Ok(()),
                }
            }
            OpenFailure::NotEvdev(e) => write!(
                f,
                "{path} is not an evdev input device ({e}); set grab = false to read a recorded stream"
            ),
            OpenFailure::Grab(e) => write!(
                f,
                "cannot grab input device {path}: {e} (does another program hold it?)"
            ),
            OpenFailure::Layout(e) => write!(f, "cannot decode input device {path}: {e}"),
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.reason {
            OpenFailure::Open(e) | OpenFailure::NotEvdev(e) | OpenFailure::Grab(e) => Some(e),
            OpenFailure::Layout(e) => Some(e),
        }
    }
}

/// `Disconnected` for a node that is not there (not plugged in, or gone
/// while opening), `Busy` when another program holds the grab,
/// `Unsupported` for a node that is not an evdev device, `Other` for the
/// rest — a permission denied among them, whose message names the fix.
impl kassa_hal::Error for OpenError {
    fn kind(&self) -> ErrorKind {
        match &self.reason {
            OpenFailure::Open(e) if is_gone(e) => ErrorKind::Disconnected,
            OpenFailure::Open(_) => ErrorKind::Other,
            OpenFailure::NotEvdev(_) => ErrorKind::Unsupported,
            OpenFailure::Grab(e) if is_gone(e) => ErrorKind::Disconnected,
            OpenFailure::Grab(_) => ErrorKind::Busy,
            OpenFailure::Layout(_) => ErrorKind::Other,
        }
    }
}

/// A read that failed.
#[derive(Debug)]
pub enum ReadError {
    /// The device went away (unplugged), or the stream's writer closed it.
    Disconnected,
    /// Another I/O error.
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Disconnected => f.write_str("device disconnected"),
            ReadError::Io(e) => write!(f, "read failed: {e}"),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Disconnected => None,
            ReadError::Io(e) => Some(e),
        }
    }
}

impl kassa_hal::Error for ReadError {
    fn kind(&self) -> ErrorKind {
        match self {
            ReadError::Disconnected => ErrorKind::Disconnected,
            ReadError::Io(_) => ErrorKind::Other,
        }
    }
}

/// An open wedge scanner.
pub struct WedgeDevice {
    file: File,
    /// The evdev handle holding the grab; `None` for a recorded stream.
    evdev: Option<evdev::raw_stream::RawDevice>,
    path: PathBuf,
    parser: RecordParser,
    /// The newest event's timestamp and when it was read: maps "now" into
    /// the events' clock for the idle gap, for real and replayed streams.
    last: Option<(Duration, Instant)>,
}

impl fmt::Debug for WedgeDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WedgeDevice")
            .field("path", &self.path)
            .field("grabbed", &self.is_grabbed())
            .finish_non_exhaustive()
    }
}

impl WedgeDevice {
    /// Opens `path` (an evdev node, a link to one, or a FIFO of records)
    /// and, if `grab`, takes the device exclusively.
    ///
    /// # Errors
    ///
    /// [`OpenError`] naming the path and what failed.
    pub fn open(path: &Path, grab: bool) -> Result<WedgeDevice, OpenError> {
        let fail = |reason| OpenError {
            path: path.to_path_buf(),
            reason,
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
            .open(path)
            .map_err(|e| fail(OpenFailure::Open(e)))?;
        let is_char_device = file
            .metadata()
            .map(|m| m.file_type().is_char_device())
            .unwrap_or(false);
        let evdev = if grab || is_char_device {
            let clone = file.try_clone().map_err(|e| fail(OpenFailure::Open(e)))?;
            match evdev::raw_stream::RawDevice::from_fd(clone.into()) {
                Ok(mut device) => {
                    if grab {
                        device.grab().map_err(|e| fail(OpenFailure::Grab(e)))?;
                    }
                    Some(device)
                }
                Err(e) if grab => return Err(fail(OpenFailure::NotEvdev(e))),
                Err(_) => None,
            }
        } else {
            None
        };
        Ok(WedgeDevice {
            file,
            evdev,
            path: path.to_path_buf(),
            parser: RecordParser::new(),
            last: None,
        })
    }

    /// Whether kassa holds the device exclusively.
    pub fn is_grabbed(&self) -> bool {
        self.evdev.as_ref().is_some_and(|d| d.is_grabbed())
    }

    /// The device's name as the kernel reports it, for a real device.
    pub fn name(&self) -> Option<&str> {
        self.evdev.as_ref().and_then(|d| d.name())
    }

    /// The path it was opened at.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits up to `timeout` for events and feeds every key event to
    /// `decoder`; when none came, tells the decoder the time (for the idle
    /// gap). Scans and errors are then waiting in `decoder.pop()`.
    ///
    /// # Errors
    ///
    /// [`ReadError::Disconnected`] when the device is gone; the decoder
    /// should then be reset.
    pub fn pump(&mut self, decoder: &mut WedgeDecoder, timeout: Duration) -> Result<(), ReadError> {
        // Wake in time for a pending idle gap.
        let mut wait = timeout;
        if let (Some(deadline), Some((time, at))) = (decoder.deadline(), self.last) {
            let now = time + at.elapsed();
            wait = wait.min(deadline.saturating_sub(now) + Duration::from_millis(1));
        }
        self.read(wait, |key| match key {
            Some(key) => decoder.push(key),
            None => decoder.lost(),
        })?;
        if let Some((time, at)) = self.last {
            decoder.idle(time + at.elapsed());
        }
        Ok(())
    }

    /// Waits up to `timeout` for events and returns the key events that
    /// came, undecoded (for finding out which layout a scanner types in).
    ///
    /// # Errors
    ///
    /// [`ReadError::Disconnected`] when the device is gone;
    /// [`ReadError::Io`] when the kernel dropped events (`SYN_DROPPED`),
    /// since the keys would then be incomplete.
    pub fn keys(&mut self, timeout: Duration) -> Result<Vec<super::KeyEvent>, ReadError> {
        let mut keys = Vec::new();
        let mut lost = false;
        self.read(timeout, |key| match key {
            Some(key) => keys.push(key),
            None => lost = true,
        })?;
        if lost {
            return Err(ReadError::Io(io::Error::other(
                "the kernel dropped key events (SYN_DROPPED)",
            )));
        }
        Ok(keys)
    }

    /// The key events of the next scan, undecoded: up to a press of Enter,
    /// keypad Enter or Tab, or, for a scanner that sends no terminator, up
    /// to `quiet` without keys (an Enter is then added). `None` when no
    /// scan ended within `timeout` (a device that never stops sending, a
    /// held key, ends there too), or after [`MAX_SCAN_KEYS`] events.
    ///
    /// # Errors
    ///
    /// As [`WedgeDevice::keys`].
    pub fn scan_keys(
        &mut self,
        timeout: Duration,
        quiet: Duration,
    ) -> Result<Option<Vec<super::KeyEvent>>, ReadError> {
        use super::KeyAction;
        use super::keys::{KEY_ENTER, KEY_KPENTER, KEY_TAB};
        const ENDS: [u16; 3] = [KEY_ENTER, KEY_KPENTER, KEY_TAB];
        let deadline = Instant::now() + timeout;
        let mut keys: Vec<super::KeyEvent> = Vec::new();
        let mut last = Instant::now();
        loop {
            if Instant::now() >= deadline || keys.len() > MAX_SCAN_KEYS {
                return Ok(None);
            }
            let came = self.keys(Duration::from_millis(20))?;
            if !came.is_empty() {
                last = Instant::now();
            }
            let ended = came
                .iter()
                .any(|k| k.action == KeyAction::Press && ENDS.contains(&k.code));
            keys.extend(came);
            if ended {
                return Ok(Some(keys));
            }
            if !keys.is_empty() && last.elapsed() >= quiet {
                let time = keys.last().map(|k| k.time).unwrap_or_default();
                for action in [KeyAction::Press, KeyAction::Release] {
                    keys.push(super::KeyEvent {
                        time,
                        code: ENDS[0],
                        action,
                    });
                }
                return Ok(Some(keys));
            }
        }
    }

    /// Waits up to `wait` for events and hands each key event to `on_key`
    /// (`None` for events the kernel dropped).
    fn read(
        &mut self,
        wait: Duration,
        mut on_key: impl FnMut(Option<super::KeyEvent>),
    ) -> Result<(), ReadError> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let ms = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
        let ready = match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(n) => n > 0,
            Err(nix::errno::Errno::EINTR) => false,
            Err(e) => return Err(ReadError::Io(e.into())),
        };
        let revents = fds[0].revents().unwrap_or(PollFlags::empty());
        if ready && revents.intersects(PollFlags::POLLIN) {
            let mut buf = [0u8; 64 * RECORD_LEN];
            loop {
                match self.file.read(&mut buf) {
                    Ok(0) => return Err(ReadError::Disconnected),
                    Ok(n) => {
                        let last = &mut self.last;
                        self.parser.feed(&buf[..n], |raw| {
                            if let Some(key) = raw.key() {
                                *last = Some((raw.time, Instant::now()));
                                on_key(Some(key));
                            } else if raw.kind == EV_SYN && raw.code == SYN_DROPPED {
                                on_key(None);
                            }
                        });
                        if n < buf.len() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    // ENODEV: the device was unplugged.
                    Err(e) if is_gone(&e) => return Err(ReadError::Disconnected),
                    Err(e) => return Err(ReadError::Io(e)),
                }
            }
        } else if ready && revents.intersects(PollFlags::POLLHUP | PollFlags::POLLERR) {
            return Err(ReadError::Disconnected);
        }
        Ok(())
    }
}

/// The most key events [`WedgeDevice::scan_keys`] collects for one scan.
pub const MAX_SCAN_KEYS: usize = 8192;

impl Drop for WedgeDevice {
    fn drop(&mut self) {
        // Closing the last descriptor would end the grab too; letting go
        // first keeps that true even while a clone of the fd lives on.
        if let Some(device) = self.evdev.as_mut() {
            let _ = device.ungrab();
        }
    }
}

/// Why a [`WedgeScanner`] read nothing: gone, a failed read, or a scan
/// dropped by the decoder (a key the layout does not type, keys lost by the
/// kernel, an overlong or unterminated scan).
pub type Error = crate::usb::ScanError<DecodeError>;

impl From<ReadError> for Error {
    fn from(e: ReadError) -> Error {
        match e {
            ReadError::Disconnected => Error::Disconnected,
            ReadError::Io(e) => Error::Io(e),
        }
    }
}

/// A wedge scanner as kassad drives it: a [`WedgeDevice`] and its
/// [`WedgeDecoder`] together, behind [`kassa_hal::blocking::Scanner`].
///
/// Not `Send`: libxkbcommon's objects stay on the thread that made them,
/// so the scanner lives and dies on the thread that opened it (kassad
/// opens every device on its worker thread). Dropping it ends the grab.
#[derive(Debug)]
pub struct WedgeScanner {
    device: WedgeDevice,
    decoder: WedgeDecoder,
    /// Scans decoded from one read beyond the first, oldest first.
    ready: VecDeque<Result<Scan, DecodeError>>,
    /// A read error that came after scans still in `ready`.
    failed: Option<Error>,
    /// The device is gone: every call says so.
    gone: bool,
}

impl WedgeScanner {
    /// Opens `path` as [`WedgeDevice::open`] does (taking the grab if
    /// `grab`) and decodes it through `layout` with `config`.
    ///
    /// # Errors
    ///
    /// [`OpenError`]: the device could not be opened or grabbed
    /// ([`OpenFailure::Open`], [`OpenFailure::NotEvdev`],
    /// [`OpenFailure::Grab`]), or the layout is not in the xkb data
    /// ([`OpenFailure::Layout`]). Its `kind()` says whether to wait for the
    /// device (`Disconnected`) or another program (`Busy`).
    pub fn open(
        path: &Path,
        grab: bool,
        layout: &LayoutName,
        config: DecoderConfig,
    ) -> Result<WedgeScanner, OpenError> {
        // The layout first: a misspelt one must not grab the keyboard.
        let keymap = Keymap::new(layout).map_err(|e| OpenError {
            path: path.to_path_buf(),
            reason: OpenFailure::Layout(e),
        })?;
        let device = WedgeDevice::open(path, grab)?;
        Ok(WedgeScanner::new(device, WedgeDecoder::new(keymap, config)))
    }

    /// Pairs an open device with a decoder (reset, as for a new device).
    pub fn new(device: WedgeDevice, mut decoder: WedgeDecoder) -> WedgeScanner {
        decoder.reset();
        WedgeScanner {
            device,
            decoder,
            ready: VecDeque::new(),
            failed: None,
            gone: false,
        }
    }

    /// The device.
    pub fn device(&self) -> &WedgeDevice {
        &self.device
    }

    /// The decoder (its settings, its layout).
    pub fn decoder(&self) -> &WedgeDecoder {
        &self.decoder
    }

    /// Whether kassa holds the device exclusively.
    pub fn is_grabbed(&self) -> bool {
        self.device.is_grabbed()
    }

    /// The device's name as the kernel reports it, for a real device.
    pub fn name(&self) -> Option<&str> {
        self.device.name()
    }

    /// The path it was opened at.
    pub fn path(&self) -> &Path {
        self.device.path()
    }

    /// The oldest decoded scan or error not handed out yet.
    fn next_ready(&mut self) -> Option<Result<Scan, Error>> {
        self.ready.extend(std::iter::from_fn(|| self.decoder.pop()));
        if let Some(result) = self.ready.pop_front() {
            return Some(result.map_err(Error::Dropped));
        }
        let failed = self.failed.take()?;
        if matches!(failed, Error::Disconnected) {
            self.gone = true;
        }
        Some(Err(failed))
    }
}

impl kassa_hal::ErrorType for WedgeScanner {
    type Error = Error;
}

/// Wedge scanners read on their own: the trigger is accepted and does
/// nothing.
impl kassa_hal::blocking::Scanner for WedgeScanner {
    /// Waits up to about `wait` for a scan. Several scans typed in one
    /// burst come out one a call, in order; a read error that came after
    /// them comes after them.
    fn poll_scan(&mut self, wait: Duration) -> Result<Option<Scan>, Error> {
        let deadline = Instant::now() + wait;
        loop {
            if self.gone {
                return Err(Error::Disconnected);
            }
            if let Some(result) = self.next_ready() {
                return result.map(Some);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if let Err(e) = self.device.pump(&mut self.decoder, left) {
                // Scans decoded before the failure go out first.
                self.failed = Some(e.into());
                continue;
            }
            if left.is_zero() {
                return self.next_ready().transpose();
            }
        }
    }

    fn set_trigger(&mut self, _on: bool) -> Result<(), Error> {
        if self.gone {
            return Err(Error::Disconnected);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::io::Write;

    use kassa_hal::Error as _;
    use kassa_hal::blocking::Scanner as _;

    use super::*;
    use crate::wedge::keys::{self, EV_KEY};
    use crate::wedge::record::RawEvent;

    /// A FIFO in a temporary directory and the test's end of it, opened
    /// read-write so that neither side waits for the other.
    fn fifo() -> (tempfile::TempDir, PathBuf, File) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("event-scanner");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let writer = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        (dir, path, writer)
    }

    /// The records of tapping `keys` (press, release) 2 ms apart from
    /// `start`, as evdev sends them.
    fn taps(start: Duration, names: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let code = keys::code_of(name).unwrap();
            let t = start + Duration::from_millis(2 * i as u64);
            for (dt, value) in [(0, 1), (1, 0)] {
                let raw = RawEvent {
                    time: t + Duration::from_millis(dt),
                    kind: EV_KEY,
                    code,
                    value,
                };
                out.extend_from_slice(&raw.to_bytes());
            }
        }
        out
    }

    fn open(path: &Path) -> WedgeScanner {
        WedgeScanner::open(
            path,
            false,
            &LayoutName::new("us"),
            DecoderConfig::default(),
        )
        .unwrap()
    }

    #[test]
    fn scans_of_one_read_come_out_one_a_poll_and_a_dropped_scan_is_invalid_data() {
        let (_dir, path, mut writer) = fifo();
        let mut scanner = open(&path);
        assert!(!scanner.is_grabbed());
        assert_eq!(scanner.path(), path);
        scanner.set_trigger(true).unwrap();
        let asked = Instant::now();
        assert!(
            scanner
                .poll_scan(Duration::from_millis(50))
                .unwrap()
                .is_none()
        );
        assert!(asked.elapsed() >= Duration::from_millis(45));
        // Two scans and a garbled one (KEY_RO types nothing in us) in one
        // write, so in one read.
        let start = Duration::from_secs(1_700_000_000);
        let mut bytes = taps(start, &["KEY_1", "KEY_2", "KEY_ENTER"]);
        bytes.extend(taps(
            start + Duration::from_millis(10),
            &["KEY_A", "KEY_ENTER"],
        ));
        bytes.extend(taps(
            start + Duration::from_millis(20),
            &["KEY_3", "KEY_RO", "KEY_ENTER"],
        ));
        bytes.extend(taps(
            start + Duration::from_millis(30),
            &["KEY_4", "KEY_ENTER"],
        ));
        writer.write_all(&bytes).unwrap();
        let wait = Duration::from_secs(2);
        let first = scanner.poll_scan(wait).unwrap().unwrap();
        assert_eq!(first.data, b"12");
        assert_eq!(first.source, kassa_hal::SourceKind::Wedge);
        assert_eq!(scanner.poll_scan(wait).unwrap().unwrap().data, b"a");
        let dropped = scanner.poll_scan(wait).unwrap_err();
        assert_eq!(dropped.kind(), ErrorKind::InvalidData);
        assert!(matches!(
            dropped,
            Error::Dropped(DecodeError::UnmappedKey { .. })
        ));
        assert!(dropped.to_string().contains("KEY_RO"), "{dropped}");
        assert_eq!(scanner.poll_scan(wait).unwrap().unwrap().data, b"4");
        assert!(scanner.poll_scan(Duration::ZERO).unwrap().is_none());
        // A scan and the end of the stream in one go: the scan first.
        writer
            .write_all(&taps(
                start + Duration::from_millis(40),
                &["KEY_5", "KEY_ENTER"],
            ))
            .unwrap();
        drop(writer);
        assert_eq!(scanner.poll_scan(wait).unwrap().unwrap().data, b"5");
        let gone = scanner.poll_scan(wait).unwrap_err();
        assert_eq!(gone.kind(), ErrorKind::Disconnected);
        assert_eq!(gone.to_string(), "device disconnected");
        // It stays gone.
        assert_eq!(
            scanner.poll_scan(Duration::ZERO).unwrap_err().kind(),
            ErrorKind::Disconnected
        );
        assert_eq!(
            scanner.set_trigger(false).unwrap_err().kind(),
            ErrorKind::Disconnected
        );
    }

    #[test]
    fn open_errors_have_kinds() {
        let missing = WedgeScanner::open(
            Path::new("/dev/input/no-such-event"),
            true,
            &LayoutName::new("us"),
            DecoderConfig::default(),
        )
        .unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::Disconnected);
        assert!(missing.to_string().contains("is the scanner plugged in?"));
        let (_dir, path, _writer) = fifo();
        let not_evdev = WedgeDevice::open(&path, true).unwrap_err();
        assert_eq!(not_evdev.kind(), ErrorKind::Unsupported);
        let layout = WedgeScanner::open(
            &path,
            false,
            &LayoutName::new("no-such-layout"),
            DecoderConfig::default(),
        )
        .unwrap_err();
        assert!(
            matches!(layout.reason, OpenFailure::Layout(_)),
            "{layout:?}"
        );
        assert_eq!(layout.kind(), ErrorKind::Other);
        let error = |reason| OpenError {
            path: "/dev/input/event7".into(),
            reason,
        };
        let denied = error(OpenFailure::Open(io::ErrorKind::PermissionDenied.into()));
        assert_eq!(denied.kind(), ErrorKind::Other);
        assert!(denied.to_string().contains("group kassa"), "{denied}");
        let held = error(OpenFailure::Grab(io::Error::from(Errno::EBUSY)));
        assert_eq!(held.kind(), ErrorKind::Busy);
        let unplugged = error(OpenFailure::Open(io::Error::from(Errno::ENODEV)));
        assert_eq!(unplugged.kind(), ErrorKind::Disconnected);
        assert_eq!(
            ReadError::Io(io::ErrorKind::Other.into()).kind(),
            ErrorKind::Other
        );
    }
}
