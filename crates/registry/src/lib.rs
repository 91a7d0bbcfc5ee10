//! The central Kartika registry: every Puskesmas pushes its changes here and pulls what
//! the others know about its patients. An HTTP service (axum on tokio) over one storage
//! interface with two backends: SQLite, the embedded default, and PostgreSQL.
//!
//! Trust: nodes are enrolled with a certificate from the root key and an access token
//! (stored only as its SHA-256). A push is idempotent by the id each change was born with;
//! the pull cursor is the registry's own sequence number.
#![deny(missing_docs)]

pub mod api;
pub mod backend;
mod error;
mod fhir_api;
pub mod merges;
pub mod postgres_backend;
pub mod rules;
pub mod sqlite;
pub mod validate;

use std::sync::Arc;

use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

pub use backend::{AccessEntry, Backend, Lookup, Node, OPERATOR};
pub use error::{RegistryError, Result};

/// A new access token (shown once) and the hash the registry keeps.
pub fn new_token() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = format!("kt_{}", hex::encode(bytes));
    let hash = token_hash(&token);
    (token, hash)
}

/// The SHA-256 of a token, as stored.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Milliseconds since 1970 UTC.
pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The change an operator's card revocation (or its lifting) travels as.
pub(crate) fn operator_revocation_payload(
    card_number: &str,
    reason: &str,
    lifted: bool,
    now: i64,
) -> String {
    let reason = if lifted {
        format!("lifted: {reason}")
    } else {
        reason.to_owned()
    };
    serde_json::json!({
        "card_number": card_number,
        "reason": reason,
        "lifted": lifted,
        "revoked_at": now,
        "facility_code": OPERATOR,
    })
    .to_string()
}

/// The change a node's revocation travels as, beside the card revocations.
pub(crate) fn node_revocation_payload(node_id: &str, reason: &str, now: i64) -> String {
    serde_json::json!({
        "node": node_id,
        "reason": reason,
        "revoked_at": now,
        "facility_code": OPERATOR,
    })
    .to_string()
}

/// Checks a node id (a facility code) and its roles.
pub fn node(id: &str, roles: &str) -> Result<Node> {
    let id = id.trim();
    if !(1..=16).contains(&id.len())
        || !id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(RegistryError::Invalid(format!(
            "node id \"{id}\" must be the facility code: 1 to 16 capital letters and digits"
        )));
    }
    let mut list: Vec<&str> = roles
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect();
    list.sort_unstable();
    list.dedup();
    if list.is_empty() || list.iter().any(|r| !matches!(*r, "terminal" | "issuer")) {
        return Err(RegistryError::Invalid(format!(
            "roles \"{roles}\" must be terminal, issuer or both, comma-separated"
        )));
    }
    Ok(Node {
        id: id.to_owned(),
        roles: list.join(","),
        revoked_at: None,
    })
}

/// Serves the API over TLS on `listener` until `shutdown` completes.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    pool: api::Pool,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let shared: api::SharedBackend = Arc::new(pool);
    let served = axum::serve(
        kartika_listener::Listener::new(listener, Some(acceptor))?,
        api::router(Arc::clone(&shared)),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    close(shared).await;
    served
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    pool: api::Pool,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let shared: api::SharedBackend = Arc::new(pool);
    let served = axum::serve(
        kartika_listener::Listener::new(listener, None)?,
        api::router(Arc::clone(&shared)),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    close(shared).await;
    served
}

/// Closes the storage connections on a blocking thread: a PostgreSQL client blocks while
/// it says goodbye, which must not happen on the async threads.
async fn close(shared: api::SharedBackend) {
    let _ = tokio::task::spawn_blocking(move || drop(shared)).await;
}
