//! What `kartika registry serve` and `kartika serve-clinic` share: a runtime, a listener
//! announced on standard output, and Ctrl-C to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use anyhow::{Context, Result};

/// Resolves at Ctrl-C: what a server's `serve` waits on to stop.
pub type Stop = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Ctrl-C (or, under systemd, SIGINT) stops a server run from a console.
fn on_ctrl_c() -> Stop {
    Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Told once the server listens (the Windows service then says it is running).
pub type Ready = Box<dyn FnOnce() + Send>;

/// What ends a server's run, and whom it tells once it listens.
pub struct Lifecycle {
    pub stop: Stop,
    pub ready: Option<Ready>,
}

impl Lifecycle {
    /// Run from a console: Ctrl-C ends it, and its "listening on" line is the news.
    pub fn console() -> Self {
        Self {
            stop: on_ctrl_c(),
            ready: None,
        }
    }
}

/// Listens on `listen`, says so (`what listening on https://…`) and calls `ready`, then
/// runs `serve` on the listener until it returns; `stop` is handed to `serve` to end it
/// gracefully.
pub fn until_stopped<S, F>(
    what: &str,
    listen: SocketAddr,
    tls: bool,
    Lifecycle { stop, ready }: Lifecycle,
    serve: S,
) -> Result<()>
where
    S: FnOnce(tokio::net::TcpListener, Stop) -> F,
    F: Future<Output = Result<()>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let scheme = if tls { "https" } else { "http" };
        println!("{what} listening on {scheme}://{}", listener.local_addr()?);
        if let Some(ready) = ready {
            ready();
        }
        serve(listener, stop).await
    })
}
