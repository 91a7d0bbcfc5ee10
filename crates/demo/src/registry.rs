//! The demo's registry: the real registry service over its SQLite file, served on a
//! loopback port from a thread of this process and stopped when dropped.

use std::net::SocketAddr;
use std::path::Path;
use std::thread::JoinHandle;

use kartika_registry::sqlite::SqliteBackend;
use tokio::sync::oneshot;

use crate::DemoError;

/// A registry serving on `127.0.0.1`; stops when dropped.
pub struct InProcessRegistry {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for InProcessRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessRegistry")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl InProcessRegistry {
    /// Serves the registry database at `path` on a free loopback port.
    pub fn start(
        path: &Path,
        receipts: Option<kartika_card::crypto::NodeCredentials>,
    ) -> Result<Self, DemoError> {
        let backend = SqliteBackend::open(path).map_err(|e| DemoError::Registry(e.to_string()))?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| DemoError::Registry(format!("cannot listen on loopback: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| DemoError::Registry(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| DemoError::Registry(format!("cannot start its runtime: {e}")))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("demo-registry".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let mut pool = kartika_registry::api::Pool::new(Box::new(backend), Vec::new());
                    if let Some(receipts) = receipts {
                        pool = pool.with_receipts(receipts);
                    }
                    // The demo goes on without sync if serving fails; the sync state says so.
                    let _ = kartika_registry::serve(listener, pool, async {
                        let _ = stopped.await;
                    })
                    .await;
                });
            })
            .map_err(|e| DemoError::Registry(format!("cannot start its thread: {e}")))?;
        Ok(Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for InProcessRegistry {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
