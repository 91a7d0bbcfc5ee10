//! A registry serving on a loopback port from a thread of the test, over a backend the
//! test chooses.

use std::net::SocketAddr;
use std::thread::JoinHandle;

use kartika_registry::{new_token, node, Backend};
use tokio::sync::oneshot;

/// A running registry; stops when dropped.
pub struct RunningRegistry {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RunningRegistry {
    /// Serves `backend` on 127.0.0.1 at a free port.
    pub fn start(backend: Box<dyn Backend>) -> Self {
        Self::start_pool(backend, Vec::new())
    }

    /// Serves several connections to one storage, as a registry on PostgreSQL does.
    pub fn start_pool(backend: Box<dyn Backend>, more: Vec<Box<dyn Backend>>) -> Self {
        Self::serve(kartika_registry::api::Pool::new(backend, more))
    }

    /// Serves a pool made by the test (one that signs audit receipts, say).
    pub fn serve(pool: kartika_registry::api::Pool) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                kartika_registry::serve(listener, pool, async {
                    let _ = stopped.await;
                })
                .await
                .expect("serve");
            });
        });
        Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for RunningRegistry {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Enrolls a node (terminal and issuer) straight into a backend and returns its token.
pub fn enroll(backend: &mut dyn Backend, node_id: &str) -> String {
    let (token, hash) = new_token();
    let node = node(node_id, "terminal,issuer").expect("node id");
    backend
        .enroll(&node, &hash, b"test certificate")
        .expect("enroll");
    token
}
