//! The Puskesmas's clinic server: the store's operations over HTTP(S) on the LAN, behind
//! the servers' shared listener (handshakes side by side with a deadline, idle connections
//! closed, connections capped). Every store call runs on a blocking thread with a
//! connection of a small pool; SQLite serialises the writes, WAL lets reads run beside them.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kartika_listener::Listener;
use tokio::sync::{watch, Semaphore};

use kartika_card::crypto::TrustAnchors;
use kartika_store::{Clock, Session, Store, StoreError};

use crate::authority::{Authority, Voucher};
use crate::{
    apply, apply_from, opened, Answer, Calls, CardJudge, Changed, ErrorBody, LoginAnswer,
    LoginRequest, Operation, OperationRequest, Refusal, Sender, WorkstationAnswer,
    WorkstationChange, WorkstationRequest, GENERATION_HEADER, PROTOCOL_HEADER, PROTOCOL_VERSION,
};

/// What a client hears of a store call that failed inside the server.
const INTERNAL_ERROR: &str = "the server failed on this request; try again, and tell the administrator if it keeps happening";

/// How many times one address may ask to join in a minute: a PC asks once, and again
/// after a restart; a flood is a stranger's.
const JOINS_PER_MINUTE: usize = 5;

/// When each address asked to join, over the last minute.
#[derive(Default)]
struct JoinRequests(Mutex<std::collections::HashMap<std::net::IpAddr, Vec<Instant>>>);

impl JoinRequests {
    /// Counts a request from `address` at `now`; false when it asked too often.
    fn allow(&self, address: std::net::IpAddr, now: Instant) -> bool {
        let minute = Duration::from_secs(60);
        let mut asked = lock(&self.0);
        asked.retain(|_, times| {
            times.retain(|t| now.duration_since(*t) < minute);
            !times.is_empty()
        });
        let times = asked.entry(address).or_default();
        if times.len() >= JOINS_PER_MINUTE {
            return false;
        }
        times.push(now);
        true
    }
}

/// How many password checks run at once: half the store connections.
const LOGINS_AT_ONCE: usize = 2;

/// How many store connections serve requests at once.
const STORE_CONNECTIONS: usize = 4;
/// How long a long-poll for changes waits before answering "nothing new": short, so a
/// workstation whose server went silent (a pulled cable sends nothing) knows within
/// [`crate::client::UNREACHABLE_AFTER`].
pub(crate) const EVENTS_WAIT: Duration = Duration::from_millis(1_500);
/// How often the server looks whether something else (its sync worker, a command) wrote.
const OUTSIDE_WRITES_POLL: Duration = Duration::from_millis(200);

/// How a server is run.
#[derive(Clone)]
pub struct ServerConfig {
    /// The clinic store.
    pub db: PathBuf,
    /// The clock the store reads.
    pub clock: Arc<dyn Clock>,
    /// A session not used for this long ends.
    pub session_idle: Duration,
    /// The Puskesmas's certificate authority: with one, only approved workstations (their
    /// certificates issued by it) are served, besides the set-up's own requests.
    pub authority: Option<Arc<Authority>>,
    /// The registry's root keys, under which the server judges each card a workstation
    /// says was tapped; without them every tap from a workstation is refused.
    pub card_trust: Option<Arc<TrustAnchors>>,
}

impl ServerConfig {
    /// A server for the store at `db`, on the system clock, sessions ending after twelve
    /// idle hours (a working day and its evening).
    pub fn new(db: &Path) -> Self {
        Self {
            db: db.to_owned(),
            clock: Arc::new(kartika_store::SystemClock),
            session_idle: Duration::from_secs(12 * 60 * 60),
            authority: None,
            card_trust: None,
        }
    }
}

