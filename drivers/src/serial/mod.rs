//! Scanners on a serial port.
//!
//! [`SerialScanner`] owns its transport, any `embedded_io` reader/writer:
//! a Linux tty opened with [`linux::open`], a UART on a microcontroller, a
//! byte slice in a test. It frames the byte stream with a [`Framer`],
//! strips AIM identifiers when the scanner is set to send them, and sends
//! the trigger sequences of host-triggered scanners.
//!
//! The transport says that the line went quiet by returning an error of
//! kind `TimedOut` from `read`: a Linux port does so after its read timeout,
//! which is how idle-gap framing gets its gap.
//!
//! [`SerialScanner`] implements [`kassa_hal::blocking::Scanner`] over any
//! `embedded_io` port, and the async [`kassa_hal::Scanner`] over any
//! `embedded_io_async` one. The blocking `poll_scan(wait)` honours `wait`
//! as far as the port's read timeout allows: without more, a poll ends at
//! the first quiet read, one read timeout after the line went quiet. A port
//! that implements [`ReadTimeout`] (as [`linux::TtyPort`] does) lets
//! [`SerialScanner::with_port_timeout`] count quiet reads, so that a poll
//! waits the whole `wait`, rounded up to whole read timeouts.

mod framer;
#[cfg(feature = "linux")]
pub mod linux;

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use embedded_io::ErrorKind as IoKind;
use kassa_hal::{ErrorKind, Scan, SourceKind, Timestamp};

use crate::io::{ReadTimeout, io_kind};

pub use framer::{FrameError, Framer, FramingConfig, Terminator};

/// Everything a serial scanner needs besides its port.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScannerConfig {
    /// How scans are delimited.
    pub framing: FramingConfig,
    /// Whether the scanner prefixes scans with an AIM identifier (`]Q1`),
    /// to be parsed and stripped.
    pub aim_ids: bool,
    /// Bytes that start reading on a host-triggered scanner (for example
    /// `SYN T CR`); empty if the scanner reads on its own.
    pub trigger_on: Vec<u8>,
    /// Bytes that stop reading; empty for none.
    pub trigger_off: Vec<u8>,
}

/// A serial scanner's error.
#[derive(Debug)]
pub enum Error<E> {
    /// The transport failed.
    Io(E),
    /// The transport reported end of stream: the device is gone.
    Disconnected,
    /// A frame was dropped; the next read goes on with the next scan.
    Frame(FrameError),
}

