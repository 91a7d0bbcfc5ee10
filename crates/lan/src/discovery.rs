//! Finding the Puskesmas's server on the LAN: a workstation asks by UDP broadcast, the
//! server answers with its facility code and port. Nothing here is trusted: the join then
//! checks the server's voucher under the registry root, and a workstation keeps the address
//! it found (the last address), or is given one by hand.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The UDP port servers answer on.
pub const DISCOVERY_PORT: u16 = 7444;
/// What a workstation asks.
const QUESTION: &[u8] = b"KARTIKA-LAN-DISCOVER-V1";

/// A server's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// The facility it serves.
    pub facility: String,
    /// Its HTTPS port.
    pub port: u16,
}

/// Answers workstations' questions on `socket` until the task is dropped.
pub async fn answer(socket: tokio::net::UdpSocket, found: Found) {
    let Ok(reply) = serde_json::to_vec(&found) else {
        return;
    };
    let mut buffer = [0u8; 64];
    loop {
        let Ok((length, from)) = socket.recv_from(&mut buffer).await else {
            continue;
        };
        if &buffer[..length] == QUESTION {
            // A lost answer is asked again.
            let _ = socket.send_to(&reply, from).await;
        }
    }
}

/// Asks at `to` (the LAN's broadcast address and [`DISCOVERY_PORT`], or one server's) for
/// the server of `facility`, for `wait` at most: its address, or `None`.
pub fn find(facility: &str, to: SocketAddr, wait: Duration) -> std::io::Result<Option<SocketAddr>> {
    let local: SocketAddr = if to.ip().is_loopback() {
        "127.0.0.1:0"
    } else {
        "0.0.0.0:0"
    }
    .parse()
    .map_err(std::io::Error::other)?;
    let socket = UdpSocket::bind(local)?;
    socket.set_broadcast(true)?;
    let until = Instant::now() + wait;
    let mut buffer = [0u8; 512];
    // Asked again every quarter second: a datagram may be lost.
    while Instant::now() < until {
        socket.send_to(QUESTION, to)?;
        let round = Instant::now() + Duration::from_millis(250);
        while let Some(left) = round.min(until).checked_duration_since(Instant::now()) {
            if left.is_zero() {
                break;
            }
            socket.set_read_timeout(Some(left))?;
            match socket.recv_from(&mut buffer) {
                Ok((length, from)) => {
                    match serde_json::from_slice::<Found>(&buffer[..length]) {
                        Ok(found) if found.facility == facility => {
                            return Ok(Some(SocketAddr::new(from.ip(), found.port)));
                        }
                        // Another Puskesmas's server, or noise: keep listening.
                        _ => {}
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    break
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(None)
}
