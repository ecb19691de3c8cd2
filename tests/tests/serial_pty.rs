//! Serial scanners and displays over real pseudo-terminals: the bytes go
//! through the kernel's tty layer exactly as from a USB serial scanner.

use std::time::Duration;

use kassa_drivers::serial::linux::{self, PortSettings, TtyPort};
use kassa_drivers::serial::{FramingConfig, ScannerConfig, SerialScanner, Terminator};
use kassa_drivers::vfd::{CommandSet, VfdConfig, VfdDisplay};
use kassa_hal::blocking::{CustomerDisplay as _, Scanner as _};
use kassa_hal::{Error as _, ErrorKind, SourceKind, Symbology, View};
use kassa_tests::Pty;

fn settings() -> PortSettings {
    PortSettings {
        read_timeout: Duration::from_millis(30),
        ..PortSettings::default()
    }
}

fn scanner_on(pty: &mut Pty, config: ScannerConfig) -> SerialScanner<TtyPort> {
    let port = linux::open(pty.path(), &settings()).expect("open pty slave");
    pty.release_slave();
    SerialScanner::new(port, config)
}

/// The next scan or error, failing the test after 10 s instead of waiting
/// for ever when a scan is lost.
fn within(
    scanner: &mut SerialScanner<TtyPort>,
) -> Result<kassa_hal::Scan, kassa_drivers::serial::Error<linux::PortError>> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(scan) = scanner.poll_scan(Duration::from_millis(100))? {
            return Ok(scan);
        }
        assert!(std::time::Instant::now() < deadline, "no scan within 10 s");
    }
}

fn aim_config() -> ScannerConfig {
    ScannerConfig {
        aim_ids: true,
        trigger_on: b"\x16T\r".to_vec(),
        trigger_off: b"\x16U\r".to_vec(),
        ..ScannerConfig::default()
    }
}

#[test]
fn scans_written_on_the_master_arrive_as_scans() {
    let mut pty = Pty::open();
    let mut scanner = scanner_on(&mut pty, aim_config());
    pty.send(b"]Q1134567890123456789\r]C0COUPON-");
    pty.send(b"42\r\xb2\xe2\xca\xd4\r");
    let wechat = within(&mut scanner).unwrap();
    assert_eq!(wechat.data, b"134567890123456789");
    assert_eq!(wechat.symbology, Symbology::Qr);
    assert_eq!(wechat.source, SourceKind::Serial);
    let coupon = within(&mut scanner).unwrap();
    assert_eq!(
        (coupon.data.as_slice(), coupon.symbology),
        (&b"COUPON-42"[..], Symbology::Code128)
    );
    let gbk = within(&mut scanner).unwrap();
    assert_eq!(
        gbk.data,
        [0xB2, 0xE2, 0xCA, 0xD4],
        "non-UTF-8 bytes are kept"
    );
}

#[test]
fn idle_gap_framing_over_a_tty() {
    let mut pty = Pty::open();
    let config = ScannerConfig {
        framing: FramingConfig {
            terminator: Terminator::IdleGap,
            ..FramingConfig::default()
        },
        ..ScannerConfig::default()
    };
    let mut scanner = scanner_on(&mut pty, config);
    pty.send(b"2812345678901234");
    assert_eq!(within(&mut scanner).unwrap().data, b"2812345678901234");
    pty.send(b"6212345678901234567");
    assert_eq!(within(&mut scanner).unwrap().data, b"6212345678901234567");
}

#[test]
fn overlong_garbage_does_not_eat_the_next_scan() {
    let mut pty = Pty::open();
    let config = ScannerConfig {
        framing: FramingConfig {
            max_len: 64,
            ..FramingConfig::default()
        },
        ..ScannerConfig::default()
    };
    let mut scanner = scanner_on(&mut pty, config);
    pty.send(&[b'x'; 1000]);
    pty.send(b"\r134567890123456789\r");
    assert_eq!(
        within(&mut scanner).unwrap_err().kind(),
        ErrorKind::InvalidData
    );
    assert_eq!(within(&mut scanner).unwrap().data, b"134567890123456789");
}

#[test]
fn trigger_sequences_reach_the_device() {
    let mut pty = Pty::open();
    let mut scanner = scanner_on(&mut pty, aim_config());
    scanner.set_trigger(true).unwrap();
    scanner.set_trigger(false).unwrap();
    let got = pty.receive(6, Duration::from_secs(5)).unwrap();
    assert_eq!(got, b"\x16T\r\x16U\r");
}

#[test]
fn closing_the_master_is_a_disconnect() {
    let mut pty = Pty::open();
    let mut scanner = scanner_on(&mut pty, ScannerConfig::default());
    pty.send(b"1234567890\r");
    assert_eq!(within(&mut scanner).unwrap().data, b"1234567890");
    pty.unplug();
    let err = within(&mut scanner).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Disconnected, "{err}");
}

#[test]
fn a_reopened_port_works_again() {
    // A stable name (as udev would make) pointing at the current device.
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kassa-scanner");
    let mut first = Pty::open();
    std::os::unix::fs::symlink(first.path(), &link).unwrap();

    let mut scanner = SerialScanner::new(
        linux::open(&link, &settings()).unwrap(),
        ScannerConfig::default(),
    );
    first.release_slave();
    first.send(b"1111111111\r");
    assert_eq!(within(&mut scanner).unwrap().data, b"1111111111");

    // Closing and reopening the same live port.
    drop(scanner.release());
    let mut scanner = SerialScanner::new(
        linux::open(&link, &settings()).unwrap(),
        ScannerConfig::default(),
    );
    first.send(b"2222222222\r");
    assert_eq!(within(&mut scanner).unwrap().data, b"2222222222");

    // Unplugged, then plugged back as a new device behind the same name.
    first.unplug();
    assert_eq!(
        within(&mut scanner).unwrap_err().kind(),
        ErrorKind::Disconnected
    );
    let mut second = Pty::open();
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(second.path(), &link).unwrap();
    let mut scanner = SerialScanner::new(
        linux::open(&link, &settings()).unwrap(),
        ScannerConfig::default(),
    );
    second.release_slave();
    second.send(b"3333333333\r");
    assert_eq!(within(&mut scanner).unwrap().data, b"3333333333");
}

#[test]
fn opening_a_missing_port_names_it() {
    let err = linux::open("/dev/kassa-no-such-scanner".as_ref(), &settings()).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("/dev/kassa-no-such-scanner"), "{message}");
    assert_eq!(err.kind(), ErrorKind::Disconnected, "{message}");
}

#[test]
fn a_port_held_by_kassa_cannot_be_opened_twice() {
    let pty = Pty::open();
    let _held = linux::open(pty.path(), &settings()).unwrap();
    let err = linux::open(pty.path(), &settings()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
}

#[test]
fn display_bytes_arrive_on_the_other_side() {
    let mut pty = Pty::open();
    let port = linux::open(pty.path(), &settings()).unwrap();
    pty.release_slave();
    let mut display = VfdDisplay::new(port, VfdConfig::new(CommandSet::Cd5220));
    display
        .show(&View::Text(vec!["Welcome".into(), "kassa".into()]))
        .unwrap();
    // ESC @, ESC DC1, CLR, ESC Q A text CR, ESC Q B text CR.
    let expected = b"\x1b@\x1b\x11\x0c\x1bQAWelcome\r\x1bQBkassa\r";
    let got = pty.receive(expected.len(), Duration::from_secs(5)).unwrap();
    assert_eq!(got, expected);
}
