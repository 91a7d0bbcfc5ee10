//! TCP proxies in front of a loopback HTTP server that break connections the ways a LAN or
//! a WAN does: cut at a random moment, dead for a while, closed as it is reused. Requests
//! and answers are whole HTTP/1.1 messages with a Content-Length body.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Where the proxy cuts a connection, if it does.
#[derive(Clone, Copy, Debug)]
pub enum Cut {
    BeforeRequest,
    MidBody,
    AfterCommit,
}

/// A TCP proxy to the registry that cuts `budget` connections, each at a random moment:
/// before the request, in the middle of its body, or after the registry has answered
/// (so it committed) but before the answer reaches the clinic.
pub struct CuttingProxy {
    pub url: String,
    pub cuts: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl CuttingProxy {
    pub fn start(upstream: std::net::SocketAddr, budget: usize, seed: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let cuts = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let rng = Arc::new(Mutex::new(fastrand::Rng::with_seed(seed)));
        let (cuts2, stop2) = (Arc::clone(&cuts), Arc::clone(&stop));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let cut = {
                    let mut rng = rng.lock().unwrap();
                    if cuts2.load(Ordering::SeqCst) < budget && rng.u8(..2) == 0 {
                        cuts2.fetch_add(1, Ordering::SeqCst);
                        Some(match rng.u8(..3) {
                            0 => Cut::BeforeRequest,
                            1 => Cut::MidBody,
                            _ => Cut::AfterCommit,
                        })
                    } else {
                        None
                    }
                };
                std::thread::spawn(move || relay(client, upstream, cut));
            }
        });
        Self { url, cuts, stop }
    }
}

/// A registry that is down for its first `dead` connections (each closed at once), then
/// up: the listener is bound once and never handed to anyone else.
pub struct DeadThenAlive {
    pub url: String,
}

impl DeadThenAlive {
    pub fn start(upstream: std::net::SocketAddr, dead: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for (n, client) in listener.incoming().enumerate() {
                let Ok(client) = client else { continue };
                if n < dead {
                    let _ = client.shutdown(Shutdown::Both);
                } else {
                    std::thread::spawn(move || relay(client, upstream, None));
                }
            }
        });
        Self { url }
    }
}

/// A proxy that answers one request per connection and closes the connection when the
/// next request arrives on it: the way a server closes a kept-alive connection just as the
/// client sends on it again. Counts the requests it dropped so.
pub struct ClosesWhenReused {
    pub url: String,
    pub dropped: Arc<AtomicUsize>,
}

impl ClosesWhenReused {
    pub fn start(upstream: std::net::SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let dropped = Arc::new(AtomicUsize::new(0));
        let counter = dropped.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let counter = counter.clone();
                std::thread::spawn(move || answer_once_then_close(client, upstream, &counter));
            }
        });
        Self { url, dropped }
    }
}

fn answer_once_then_close(
    mut client: TcpStream,
    upstream: std::net::SocketAddr,
    dropped: &AtomicUsize,
) {
    let Some(request) = read_message(&mut client) else {
        return;
    };
    let Ok(mut server) = TcpStream::connect(upstream) else {
        return;
    };
    if server.write_all(&request).is_err() {
        return;
    }
    let Some(response) = read_message(&mut server) else {
        return;
    };
    if client.write_all(&response).is_err() {
        return;
    }
    // The connection looks open until the client sends on it again.
    let mut next = [0u8; 1];
    if matches!(client.read(&mut next), Ok(n) if n > 0) {
        dropped.fetch_add(1, Ordering::SeqCst);
    }
    let _ = client.shutdown(Shutdown::Both);
}

/// One whole HTTP message (head and Content-Length body) read from `stream`.
pub fn read_message(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut message = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while !response_complete(&message) {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => message.extend_from_slice(&buf[..n]),
        }
    }
    Some(message)
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

