//! The sync worker: runs the clinic's sync with the registry on its own connection to the
//! store, round after round with backoff, and reports its progress to the UI as it
//! changes. The store's sync health (pending, set aside, last success) is asked of the
//! clinic worker whenever a round ends.

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
}

impl SyncWorker {
    /// Starts syncing the store at `path` with the registry in `config`.
    pub fn start(path: PathBuf, config: SyncConfig, clock: Arc<dyn Clock>, waker: Waker) -> Self {
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
        }
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
