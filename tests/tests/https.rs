//! kassad talks to its backend over HTTPS: a certificate it has no reason
//! to trust is refused; the same server is used once `ca_file` names the
//! private CA that signed it.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use kassa_client::{TerminalProxy, error_message, error_name};
use kassa_tests::backend::{Options, SampleBackend};
use kassa_tests::bus::{Kassad, PrivateBus, mock_config};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use serde_json::json;
use zbus::zvariant::Value;

const WECHAT: &str = "134567890123456789";

/// A CA, and a server certificate for 127.0.0.1 signed by it: (CA PEM,
/// server chain PEM, server key PEM).
fn private_ca() -> (String, String, String) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "kassa test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let mut server = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    server
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    let key = KeyPair::generate().unwrap();
    let cert = server.signed_by(&key, &ca_cert, &ca_key).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

fn config(backend: &SampleBackend, ca_file: Option<&std::path::Path>) -> String {
    let ca = ca_file.map_or(String::new(), |p| {
        format!("ca_file = \"{}\"\n", p.display())
    });
    format!(
        "{}\n[backend]\norder_query_url = \"{}/orders?payment_code={{code}}\"\nrequest_timeout_ms = 2000\n{ca}",
        mock_config(WECHAT, 100),
        backend.url()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_backend_with_a_private_ca() {
    let (ca_pem, chain_pem, key_pem) = private_ca();
    let backend = SampleBackend::start_tls(Options::default(), &chain_pem, &key_pem)
        .await
        .unwrap();
    assert!(backend.url().starts_with("https://127.0.0.1:"));
    let order = json!({"id": "T-1", "currency": "CNY",
        "items": [{"name": "Tea", "quantity": "1", "unit_price": 500, "total": 500}], "total": 500});
    backend.bind(WECHAT, order);
    let bus = PrivateBus::start();
    let options = || HashMap::from([("timeout_ms", Value::U32(3000))]);

    // Not trusted: the system's roots do not know this CA.
    let kassad = Kassad::start(&config(&backend, None), &bus).await;
    let conn = bus.connect().await;
    let terminal = TerminalProxy::new(&conn).await.unwrap();
    let e = terminal
        .show_order_for_code(WECHAT, options())
        .await
        .unwrap_err();
    assert_eq!(
        error_name(&e).as_deref(),
        Some("org.kassa.Error.Backend"),
        "{e}"
    );
    let message = error_message(&e);
    assert!(message.to_lowercase().contains("certificate"), "{message}");
    assert!(!message.contains(WECHAT), "{message}");
    kassad.stop().await;

    // Trusted through ca_file.
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("backend-ca.pem");
    std::fs::write(&ca_file, &ca_pem).unwrap();
    let kassad = Kassad::start(&config(&backend, Some(&ca_file)), &bus).await;
    let shown = terminal
        .show_order_for_code(WECHAT, options())
        .await
        .unwrap();
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["id"], "T-1");
    kassad.stop().await;
}
