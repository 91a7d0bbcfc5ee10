//! The clinic side of sync. A [`Syncer`] drains the store's outbox to the registry in
//! batches bounded in rows and bytes, gzip-compressed; marks rows sent only on the
//! registry's durable answer; sets refused rows aside with their reason; then pulls the
//! change feed page by page, each page applied with its cursor in one transaction.
//! [`Syncer::run`] repeats that with exponential backoff and jitter, and publishes its
//! progress for the UI.
#![deny(missing_docs)]

pub mod outside;

/// What the registry answers about merges across Puskesmas, as the sync client returns it.
pub use kartika_protocol::{LikelySame, MergeBoard, MergeDecision, MergeProposal, ProposalState};

use std::io::Write;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kartika_protocol::{
    AuditHead, AuditReceipt, ChangePage, ErrorBody, PresenceProof, ProposeMerge, PushOutcome,
    PushRecord, PushRequest, PushResponse,
};
use kartika_store::{MergeTold, ReadChange, Settlement, Store, StoreError};

/// Why a sync round stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The registry could not be reached or the connection broke.
    #[error("the registry cannot be reached ({0}); the changes stay queued and are sent when the link is back")]
    Unreachable(String),
    /// The registry answered with an error.
    #[error("the registry refused the request ({status}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The registry's message.
        message: String,
    },
    /// The registry's answer does not fit the request.
    #[error("the registry's answer is not understood: {0}")]
    BadAnswer(String),
    /// The clinic store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The caller asked for something that cannot be sent.
    #[error("{0}")]
    Invalid(String),
}

impl SyncError {
    /// Whether trying again later can help (the link, the registry being busy or
    /// restarting), as opposed to a refusal that needs a person (a revoked token).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable(_) | Self::BadAnswer(_) => true,
            Self::Refused { status, .. } => *status >= 500 || *status == 429,
            Self::Store(StoreError::Busy) => true,
            Self::Store(_) | Self::Invalid(_) => false,
        }
    }
}

/// How to reach the registry and how big a batch may be.
#[derive(Clone, Debug)]
pub struct SyncConfig {
    /// For example `http://127.0.0.1:8700`.
    pub registry: String,
    /// The node's access token.
    pub token: String,
    /// Outbox rows per push.
    pub max_rows: usize,
    /// Payload bytes per push, before compression.
    pub max_bytes: usize,
    /// Changes per pull page.
    pub page: usize,
    /// Longest wait for one request.
    pub timeout: Duration,
    /// PEM certificates to trust for an `https` registry instead of the public roots, for a
    /// registry with its own certificate authority.
    pub ca_pem: Option<Vec<u8>>,
}

impl SyncConfig {
    /// Defaults: as many rows as a push may carry (2,000) or 2 MB, 2,000 changes a page,
    /// 30 s a request. The registry takes in each push in one transaction, so a clinic
    /// catching up on a backlog loads it least with the largest pushes, and makes the
    /// fewest round trips on a slow link.
    pub fn new(registry: &str, token: &str) -> Self {
        Self {
            registry: registry.trim_end_matches('/').to_owned(),
            token: token.trim().to_owned(),
            max_rows: kartika_protocol::MAX_PUSH_RECORDS,
            max_bytes: 2_000_000,
            page: 2_000,
            timeout: Duration::from_secs(30),
            ca_pem: None,
        }
    }
}

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// Outbox rows the registry stored (now or before).
    pub sent: usize,
    /// Outbox rows it refused, now set aside.
    pub set_aside: usize,
    /// Pulled changes applied.
    pub applied: usize,
    /// Pulled changes this version could not read, by registry sequence, with why; the
    /// cursor moves past them, so they are reported here rather than retried.
    pub skipped: Vec<(i64, String)>,
    /// Bytes sent over the wire (compressed bodies).
    pub bytes_sent: u64,
    /// The audit entry the registry signed a receipt for in this round, if it gives them.
    pub receipted: Option<i64>,
    /// Records fetched because a link names them (another Puskesmas's record of one of
    /// this Puskesmas's patients): one person's history made whole here.
    pub linked_fetched: usize,
    /// Merges made here (or their undos) the registry learnt in this round.
    pub merges_told: usize,
}

/// What the UI shows about sync.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Whether a round is running.
    pub running: bool,
    /// Rows sent in the running round so far.
    pub sent: usize,
    /// Changes applied in the running round so far.
    pub applied: usize,
    /// The last error, until a round succeeds.
    pub last_error: Option<String>,
    /// When the next attempt starts, after an error.
    pub retry_in: Option<Duration>,
}

