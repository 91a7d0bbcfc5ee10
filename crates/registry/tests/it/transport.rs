//! The listener: clients that connect and then say nothing (or stall in the TLS
//! handshake) hold up no one, and no one client takes every connection.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use kartika_listener::{MAX_CONNECTIONS, MAX_CONNECTIONS_PER_PEER};
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
        let acceptor = kartika_listener::acceptor(&cert, &key).unwrap();
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

/// A plain-HTTP registry with an empty store.
fn plain_registry(dir: &std::path::Path) -> ServedOnThread {
    let backend = SqliteBackend::open(&dir.join("registry.sqlite")).unwrap();
    let pool = kartika_registry::api::Pool::new(Box::new(backend), Vec::new());
    ServedOnThread::start(([127, 0, 0, 1], 0).into(), move |listener, shutdown| {
        kartika_registry::serve(listener, pool, shutdown)
    })
}

#[test]
fn a_client_holding_as_many_connections_as_the_registry_serves_shuts_out_no_one_else() {
    // The hoarder's sockets and the registry's ends of them, in this one process.
    allow_open_files(2 * MAX_CONNECTIONS + 256);
    let dir = tempfile::tempdir().unwrap();
    let registry = plain_registry(dir.path());
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // From 127.0.0.2, as many idle connections as the registry serves, one after another
    // so that each is seen accepted or refused (opened all at once, some wait in the
    // kernel's full queue). Those past the client's share end at once; one kept would end
    // only at the idle limit (30 s), so 5 s is a deadline, not a measurement.
    let (held, closed_at_once) = client.block_on(async {
        let connect = || async {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(([127, 0, 0, 2], 0).into()).unwrap();
            socket.connect(registry.addr()).await.unwrap()
        };
        let mut held = Vec::new();
        for _ in 0..MAX_CONNECTIONS_PER_PEER {
            held.push(connect().await);
        }
        let mut closed_at_once = 0;
        for _ in MAX_CONNECTIONS_PER_PEER..MAX_CONNECTIONS {
            use tokio::io::AsyncReadExt;
            let mut past_its_share = connect().await;
            let mut byte = [0u8; 1];
            let ended = past_its_share.read(&mut byte);
            if tokio::time::timeout(Duration::from_secs(5), ended)
                .await
                .is_err()
            {
                break;
            }
            closed_at_once += 1;
        }
        (held, closed_at_once)
    });
    assert_eq!(
        closed_at_once,
        MAX_CONNECTIONS - MAX_CONNECTIONS_PER_PEER,
        "the registry closes each connection past one client's share"
    );

    // Without the cap every slot was the hoarder's, and this request waited in the
    // kernel's queue until the idle limit freed one.
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .new_agent();
    let answer = agent
        .get(&format!(
            "http://127.0.0.1:{}/healthz",
            registry.addr().port()
        ))
        .call()
        .expect("a request from elsewhere is answered while one client holds its share");
    assert_eq!(answer.status(), 200);
    drop(held);
}

/// Raises this process's limit of open files to `wanted` (within the hard limit), as a
/// shell's `ulimit -n` would.
fn allow_open_files(wanted: usize) {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let wanted = wanted as u64;
    if limit.current.is_some_and(|current| current >= wanted) {
        return;
    }
    let raised = limit.maximum.map_or(wanted, |maximum| maximum.min(wanted));
    assert!(
        raised >= wanted,
        "this test needs {wanted} open files; the hard limit is {:?} (raise it with `ulimit -Hn`)",
        limit.maximum
    );
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(raised),
            maximum: limit.maximum,
        },
    )
    .expect("raise the limit of open files");
}
