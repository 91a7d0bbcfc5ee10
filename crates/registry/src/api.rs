//! The HTTP API under `/v1`, its OpenAPI document, and `/healthz` and `/readyz`.
//!
//! A client's mistake gets a 4xx with a message; a push is answered only after its batch
//! is durably stored, record by record, so one bad record never fails the others.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kartika_protocol::{
    ErrorBody, PresenceProof, PushRecord, PushResponse, PushResult, MAX_PAGE, MAX_PUSH_BYTES,
    MAX_PUSH_RECORDS,
};
use serde::Deserialize;

use crate::backend::{Backend, Lookup, Node};
use crate::merges::Decision;
use crate::validate::validate;
use crate::{token_hash, RegistryError};
use kartika_card::crypto::NodeCredentials;
use kartika_protocol::{AuditHead, AuditReceipt};
use kartika_protocol::{MergeBoard, MergeProposal, ProposeMerge};

const OPENAPI: &str = include_str!("openapi.json");

/// The storage connections the request handlers share: a request takes a free one, so
/// clinics pushing at once are served side by side (one connection is enough for SQLite,
/// whose writers take turns anyway).
pub struct Pool {
    backends: Vec<Mutex<Box<dyn Backend>>>,
    next: AtomicUsize,
    receipts: Option<NodeCredentials>,
}

impl Pool {
    /// A pool of at least one connection.
    pub fn new(first: Box<dyn Backend>, more: Vec<Box<dyn Backend>>) -> Self {
        let backends = std::iter::once(first).chain(more).map(Mutex::new).collect();
        Self {
            backends,
            next: AtomicUsize::new(0),
            receipts: None,
        }
    }

    /// Signs the clinics' audit heads with this key (certified by the root, node id
    /// `registry`): the receipts let a clinic prove its log was not rewritten since.
    pub fn with_receipts(mut self, key: NodeCredentials) -> Self {
        self.receipts = Some(key);
        self
    }

    fn with<T>(&self, work: impl FnOnce(&mut dyn Backend) -> crate::Result<T>) -> crate::Result<T> {
        let count = self.backends.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % count;
        for offset in 0..count {
            if let Ok(mut backend) = self.backends[(start + offset) % count].try_lock() {
                return work(backend.as_mut());
            }
        }
        // All busy (or one poisoned by a panic): wait for this request's turn.
        let mut backend = self.backends[start]
            .lock()
            .map_err(|_| RegistryError::Poisoned)?;
        work(backend.as_mut())
    }
}

/// The pool, shared by the request handlers.
pub type SharedBackend = Arc<Pool>;

/// An answer that is not a success.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0
    }

    /// What went wrong, in words.
    pub fn message(&self) -> &str {
        &self.1
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorBody { error: self.1 })).into_response()
    }
}

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> Self {
        let status = match &error {
            RegistryError::Forbidden(_) => StatusCode::FORBIDDEN,
            RegistryError::NotFound(_) => StatusCode::NOT_FOUND,
            RegistryError::Invalid(_) => StatusCode::BAD_REQUEST,
            RegistryError::Conflict(_) => StatusCode::CONFLICT,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        Self(status, error.to_string())
    }
}

fn client_error(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError(status, message.into())
}

/// The router, ready to serve.
pub fn router(backend: SharedBackend) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/push", post(push))
        .route("/v1/changes", get(changes))
        .route("/v1/audit-head", get(last_audit_head).post(keep_audit_head))
        .route(
            "/v1/patients/{patient_number}/history",
            get(history).post(history_with_presence),
        )
        .route("/v1/merges", get(merge_board).post(propose_merge))
        .route("/v1/merges/{id}/{decision}", post(decide_merge))
        .merge(crate::fhir_api::routes())
        .layer(DefaultBodyLimit::max(MAX_PUSH_BYTES))
        .layer(axum::middleware::from_fn(
            kartika_listener::log::log_request,
        ))
        .with_state(backend)
}

