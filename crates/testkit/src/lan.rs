//! A clinic server (`kartika serve-clinic`'s insides) on a loopback port, in this process.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use kartika_lan::server::{self, ClinicServer, ServerConfig};
use kartika_store::Clock;

/// A clinic server answering until stopped or dropped.
pub struct RunningServer {
    pub url: String,
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
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
        let listener = std::net::TcpListener::bind(addr).expect("bind loopback");
        let addr = listener.local_addr().expect("address");
        listener.set_nonblocking(true).expect("nonblocking");
        let server = ClinicServer::open(&config).expect("open the server's store");
        let has_tls = tls.is_some();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                server::serve(listener, tls, server, &config, async {
                    let _ = stopped.await;
                })
                .await
                .expect("serve");
            });
        });
        let scheme = if has_tls { "https" } else { "http" };
        Self {
            url: format!("{scheme}://{addr}"),
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops answering: the listener closes, connections in flight end.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.stop();
    }
}
