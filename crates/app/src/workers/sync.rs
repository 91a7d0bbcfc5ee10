//! The sync worker: runs the clinic's sync with the registry on its own connection to the
//! store, round after round with backoff, and reports its progress to the UI as it
//! changes. The store's sync health (pending, set aside, last success) is asked of the
//! clinic worker whenever a round ends.

use kartika_protocol::PresenceProof;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;

use kartika_store::{Clock, Store};
use kartika_sync::{Progress, SyncConfig, Syncer};

use super::Waker;

/// How often a healthy link syncs.
const INTERVAL: Duration = Duration::from_secs(30);

/// The UI's end of the sync worker; the worker stops when this is dropped.
pub struct SyncWorker {
    progress: Receiver<Progress>,
    _stop: Sender<()>,
    link: Link,
    fetched: (Sender<Fetched>, Receiver<Fetched>),
}

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
        }
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

fn failed(error: String) -> Progress {
    Progress {
        last_error: Some(error),
        ..Progress::default()
    }
}