/// Runs `work` on the storage, where waiting for it blocks no other request. On the
/// multi-threaded runtime (the one `kartika registry serve` builds) it runs on this very
/// thread, whose other tasks go to the rest meanwhile (`block_in_place`): sent to the
/// blocking pool instead, each request woke a second thread and then this one again, and
/// on a busy machine each wake-up waits for a free core (a pull of 60 pages took 15 %
/// longer). On any other runtime, on the blocking pool.
pub(crate) async fn with_backend<T: Send + 'static>(
    backend: &SharedBackend,
    work: impl FnOnce(&mut dyn Backend) -> crate::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let pool = Arc::clone(backend);
    let failed = || {
        client_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the request failed inside the registry",
        )
    };
    let done = match tokio::runtime::Handle::current().runtime_flavor() {
        tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pool.with(work)))
        })
        .map_err(|_| failed())?,
        _ => tokio::task::spawn_blocking(move || pool.with(work))
            .await
            .map_err(|_| failed())?,
    };
    done.map_err(ApiError::from)
}

pub(crate) async fn authenticate(
    backend: &SharedBackend,
    headers: &HeaderMap,
) -> Result<Node, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            client_error(
                StatusCode::UNAUTHORIZED,
                "no access token; send the node's token as Authorization: Bearer TOKEN",
            )
        })?;
    let hash = token_hash(token.trim());
    let node = with_backend(backend, move |b| b.node_for_token(&hash))
        .await?
        .ok_or_else(|| {
            tracing::warn!(target: "kartika::refusal", "refused a request whose token is not any node's");
            client_error(StatusCode::UNAUTHORIZED, "the access token is not valid")
        })?;
    kartika_listener::log::name_caller(&node.id);
    if node.revoked_at.is_some() {
        tracing::warn!(target: "kartika::refusal", node = %node.id, "refused a revoked node");
        return Err(client_error(
            StatusCode::FORBIDDEN,
            format!(
                "node {} has been revoked by the registry's operator; its token no longer works",
                node.id
            ),
        ));
    }
    Ok(node)
}

async fn readyz(State(backend): State<SharedBackend>) -> Result<&'static str, ApiError> {
    with_backend(&backend, |b| b.ready()).await?;
    Ok("ready")
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// The body as sent, or gunzipped when it says so, never more than the limit.
fn body_bytes(headers: &HeaderMap, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    if !gzip {
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .take(MAX_PUSH_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            client_error(
                StatusCode::BAD_REQUEST,
                format!("the gzip body is damaged: {e}"),
            )
        })?;
    if out.len() > MAX_PUSH_BYTES {
        return Err(client_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is over {MAX_PUSH_BYTES} bytes unpacked; send smaller batches"),
        ));
    }
    Ok(out)
}

/// The request with each record still as text, so one of the wrong shape fails alone.
#[derive(Deserialize)]
struct LooseRequest {
    records: Vec<Box<serde_json::value::RawValue>>,
}

#[derive(Deserialize)]
struct JustTheId {
    id: Option<String>,
}

