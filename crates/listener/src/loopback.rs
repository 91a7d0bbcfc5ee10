//! A server on loopback HTTPS under a certificate of its own, on a thread of its own: the
//! fake SATUSEHAT and the fake BPJS are served this way, for the tests and the demo.

use std::sync::Arc;

use tokio::sync::oneshot;
use tokio_rustls::rustls;

use crate::Listener;

/// A router served on `https://localhost:PORT` until dropped.
pub struct LoopbackServer {
    /// `https://localhost:PORT`.
    pub base: String,
    /// The certificate it serves (PEM), for the client to trust.
    pub ca_pem: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl LoopbackServer {
    /// Serves `router` on a new loopback port, on a thread named `name`; why not, when
    /// it cannot.
    pub fn start(name: &str, router: axum::Router) -> Result<Self, String> {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
            .map_err(|e| e.to_string())?;
        let key = rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der())
            .map_err(|e| e.to_string())?;
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .map_err(|e| e.to_string())?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let tcp = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| format!("cannot listen on loopback: {e}"))?;
        let port = tcp.local_addr().map_err(|e| e.to_string())?.port();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(tcp) = tokio::net::TcpListener::from_std(tcp) else {
                        return;
                    };
                    let Ok(listener) = Listener::new(tcp, Some(acceptor)) else {
                        return;
                    };
                    let _ = axum::serve(listener, router)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await;
                });
            })
            .map_err(|e| e.to_string())?;
        Ok(Self {
            base: format!("https://localhost:{port}"),
            ca_pem: certified.cert.pem(),
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}
