//! A keyboard-wedge scanner end to end through kassad: a recorded AZERTY
//! stream, as raw input_event records in a FIFO, goes through the same
//! worker, reader and decoder as /dev/input/eventN, and the checkout's
//! owner gets the exact code.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use kassa_client::{CheckoutProxy, DeviceProxy, TerminalProxy};
use kassa_tests::bus::{Kassad, PrivateBus, device};
use kassa_tests::wedge::{EventFifo, recording};
use zbus::zvariant::Value;

const LONG: Duration = Duration::from_secs(10);

async fn wait_connected(device: &DeviceProxy<'_>, want: bool, within: Duration) {
    let deadline = Instant::now() + within;
    while device.connected().await.unwrap() != want {
        assert!(Instant::now() < deadline, "Connected never became {want}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_azerty_wedge_scan_completes_a_checkout() {
    let mut fifo = EventFifo::new();
    let config = format!(
        "[[scanner]]\nname = \"till\"\ndriver = \"wedge\"\npath = \"{}\"\nlayout = \"fr\"\ngrab = false\n\n\
         [[display]]\nname = \"screen\"\ndriver = \"mock\"\n",
        fifo.path().display()
    );
    let bus = PrivateBus::start();
    let kassad = Kassad::start(&config, &bus).await;
    let till = device(&bus.connect().await, "till").await;
    wait_connected(&till, true, LONG).await;
    assert_eq!(till.driver().await.unwrap(), "wedge");
    assert_eq!(
        till.path().await.unwrap(),
        fifo.path().display().to_string()
    );

    let conn = bus.connect().await;
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    let options: HashMap<&str, Value<'_>> = [
        ("amount", Value::I64(3600)),
        ("sources", Value::from(vec!["wedge"])),
    ]
    .into_iter()
    .collect();
    let path = terminal.begin_checkout(options).await.unwrap();
    let session = CheckoutProxy::builder(&conn)
        .path(path.to_string())
        .unwrap()
        .build()
        .await
        .unwrap();
    let mut codes = session.receive_code_scanned().await.unwrap();

    // fr-azerty.txt types 2812345678901234 with Shift on every digit, then
    // a second scan that nobody waits for.
    fifo.play(&recording("fr-azerty.txt"), now());
    let signal = tokio::time::timeout(LONG, codes.next())
        .await
        .expect("CodeScanned in time")
        .unwrap();
    let args = signal.args().unwrap();
    assert_eq!(
        (
            args.code().as_str(),
            args.channel().as_str(),
            args.source().as_str()
        ),
        ("2812345678901234", "alipay", "wedge")
    );
    // Both scans of the stream were read; the second went to nobody.
    let deadline = Instant::now() + LONG;
    while till.scan_count().await.unwrap() != 2 {
        assert!(Instant::now() < deadline, "ScanCount never reached 2");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // A scan with a key the layout has nothing on is dropped with a named
    // error on the device, and kassad goes on.
    fifo.play(&recording("unmapped-key.txt"), now());
    let deadline = Instant::now() + LONG;
    while !till.last_error().await.unwrap().contains("types nothing") {
        assert!(
            Instant::now() < deadline,
            "no LastError for the unmapped key"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let error = till.last_error().await.unwrap();
    assert!(
        error.contains("KEY_RO") && error.contains("layout fr"),
        "{error}"
    );

    // Pulled: Device1 follows within a second.
    // (A property stream needs a caching proxy.)
    let conn = bus.connect().await;
    let watched = DeviceProxy::builder(&conn)
        .path("/org/kassa/Terminal1/devices/till")
        .unwrap()
        .build()
        .await
        .unwrap();
    assert!(watched.connected().await.unwrap());
    let mut changes = watched.receive_connected_changed().await;
    let pulled = Instant::now();
    fifo.close();
    loop {
        let change = tokio::time::timeout(Duration::from_secs(1), changes.next())
            .await
            .expect("Connected changed within a second")
            .unwrap();
        if !change.get().await.unwrap() {
            break;
        }
    }
    assert!(pulled.elapsed() < Duration::from_secs(1));
    assert!(till.last_error().await.unwrap().contains("disconnected"));
    kassad.stop().await;
}