async fn push(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<PushResponse>, ApiError> {
    // Who and how big, before a byte of the body is read.
    let node = authenticate(&backend, &headers).await?;
    let too_large = || {
        client_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is over {MAX_PUSH_BYTES} bytes; send smaller batches"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_PUSH_BYTES) {
        return Err(too_large());
    }
    let body = axum::body::to_bytes(body, MAX_PUSH_BYTES)
        .await
        .map_err(|_| too_large())?;
    let bytes = body_bytes(&headers, &body)?;
    let request: LooseRequest = serde_json::from_slice(&bytes).map_err(|e| {
        client_error(
            StatusCode::BAD_REQUEST,
            format!("the body is not a push request ({{\"records\": [...]}}): {e}"),
        )
    })?;
    if request.records.len() > MAX_PUSH_RECORDS {
        return Err(client_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "{} records; at most {MAX_PUSH_RECORDS} per push",
                request.records.len()
            ),
        ));
    }
    // Each record is read on its own, so one of the wrong shape is refused alone.
    let mut ids = Vec::with_capacity(request.records.len());
    let mut checked = Vec::with_capacity(request.records.len());
    for raw in request.records {
        let id = serde_json::from_str::<JustTheId>(raw.get())
            .ok()
            .and_then(|j| j.id)
            .unwrap_or_default();
        checked.push(
            serde_json::from_str::<PushRecord>(raw.get())
                .map_err(|e| format!("the record is malformed: {e}"))
                .and_then(|record| validate(&node, &record)),
        );
        ids.push(id);
    }
    let outcomes = with_backend(&backend, move |b| b.push(&node, &checked)).await?;
    Ok(Json(PushResponse {
        results: ids
            .into_iter()
            .zip(outcomes)
            .map(|(id, outcome)| PushResult { id, outcome })
            .collect(),
    }))
}

#[derive(Deserialize)]
struct ChangesQuery {
    #[serde(default)]
    after: i64,
    limit: Option<usize>,
}

/// A page, and when more wait, a link to the next one (RFC 8288): a client that reads the
/// link can ask for the next page before it has parsed this one, so this registry pages
/// while the client parses.
async fn changes(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
    Query(query): Query<ChangesQuery>,
) -> Result<Response, ApiError> {
    let node = authenticate(&backend, &headers).await?;
    let limit = query.limit.unwrap_or(1_000).clamp(1, MAX_PAGE);
    let after = query.after.max(0);
    let page = with_backend(&backend, move |b| b.changes(&node, after, limit)).await?;
    let body = page_body(&page)?;
    let json = [(header::CONTENT_TYPE, "application/json")];
    if !page.more {
        return Ok((json, body).into_response());
    }
    let next = format!(
        "</v1/changes?after={}&limit={limit}>; rel=\"next\"",
        page.next_after
    );
    Ok((json, [(header::LINK, next)], body).into_response())
}

/// A page written into a buffer of about its size: grown from 128 bytes, as `Json` grows
/// it, a page of 2,000 changes (most of a megabyte) moves to a bigger buffer 13 times.
fn page_body(page: &kartika_protocol::ChangePage) -> Result<Vec<u8>, ApiError> {
    // What surrounds a payload (field names, seq, facility, kind) takes under 150 bytes.
    let size: usize = page
        .changes
        .iter()
        .map(|c| c.payload.get().len() + c.record_id.len() + 150)
        .sum();
    let mut body = Vec::with_capacity(size + 64);
    serde_json::to_writer(&mut body, page).map_err(|e| {
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the page could not be written: {e}"),
        )
    })?;
    Ok(body)
}

fn checked_patient_number(patient_number: &str) -> Result<(), ApiError> {
    if patient_number.is_empty() || patient_number.len() > 32 {
        return Err(client_error(
            StatusCode::BAD_REQUEST,
            "not a patient number",
        ));
    }
    Ok(())
}

/// Without a card: the node's own patients, and those its pulls bring (a record linked
/// to one of its own is fetched so).
async fn history(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
    Path(patient_number): Path<String>,
) -> Result<Json<Vec<kartika_protocol::Change>>, ApiError> {
    let node = authenticate(&backend, &headers).await?;
    checked_patient_number(&patient_number)?;
    Ok(Json(
        with_backend(&backend, move |b| {
            b.patient_history(&node, &patient_number, Lookup::OwnOrSubscribed)
        })
        .await?,
    ))
}

