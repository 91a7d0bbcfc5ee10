//! The outside systems' senders (SATUSEHAT, BPJS): on a PC whose store is its own (a
//! standalone app), each store sender runs here, on its own thread and connection, and
//! tells the UI when a round ends so the counts on screen are read again. On a workstation
//! the server PC sends.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};

use super::Waker;

/// The UI's end of one sender; the sender stops when this is dropped.
pub struct OutsideWorker {
    rounds: Receiver<Option<String>>,
    nudge: Sender<()>,
}

/// A sender's service loop: the store's path, its stop (a message is a nudge), and what
/// hears each round's end (with why it paused, if it did).
type Serve = fn(&Path, &Receiver<()>, &mut dyn FnMut(Option<String>)) -> Result<(), String>;

impl OutsideWorker {
    /// SATUSEHAT's sender of the store at `path` (it waits, quietly, until SATUSEHAT is
    /// set up).
    pub fn satusehat(path: PathBuf, waker: Waker) -> Self {
        Self::start("satusehat-sender", path, waker, |path, stop, round| {
            let holder = kartika_satusehat::this_pc();
            kartika_satusehat::serve(path, &holder, stop, false, |served| {
                if let kartika_satusehat::Served::Round(drained) = served {
                    round(drained.paused.as_ref().map(|(_, why)| why.clone()));
                }
            })
            .map_err(|e| e.to_string())
        })
    }

    /// BPJS's sender of the store at `path` (it waits, quietly, until BPJS is set up).
    pub fn bpjs(path: PathBuf, waker: Waker) -> Self {
        Self::start("bpjs-sender", path, waker, |path, stop, round| {
            let holder = kartika_satusehat::this_pc();
            kartika_bpjs::serve(path, &holder, stop, false, |served| {
                if let kartika_bpjs::Served::Round(drained) = served {
                    round(drained.paused.as_ref().map(|(_, why)| why.clone()));
                }
            })
            .map_err(|e| e.to_string())
        })
    }

    fn start(name: &str, path: PathBuf, waker: Waker, serve: Serve) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let (rounds_out, rounds) = mpsc::channel();
        let _ = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let mut round = |why: Option<String>| {
                    let _ = rounds_out.send(why);
                    waker.wake();
                };
                if let Err(e) = serve(&path, &stopped, &mut round) {
                    round(Some(e));
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
