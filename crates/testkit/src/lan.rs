//! A clinic server (`kartika serve-clinic`'s insides) on a loopback port, in this process.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use kartika_lan::server::{self, ClinicServer, ServerConfig};
use kartika_store::Clock;

use crate::served::ServedOnThread;

/// A clinic server answering until stopped or dropped.
pub struct RunningServer {
    pub url: String,
    pub addr: SocketAddr,
    served: ServedOnThread,
}

impl RunningServer {
    /// Serves the store at `db`, read with `clock`, on a free loopback port.
    pub fn start(db: &Path, clock: Arc<dyn Clock>) -> Self {
        Self::start_with(
            db,
            clock,
            "127.0.0.1:0".parse().expect("address"),
            None,
            |_| {},
        )
    }

    /// Serves on `addr` (a server starting again where it was), over TLS when given an
    /// acceptor, after `adjust` changes the configuration.
    pub fn start_with(
        db: &Path,
        clock: Arc<dyn Clock>,
        addr: SocketAddr,
        tls: Option<tokio_rustls::TlsAcceptor>,
        adjust: impl FnOnce(&mut ServerConfig),
    ) -> Self {
        let mut config = ServerConfig::new(db);
        config.clock = clock;
        adjust(&mut config);
        let server = ClinicServer::open(&config).expect("open the server's store");
        let scheme = if tls.is_some() { "https" } else { "http" };
        let served = ServedOnThread::start(addr, move |listener, shutdown| async move {
            server::serve(listener, tls, server, &config, shutdown).await
        });
        Self {
            url: format!("{scheme}://{}", served.addr()),
            addr: served.addr(),
            served,
        }
    }

    /// Stops answering: the listener closes, connections in flight end.
    pub fn stop(&mut self) {
        self.served.stop();
    }
}