/// With the patient's card in the reader: the body is the card's proof of presence.
async fn history_with_presence(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
    Path(patient_number): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Vec<kartika_protocol::Change>>, ApiError> {
    let node = authenticate(&backend, &headers).await?;
    checked_patient_number(&patient_number)?;
    let proof: PresenceProof = serde_json::from_slice(&body).map_err(|e| {
        client_error(
            StatusCode::BAD_REQUEST,
            format!("the body is not a proof of presence: {e}"),
        )
    })?;
    Ok(Json(
        with_backend(&backend, move |b| {
            b.patient_history(&node, &patient_number, Lookup::Presence(&proof))
        })
        .await?,
    ))
}

/// The newest audit head this node handed over, so its clinic can check that its log still
/// holds it (`null` before the first).
async fn last_audit_head(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
) -> Result<Json<Option<AuditHead>>, ApiError> {
    let node = authenticate(&backend, &headers).await?;
    let head = with_backend(&backend, move |b| b.last_audit_head(&node)).await?;
    Ok(Json(head.map(|(seq, hash)| AuditHead {
        seq,
        hash: hex::encode(hash),
    })))
}

/// Keeps a clinic's audit head and answers with a signed receipt; a head that contradicts
/// one kept before (the same entry with another hash) is refused.
async fn keep_audit_head(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
    Json(head): Json<AuditHead>,
) -> Result<Json<AuditReceipt>, ApiError> {
    let node = authenticate(&backend, &headers).await?;
    let Some(signer) = backend.receipts.clone() else {
        return Err(client_error(
            StatusCode::NOT_IMPLEMENTED,
            "this registry gives no audit receipts (it was started without a receipt key)",
        ));
    };
    let hash: [u8; 32] = hex::decode(&head.hash)
        .ok()
        .and_then(|h| h.try_into().ok())
        .filter(|_| head.seq > 0)
        .ok_or_else(|| {
            client_error(
                StatusCode::BAD_REQUEST,
                "an audit head is a positive seq and a 32-byte hash in hex",
            )
        })?;
    let who = node.clone();
    let received_at =
        with_backend(&backend, move |b| b.keep_audit_head(&who, head.seq, &hash)).await?;
    let message = AuditReceipt::signed_message(&node.id, head.seq, &hash, received_at);
    Ok(Json(AuditReceipt {
        node: node.id,
        seq: head.seq,
        hash: hex::encode(hash),
        received_at,
        signature: hex::encode(signer.sign(&message)),
        certificate: hex::encode(signer.certificate().to_tlv()),
    }))
}

/// The pairs flagged for this Puskesmas and the proposals naming its records.
async fn merge_board(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
) -> Result<Json<MergeBoard>, ApiError> {
    let node = authenticate(&backend, &headers).await?;
    Ok(Json(
        with_backend(&backend, move |b| b.merge_board(&node)).await?,
    ))
}

/// "One person, this one survives": stored as proposed until the other owner answers.
async fn propose_merge(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<MergeProposal>, ApiError> {
    let node = authenticate(&backend, &headers).await?;
    let ask: ProposeMerge = serde_json::from_slice(&body).map_err(|e| {
        client_error(
            StatusCode::BAD_REQUEST,
            format!("the body is not a merge proposal ({{\"survivor\": …, \"retired\": …}}): {e}"),
        )
    })?;
    checked_patient_number(&ask.survivor)?;
    checked_patient_number(&ask.retired)?;
    Ok(Json(
        with_backend(&backend, move |b| b.propose_merge(&node, &ask)).await?,
    ))
}

/// `accept`, `decline` or `undo`.
async fn decide_merge(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
    Path((id, decision)): Path<(String, String)>,
) -> Result<Json<MergeProposal>, ApiError> {
    let node = authenticate(&backend, &headers).await?;
    let decision = Decision::parse(&decision).ok_or_else(|| {
        client_error(
            StatusCode::NOT_FOUND,
            format!("\"{decision}\" is not a decision: accept, decline or undo"),
        )
    })?;
    if crate::validate::parse_uuid(&id).is_none() {
        return Err(client_error(StatusCode::NOT_FOUND, "not a proposal id"));
    }
    Ok(Json(
        with_backend(&backend, move |b| b.decide_merge(&node, &id, decision)).await?,
    ))
}
