//! The listener as a client on the LAN meets it: a real axum server on loopback, a plain
//! TCP client that sends what it likes, as slowly as it likes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use axum::routing::{get, post};
use axum::Router;
use kartika_listener::{Limits, Listener};

/// Short limits, so a test of minutes takes seconds.
const LIMITS: Limits = Limits {
    handshake: Duration::from_secs(2),
    idle: Duration::from_secs(3),
    request: Duration::from_secs(1),
    request_min_rate: 16 * 1024,
};

/// An HTTP server on a loopback port, on a runtime of its own, for the test's life.
fn server() -> SocketAddr {
    let (ready, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let listener = Listener::with_limits(tcp, None, LIMITS).expect("listener");
            let _ = ready.send(axum::serve::Listener::local_addr(&listener).expect("addr"));
            let app = Router::new().route("/", get(|| async { "ok" })).route(
                "/upload",
                post(|body: axum::body::Bytes| async move { body.len().to_string() }),
            );
            let _ = axum::serve(listener, app).await;
        });
    });
    address.recv().expect("the server's address")
}

fn connect(address: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    stream
}

/// Reads until the server closes or answers; the answer's text.
fn answer(stream: &mut TcpStream) -> String {
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn a_client_trickling_its_request_a_byte_at_a_time_is_closed() {
    let address = server();
    let mut slow = connect(address);
    let started = Instant::now();
    let head = b"GET / HTTP/1.1\r\nHost: kartika\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut closed = false;
    // One byte every 200 ms: within the idle limit each time, far too slow for a request.
    for byte in head {
        if slow.write_all(&[*byte]).is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        if started.elapsed() > Duration::from_secs(8) {
            break;
        }
    }
    if !closed {
        // The server may have closed while the last bytes were on their way.
        closed = answer(&mut slow).is_empty();
    }
    assert!(
        closed,
        "a trickled request kept its connection for {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < LIMITS.request + LIMITS.idle + Duration::from_secs(2),
        "closed only after {:?}",
        started.elapsed()
    );
}

#[test]
fn requests_sent_at_a_real_clients_pace_are_answered_big_bodies_too() {
    let address = server();
    let mut quick = connect(address);
    quick
        .write_all(b"GET / HTTP/1.1\r\nHost: kartika\r\n\r\n")
        .expect("send");
    assert!(answer(&mut quick).starts_with("HTTP/1.1 200"));
    // The same connection, kept alive past the first request's time, takes a second.
    std::thread::sleep(LIMITS.request + Duration::from_millis(200));
    quick
        .write_all(b"GET / HTTP/1.1\r\nHost: kartika\r\n\r\n")
        .expect("send again");
    assert!(answer(&mut quick).starts_with("HTTP/1.1 200"), "kept alive");

    // Half a megabyte in chunks over two seconds: longer than the request limit alone,
    // within what its size earns.
    let body = vec![b'x'; 512 * 1024];
    let mut upload = connect(address);
    upload
        .write_all(
            format!(
                "POST /upload HTTP/1.1\r\nHost: kartika\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .expect("head");
    for chunk in body.chunks(body.len() / 10) {
        upload.write_all(chunk).expect("a chunk");
        std::thread::sleep(Duration::from_millis(200));
    }
    let answered = answer(&mut upload);
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    assert!(answered.ends_with("524288"), "{answered}");
}