/// What every request of one server shares.
pub struct ClinicServer {
    stores: Mutex<Vec<Store>>,
    permits: Semaphore,
    /// Password checks under way at once, fewer than the store connections.
    logins: Semaphore,
    /// Join requests per address in the last minute: anyone may ask, not endlessly.
    join_requests: JoinRequests,
    /// The standby's copy being made or sent: one at a time.
    standby_copies: Arc<Semaphore>,
    changes: watch::Sender<u64>,
    session_idle: Duration,
    authority: Option<Arc<Authority>>,
    card_trust: Option<Arc<TrustAnchors>>,
    /// The store's generation, named on every answer.
    generation: i64,
    /// The store's file.
    db: PathBuf,
    /// The clock the store reads, for a connection opened anew.
    clock: Arc<dyn Clock>,
    /// The facility served.
    facility_code: String,
}

impl ClinicServer {
    /// Opens the store's connections. Refuses a store on a network filesystem (the store
    /// does) and one that does not exist.
    pub fn open(config: &ServerConfig) -> Result<Arc<Self>, StoreError> {
        remove_leftover_copies(&config.db);
        let stores = (0..STORE_CONNECTIONS)
            .map(|_| Store::open_with_clock(&config.db, Arc::clone(&config.clock)))
            .collect::<Result<Vec<_>, _>>()?;
        let (generation, facility_code) = match stores.first() {
            Some(store) => (store.generation()?, store.facility().code),
            None => (1, String::new()),
        };
        Ok(Arc::new(Self {
            stores: Mutex::new(stores),
            permits: Semaphore::new(STORE_CONNECTIONS),
            logins: Semaphore::new(LOGINS_AT_ONCE),
            join_requests: JoinRequests::default(),
            standby_copies: Arc::new(Semaphore::new(1)),
            changes: watch::channel(0).0,
            session_idle: config.session_idle,
            authority: config.authority.clone(),
            card_trust: config.card_trust.clone(),
            generation,
            db: config.db.clone(),
            clock: Arc::clone(&config.clock),
            facility_code,
        }))
    }

    /// The facility whose store this is.
    pub fn facility_code(&self) -> &str {
        &self.facility_code
    }

    /// Runs `work` on a store connection on a blocking thread.
    async fn with_store<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> T + Send + 'static,
    ) -> Result<T, Failure> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Failure::closing())?;
        let mut store = lock(&self.stores).pop().ok_or_else(Failure::closing)?;
        let (db, clock) = (self.db.clone(), Arc::clone(&self.clock));
        let (store, value) = tokio::task::spawn_blocking(move || {
            let value = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&mut store)));
            match value {
                Ok(value) => (Some(store), Ok(value)),
                // A call that panicked may have left its connection halfway through a
                // transaction: a new one takes its place, so the pool keeps its size.
                Err(_) => {
                    drop(store);
                    (Store::open_with_clock(&db, clock).ok(), Err(()))
                }
            }
        })
        .await
        .map_err(|_| Failure::internal(INTERNAL_ERROR.into()))?;
        if let Some(store) = store {
            lock(&self.stores).push(store);
        }
        // The panic's own words stay on the server: they are for its operator.
        value.map_err(|()| Failure::internal(INTERNAL_ERROR.into()))
    }

    /// The session of the request's token, kept by the store (so it outlives a restart),
    /// if it was opened at the PC that sends it.
    async fn session(&self, headers: &HeaderMap, peer: &Peer) -> Result<Session, Failure> {
        let token = bearer(headers).ok_or_else(Failure::session_ended)?;
        let idle_ms = i64::try_from(self.session_idle.as_millis()).unwrap_or(i64::MAX);
        let source = peer.login_source();
        self.with_store(move |store| store.resume_session_from(&token, idle_ms, &source))
            .await?
            .map_err(|e| match e {
                StoreError::LoginFailed => Failure::session_ended(),
                // A busy or failing store ends no session: the workstation asks again.
                other => Failure::from(other),
            })
    }

    fn changed(&self) {
        self.changes.send_modify(|version| *version += 1);
    }

    /// Tells the screens about writes made beside the server (its sync worker, a command
    /// run on the server PC): SQLite's `data_version` moves when another connection
    /// commits.
    async fn watch_outside_writes(self: Arc<Self>, db: PathBuf, clock: Arc<dyn Clock>) {
        let Ok(watcher) = Store::open_with_clock(&db, clock) else {
            return;
        };
        let watcher = Arc::new(Mutex::new(watcher));
        let mut seen = None;
        loop {
            tokio::time::sleep(OUTSIDE_WRITES_POLL).await;
            let store = Arc::clone(&watcher);
            let version =
                tokio::task::spawn_blocking(move || lock(&store).data_version().ok()).await;
            let Ok(Some(version)) = version else { continue };
            if seen.is_some_and(|seen| seen != version) {
                self.changed();
            }
            seen = Some(version);
        }
    }
}

