//! What the senders to outside systems (SATUSEHAT, BPJS) share: one shape of round, one
//! retry delay, and one service loop. Each system's sender keeps its own queue in the
//! store and its own requests; this loop drains it, waits out each pause the link asks
//! for, looks again when idle or nudged, and gives the sender's turn back when stopped.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use kartika_store::{Store, StoreError};

/// The longest pause between tries at an outside system.
pub const MOST_DELAY: Duration = Duration::from_secs(300);

/// How often an idle sender looks for work, and a sender not set up for a set-up: a query
/// on the store, no traffic to the outside system.
pub const IDLE_LOOK: Duration = Duration::from_secs(5);

/// How long after the `attempt`th failed try the next comes: min(300 s, attempt² × 30 s),
/// less up to a fifth at random so Puskesmas coming back at once do not knock together.
pub fn retry_delay(attempt: i64) -> Duration {
    let attempt = u64::try_from(attempt.max(1)).unwrap_or(u64::MAX);
    let ceiling =
        Duration::from_secs(attempt.saturating_mul(attempt).saturating_mul(30)).min(MOST_DELAY);
    let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(fastrand::u64(ms.saturating_mul(4) / 5..=ms))
}

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drained {
    /// Now at the outside system.
    pub sent: usize,
    /// Waiting for something they need (a NIK, a unit's code).
    pub waiting: usize,
    /// Refused by the outside system.
    pub refused: usize,
    /// Set when the round stopped because the link failed: how long to pause, and why.
    pub paused: Option<(Duration, String)>,
}

/// What [`serve`] reports.
#[derive(Debug)]
pub enum Served<'a> {
    /// After each item of a round.
    Progress(&'a Drained),
    /// A round ended: idle, or paused (and why).
    Round(&'a Drained),
}

/// One outside system's sender, as [`serve`] runs it.
pub trait OutsideSender: Sized {
    /// Why it cannot go on.
    type Error: std::fmt::Display + From<StoreError>;
    /// Its name in the log ("SATUSEHAT", "BPJS").
    const SYSTEM: &'static str;
    /// The sender of the store at `store_path`, as set up, holding the turn as `holder`.
    fn open(store: &mut Store, store_path: &Path, holder: &str) -> Result<Self, Self::Error>;
    /// Reads the set-up again: an admin may have mended it.
    fn reload(&mut self, store: &mut Store, store_path: &Path) -> Result<(), Self::Error>;
    /// Sends what is due until nothing is or the link fails.
    fn drain(
        &mut self,
        store: &mut Store,
        progress: &mut dyn FnMut(&Drained),
    ) -> Result<Drained, Self::Error>;
    /// Gives the sender's turn back.
    fn finish(&mut self, store: &mut Store) -> Result<(), Self::Error>;
    /// Whether `error` says the system is not set up yet.
    fn is_not_set_up(error: &Self::Error) -> bool;
    /// Whether `error` says another PC holds the sender's turn.
    fn is_another_sender(error: &Self::Error) -> bool;
}

/// The sender `S` of the store at `store_path` as a service (the server PC's serve-clinic,
/// a standalone app, a `send` command): drains, waits out each pause, looks again when
/// idle or nudged through `stop` (a message is a nudge), and ends when `stop`'s other end
/// is dropped. With `until_idle`, ends once nothing is due. `report` hears each round.
pub fn serve<S: OutsideSender>(
    store_path: &Path,
    holder: &str,
    stop: &Receiver<()>,
    until_idle: bool,
    mut report: impl FnMut(Served<'_>),
) -> Result<(), S::Error> {
    let mut store = Store::open(store_path)?;
    let stopped =
        |wait: Duration| matches!(stop.recv_timeout(wait), Err(RecvTimeoutError::Disconnected));
    let mut sender = loop {
        match S::open(&mut store, store_path, holder) {
            Ok(sender) => break sender,
            Err(e) if S::is_not_set_up(&e) && !until_idle => {
                if stopped(IDLE_LOOK) {
                    return Ok(());
                }
            }
            Err(e) => return Err(e),
        }
    };
    let outcome = loop {
        if let Err(e) = sender.reload(&mut store, store_path) {
            break Err(e);
        }
        let drained = match sender.drain(&mut store, &mut |d| report(Served::Progress(d))) {
            Ok(drained) => drained,
            // Another PC sends now; this one takes over if that one stops.
            Err(e) if S::is_another_sender(&e) && !until_idle => {
                if stopped(IDLE_LOOK) {
                    break Ok(());
                }
                continue;
            }
            Err(e) => break Err(e),
        };
        log_round(S::SYSTEM, &drained);
        report(Served::Round(&drained));
        let wait = match &drained.paused {
            Some((pause, _)) => *pause,
            None if until_idle => break Ok(()),
            None => IDLE_LOOK,
        };
        if stopped(wait) {
            break Ok(());
        }
    };
    sender.finish(&mut store)?;
    outcome
}

fn log_round(system: &str, drained: &Drained) {
    match &drained.paused {
        Some((pause, why)) => tracing::warn!(
            target: "kartika::outside",
            system,
            sent = drained.sent,
            waiting = drained.waiting,
            refused = drained.refused,
            retry_in_s = pause.as_secs(),
            why = %why,
            "round paused"
        ),
        None if drained.sent + drained.waiting + drained.refused > 0 => tracing::info!(
            target: "kartika::outside",
            system,
            sent = drained.sent,
            waiting = drained.waiting,
            refused = drained.refused,
            "round"
        ),
        None => {}
    }
}