pub fn relay(client: TcpStream, upstream: std::net::SocketAddr, cut: Option<Cut>) {
    if let Some(Cut::BeforeRequest) = cut {
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let (mut s_read, mut c_write) = (server, client);
    let upward = std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        let mut forwarded = 0usize;
        while let Ok(n) = c_read.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Some(Cut::MidBody) = cut {
                // Pass the headers and part of the body, then break the link.
                let keep = (300usize.saturating_sub(forwarded)).min(n);
                let _ = s_write.write_all(&buf[..keep]);
                let _ = s_write.shutdown(Shutdown::Both);
                let _ = c_read.shutdown(Shutdown::Both);
                return;
            }
            forwarded += n;
            if s_write.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = s_write.shutdown(Shutdown::Write);
    });
    let mut buf = [0u8; 16 * 1024];
    let mut response = Vec::new();
    while let Ok(n) = s_read.read(&mut buf) {
        if n == 0 {
            break;
        }
        if let Some(Cut::AfterCommit) = cut {
            // The registry answered, so it committed; the clinic never hears it.
            let _ = c_write.shutdown(Shutdown::Both);
            let _ = s_read.shutdown(Shutdown::Both);
            break;
        }
        if c_write.write_all(&buf[..n]).is_err() {
            break;
        }
        // One request per connection, like a proxy without keep-alive: every request is a
        // new connection, and a new chance to be cut.
        response.extend_from_slice(&buf[..n]);
        if response_complete(&response) {
            let _ = s_read.shutdown(Shutdown::Both);
            break;
        }
    }
    let _ = c_write.shutdown(Shutdown::Both);
    let _ = upward.join();
}

/// Whether `bytes` hold a whole HTTP response with a Content-Length body.
pub fn response_complete(bytes: &[u8]) -> bool {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    bytes.len() >= end + 4 + length
}

/// A proxy that loses the answer of every other connection, `lose` times: the request
/// reaches the server, which commits and answers, and the connection is closed before the
/// answer gets back. Counts the answers it lost.
pub struct LosesAnswers {
    pub url: String,
    pub lost: Arc<AtomicUsize>,
}

impl LosesAnswers {
    pub fn start(upstream: std::net::SocketAddr, lose: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let lost = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&lost);
        std::thread::spawn(move || {
            for (n, client) in listener.incoming().enumerate() {
                let Ok(client) = client else { continue };
                let cut =
                    (n.is_multiple_of(2) && counter.load(Ordering::SeqCst) < lose).then(|| {
                        counter.fetch_add(1, Ordering::SeqCst);
                        Cut::AfterCommit
                    });
                std::thread::spawn(move || relay(client, upstream, cut));
            }
        });
        Self { url, lost }
    }
}

/// A proxy that holds every chunk of bytes, in each direction, for `delay` plus a random
/// part of `jitter` (order kept, as TCP keeps it): a LAN's latency on loopback, where this
/// kernel has no `netem`.
pub struct Delaying {
    pub url: String,
}

impl Delaying {
    pub fn start(
        upstream: std::net::SocketAddr,
        delay: std::time::Duration,
        jitter: std::time::Duration,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || delayed(client, server, delay, jitter));
                std::thread::spawn(move || delayed(s2, c2, delay, jitter));
            }
        });
        Self { url }
    }
}

/// Copies `from` to `to`, each chunk delivered `delay` (± jitter) after it was read.
fn delayed(
    mut from: TcpStream,
    mut to: TcpStream,
    delay: std::time::Duration,
    jitter: std::time::Duration,
) {
    use std::time::Instant;
    let (queue, held) = std::sync::mpsc::channel::<(Instant, Vec<u8>)>();
    let writer = std::thread::spawn(move || {
        for (at, bytes) in held {
            if let Some(wait) = at.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if to.write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    let mut last = Instant::now();
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        let spread = jitter.as_micros() as u64;
        let offset = fastrand::u64(0..=2 * spread) as i64 - spread as i64;
        let wanted = if offset >= 0 {
            Instant::now() + delay + std::time::Duration::from_micros(offset as u64)
        } else {
            Instant::now() + delay - std::time::Duration::from_micros((-offset) as u64)
        };
        last = last.max(wanted);
        if queue.send((last, buf[..n].to_vec())).is_err() {
            break;
        }
    }
    drop(queue);
    let _ = writer.join();
}