/// Serves `server` on `listener` (over TLS when given an acceptor) until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    server: Arc<ClinicServer>,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let watching = tokio::spawn(
        Arc::clone(&server).watch_outside_writes(config.db.clone(), Arc::clone(&config.clock)),
    );
    let served = axum::serve(
        Listener::new(listener, tls)?,
        router(server).into_make_service_with_connect_info::<Peer>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    watching.abort();
    served
}

/// The routes: the set-up's (the authority's voucher, asking to join, the answer) for any
/// PC; the rest only for approved workstations when the server has an authority.
pub fn router(server: Arc<ClinicServer>) -> Router {
    let workstations_only = Router::new()
        .route("/v1/facility", get(facility))
        .route("/v1/login", post(login))
        .route("/v1/logout", post(logout))
        .route("/v1/operation", post(operation))
        .route("/v1/events", get(events))
        .route("/v1/backup", get(backup))
        .route("/v1/calls", get(calls))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&server),
            approved_workstation,
        ));
    Router::new()
        .route("/v1/authority", get(authority))
        .route("/v1/workstations", post(request_workstation))
        .route("/v1/workstations/{id}", get(workstation))
        .merge(workstations_only)
        .layer(axum::middleware::map_response_with_state(
            Arc::clone(&server),
            stamp_generation,
        ))
        .layer(axum::middleware::from_fn(
            kartika_listener::log::log_request,
        ))
        .with_state(server)
}

/// Every answer names the store's generation: a workstation refuses a server older than
/// one it has seen.
async fn stamp_generation(
    State(server): State<Arc<ClinicServer>>,
    mut response: Response,
) -> Response {
    response.headers_mut().insert(
        GENERATION_HEADER,
        axum::http::HeaderValue::from(server.generation),
    );
    response
}

/// Who is at the other end of a connection: the certificate it showed, by its SHA-256.
#[derive(Clone, Debug)]
pub struct Peer {
    fingerprint: Option<[u8; 32]>,
    address: std::net::IpAddr,
}

impl Peer {
    /// Where a login comes from, as wrong passwords are counted: a workstation by its
    /// certificate, any other PC by its address.
    /// The caller as the log names it: its certificate's fingerprint (the start of it), or
    /// its address.
    fn caller(&self) -> String {
        match &self.fingerprint {
            Some(fingerprint) => format!("workstation {}", hex::encode(&fingerprint[..8])),
            None => format!("address {}", self.address),
        }
    }

    fn login_source(&self) -> String {
        match &self.fingerprint {
            Some(fingerprint) => kartika_store::workstation_source(fingerprint),
            None => format!("address {}", self.address),
        }
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, Listener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, Listener>) -> Self {
        Self {
            fingerprint: stream
                .io()
                .peer_certificate()
                .map(|der| crate::authority::fingerprint(&der)),
            address: stream.remote_addr().ip(),
        }
    }
}

/// With an authority, a request passes only from a workstation whose certificate an admin
/// approved and has not revoked.
async fn approved_workstation(
    State(server): State<Arc<ClinicServer>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if server.authority.is_some() {
        let allowed = match peer.fingerprint {
            Some(fingerprint) => server
                .with_store(move |store| store.workstation_allowed(&fingerprint))
                .await
                .and_then(|allowed| allowed.map_err(Failure::from)),
            None => Ok(false),
        };
        match allowed {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(
                    target: "kartika::refusal",
                    from = %peer.address,
                    certificate = peer.fingerprint.map_or_else(|| "none".to_owned(), |f| hex::encode(&f[..8])),
                    "refused a PC that is not an approved workstation"
                );
                return Failure::not_a_workstation().into_response();
            }
            Err(failure) => return failure.into_response(),
        }
    }
    kartika_listener::log::name_caller(&peer.caller());
    next.run(request).await
}