/// Called with the progress after every change of it.
type ProgressObserver = Box<dyn Fn(&Progress) + Send + Sync>;

/// Talks to the registry for one clinic store.
pub struct Syncer {
    config: SyncConfig,
    agent: ureq::Agent,
    progress: Arc<Mutex<Progress>>,
    observer: Option<ProgressObserver>,
}

/// A page of changes, read for the store.
struct ReadPage {
    changes: Vec<ReadChange>,
    next_after: i64,
}

impl From<ChangePage> for ReadPage {
    fn from(page: ChangePage) -> Self {
        Self {
            changes: page.changes.into_iter().map(ReadChange::from).collect(),
            next_after: page.next_after,
        }
    }
}

/// The registry's answer to a page asked for, its body not read yet.
struct PageAnswer {
    response: ureq::http::Response<ureq::Body>,
    /// The cursor of the next page, when the registry links it.
    linked: Option<i64>,
}

impl PageAnswer {
    /// The page as it came. Without a link to the next page (the last page, or a registry
    /// that gives none) it is read here, since what comes next depends on it.
    fn fetched(self) -> Result<Fetched, SyncError> {
        let body = read_body(self.response)?;
        match self.linked {
            Some(next_after) => Ok(Fetched::Linked { body, next_after }),
            None => parse(&body).map(Fetched::Read),
        }
    }
}

/// A page as the fetching thread hands it on.
enum Fetched {
    /// Not read yet; the registry linked the page after it.
    Linked { body: Vec<u8>, next_after: i64 },
    /// Read already, to learn what comes after it.
    Read(ChangePage),
}

impl Fetched {
    /// The cursor to fetch with next, if more wait.
    fn next_after(&self, after: i64) -> Option<i64> {
        match self {
            Self::Linked { next_after, .. } => Some(*next_after),
            Self::Read(page) => (page.more && page.next_after > after).then_some(page.next_after),
        }
    }

    /// Read for the store. A page whose link promised another cursor than its own is
    /// refused: the page fetched by the link might leave changes out.
    fn read(self) -> Result<ReadPage, SyncError> {
        let page: ChangePage = match self {
            Self::Read(page) => page,
            Self::Linked { body, next_after } => {
                let page: ChangePage = parse(&body)?;
                if !page.more || page.next_after != next_after {
                    return Err(SyncError::BadAnswer(format!(
                        "the page links the changes after {next_after} as next, but ends at {}",
                        page.next_after
                    )));
                }
                page
            }
        };
        Ok(ReadPage::from(page))
    }
}

impl Syncer {
    /// A syncer for a registry; fails only when `ca_pem` holds no usable certificate.
    pub fn new(config: SyncConfig) -> Result<Self, SyncError> {
        refuse_plain_http_beyond_loopback(&config.registry)?;
        Ok(Self {
            agent: http_agent(config.timeout, config.ca_pem.as_deref())?,
            config,
            progress: Arc::new(Mutex::new(Progress::default())),
            observer: None,
        })
    }

    /// Calls `observer` with the progress each time it changes, so a UI can wake up
    /// instead of polling.
    pub fn observe(mut self, observer: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.observer = Some(Box::new(observer));
        self
    }

    /// The progress the UI polls.
    pub fn progress(&self) -> Arc<Mutex<Progress>> {
        Arc::clone(&self.progress)
    }

