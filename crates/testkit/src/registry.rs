//! A registry serving on a loopback port from a thread of the test, over a backend the
//! test chooses.

use std::net::SocketAddr;

use kartika_registry::{new_token, node, Backend};

use crate::served::ServedOnThread;

/// A running registry; stops when dropped.
pub struct RunningRegistry {
    served: ServedOnThread,
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
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            served: ServedOnThread::start(loopback, move |listener, shutdown| {
                kartika_registry::serve(listener, pool, shutdown)
            }),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.served.addr())
    }

    /// The address.
    pub fn addr(&self) -> SocketAddr {
        self.served.addr()
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