async fn authority(State(server): State<Arc<ClinicServer>>) -> Result<Json<Voucher>, Failure> {
    match &server.authority {
        Some(authority) => Ok(Json(authority.voucher().clone())),
        None => Err(no_authority()),
    }
}

/// Without an authority (`--tls-cert`, a trusted LAN's fallback) no PC can join: the
/// join routes would only be a way for strangers to write to the store.
fn no_authority() -> Failure {
    Failure {
        status: StatusCode::NOT_FOUND,
        body: ErrorBody {
            refusal: None,
            error: "this server has no Puskesmas certificate authority, so workstations cannot join it (serve-clinic --node)"
                .into(),
        },
    }
}

async fn request_workstation(
    State(server): State<Arc<ClinicServer>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Json(request): Json<WorkstationRequest>,
) -> Result<Json<WorkstationAnswer>, Failure> {
    check_version(&headers)?;
    if server.authority.is_none() {
        return Err(no_authority());
    }
    if !server.join_requests.allow(peer.address, Instant::now()) {
        return Err(Failure {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: ErrorBody {
                refusal: Some(Refusal::Busy),
                error: format!(
                    "this PC asked to join {JOINS_PER_MINUTE} times within a minute; wait a minute"
                ),
            },
        });
    }
    let public_key = hex::decode(&request.public_key)
        .map_err(|_| Failure::bad_request("public_key must be hex"))?;
    let id = server
        .with_store(move |store| {
            store.request_workstation(&request.name, &public_key, &peer.address.to_string())
        })
        .await??;
    workstation_answer(&server, id).await
}

