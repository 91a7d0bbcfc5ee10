//! The SATUSEHAT worker: on a PC whose store is its own (a standalone app), the store's
//! sender runs here, on its own connection, and tells the UI when a round ends so the
//! counts on screen are read again. On a workstation the server PC sends.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};

use super::Waker;

/// The UI's end of the worker; the sender stops when this is dropped.
pub struct SatusehatWorker {
    rounds: Receiver<Option<String>>,
    nudge: Sender<()>,
}

impl SatusehatWorker {
    /// Starts the sender of the store at `path` (it waits, quietly, until SATUSEHAT is set
    /// up).
    pub fn start(path: PathBuf, waker: Waker) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let (rounds_out, rounds) = mpsc::channel();
        let _ = std::thread::Builder::new()
            .name("satusehat-sender".into())
            .spawn(move || {
                let holder = kartika_satusehat::this_pc();
                let served = kartika_satusehat::serve(&path, &holder, &stopped, false, |served| {
                    if let kartika_satusehat::Served::Round(drained) = served {
                        let why = drained.paused.as_ref().map(|(_, why)| why.clone());
                        let _ = rounds_out.send(why);
                        waker.wake();
                    }
                });
                if let Err(e) = served {
                    let _ = rounds_out.send(Some(e.to_string()));
                    waker.wake();
                }
            });
        Self {
            rounds,
            nudge: stop,
        }
    }

    /// Tells the sender to look now (a visit ended, refused visits are to go again).
    pub fn nudge(&self) {
        let _ = self.nudge.send(());
    }

    /// The rounds ended since the last frame: each with why it paused, if it did.
    pub fn rounds(&self) -> impl Iterator<Item = Option<String>> + '_ {
        self.rounds.try_iter()
    }
}
