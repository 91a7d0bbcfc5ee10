//! The listener: clients that connect and then say nothing (or stall in the TLS
//! handshake) hold up no one.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use kartika_registry::sqlite::SqliteBackend;
use kartika_testkit::served::ServedOnThread;

struct TlsRegistry {
    port: u16,
    cert_pem: String,
    _served: ServedOnThread,
    _dir: tempfile::TempDir,
}

impl TlsRegistry {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert = dir.path().join("registry.crt");
        let key = dir.path().join("registry.key");
        std::fs::write(&cert, certified.cert.pem()).unwrap();
        std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
        let acceptor = kartika_registry::tls::acceptor(&cert, &key).unwrap();
        let backend = SqliteBackend::open(&dir.path().join("registry.sqlite")).unwrap();
        let pool = kartika_registry::api::Pool::new(Box::new(backend), Vec::new());
        let served =
            ServedOnThread::start(([127, 0, 0, 1], 0).into(), move |listener, shutdown| {
                kartika_registry::serve_tls(listener, acceptor, pool, shutdown)
            });
        Self {
            port: served.addr().port(),
            cert_pem: certified.cert.pem(),
            _served: served,
            _dir: dir,
        }
    }
}

#[test]
fn idle_and_stalled_clients_do_not_delay_a_healthy_request_over_tls() {
    let registry = TlsRegistry::start();
    // Three clients that connect and send nothing, and one that stalls in its handshake.
    let mut idle: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(("127.0.0.1", registry.port)).unwrap())
        .collect();
    let mut stalled = TcpStream::connect(("127.0.0.1", registry.port)).unwrap();
    stalled.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).unwrap();
    idle.push(stalled);

    // Handshakes were taken one at a time with a 10 s limit each: this request waited
    // 40 s behind them. Now it is answered at once; 5 s is a deadline, not a measurement.
    let cert = ureq::tls::Certificate::from_pem(registry.cert_pem.as_bytes()).unwrap();
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&[cert]))
                .build(),
        )
        .build()
        .new_agent();
    let answer = agent
        .get(&format!("https://localhost:{}/healthz", registry.port))
        .call()
        .expect("a healthy request passes while idle clients hold connections");
    assert_eq!(answer.status(), 200);
    drop(idle);
}
