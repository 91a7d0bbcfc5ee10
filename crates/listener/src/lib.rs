//! The listener that Kartika's two servers share: the registry, and the clinic server on a
//! Puskesmas's LAN. It decides who gets a connection and for how long (handshake deadline,
//! idle limit, caps in all and per client address) and loads the TLS certificate; what is
//! said over a connection is the servers' own business.
#![deny(missing_docs)]

pub mod log;
#[cfg(feature = "loopback")]
pub mod loopback;
mod net;
mod tls;

pub use net::{
    Guarded, Limits, Listener, HANDSHAKE_LIMIT, IDLE_LIMIT, MAX_CONNECTIONS,
    MAX_CONNECTIONS_PER_PEER, REQUEST_LIMIT, REQUEST_MIN_RATE,
};
pub use tls::{acceptor, TlsError};
