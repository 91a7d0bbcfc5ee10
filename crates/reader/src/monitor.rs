//! A thread that watches PC/SC for readers and cards coming and going, and survives pcscd
//! restarts by establishing a new context.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use pcsc::{Context, ReaderState, Scope, State, PNP_NOTIFICATION};

/// Something that happened to the readers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReaderEvent {
    /// A reader was plugged in (or seen for the first time).
    ReaderAdded(String),
    /// A reader was unplugged.
    ReaderRemoved(String),
    /// A card arrived in a reader.
    CardInserted {
        /// The reader.
        reader: String,
        /// The card's answer to reset.
        atr: Vec<u8>,
    },
    /// A card left a reader.
    CardRemoved {
        /// The reader.
        reader: String,
    },
    /// pcscd went away; the monitor keeps trying to reconnect.
    ServiceLost,
    /// pcscd is back and the monitor watches again.
    ServiceRestored,
}

/// How long one wait for a change lasts before the thread looks at its stop flag again;
/// normally a stop cancels the wait at once, this only bounds a cancel that came too early.
const WAIT_SLICE: Duration = Duration::from_secs(1);
/// Pauses between attempts to reach a pcscd that is not running: there is no event to
/// wait for until it starts.
const RECONNECT_BACKOFF: [Duration; 4] = [
    Duration::from_millis(50),
    Duration::from_millis(200),
    Duration::from_millis(500),
    Duration::from_secs(1),
];

/// Watches readers on its own thread and reports [`ReaderEvent`]s.
pub struct Monitor {
    events: Receiver<ReaderEvent>,
    stop: Arc<AtomicBool>,
    wake: Sender<()>,
    context: Arc<Mutex<Option<Context>>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Monitor")
    }
}