impl<E: embedded_io::Error> kassa_hal::Error for Error<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Io(e) => io_kind(e.kind()),
            Error::Disconnected => ErrorKind::Disconnected,
            Error::Frame(_) => ErrorKind::InvalidData,
        }
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "serial port error: {e}"),
            Error::Disconnected => f.write_str("serial port closed: device disconnected"),
            Error::Frame(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for Error<E> {}

impl<E> kassa_hal::ErrorType for SerialScanner<E>
where
    E: embedded_io::ErrorType,
{
    type Error = Error<E::Error>;
}

/// A scanner on a serial transport `IO`.
#[derive(Debug)]
pub struct SerialScanner<IO> {
    io: IO,
    framer: Framer,
    aim_ids: bool,
    trigger_on: Vec<u8>,
    trigger_off: Vec<u8>,
    /// Frames completed by earlier reads, not yet handed out: one read can
    /// bring several scans.
    pending: VecDeque<Result<Vec<u8>, FrameError>>,
    /// How long one quiet read of the port took, where the port says.
    read_timeout: Option<fn(&IO) -> Duration>,
    /// Stamps finished scans.
    clock: fn() -> Timestamp,
}

/// The system clock with `std`; without it, no clock: the epoch, until
/// [`SerialScanner::with_clock`] sets one.
fn default_clock() -> Timestamp {
    #[cfg(feature = "std")]
    {
        Timestamp::now()
    }
    #[cfg(not(feature = "std"))]
    {
        Timestamp::default()
    }
}

/// What one read of the transport came to.
enum Read {
    Bytes,
    Idle,
}

impl<IO: embedded_io::ErrorType> SerialScanner<IO> {
    /// A scanner reading from `io`.
    pub fn new(io: IO, config: ScannerConfig) -> Self {
        SerialScanner {
            io,
            framer: Framer::new(config.framing),
            aim_ids: config.aim_ids,
            trigger_on: config.trigger_on,
            trigger_off: config.trigger_off,
            pending: VecDeque::new(),
            read_timeout: None,
            clock: default_clock,
        }
    }

    /// Stamps scans with `clock` instead of the system clock (which a
    /// build without `std` does not have: its scans are stamped with the
    /// epoch unless a clock is given here).
    pub fn with_clock(mut self, clock: fn() -> Timestamp) -> Self {
        self.clock = clock;
        self
    }

    /// Lets the blocking [`poll_scan`](kassa_hal::blocking::Scanner::poll_scan)
    /// wait the whole `wait` it is given: it reads on over quiet reads,
    /// counting each as the port's current [read
    /// timeout](ReadTimeout::read_timeout), until they add up to `wait`.
    /// Without it a poll ends at the first quiet read.
    pub fn with_port_timeout(mut self) -> Self
    where
        IO: ReadTimeout,
    {
        self.read_timeout = Some(|io: &IO| io.read_timeout());
        self
    }

    /// Gives the transport back.
    pub fn release(self) -> IO {
        self.io
    }

    /// The transport, to adjust settings.
    pub fn io_mut(&mut self) -> &mut IO {
        &mut self.io
    }

    fn trigger_bytes(&self, on: bool) -> &[u8] {
        if on {
            &self.trigger_on
        } else {
            &self.trigger_off
        }
    }

    /// The next finished frame as a scan, if one is waiting.
    fn take_pending(&mut self) -> Option<Result<Scan, Error<IO::Error>>> {
        let frame = self.pending.pop_front()?;
        Some(match frame {
            Ok(data) => {
                let at = (self.clock)();
                Ok(if self.aim_ids {
                    Scan::with_aim(&data, SourceKind::Serial, at)
                } else {
                    Scan::new(data, SourceKind::Serial, at)
                })
            }
            Err(e) => Err(Error::Frame(e)),
        })
    }

    /// Feeds what a read returned into the framer.
    fn absorb(
        &mut self,
        read: Result<usize, IO::Error>,
        chunk: &[u8],
    ) -> Result<Read, Error<IO::Error>> {
        use embedded_io::Error as _;
        match read {
            Ok(0) => {
                self.framer.reset();
                Err(Error::Disconnected)
            }
            Ok(n) => {
                for &byte in &chunk[..n] {
                    if let Some(frame) = self.framer.push(byte) {
                        self.pending.push_back(frame);
                    }
                }
                Ok(Read::Bytes)
            }
            Err(e) if e.kind() == IoKind::TimedOut => {
                self.pending.extend(self.framer.idle());
                Ok(Read::Idle)
            }
            Err(e) if e.kind() == IoKind::Interrupted => Ok(Read::Bytes),
            Err(e) => {
                self.framer.reset();
                Err(Error::Io(e))
            }
        }
    }
}

const CHUNK: usize = 256;

impl<IO: embedded_io::Read + embedded_io::Write> SerialScanner<IO> {
    /// Reads until a scan is complete, or until the quiet reads add up to
    /// `wait` (the first one, if the port's read timeout is not known).
    fn poll_for(&mut self, wait: Duration) -> Result<Option<Scan>, Error<IO::Error>> {
        let mut chunk = [0u8; CHUNK];
        let mut quiet = Duration::ZERO;
        loop {
            if let Some(scan) = self.take_pending() {
                return scan.map(Some);
            }
            let read = self.io.read(&mut chunk);
            if let Read::Idle = self.absorb(read, &chunk)? {
                if let Some(scan) = self.take_pending() {
                    return scan.map(Some);
                }
                // A zero timeout says nothing about the time that passed.
                let tick = self.read_timeout.map(|of| of(&self.io));
                match tick {
                    Some(tick) if !tick.is_zero() => quiet = quiet.saturating_add(tick),
                    _ => return Ok(None),
                }
                if quiet >= wait {
                    return Ok(None);
                }
            }
        }
    }
}

/// Waits as far as the port's read timeout allows: a poll ends at the first
/// quiet read, or, after [`SerialScanner::with_port_timeout`], once the
/// quiet reads add up to `wait`. Bytes that do not complete a scan keep it
/// reading, at most until the frame is overlong.
impl<IO: embedded_io::Read + embedded_io::Write> kassa_hal::blocking::Scanner
    for SerialScanner<IO>
{
    fn poll_scan(&mut self, wait: Duration) -> Result<Option<Scan>, Self::Error> {
        self.poll_for(wait)
    }

    /// Sends the trigger-on or trigger-off sequence, if configured.
    fn set_trigger(&mut self, on: bool) -> Result<(), Self::Error> {
        let bytes = self.trigger_bytes(on).to_vec();
        if !bytes.is_empty() {
            self.io.write_all(&bytes).map_err(Error::Io)?;
            self.io.flush().map_err(Error::Io)?;
        }
        Ok(())
    }
}

impl<IO: embedded_io_async::Read + embedded_io_async::Write> kassa_hal::Scanner
    for SerialScanner<IO>
{
    async fn next_scan(&mut self) -> Result<Scan, Self::Error> {
        let mut chunk = [0u8; CHUNK];
        loop {
            if let Some(scan) = self.take_pending() {
                return scan;
            }
            let read = self.io.read(&mut chunk).await;
            self.absorb(read, &chunk)?;
        }
    }

    async fn trigger(&mut self, on: bool) -> Result<(), Self::Error> {
        let bytes = self.trigger_bytes(on).to_vec();
        if !bytes.is_empty() {
            self.io.write_all(&bytes).await.map_err(Error::Io)?;
            self.io.flush().await.map_err(Error::Io)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kassa_hal::blocking::Scanner as _;
    use kassa_hal::{Error as _, Scanner as _, Symbology};

    /// Polls until a scan (or an error) comes.
    fn read<IO: embedded_io::Read + embedded_io::Write>(
        scanner: &mut SerialScanner<IO>,
    ) -> Result<Scan, Error<IO::Error>> {
        loop {
            if let Some(scan) = scanner.poll_scan(Duration::ZERO)? {
                return Ok(scan);
            }
        }
    }

    /// An in-memory port: reads come from a script of chunks and idle gaps,
    /// writes are recorded.
    #[derive(Default)]
    struct ScriptedPort {
        script: VecDeque<Option<Vec<u8>>>,
        written: Vec<u8>,
        /// The read timeout it reports, as a tty would.
        timeout: Duration,
        /// Reads done.
        reads: usize,
    }

    #[derive(Debug)]
    struct PortError(IoKind);
    impl fmt::Display for PortError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{:?}", self.0)
        }
    }
    impl std::error::Error for PortError {}
    impl embedded_io::Error for PortError {
        fn kind(&self) -> IoKind {
            self.0
        }
    }

    impl ScriptedPort {
        fn new(script: &[Option<&[u8]>]) -> Self {
            ScriptedPort {
                script: script.iter().map(|s| s.map(<[u8]>::to_vec)).collect(),
                ..ScriptedPort::default()
            }
        }
        fn next_read(&mut self, buf: &mut [u8]) -> Result<usize, PortError> {
            self.reads += 1;
            match self.script.pop_front() {
                None => Ok(0),
                Some(None) => Err(PortError(IoKind::TimedOut)),
                Some(Some(mut bytes)) => {
                    let n = bytes.len().min(buf.len());
                    buf[..n].copy_from_slice(&bytes[..n]);
                    if n < bytes.len() {
                        self.script.push_front(Some(bytes.split_off(n)));
                    }
                    Ok(n)
                }
            }
        }
    }
    impl ReadTimeout for ScriptedPort {
        fn read_timeout(&self) -> Duration {
            self.timeout
        }
    }
    impl embedded_io::ErrorType for ScriptedPort {
        type Error = PortError;
    }
    impl embedded_io::Read for ScriptedPort {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, PortError> {
            self.next_read(buf)
        }
    }
    impl embedded_io::Write for ScriptedPort {
        fn write(&mut self, buf: &[u8]) -> Result<usize, PortError> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> Result<(), PortError> {
            Ok(())
        }
    }
    impl embedded_io_async::Read for ScriptedPort {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, PortError> {
            self.next_read(buf)
        }
    }
    impl embedded_io_async::Write for ScriptedPort {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, PortError> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        async fn flush(&mut self) -> Result<(), PortError> {
            Ok(())
        }
    }

    fn config() -> ScannerConfig {
        ScannerConfig {
            aim_ids: true,
            trigger_on: vec![0x16, b'T', 0x0D],
            trigger_off: vec![0x16, b'U', 0x0D],
            ..ScannerConfig::default()
        }
    }

    #[test]
    fn scans_split_across_reads_and_several_in_one_read() {
        let port = ScriptedPort::new(&[
            Some(b"]Q11345678"),
            Some(b"90123456789\r]C0AB"),
            Some(b"C\r"),
        ]);
        let mut scanner = SerialScanner::new(port, config());
        let first = read(&mut scanner).unwrap();
        assert_eq!(first.data, b"134567890123456789");
        assert_eq!(first.symbology, Symbology::Qr);
        assert_eq!(first.source, SourceKind::Serial);
        let second = read(&mut scanner).unwrap();
        assert_eq!(
            (second.data.as_slice(), second.symbology),
            (&b"ABC"[..], Symbology::Code128)
        );
        let end = read(&mut scanner).unwrap_err();
        assert_eq!(end.kind(), ErrorKind::Disconnected);
    }

    #[test]
    fn idle_gap_framing_uses_read_timeouts() {
        let port = ScriptedPort::new(&[
            None,
            Some(b"12345"),
            Some(b"678"),
            None,
            None,
            Some(b"9"),
            None,
        ]);
        let cfg = ScannerConfig {
            framing: FramingConfig {
                terminator: Terminator::IdleGap,
                ..FramingConfig::default()
            },
            ..ScannerConfig::default()
        };
        let mut scanner = SerialScanner::new(port, cfg);
        assert_eq!(
            scanner.poll_scan(Duration::ZERO).unwrap(),
            None,
            "quiet line, nothing yet"
        );
        assert_eq!(
            scanner.poll_scan(Duration::ZERO).unwrap().unwrap().data,
            b"12345678"
        );
        assert_eq!(scanner.poll_scan(Duration::ZERO).unwrap(), None);
        assert_eq!(read(&mut scanner).unwrap().data, b"9");
    }

    #[test]
    fn an_overlong_frame_is_reported_once_and_the_next_scan_arrives() {
        let mut junk = vec![b'7'; 100];
        junk.extend(b"\r1234\r");
        let port = ScriptedPort::new(&[Some(&junk)]);
        let cfg = ScannerConfig {
            framing: FramingConfig {
                max_len: 16,
                ..FramingConfig::default()
            },
            ..ScannerConfig::default()
        };
        let mut scanner = SerialScanner::new(port, cfg);
        let err = read(&mut scanner).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert_eq!(read(&mut scanner).unwrap().data, b"1234");
    }

    #[test]
    fn trigger_sends_the_configured_sequences() {
        let mut scanner = SerialScanner::new(ScriptedPort::default(), config());
        scanner.set_trigger(true).unwrap();
        scanner.set_trigger(false).unwrap();
        assert_eq!(scanner.release().written, b"\x16T\r\x16U\r");
        let mut silent = SerialScanner::new(ScriptedPort::default(), ScannerConfig::default());
        silent.set_trigger(true).unwrap();
        assert!(silent.release().written.is_empty());
    }

    #[test]
    fn async_scanner_trait_uses_the_same_framing() {
        let port = ScriptedPort::new(&[Some(b"]E04006381333931\r"), Some(b"2812345678901234\r")]);
        let mut scanner = SerialScanner::new(port, config());
        futures_executor::block_on(async {
            scanner.trigger(true).await.unwrap();
            let a = scanner.next_scan().await.unwrap();
            assert_eq!(
                (a.data.as_slice(), a.symbology),
                (&b"4006381333931"[..], Symbology::Ean13)
            );
            let b = scanner.next_scan().await.unwrap();
            assert_eq!(b.data, b"2812345678901234");
            assert_eq!(
                scanner.next_scan().await.unwrap_err().kind(),
                ErrorKind::Disconnected
            );
        });
        assert_eq!(scanner.release().written, b"\x16T\r");
    }

    /// What kassad's device worker does: everything through the blocking
    /// trait, in a generic function.
    fn poll<S: kassa_hal::blocking::Scanner>(
        scanner: &mut S,
        wait: Duration,
    ) -> Result<Option<Scan>, S::Error> {
        scanner.poll_scan(wait)
    }

    #[test]
    fn blocking_trait_reports_a_garbled_frame_then_reads_the_next_scan() {
        let port = ScriptedPort::new(&[
            Some(b"]Q1"),
            Some(&[b'7'; 40]),
            Some(b"\r]E04006381333931\r"),
            None,
        ]);
        let cfg = ScannerConfig {
            framing: FramingConfig {
                max_len: 16,
                ..FramingConfig::default()
            },
            ..config()
        };
        let mut scanner =
            SerialScanner::new(port, cfg).with_clock(|| Timestamp(Duration::from_secs(7)));
        let wait = Duration::from_millis(100);
        let err = poll(&mut scanner, wait).unwrap_err();
        assert!(matches!(
            err,
            Error::Frame(FrameError::Overlong { limit: 16 })
        ));
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        let scan = poll(&mut scanner, wait).unwrap().unwrap();
        assert_eq!(
            (scan.data.as_slice(), scan.symbology, scan.source),
            (&b"4006381333931"[..], Symbology::Ean13, SourceKind::Serial)
        );
        assert_eq!(scan.at, Timestamp(Duration::from_secs(7)));
        assert_eq!(poll(&mut scanner, wait).unwrap(), None, "quiet line");
        assert_eq!(
            poll(&mut scanner, wait).unwrap_err().kind(),
            ErrorKind::Disconnected
        );
    }

    #[test]
    fn blocking_trait_sends_the_trigger_sequences() {
        fn trigger<S: kassa_hal::blocking::Scanner>(s: &mut S, on: bool) -> Result<(), S::Error> {
            s.set_trigger(on)
        }
        let mut scanner = SerialScanner::new(ScriptedPort::default(), config());
        trigger(&mut scanner, true).unwrap();
        trigger(&mut scanner, false).unwrap();
        assert_eq!(scanner.release().written, b"\x16T\r\x16U\r");
    }

    #[test]
    fn without_the_port_timeout_a_poll_ends_at_the_first_quiet_read() {
        let port = ScriptedPort::new(&[None, None, None, Some(b"1\r")]);
        let mut scanner = SerialScanner::new(port, config());
        assert_eq!(poll(&mut scanner, Duration::from_secs(1)).unwrap(), None);
        assert_eq!(scanner.io_mut().reads, 1);
    }

    #[test]
    fn with_the_port_timeout_a_poll_waits_the_whole_wait() {
        let mut port = ScriptedPort::new(&[None, None, None, None, Some(b"1"), None, Some(b"2\r")]);
        port.timeout = Duration::from_millis(50);
        let mut scanner = SerialScanner::new(port, config()).with_port_timeout();
        // 120 ms are three quiet reads of 50 ms.
        assert_eq!(
            poll(&mut scanner, Duration::from_millis(120)).unwrap(),
            None
        );
        assert_eq!(scanner.io_mut().reads, 3);
        // A scan ends the wait early; reads that bring bytes do not count
        // as quiet, and a quiet read keeps the partial scan.
        let scan = poll(&mut scanner, Duration::from_millis(200))
            .unwrap()
            .unwrap();
        assert_eq!(scan.data, b"12");
        assert_eq!(scanner.io_mut().reads, 7);
        // No wait: one read.
        assert_eq!(
            poll(&mut scanner, Duration::ZERO).unwrap_err().kind(),
            ErrorKind::Disconnected
        );
        // The inherent poll still ends at the first quiet read.
        let mut port = ScriptedPort::new(&[None, None]);
        port.timeout = Duration::from_millis(50);
        let mut scanner = SerialScanner::new(port, config()).with_port_timeout();
        assert_eq!(scanner.poll_scan(Duration::ZERO).unwrap(), None);
        assert_eq!(scanner.io_mut().reads, 1);
    }

    #[test]
    fn a_zero_port_timeout_ends_the_poll_at_the_first_quiet_read() {
        let port = ScriptedPort::new(&[None, None]);
        let mut scanner = SerialScanner::new(port, config()).with_port_timeout();
        assert_eq!(poll(&mut scanner, Duration::from_secs(1)).unwrap(), None);
        assert_eq!(scanner.io_mut().reads, 1);
    }
}