async fn workstation(
    State(server): State<Arc<ClinicServer>>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<WorkstationAnswer>, Failure> {
    if server.authority.is_none() {
        return Err(no_authority());
    }
    workstation_answer(&server, id).await
}

async fn workstation_answer(
    server: &ClinicServer,
    id: String,
) -> Result<Json<WorkstationAnswer>, Failure> {
    let found = server
        .with_store(move |store| store.workstation(&id))
        .await??;
    Ok(Json(WorkstationAnswer {
        id: found.id,
        certificate: found
            .certificate
            .filter(|_| !found.revoked)
            .map(hex::encode),
        revoked: found.revoked,
        emergency_series: found.emergency_series,
    }))
}

/// A request that speaks another protocol version is refused with words for the person
/// at the workstation.
fn check_version(headers: &HeaderMap) -> Result<(), Failure> {
    let spoken = headers
        .get(PROTOCOL_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u32>().ok());
    if spoken == Some(PROTOCOL_VERSION) {
        return Ok(());
    }
    Err(Failure {
        status: StatusCode::UPGRADE_REQUIRED,
        body: ErrorBody {
            refusal: None,
            error: format!(
                "this workstation's Kartika speaks protocol {} and the server speaks {PROTOCOL_VERSION}: install the server's version of Kartika on this workstation",
                spoken.map_or_else(|| "none".to_owned(), |v| v.to_string())
            ),
        },
    })
}

async fn facility(
    State(server): State<Arc<ClinicServer>>,
    headers: HeaderMap,
) -> Result<Json<Answer>, Failure> {
    check_version(&headers)?;
    let answer = server.with_store(|store| opened(store)).await??;
    Ok(Json(answer))
}

async fn login(
    State(server): State<Arc<ClinicServer>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Json(login): Json<LoginRequest>,
) -> Result<Json<LoginAnswer>, Failure> {
    check_version(&headers)?;
    // A password check takes a store connection for its whole (slow, on purpose) hash:
    // at most this many at once, so a flood of logins leaves connections for the work.
    let _checking = server
        .logins
        .acquire()
        .await
        .map_err(|_| Failure::closing())?;
    let source = peer.login_source();
    // A password typed into the name field must not reach the log: only a name that
    // looks like an account's is written.
    let username = Some(login.username.trim())
        .filter(|u| {
            (2..=32).contains(&u.len())
                && u.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        })
        .unwrap_or("(not an account name)")
        .to_owned();
    let opened = server
        .with_store(move |store| store.open_session_from(&login.username, &login.password, &source))
        .await?;
    let (session, token) = opened.inspect_err(|refusal| {
        tracing::warn!(
            target: "kartika::refusal",
            user = %username,
            from = %peer.caller(),
            reason = %refusal,
            "refused a login"
        );
    })?;
    Ok(Json(LoginAnswer {
        token,
        username: session.username().to_owned(),
        display_name: session.display_name().to_owned(),
        role: session.role(),
    }))
}

async fn logout(
    State(server): State<Arc<ClinicServer>>,
    headers: HeaderMap,
) -> Result<StatusCode, Failure> {
    if let Some(token) = bearer(&headers) {
        server
            .with_store(move |store| store.end_session(&token))
            .await??;
    }
    Ok(StatusCode::OK)
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
}

async fn operation(
    State(server): State<Arc<ClinicServer>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Json(request): Json<OperationRequest>,
) -> Result<Json<Answer>, Failure> {
    check_version(&headers)?;
    let session = server.session(&headers, &peer).await?;
    let request_id: [u8; 16] = hex::decode(&request.request_id)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| Failure::bad_request("request_id must be 32 hex digits"))?;
    // BPJS may take its two seconds: asked with no store connection held.
    if let Operation::BpjsMember { card, nik } = request.operation {
        let audited = (session.clone(), card.clone());
        server
            .with_store(move |store| {
                crate::operation::note_member_check(store, &audited.0, &audited.1)
            })
            .await??;
        let db = server.db.clone();
        let asked = card.clone();
        let check = tokio::task::spawn_blocking(move || {
            crate::operation::member_check(&db, &asked, nik.as_deref())
        })
        .await
        .map_err(|_| Failure::internal(INTERNAL_ERROR.into()))?;
        return Ok(Json(Answer::BpjsMember { card, check }));
    }
    let writes = request.operation.writes();
    let authority = server.authority.clone();
    let cards = CardJudge::Server(server.card_trust.clone());
    let answer = server
        .with_store(move |store| {
            let id = writes.then_some(&request_id);
            match (request.operation, authority) {
                // Approving issues a certificate: the server's authority does it.
                (
                    Operation::Workstations {
                        change: Some(WorkstationChange::Approve(workstation)),
                    },
                    Some(authority),
                ) => store
                    .approve_workstation(&session, &workstation, |name, key| {
                        authority
                            .workstation_certificate(name, key)
                            .map_err(|e| e.to_string())
                    })
                    .and_then(|_| {
                        apply(
                            store,
                            &session,
                            Operation::Workstations { change: None },
                            None,
                        )
                    }),
                (operation, authority) => {
                    // The sender's emergency series, from its certificate: only a server
                    // with an authority knows its workstations.
                    let series = match (authority, peer.fingerprint) {
                        (Some(_), Some(fingerprint)) => store.workstation_series(&fingerprint)?,
                        _ => None,
                    };
                    let sender = Sender {
                        emergency_series: series,
                        cards,
                    };
                    apply_from(store, &session, operation, id, &sender)
                }
            }
        })
        .await??;
    if writes {
        server.changed();
    }
    Ok(Json(answer))
}

/// A copy of the store for the standby PC (an admin's session, an approved workstation).
async fn backup(
    State(server): State<Arc<ClinicServer>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    check_version(&headers)?;
    let session = server.session(&headers, &peer).await?;
    // One copy at a time, from its making to the end of its sending: each is the whole
    // store on the server's disk.
    let Ok(copying) = Arc::clone(&server.standby_copies).try_acquire_owned() else {
        return Err(Failure {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: ErrorBody {
                refusal: Some(Refusal::Busy),
                error: "another copy of the store is being made; try again later".into(),
            },
        });
    };
    // Beside the store, on the server PC's own disk.
    let path = server.db.with_file_name(format!(
        "{STANDBY_COPY_PREFIX}{}.sqlite",
        hex::encode(crate::client::new_request_id())
    ));
    let made = path.clone();
    server
        .with_store(move |store| store.backup_for_standby(&session, &made))
        .await??;
    // Sent chunk by chunk from the file, never whole in memory; the file goes when the
    // sending ends, however it ends.
    let (chunks, body) = tokio::sync::mpsc::channel(4);
    std::thread::spawn(move || {
        let _copying = copying;
        send_file(&path, &chunks);
        let _ = std::fs::remove_file(&path);
    });
    Ok(axum::body::Body::from_stream(FileChunks(body)).into_response())
}