impl Monitor {
    /// Starts watching. Readers and cards already present are reported first.
    pub fn start() -> Self {
        let (events_tx, events) = mpsc::channel();
        let (wake, wake_rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let context = Arc::new(Mutex::new(None));
        let worker = Worker {
            events: events_tx,
            stop: Arc::clone(&stop),
            wake: wake_rx,
            context: Arc::clone(&context),
            readers: BTreeMap::new(),
        };
        let thread = std::thread::Builder::new()
            .name("reader-monitor".into())
            .spawn(move || worker.run())
            .ok();
        Self {
            events,
            stop,
            wake,
            context,
            thread,
        }
    }

    /// The events, in the order they happened.
    pub fn events(&self) -> &Receiver<ReaderEvent> {
        &self.events
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.wake.send(());
        if let Ok(guard) = self.context.lock() {
            if let Some(context) = guard.as_ref() {
                // Nothing to cancel is fine: the thread sees the flag within WAIT_SLICE.
                let _ = context.cancel();
            }
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Worker {
    events: Sender<ReaderEvent>,
    stop: Arc<AtomicBool>,
    wake: Receiver<()>,
    context: Arc<Mutex<Option<Context>>>,
    /// Known readers and whether a card is in each.
    readers: BTreeMap<String, bool>,
}

enum WatchEnd {
    Stopped,
    ServiceGone,
}

impl Worker {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn emit(&self, event: ReaderEvent) {
        // A dropped receiver means nobody listens any more; the stop flag ends the thread.
        let _ = self.events.send(event);
    }

    fn run(mut self) {
        let mut lost = false;
        let mut attempt = 0;
        while !self.stopped() {
            let context = match Context::establish(Scope::User) {
                Ok(context) => context,
                Err(_) => {
                    if !lost {
                        lost = true;
                        self.emit(ReaderEvent::ServiceLost);
                    }
                    let pause = RECONNECT_BACKOFF[attempt.min(RECONNECT_BACKOFF.len() - 1)];
                    attempt += 1;
                    match self.wake.recv_timeout(pause) {
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                        Err(RecvTimeoutError::Timeout) => continue,
                    }
                }
            };
            attempt = 0;
            if let Ok(mut slot) = self.context.lock() {
                *slot = Some(context.clone());
            }
            if lost {
                self.emit(ReaderEvent::ServiceRestored);
            }
            match self.watch(&context) {
                WatchEnd::Stopped => return,
                WatchEnd::ServiceGone => {
                    if let Ok(mut slot) = self.context.lock() {
                        *slot = None;
                    }
                    self.forget_all_readers();
                    lost = true;
                    self.emit(ReaderEvent::ServiceLost);
                }
            }
        }
    }

    fn forget_all_readers(&mut self) {
        for (name, present) in std::mem::take(&mut self.readers) {
            if present {
                self.emit(ReaderEvent::CardRemoved {
                    reader: name.clone(),
                });
            }
            self.emit(ReaderEvent::ReaderRemoved(name));
        }
    }

    /// Watches until stopped or until the context dies.
    fn watch(&mut self, context: &Context) -> WatchEnd {
        loop {
            if self.stopped() {
                return WatchEnd::Stopped;
            }
            let names = match context.list_readers_owned() {
                Ok(names) => names,
                Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
                Err(_) => return WatchEnd::ServiceGone,
            };
            self.sync_reader_list(&names);
            let mut states: Vec<ReaderState> =
                vec![ReaderState::new(PNP_NOTIFICATION(), State::UNAWARE)];
            states.extend(
                names
                    .iter()
                    .map(|name| ReaderState::new(name.clone(), State::UNAWARE)),
            );
            if let Some(end) = self.wait_for_changes(context, &mut states) {
                return end;
            }
        }
    }

    fn sync_reader_list(&mut self, names: &[CString]) {
        let current: Vec<String> = names
            .iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        let gone: Vec<String> = self
            .readers
            .keys()
            .filter(|k| !current.contains(k))
            .cloned()
            .collect();
        for name in gone {
            if self.readers.remove(&name) == Some(true) {
                self.emit(ReaderEvent::CardRemoved {
                    reader: name.clone(),
                });
            }
            self.emit(ReaderEvent::ReaderRemoved(name));
        }
        for name in current {
            if !self.readers.contains_key(&name) {
                self.readers.insert(name.clone(), false);
                self.emit(ReaderEvent::ReaderAdded(name));
            }
        }
    }

    /// Reports card changes until the reader list changes (`None`: list again), the
    /// monitor is stopped, or pcscd goes away.
    fn wait_for_changes(
        &mut self,
        context: &Context,
        states: &mut [ReaderState],
    ) -> Option<WatchEnd> {
        loop {
            if self.stopped() {
                return Some(WatchEnd::Stopped);
            }
            match context.get_status_change(WAIT_SLICE, states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => continue,
                Err(pcsc::Error::Cancelled) => continue,
                Err(pcsc::Error::UnknownReader) => return None,
                Err(_) => return Some(WatchEnd::ServiceGone),
            }
            let mut relist = false;
            for state in states.iter_mut() {
                let event = state.event_state();
                if !event.contains(State::CHANGED) {
                    continue;
                }
                let name = state.name().to_string_lossy().into_owned();
                // The PnP pseudo-reader changing, or a reader vanishing, means: list again.
                if state.name() == PNP_NOTIFICATION()
                    || event.intersects(State::UNKNOWN | State::UNAVAILABLE | State::IGNORE)
                {
                    relist = true;
                } else {
                    let present = event.contains(State::PRESENT) && !event.contains(State::MUTE);
                    self.report_card(&name, present, state.atr());
                }
                state.sync_current_state();
            }
            if relist {
                return None;
            }
        }
    }

    fn report_card(&mut self, reader: &str, present: bool, atr: &[u8]) {
        let was_present = self
            .readers
            .insert(reader.to_owned(), present)
            .unwrap_or(false);
        match (was_present, present) {
            (false, true) => self.emit(ReaderEvent::CardInserted {
                reader: reader.to_owned(),
                atr: atr.to_vec(),
            }),
            (true, false) => self.emit(ReaderEvent::CardRemoved {
                reader: reader.to_owned(),
            }),
            _ => {}
        }
    }
}