    fn update(&self, change: impl FnOnce(&mut Progress)) {
        let mut progress = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut progress);
        if let Some(observer) = &self.observer {
            observer(&progress);
        }
    }

    /// Sends the whole outbox, then pulls every new change. Records the outcome in the
    /// store's sync state.
    pub fn round(&self, store: &mut Store) -> Result<RoundReport, SyncError> {
        self.update(|p| {
            p.running = true;
            p.sent = 0;
            p.applied = 0;
        });
        let result = self.push_all(store).and_then(|mut report| {
            report.merges_told = self.tell_merges(store)?;
            (report.applied, report.skipped) = self.pull_all(store)?;
            report.linked_fetched = self.fetch_linked(store)?;
            report.receipted = self.hand_over_audit_head(store)?;
            Ok(report)
        });
        let error = result.as_ref().err().map(ToString::to_string);
        store.record_sync(error.as_deref())?;
        self.update(|p| {
            p.running = false;
            p.last_error = error;
        });
        result
    }

    fn push_all(&self, store: &mut Store) -> Result<RoundReport, SyncError> {
        let mut report = RoundReport::default();
        loop {
            let batch = store.outbox_batch(self.config.max_rows, self.config.max_bytes)?;
            if batch.is_empty() {
                return Ok(report);
            }
            let request = PushRequest {
                records: batch.into_iter().map(PushRecord::from).collect(),
            };
            let (response, bytes): (PushResponse, u64) = self.post_gzip("/v1/push", &request)?;
            report.bytes_sent += bytes;
            if response.results.len() != request.records.len() {
                return Err(SyncError::BadAnswer(format!(
                    "{} results for {} records",
                    response.results.len(),
                    request.records.len()
                )));
            }
            let mut settled = Vec::with_capacity(response.results.len());
            for (record, result) in request.records.iter().zip(response.results) {
                if result.id != record.id {
                    return Err(SyncError::BadAnswer("results out of order".into()));
                }
                settled.push((
                    result.id,
                    match result.outcome {
                        PushOutcome::Stored | PushOutcome::Duplicate => {
                            report.sent += 1;
                            Settlement::Sent
                        }
                        PushOutcome::Rejected { reason } => {
                            report.set_aside += 1;
                            Settlement::SetAside(reason)
                        }
                    },
                ));
            }
            store.settle_outbox(&settled)?;
            let sent = report.sent;
            self.update(|p| p.sent = sent);
        }
    }

    /// Pulls every page after the cursor and applies each with its cursor, on three
    /// threads: one fetches, one reads what was fetched, and this one applies. When the
    /// registry links the next page, it is asked for as soon as this one's head arrives,
    /// so the registry pages, this clinic reads and its store applies all at once, and a
    /// long backlog takes about as long as the slowest of the three, not their sum.
    fn pull_all(&self, store: &mut Store) -> Result<(usize, Vec<(i64, String)>), SyncError> {
        let start = store.pull_cursor()?;
        let (fetched_in, fetched) = std::sync::mpsc::sync_channel::<Result<Fetched, SyncError>>(1);
        let (pages_in, pages) = std::sync::mpsc::sync_channel::<Result<ReadPage, SyncError>>(1);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let mut after = start;
                let mut answer = self.ask_for_page(after);
                loop {
                    // The page the registry links is asked for on a connection of its own
                    // before this page's body is read, so the registry pages while this
                    // page travels: over a slow link the round trip and the transfer
                    // overlap instead of adding up.
                    let linked = answer.as_ref().ok().and_then(|a| a.linked);
                    let following = linked.map(|next_after| self.ask_for_page(next_after));
                    let page = answer.and_then(PageAnswer::fetched);
                    let next = page.as_ref().ok().and_then(|p| p.next_after(after));
                    // The reader stopped (an error): nothing more is wanted.
                    if fetched_in.send(page).is_err() {
                        return;
                    }
                    let Some(next_after) = next else {
                        return;
                    };
                    after = next_after;
                    answer = match following {
                        Some(following) => following,
                        None => self.ask_for_page(after),
                    };
                }
            });
            // Applied pages go back to the thread that read them, to be freed where they
            // were allocated: freed by the applier, each of their many allocations would
            // take the reader's allocator lock from under it.
            let (spent_in, spent) = std::sync::mpsc::channel::<ReadPage>();
            scope.spawn(move || {
                for page in fetched {
                    spent.try_iter().for_each(drop);
                    if pages_in.send(page.and_then(Fetched::read)).is_err() {
                        return;
                    }
                }
                // The applier stops once it has the last page.
                drop(pages_in);
                spent.iter().for_each(drop);
            });
            // Owned here, so an error below drops it and the reader's next send fails
            // instead of waiting for an applier that is gone.
            let pages = pages;
            store.with_background_checkpoints(|store, committed| {
                let mut applied = 0;
                let mut skipped = Vec::new();
                for page in &pages {
                    let page = page?;
                    let report = store.apply_read_changes(&page.changes, page.next_after)?;
                    committed.notify();
                    let _ = spent_in.send(page);
                    applied += report.applied;
                    skipped.extend(report.skipped);
                    self.update(|p| p.applied = applied);
                }
                Ok((applied, skipped))
            })?
        })
    }

    /// Asks for the page of changes after `after`; its body is read later.
    fn ask_for_page(&self, after: i64) -> Result<PageAnswer, SyncError> {
        let path = format!("/v1/changes?after={after}&limit={}", self.config.page);
        let response = self.send_get(&path)?;
        let linked = next_page_link(response.headers()).filter(|next| *next > after);
        Ok(PageAnswer { response, linked })
    }

    /// Hands the audit log's head to the registry and keeps its signed receipt. First the
    /// entry of the last receipt is handed over again as the log holds it now: a log
    /// rewritten since (however consistently) no longer matches, and the registry refuses
    /// it and says so. A registry that gives no receipts is no error.
    fn hand_over_audit_head(&self, store: &mut Store) -> Result<Option<i64>, SyncError> {
        let no_receipts = |e: &SyncError| matches!(e, SyncError::Refused { status, .. } if *status == 404 || *status == 501);
        let last: Option<AuditHead> = match self.get("/v1/audit-head") {
            Ok(last) => last,
            Err(e) if no_receipts(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        if let Some(last) = last {
            let now = store.audit_hash_at(last.seq)?.unwrap_or([0; 32]);
            let again = AuditHead {
                seq: last.seq,
                hash: hex::encode(now),
            };
            match self.post_json::<AuditReceipt>("/v1/audit-head", &again, true) {
                Ok(_) => {}
                Err(e) if no_receipts(&e) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        let Some((seq, hash)) = store.audit_head()? else {
            return Ok(None);
        };
        let head = AuditHead {
            seq,
            hash: hex::encode(hash),
        };
        let receipt: AuditReceipt = match self.post_json("/v1/audit-head", &head, true) {
            Ok(receipt) => receipt,
            Err(e) if no_receipts(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        if receipt.seq != seq || receipt.hash != head.hash {
            return Err(SyncError::BadAnswer(
                "the registry's receipt names another audit entry".into(),
            ));
        }
        store.keep_audit_receipt(&receipt)?;
        Ok(Some(seq))
    }

    /// At a tap, when online: asks the registry for everything about a patient, applies
    /// it (the pull cursor stays), and from then on the pulls carry the patient's changes.
    /// Another Puskesmas's patient is answered only with the card's proof of presence
    /// (`proof`); without one, only this Puskesmas's own.
    pub fn fetch_patient(
        &self,
        store: &mut Store,
        patient_number: &str,
        proof: Option<&PresenceProof>,
    ) -> Result<usize, SyncError> {
        if patient_number.is_empty() || !patient_number.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(SyncError::Invalid(format!(
                "\"{patient_number}\" is not a patient number"
            )));
        }
        let path = format!("/v1/patients/{patient_number}/history");
        let changes: Vec<kartika_protocol::Change> = match proof {
            Some(proof) => self.post_json(&path, proof, false)?,
            None => self.get(&path)?,
        };
        Ok(store.apply_changes(&changes, 0)?.applied)
    }

    /// Fetches the records links name that this store does not hold yet. A record the
    /// registry no longer shows this node (the link was undone meanwhile) waits for the
    /// pull that brings the undo.
    fn fetch_linked(&self, store: &mut Store) -> Result<usize, SyncError> {
        let mut fetched = 0;
        for number in store.linked_records_missing()? {
            match self.fetch_patient(store, &number, None) {
                Ok(_) => fetched += 1,
                Err(SyncError::Refused {
                    status: 403 | 404, ..
                }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(fetched)
    }

    /// Tells the registry of the merges made here and their undos, after the records they
    /// name were pushed: linked there, every node holding either record follows. A record
    /// the registry does not know yet waits for a later round; any other refusal is kept
    /// and not told again.
    fn tell_merges(&self, store: &mut Store) -> Result<usize, SyncError> {
        let mut told = 0;
        for merge in store.merges_to_tell()? {
            let answer = match &merge.undo {
                None => self
                    .propose_merge(&merge.survivor, &merge.retired)
                    .map(|p| MergeTold::Linked(p.id)),
                Some(proposal) => self
                    .decide_merge(proposal, MergeDecision::Undo)
                    .map(|_| MergeTold::Unlinked),
            };
            let outcome = match answer {
                Ok(outcome) => outcome,
                Err(SyncError::Refused { status: 404, .. }) => continue,
                Err(SyncError::Refused { status, message }) if status < 500 && status != 429 => {
                    MergeTold::Refused(message)
                }
                Err(e) => return Err(e),
            };
            store.record_merge_told(merge.merge, &outcome)?;
            told += 1;
        }
        Ok(told)
    }

    /// The pairs of records the registry flagged for this Puskesmas (one its own, one
    /// another's) and the merge proposals naming its records.
    pub fn merge_board(&self) -> Result<MergeBoard, SyncError> {
        self.get("/v1/merges")
    }

    /// Proposes to the other owner that `retired` (one record) and `survivor` are one
    /// person. Safe to send again: the same proposal is answered as it stands.
    pub fn propose_merge(&self, survivor: &str, retired: &str) -> Result<MergeProposal, SyncError> {
        let ask = ProposeMerge {
            survivor: survivor.trim().to_owned(),
            retired: retired.trim().to_owned(),
        };
        self.post_json("/v1/merges", &ask, true)
    }

    /// Accepts, declines or undoes a proposal. Safe to send again: a decision taken is
    /// answered as it stands. The link itself arrives with the next pull.
    pub fn decide_merge(
        &self,
        proposal: &str,
        decision: MergeDecision,
    ) -> Result<MergeProposal, SyncError> {
        let proposal = proposal.trim();
        let uuid_shaped =
            proposal.len() == 36 && proposal.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        if !uuid_shaped {
            return Err(SyncError::Invalid(format!(
                "\"{proposal}\" is not a proposal id (a UUID, as `kartika patient duplicates` lists it)"
            )));
        }
        let path = format!("/v1/merges/{proposal}/{}", decision.as_str());
        self.post_json(&path, &serde_json::json!({}), true)
    }

    fn post_gzip<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<(T, u64), SyncError> {
        let json = serde_json::to_vec(body).map_err(|e| SyncError::BadAnswer(e.to_string()))?;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder
            .write_all(&json)
            .and_then(|()| encoder.try_finish())
            .map_err(|e| SyncError::BadAnswer(e.to_string()))?;
        let gz = encoder.get_ref().clone();
        let bytes = gz.len() as u64;
        // A push is stored once by its change ids: safe to send again.
        let response = again_if_dropped(|| {
            self.agent
                .post(&format!("{}{path}", self.config.registry))
                .header("Authorization", &format!("Bearer {}", self.config.token))
                .header("Content-Type", "application/json")
                .header("Content-Encoding", "gzip")
                .send(&gz[..])
        })?;
        Ok((read_answer(response)?, bytes))
    }

    /// Posts `body`; when `repeatable`, once more on a dropped connection (see
    /// [`again_if_dropped`]). A proof of presence is not: the registry takes each once.
    fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
        repeatable: bool,
    ) -> Result<T, SyncError> {
        let json = serde_json::to_vec(body).map_err(|e| SyncError::BadAnswer(e.to_string()))?;
        let send = || {
            self.agent
                .post(&format!("{}{path}", self.config.registry))
                .header("Authorization", &format!("Bearer {}", self.config.token))
                .header("Content-Type", "application/json")
                .send(&json[..])
        };
        let response = match repeatable {
            true => again_if_dropped(send)?,
            false => send().map_err(|e| SyncError::Unreachable(e.to_string()))?,
        };
        read_answer(response)
    }

    fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, SyncError> {
        read_answer(self.send_get(path)?)
    }

    fn send_get(&self, path: &str) -> Result<ureq::http::Response<ureq::Body>, SyncError> {
        again_if_dropped(|| {
            self.agent
                .get(&format!("{}{path}", self.config.registry))
                .header("Authorization", &format!("Bearer {}", self.config.token))
                .call()
        })
    }

    /// Runs rounds until `stop` receives or disconnects: again after `interval` when a round
    /// succeeds, after an exponentially growing, jittered delay (1 s up to 5 min) when it
    /// fails for a reason that may pass.
    pub fn run(&self, store: &mut Store, interval: Duration, stop: &Receiver<()>) {
        let mut failures: u32 = 0;
        loop {
            let wait = match self.round(store) {
                Ok(report) => {
                    failures = 0;
                    tracing::info!(
                        target: "kartika::sync",
                        sent = report.sent,
                        set_aside = report.set_aside,
                        applied = report.applied,
                        skipped = report.skipped.len(),
                        bytes = report.bytes_sent,
                        "sync round"
                    );
                    interval
                }
                Err(error) if error.is_transient() => {
                    failures = failures.saturating_add(1);
                    let wait = backoff(failures);
                    tracing::warn!(target: "kartika::sync", failures, retry_in_s = wait.as_secs(), error = %cause_chain(&error), "sync round failed");
                    wait
                }
                Err(error) => {
                    tracing::error!(target: "kartika::sync", error = %cause_chain(&error), "sync round failed; it needs a person");
                    interval.max(Duration::from_secs(300))
                }
            };
            self.update(|p| p.retry_in = (failures > 0).then_some(wait));
            match stop.recv_timeout(wait) {
                Err(RecvTimeoutError::Timeout) => continue,
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// An error with every cause under it, `outer: inner: …`.
fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The node's token travels in every request: over plain HTTP it may go only to this
/// machine.
fn refuse_plain_http_beyond_loopback(registry: &str) -> Result<(), SyncError> {
    if plain_http_beyond_loopback(registry) {
        return Err(SyncError::Invalid(format!(
            "{registry} is plain http to another machine, which would send the node's token in the clear; use https"
        )));
    }
    Ok(())
}

/// Whether `url` is plain `http://` to another machine than this one: anything sent there
/// (a token, a password) crosses the network in the clear.
pub fn plain_http_beyond_loopback(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    !loopback
}

/// An HTTP client that hands every answer back (a refusal too, with its status), gives up
/// on a request after `timeout`, and trusts `ca_pem`'s certificates instead of the
/// system's roots when given.
pub fn http_agent(timeout: Duration, ca_pem: Option<&[u8]>) -> Result<ureq::Agent, SyncError> {
    let mut builder = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout));
    if let Some(pem) = ca_pem {
        let certs = pem_certificates(pem)?;
        builder = builder.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                .build(),
        );
    }
    Ok(builder.build().new_agent())
}

/// Every certificate in a PEM bundle.
pub fn pem_certificates(pem: &[u8]) -> Result<Vec<ureq::tls::Certificate<'static>>, SyncError> {
    let text = String::from_utf8_lossy(pem);
    let mut certs = Vec::new();
    for block in text.split_inclusive("-----END CERTIFICATE-----") {
        if block.contains("-----BEGIN CERTIFICATE-----") {
            let cert = ureq::tls::Certificate::from_pem(block.as_bytes()).map_err(|e| {
                SyncError::Invalid(format!("the CA file has a bad certificate: {e}"))
            })?;
            certs.push(cert);
        }
    }
    if certs.is_empty() {
        return Err(SyncError::Invalid(
            "the CA file holds no PEM certificate".into(),
        ));
    }
    Ok(certs)
}

/// Equal jitter: a random delay between half and all of 2^failures seconds, capped at five
/// minutes, so clinics coming back online at once do not all knock at the same moment.
pub fn backoff(failures: u32) -> Duration {
    let ceiling_ms = 1_000u64
        .saturating_mul(1u64 << failures.min(20))
        .min(300_000);
    Duration::from_millis(fastrand::u64(ceiling_ms / 2..=ceiling_ms))
}

/// Sends a request, and once more when the connection was dropped under it: a kept-alive
/// connection that the registry (or a proxy between) closed just as the request went out
/// looks open until the close arrives. Only for requests the registry may see twice.
fn again_if_dropped(
    send: impl Fn() -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<ureq::http::Response<ureq::Body>, SyncError> {
    let dropped = |e: &ureq::Error| {
        matches!(e, ureq::Error::Io(io) if matches!(
            io.kind(),
            std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe
        ))
    };
    match send() {
        Err(e) if dropped(&e) => send(),
        sent => sent,
    }
    .map_err(|e| SyncError::Unreachable(e.to_string()))
}

fn read_answer<T: serde::de::DeserializeOwned>(
    response: ureq::http::Response<ureq::Body>,
) -> Result<T, SyncError> {
    parse(&read_body(response)?)
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, SyncError> {
    serde_json::from_slice(body).map_err(|e| SyncError::BadAnswer(e.to_string()))
}

/// The body of a 200 answer; any other is the registry's refusal, with its message.
fn read_body(mut response: ureq::http::Response<ureq::Body>) -> Result<Vec<u8>, SyncError> {
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .map_err(|e| SyncError::Unreachable(e.to_string()))?;
    if status != 200 {
        let message = serde_json::from_slice::<ErrorBody>(&body)
            .map(|e| e.error)
            .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned());
        return Err(SyncError::Refused { status, message });
    }
    Ok(body)
}

/// The cursor of the next page from a `Link: </v1/changes?after=N&limit=L>; rel="next"`
/// header, if the answer has one that says so.
fn next_page_link(headers: &ureq::http::HeaderMap) -> Option<i64> {
    headers
        .get_all(ureq::http::header::LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find(|link| link.split(';').skip(1).any(|p| p.trim() == "rel=\"next\""))
        .and_then(|link| link.trim().strip_prefix('<')?.split_once('>'))
        .and_then(|(target, _)| target.split_once('?'))
        .and_then(|(_, query)| query.split('&').find_map(|p| p.strip_prefix("after=")))
        .and_then(|after| after.parse().ok())
}
