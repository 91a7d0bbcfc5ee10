//! `kartika serve-clinic`: the Puskesmas's store served to its workstations on the LAN.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use kartika_lan::server::{self, ClinicServer, ServerConfig};

pub fn serve_clinic(
    db: &Path,
    listen: SocketAddr,
    tls: Option<(&Path, &Path)>,
) -> Result<ExitCode> {
    let acceptor = tls
        .map(|(cert, key)| kartika_registry::tls::acceptor(cert, key))
        .transpose()?;
    if acceptor.is_none() && !listen.ip().is_loopback() {
        bail!(
            "{listen} is not a loopback address: passwords would cross the LAN in the clear; give --tls-cert and --tls-key to serve the workstations"
        );
    }
    let config = ServerConfig::new(db);
    let server = ClinicServer::open(&config)
        .with_context(|| format!("cannot serve the clinic store {}", db.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        println!(
            "clinic server listening on {scheme}://{}",
            listener.local_addr()?
        );
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        server::serve(listener, acceptor, server, &config, stop)
            .await
            .context("the clinic server failed")
    })?;
    Ok(ExitCode::SUCCESS)
}
