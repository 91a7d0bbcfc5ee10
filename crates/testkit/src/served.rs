//! A server of the test's own (the registry, the clinic server) on a loopback listener, on
//! a thread with a runtime of its own; stopped, and its thread joined, when dropped.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

/// Resolves when the test stops the server: what each server's `serve` waits on.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A server answering on its thread until stopped or dropped.
pub struct ServedOnThread {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ServedOnThread {
    /// Binds `addr` (port 0 for a free one) and runs `serve` on it.
    pub fn start<S, F>(addr: SocketAddr, serve: S) -> Self
    where
        S: FnOnce(tokio::net::TcpListener, Shutdown) -> F + Send + 'static,
        F: Future<Output = std::io::Result<()>>,
    {
        let listener = std::net::TcpListener::bind(addr).expect("bind loopback");
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
                let shutdown: Shutdown = Box::pin(async {
                    let _ = stopped.await;
                });
                serve(listener, shutdown).await.expect("serve");
            });
        });
        Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
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

impl Drop for ServedOnThread {
    fn drop(&mut self) {
        self.stop();
    }
}
