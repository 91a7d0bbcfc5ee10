//! The servers' listener. TLS handshakes run side by side, each with a deadline; a
//! connection that sends nothing for a while is closed; one that keeps sending a request
//! slower than any real client does (a byte now and then) is closed too; and the number of
//! connections is capped, for each client address too. A slow or idle client delays no
//! one else.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// The most connections served at once; the next waits in the kernel's backlog.
pub const MAX_CONNECTIONS: usize = 1_024;
/// The most connections one client address (for IPv6, its /64) holds at once; the next is
/// closed on arrival. A Puskesmas's sync uses two at the registry, so many may share one carrier-grade NAT
/// address, while one client alone cannot take the slots that everyone shares. (Each
/// server ends its own TLS: behind a proxy, every client would share the proxy's address.)
pub const MAX_CONNECTIONS_PER_PEER: usize = 64;
/// How long a client may take over its TLS handshake.
pub const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);
/// How long a connection may send nothing while the server waits to read (a request's
/// head, its body, or the next request).
pub const IDLE_LIMIT: Duration = Duration::from_secs(30);
/// How long a request may take to arrive, counted from its first byte, before the
/// allowance its size earns ([`REQUEST_MIN_RATE`]).
pub const REQUEST_LIMIT: Duration = Duration::from_secs(20);
/// Bytes a second that extend a request's time: a push of megabytes over a slow mobile
/// link still arrives, a trickle of single bytes does not.
pub const REQUEST_MIN_RATE: u64 = 8 * 1024;

/// The limits a listener holds its connections to; [`Limits::default`] is the servers'.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// [`HANDSHAKE_LIMIT`].
    pub handshake: Duration,
    /// [`IDLE_LIMIT`].
    pub idle: Duration,
    /// [`REQUEST_LIMIT`].
    pub request: Duration,
    /// [`REQUEST_MIN_RATE`], bytes a second.
    pub request_min_rate: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            handshake: HANDSHAKE_LIMIT,
            idle: IDLE_LIMIT,
            request: REQUEST_LIMIT,
            request_min_rate: REQUEST_MIN_RATE,
        }
    }
}

/// Accepts connections on its own task and hands over those that are ready to serve.
pub struct Listener {
    ready: mpsc::Receiver<(Guarded, SocketAddr)>,
    local: SocketAddr,
    accepting: tokio::task::JoinHandle<()>,
}

impl Listener {
    /// Serves `tcp`, over TLS when given an acceptor. Must be called inside a Tokio
    /// runtime.
    pub fn new(tcp: TcpListener, tls: Option<TlsAcceptor>) -> io::Result<Self> {
        Self::with_limits(tcp, tls, Limits::default())
    }

