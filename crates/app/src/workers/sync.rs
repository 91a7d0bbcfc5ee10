//! The sync worker: runs the clinic's sync with the registry on its own connection to the
//! store, round after round with backoff, and reports its progress to the UI as it
//! changes. The store's sync health (pending, set aside, last success) is asked of the
//! clinic worker whenever a round ends.

use kartika_protocol::PresenceProof;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;

use kartika_store::{Clock, Session, Store};
use kartika_sync::{MergeBoard, MergeDecision, Progress, SyncConfig, SyncError, Syncer};

use super::Waker;

/// How often a healthy link syncs.
const INTERVAL: Duration = Duration::from_secs(30);

/// The UI's end of the sync worker; the worker stops when this is dropped.
pub struct SyncWorker {
    progress: Receiver<Progress>,
    _stop: Sender<()>,
    link: Link,
    fetched: (Sender<Fetched>, Receiver<Fetched>),
    boards: (Sender<Board>, Receiver<Board>),
}

/// What the admin asks the registry about records of one person at two Puskesmas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryAsk {
    /// The flagged pairs and the proposals, as they stand.
    Look,
    /// "One person, `survivor` stands for both."
    Propose {
        /// The record that stands for both.
        survivor: String,
        /// The record linked into it.
        retired: String,
    },
    /// Accept, decline or undo a proposal.
    Decide {
        /// The proposal's id.
        proposal: String,
        /// What is decided.
        decision: MergeDecision,
    },
}

/// The registry's board after an ask, or why it could not be had.
pub type Board = Result<MergeBoard, String>;

/// What fetching a patient from the registry needs, for a thread of its own.
#[derive(Clone)]
struct Link {
    path: PathBuf,
    config: SyncConfig,
    clock: Arc<dyn Clock>,
    waker: Waker,
}

/// A patient fetched from the registry: how many changes arrived, or why none did.
pub type Fetched = (String, Result<usize, String>);

impl SyncWorker {
    /// Starts syncing the store at `path` with the registry in `config`.
    pub fn start(path: PathBuf, config: SyncConfig, clock: Arc<dyn Clock>, waker: Waker) -> Self {
        let link = Link {
            path: path.clone(),
            config: config.clone(),
            clock: Arc::clone(&clock),
            waker: waker.clone(),
        };
        let (stop, stopped) = mpsc::channel::<()>();
        let (outbox, progress) = mpsc::channel();
        let _ = std::thread::Builder::new()
            .name("sync-worker".into())
            .spawn(move || {
                let report = |p: Progress| {
                    let _ = outbox.send(p);
                    waker.wake();
                };
                let syncer = match Syncer::new(config) {
                    Ok(syncer) => syncer,
                    Err(e) => return report(failed(e.to_string())),
                };
                let mut store = match Store::open_with_clock(&path, clock) {
                    Ok(store) => store,
                    Err(e) => return report(failed(e.to_string())),
                };
                let sender = outbox.clone();
                let waker_for_observer = waker.clone();
                let syncer = syncer.observe(move |p| {
                    let _ = sender.send(p.clone());
                    waker_for_observer.wake();
                });
                syncer.run(&mut store, INTERVAL, &stopped);
            });
        Self {
            progress,
            _stop: stop,
            link,
            fetched: mpsc::channel(),
            boards: mpsc::channel(),
        }
    }

    /// Asks the registry on a thread of its own, as `session` (an admin: checked and
    /// audited in the store first), then runs a round so that an accepted or undone link is
    /// followed here at once, and reports the board through [`Self::boards`].
    pub fn registry_merges(&self, session: Session, ask: RegistryAsk) {
        let link = self.link.clone();
        let done = self.boards.0.clone();
        let _ = std::thread::Builder::new()
            .name("registry-merges".into())
            .spawn(move || {
                let board = ask_registry(&link, &session, &ask).map_err(|e| e.to_string());
                let _ = done.send(board);
                link.waker.wake();
            });
    }

    /// Boards the registry answered since the last frame.
    pub fn boards(&self) -> impl Iterator<Item = Board> + '_ {
        self.boards.1.try_iter()
    }

    /// While a patient's card is present: asks the registry for everything about them, on
    /// a thread of its own, and reports through [`Self::fetched`]. Offline, it fails
    /// quietly: the history shows what the store already has.
    pub fn fetch_patient(&self, patient_number: String, proof: Option<PresenceProof>) {
        let link = self.link.clone();
        let done = self.fetched.0.clone();
        let _ = std::thread::Builder::new()
            .name("registry-fetch".into())
            .spawn(move || {
                let outcome = Syncer::new(link.config)
                    .map_err(|e| e.to_string())
                    .and_then(|syncer| {
                        let mut store = Store::open_with_clock(&link.path, link.clock)
                            .map_err(|e| e.to_string())?;
                        syncer
                            .fetch_patient(&mut store, &patient_number, proof.as_ref())
                            .map_err(|e| e.to_string())
                    });
                let _ = done.send((patient_number, outcome));
                link.waker.wake();
            });
    }

    /// Patients fetched since the last frame.
    pub fn fetched(&self) -> impl Iterator<Item = Fetched> + '_ {
        self.fetched.1.try_iter()
    }

    /// Progress reports that have arrived, without waiting.
    pub fn progress(&self) -> impl Iterator<Item = Progress> + '_ {
        self.progress.try_iter()
    }
}

fn ask_registry(
    link: &Link,
    session: &Session,
    ask: &RegistryAsk,
) -> Result<MergeBoard, SyncError> {
    let syncer = Syncer::new(link.config.clone())?;
    let mut store = Store::open_with_clock(&link.path, Arc::clone(&link.clock))?;
    store.check_may_merge(session)?;
    let changed = match ask {
        RegistryAsk::Look => None,
        RegistryAsk::Propose { survivor, retired } => {
            Some(("proposed", syncer.propose_merge(survivor, retired)?))
        }
        RegistryAsk::Decide { proposal, decision } => {
            Some((decision.done(), syncer.decide_merge(proposal, *decision)?))
        }
    };
    if let Some((did, proposal)) = &changed {
        store.audit_registry_merge(session, did, proposal)?;
    }
    syncer.round(&mut store)?;
    syncer.merge_board()
}

fn failed(error: String) -> Progress {
    Progress {
        last_error: Some(error),
        ..Progress::default()
    }
}