/// What the standby's copies are named while they are made and sent; one left by a
/// server that stopped halfway is removed when the server starts.
const STANDBY_COPY_PREFIX: &str = "standby-copy-";

/// Reads `path` in chunks into `chunks`, until the end or until nobody listens.
fn send_file(
    path: &std::path::Path,
    chunks: &tokio::sync::mpsc::Sender<std::io::Result<axum::body::Bytes>>,
) {
    use std::io::Read;
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) => {
            let _ = chunks.blocking_send(Err(e));
            return;
        }
    };
    // Where the system allows it (not Windows), the name goes at once: the open file is
    // read to its end all the same, and nothing is left if the server stops mid-way.
    let _ = std::fs::remove_file(path);
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let read = match file.read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => Ok(axum::body::Bytes::copy_from_slice(&buffer[..n])),
            Err(e) => Err(e),
        };
        let failed = read.is_err();
        if chunks.blocking_send(read).is_err() || failed {
            return;
        }
    }
}

/// A file's chunks as a body's stream.
struct FileChunks(tokio::sync::mpsc::Receiver<std::io::Result<axum::body::Bytes>>);

impl futures_core::Stream for FileChunks {
    type Item = std::io::Result<axum::body::Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// Removes the standby copies a server stopped halfway left beside the store.
fn remove_leftover_copies(db: &std::path::Path) {
    let Some(folder) = db.parent() else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(STANDBY_COPY_PREFIX) && name.ends_with(".sqlite") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// How many calls the waiting room's screen shows.
const CALLS_SHOWN: usize = 8;

/// The waiting room's screen: answers when the store changed since `after` (or after
/// [`EVENTS_WAIT`]), with today's newest calls. No login: a display is an approved
/// workstation that shows numbers and units only.
async fn calls(
    State(server): State<Arc<ClinicServer>>,
    headers: HeaderMap,
    Query(After { after }): Query<After>,
) -> Result<Json<Calls>, Failure> {
    check_version(&headers)?;
    let mut changes = server.changes.subscribe();
    let newer = changes.wait_for(|version| *version != after);
    let version = match tokio::time::timeout(EVENTS_WAIT, newer).await {
        Ok(Ok(version)) => *version,
        Ok(Err(_)) | Err(_) => after,
    };
    let calls = server
        .with_store(|store| store.recent_calls(CALLS_SHOWN))
        .await??;
    Ok(Json(Calls { version, calls }))
}

/// The query of a long-poll for changes.
#[derive(serde::Deserialize)]
struct After {
    after: u64,
}

/// Answers at once when the store changed since `after`, else when it does, or after
/// [`EVENTS_WAIT`] with the same version.
async fn events(
    State(server): State<Arc<ClinicServer>>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    headers: HeaderMap,
    Query(After { after }): Query<After>,
) -> Result<Json<Changed>, Failure> {
    check_version(&headers)?;
    server.session(&headers, &peer).await?;
    let mut changes = server.changes.subscribe();
    let newer = changes.wait_for(|version| *version != after);
    let version = match tokio::time::timeout(EVENTS_WAIT, newer).await {
        Ok(Ok(version)) => *version,
        Ok(Err(_)) | Err(_) => after,
    };
    Ok(Json(Changed { version }))
}

/// A poisoned lock only means another request panicked holding it; its data is whole.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A failed request: its status and body.
#[derive(Debug)]
struct Failure {
    status: StatusCode,
    body: ErrorBody,
}

impl Failure {
    fn session_ended() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            body: ErrorBody {
                refusal: Some(Refusal::LoginFailed),
                error: "the session has ended: log in again".into(),
            },
        }
    }

