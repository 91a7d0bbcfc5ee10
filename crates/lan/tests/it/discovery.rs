//! Finding the server by asking on the LAN (here, at one loopback address).

use std::time::Duration;

use kartika_lan::discovery::{answer, find, Found};

#[test]
fn a_workstation_finds_its_puskesmass_server_and_not_another() {
    // The server's side answers on the runtime's own thread.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let socket = runtime
        .block_on(tokio::net::UdpSocket::bind("127.0.0.1:0"))
        .unwrap();
    let asked_at = socket.local_addr().unwrap();
    let answering = runtime.spawn(answer(
        socket,
        Found {
            facility: "P3674060".into(),
            port: 7443,
        },
    ));
    let found = find("P3674060", asked_at, Duration::from_secs(5)).unwrap();
    let other = find("P3674010", asked_at, Duration::from_millis(600)).unwrap();
    answering.abort();
    assert_eq!(found, Some("127.0.0.1:7443".parse().unwrap()));
    assert_eq!(other, None, "another Puskesmas's server is not taken");
}
