//! Helpers for kassa's end-to-end tests, which live in `tests/`.
//!
//! Everything here stands up a real interface for the code under test to
//! use: a pseudo-terminal in place of a serial device, the sample backend
//! on loopback ([`backend`]), a private D-Bus daemon ([`bus`]), headless
//! Chromium for the web screen ([`browser`]), recorded key-event streams and
//! a FIFO to replay them through ([`wedge`]), a client of the POS API and a
//! server for POS pages ([`pos_api`]). [`clients`] runs the client
//! programs that are not Rust (busctl, the examples) against kassad.

pub mod backend;
pub mod browser;
pub mod bus;
pub mod clients;
pub mod pos_api;
pub mod rig;
pub mod wedge;

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A TCP port free on 127.0.0.1 at the time of asking.
///
/// # Panics
///
/// If no loopback port can be bound.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A pseudo-terminal pair: the driver opens [`Pty::path`] (the slave, a real
/// tty going through the kernel's tty layer) as it would `/dev/ttyACM0`;
/// the test plays the device on the master side.
pub struct Pty {
    master: File,
    path: PathBuf,
    /// Held until the driver has opened the slave, so that the kernel does not
    /// report a hang-up before anyone is listening.
    slave: Option<OwnedFd>,
}

impl Pty {
    /// Opens a new pair.
    ///
    /// # Panics
    ///
    /// When the system has no ptys left.
    pub fn open() -> Pty {
        use nix::fcntl::{OFlag, open};
        use nix::sys::stat::Mode;
        // Close-on-exec from the start: a dbus-daemon spawned by a parallel
        // test must not inherit the master, or closing it here would not
        // hang up the slave ("unplug" would do nothing).
        let flags = OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
        let master = nix::pty::posix_openpt(flags).expect("posix_openpt");
        nix::pty::grantpt(&master).expect("grantpt");
        nix::pty::unlockpt(&master).expect("unlockpt");
        let path = PathBuf::from(nix::pty::ptsname_r(&master).expect("ptsname"));
        let slave = open(&path, flags, Mode::empty()).expect("open the pty slave");
        Pty {
            master: File::from(OwnedFd::from(master)),
            path,
            slave: Some(slave),
        }
    }

    /// The slave's path (`/dev/pts/N`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lets go of the test's own slave descriptor, once the driver holds one.
    pub fn release_slave(&mut self) {
        self.slave = None;
    }

    /// Sends bytes as the device.
    ///
    /// # Panics
    ///
    /// When the write fails.
    pub fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("write to pty master");
        self.master.flush().expect("flush pty master");
    }

    /// Reads what the driver wrote, until `expected` bytes arrived or
    /// `timeout` passed.
    ///
    /// # Errors
    ///
    /// When the read fails.
    pub fn receive(&mut self, expected: usize, timeout: Duration) -> io::Result<Vec<u8>> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        while out.len() < expected {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(self.master.as_fd(), PollFlags::POLLIN)];
            if poll(&mut fds, PollTimeout::from(ms))? == 0 {
                break;
            }
            let mut buf = [0u8; 4096];
            let n = self.master.read(&mut buf)?;
            out.extend_from_slice(&buf[..n]);
        }
        Ok(out)
    }

    /// Closes the master: to the driver, the device was unplugged.
    pub fn unplug(self) {
        drop(self);
    }
}