    /// [`Listener::new`] with other limits (a test's shorter ones).
    pub fn with_limits(
        tcp: TcpListener,
        tls: Option<TlsAcceptor>,
        limits: Limits,
    ) -> io::Result<Self> {
        let local = tcp.local_addr()?;
        let (handover, ready) = mpsc::channel(64);
        let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let accepting = tokio::spawn(accept(
            tcp,
            tls,
            limits,
            permits,
            Peers::default(),
            handover,
        ));
        Ok(Self {
            ready,
            local,
            accepting,
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

async fn accept(
    tcp: TcpListener,
    tls: Option<TlsAcceptor>,
    limits: Limits,
    permits: Arc<Semaphore>,
    peers: Peers,
    handover: mpsc::Sender<(Guarded, SocketAddr)>,
) {
    loop {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            return;
        };
        let Ok((stream, addr)) = tcp.accept().await else {
            // Out of file descriptors and the like: give the system a moment.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        // Past its share, the connection is closed here and its slot goes back.
        let Some(peer) = peers.admit(addr.ip()) else {
            continue;
        };
        let slot = Slot {
            _shared: permit,
            _peer: peer,
        };
        let _ = stream.set_nodelay(true);
        let (tls, handover) = (tls.clone(), handover.clone());
        // Each handshake on a task of its own: a client that stalls in it holds up no
        // one, and is dropped at the deadline.
        tokio::spawn(async move {
            let stream = match tls {
                None => Stream::Plain(stream),
                Some(acceptor) => {
                    match tokio::time::timeout(limits.handshake, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => Stream::Tls(Box::new(tls)),
                        _ => return,
                    }
                }
            };
            let _ = handover
                .send((Guarded::new(stream, slot, limits), addr))
                .await;
        });
    }
}

impl axum::serve::Listener for Listener {
    type Io = Guarded;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(ready) => ready,
            // The accepting task ended (the runtime is shutting down): nothing more comes.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// How many connections each client address holds.
#[derive(Clone, Default)]
struct Peers(Arc<Mutex<HashMap<IpAddr, usize>>>);

impl Peers {
    /// A place for one more connection from `ip`, unless it holds its share already.
    fn admit(&self, ip: IpAddr) -> Option<PeerSlot> {
        let key = peer_key(ip);
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(key).or_insert(0);
        if *count >= MAX_CONNECTIONS_PER_PEER {
            return None;
        }
        *count += 1;
        Some(PeerSlot {
            peers: self.clone(),
            key,
        })
    }
}

/// The address a client is counted under: an IPv6 client's /64, as one subscriber is
/// given a whole /64; an IPv4 address written as IPv6, as itself.
fn peer_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
    }
}

/// One connection counted against its client address, until it ends.
struct PeerSlot {
    peers: Peers,
    key: IpAddr,
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut held = self.peers.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

/// A connection's place: one of all, and one of its client's.
struct Slot {
    _shared: OwnedSemaphorePermit,
    _peer: PeerSlot,
}

/// A connection, plain or TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// A served connection: closed when idle too long, or when a request keeps arriving past
/// its time; its slot freed when it ends.
pub struct Guarded {
    stream: Stream,
    limits: Limits,
    idle: Pin<Box<Sleep>>,
    /// The request being received: when its first byte came, and how many since. Reset
    /// when the server answers, which it does only once a request has arrived whole.
    receiving: Option<(Instant, u64)>,
    _slot: Slot,
}

impl Guarded {
    fn new(stream: Stream, slot: Slot, limits: Limits) -> Self {
        Self {
            stream,
            limits,
            idle: Box::pin(tokio::time::sleep(limits.idle)),
            receiving: None,
            _slot: slot,
        }
    }

    /// Counts `bytes` just received; an error when the request they belong to has taken
    /// longer than its size allows.
    fn received(&mut self, bytes: u64) -> io::Result<()> {
        let now = Instant::now();
        let (since, total) = self.receiving.get_or_insert((now, 0));
        *total += bytes;
        let earned = Duration::from_secs(*total / self.limits.request_min_rate.max(1));
        if now.duration_since(*since) > self.limits.request + earned {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client sent its request too slowly",
            ));
        }
        Ok(())
    }

    /// The certificate (DER) the client showed in the TLS handshake, if it showed one and
    /// the acceptor's verifier took it.
    pub fn peer_certificate(&self) -> Option<Vec<u8>> {
        match &self.stream {
            Stream::Plain(_) => None,
            Stream::Tls(tls) => tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|der| der.to_vec()),
        }
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        };
        match polled {
            Poll::Ready(result) => {
                let read = buf.filled().len() - before;
                if read > 0 {
                    let idle = self.limits.idle;
                    self.idle.as_mut().reset(Instant::now() + idle);
                    if let Err(too_slow) = self.received(read as u64) {
                        return Poll::Ready(Err(too_slow));
                    }
                }
                Poll::Ready(result)
            }
            Poll::Pending => match self.idle.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client sent nothing for too long",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // The server answers: the request it answers has arrived.
        self.receiving = None;
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.stream {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_counted_by_its_slash_64_and_a_mapped_ipv4_one_as_itself() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let same_subscriber: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let another: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(peer_key(one), peer_key(same_subscriber));
        assert_ne!(peer_key(one), peer_key(another));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(peer_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_client_past_its_share_is_refused_until_one_of_its_connections_ends() {
        let peers = Peers::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let mut held: Vec<PeerSlot> = (0..MAX_CONNECTIONS_PER_PEER)
            .map(|_| peers.admit(ip).expect("within its share"))
            .collect();
        assert!(peers.admit(ip).is_none());
        assert!(peers.admit("192.0.2.8".parse().unwrap()).is_some());
        held.pop();
        assert!(peers.admit(ip).is_some());
    }
}