    fn not_a_workstation() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            body: ErrorBody {
                refusal: None,
                error: "this PC is not an approved workstation of this Puskesmas: set it up with `kartika workstation join`, and ask an admin to approve it".into(),
            },
        }
    }

    fn bad_request(error: &str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            body: ErrorBody {
                refusal: None,
                error: error.into(),
            },
        }
    }

    fn closing() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            body: ErrorBody {
                refusal: Some(Refusal::Busy),
                error: "the server is stopping".into(),
            },
        }
    }

    fn internal(error: String) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            body: ErrorBody {
                refusal: None,
                error,
            },
        }
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        let status = match &error {
            StoreError::LoginFailed | StoreError::LoginLocked { .. } => StatusCode::UNAUTHORIZED,
            StoreError::NotAllowed { .. } => StatusCode::FORBIDDEN,
            StoreError::NotFound { .. } => StatusCode::NOT_FOUND,
            StoreError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            StoreError::Database(_) | StoreError::Damaged(_) | StoreError::File { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let refusal = Refusal::from(error);
        Self {
            status,
            body: ErrorBody {
                error: refusal.to_string(),
                refusal: Some(refusal),
            },
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new clinic store in `folder`; its path.
    fn new_store(folder: &std::path::Path) -> PathBuf {
        let db = folder.join("clinic.sqlite");
        let profile = kartika_store::FacilityProfile {
            code: "P3674060".into(),
            name: "Puskesmas Pamulang".into(),
            region_code: None,
            zone: kartika_store::TimeZone::Wib,
        };
        drop(Store::create(&db, &profile).expect("a store"));
        db
    }

    #[test]
    fn a_standby_copy_left_by_a_server_that_stopped_is_removed_when_it_starts() {
        let dir = tempfile::tempdir().expect("a folder");
        let db = new_store(dir.path());
        let left = dir.path().join(format!("{STANDBY_COPY_PREFIX}0011.sqlite"));
        std::fs::write(&left, b"half a copy").expect("written");
        let kept = dir.path().join("patients-export.sqlite");
        std::fs::write(&kept, b"someone else's").expect("written");
        drop(ClinicServer::open(&ServerConfig::new(&db)).expect("the server"));
        assert!(!left.exists(), "the half copy is gone");
        assert!(kept.exists(), "nothing else is touched");
    }

    #[test]
    fn an_address_may_ask_to_join_a_few_times_a_minute() {
        let requests = JoinRequests::default();
        let (one, other): (std::net::IpAddr, std::net::IpAddr) =
            ("192.0.2.7".parse().unwrap(), "192.0.2.8".parse().unwrap());
        let start = Instant::now();
        for _ in 0..JOINS_PER_MINUTE {
            assert!(requests.allow(one, start));
        }
        assert!(!requests.allow(one, start), "a flood is refused");
        assert!(requests.allow(other, start), "another PC is not");
        assert!(
            requests.allow(one, start + Duration::from_secs(61)),
            "a minute later it may ask again"
        );
    }

    #[test]
    fn a_store_call_that_panics_gives_its_connection_back_and_says_nothing_of_the_panic() {
        let dir = tempfile::tempdir().expect("a folder");
        let db = new_store(dir.path());
        let server = ClinicServer::open(&ServerConfig::new(&db)).expect("the server");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            for _ in 0..STORE_CONNECTIONS + 1 {
                let failed = server
                    .with_store(|_| -> () { panic!("secret detail of a bug") })
                    .await
                    .expect_err("the call fails");
                assert!(
                    !failed.body.error.contains("secret"),
                    "{}",
                    failed.body.error
                );
            }
            // Every connection that panicked was replaced: the pool serves as before.
            for _ in 0..2 * STORE_CONNECTIONS {
                let code = server
                    .with_store(|store| store.facility().code)
                    .await
                    .expect("served");
                assert_eq!(code, "P3674060");
            }
        });
        assert_eq!(lock(&server.stores).len(), STORE_CONNECTIONS);
    }
}
