//! The BPJS worker: on a PC whose store is its own, each patient at the desk with a BPJS
//! number is checked with P-Care here, off the UI thread, within two seconds; what BPJS
//! said is kept for the day, so a second tap asks nobody. The desk registers meanwhile:
//! BPJS never makes it wait. Nothing happens until BPJS is set up (`kartika bpjs setup`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;

use kartika_bpjs::MemberCheck;

use super::Waker;

/// What the desk shows of a member's BPJS status.
#[derive(Clone, Debug, PartialEq)]
pub enum BpjsLine {
    /// Asked; no answer yet.
    Checking,
    /// An active member, registered at this FKTP unless `elsewhere` names another.
    Active {
        /// Another FKTP's name, when the member is registered there.
        elsewhere: Option<String>,
        /// Arrears, in rupiah, when any.
        arrears: Option<f64>,
    },
    /// The membership is not active, in BPJS's words.
    Inactive(String),
    /// BPJS knows no such member.
    NotMember,
    /// BPJS did not answer in time, or could not be asked: why (for the log).
    Unchecked(String),
    /// BPJS is not set up on this PC: nothing to say.
    NotSetUp,
}

struct Ask {
    card: String,
    nik: Option<String>,
    day: String,
    /// Who asks: the look is audited (who asked about whom) as the server's and the
    /// command line's are.
    session: kartika_store::Session,
}

/// The UI's end of the worker; it stops when this is dropped.
pub struct BpjsWorker {
    asks: Sender<Ask>,
    answers: Receiver<(String, BpjsLine)>,
    /// Whether BPJS is set up, as the worker last found: the desk keeps a row for the
    /// answer from the tap on, so nothing moves under the clerk's mouse when it comes.
    set_up: Arc<AtomicBool>,
}

impl BpjsWorker {
    /// Starts the worker for the store at `store` (BPJS's set-up lies beside it).
    pub fn start(store: PathBuf, waker: Waker) -> Self {
        let (asks, asked) = mpsc::channel::<Ask>();
        let (answer, answers) = mpsc::channel();
        let set_up = Arc::new(AtomicBool::new(false));
        let found_set_up = Arc::clone(&set_up);
        let _ = std::thread::Builder::new()
            .name("bpjs-check".into())
            .spawn(move || {
                found_set_up.store(is_set_up(&store), Ordering::Relaxed);
                let mut kept: HashMap<String, (String, BpjsLine)> = HashMap::new();
                // Opened at the first look that reaches BPJS: the audit's connection.
                let mut audit: Option<kartika_store::Store> = None;
                for ask in asked {
                    let line = match kept.get(&ask.card) {
                        Some((day, line)) if *day == ask.day => line.clone(),
                        _ => {
                            let line = check(&store, &ask);
                            if line != BpjsLine::NotSetUp {
                                note_look(&mut audit, &store, &ask);
                            }
                            // The check read the set-up: what it found is the news.
                            found_set_up.store(line != BpjsLine::NotSetUp, Ordering::Relaxed);
                            // BPJS's answer holds for the day; not having one does not.
                            if !matches!(line, BpjsLine::Unchecked(_) | BpjsLine::NotSetUp) {
                                kept.insert(ask.card.clone(), (ask.day.clone(), line.clone()));
                            }
                            line
                        }
                    };
                    if answer.send((ask.card, line)).is_err() {
                        return;
                    }
                    waker.wake();
                }
            });
        Self {
            asks,
            answers,
            set_up,
        }
    }

    /// Whether BPJS is set up on this PC, as the worker last looked.
    pub fn is_set_up(&self) -> bool {
        self.set_up.load(Ordering::Relaxed)
    }

    /// Asks about the member with BPJS card `card` (and `nik`, when BPJS does not know the
    /// card) on `day`, the facility's today.
    pub fn check(
        &self,
        card: &str,
        nik: Option<&str>,
        day: &str,
        session: &kartika_store::Session,
    ) {
        let _ = self.asks.send(Ask {
            card: card.to_owned(),
            nik: nik.map(str::to_owned),
            day: day.to_owned(),
            session: session.clone(),
        });
    }

    /// The answers since the last frame, by card number.
    pub fn answers(&self) -> impl Iterator<Item = (String, BpjsLine)> + '_ {
        self.answers.try_iter()
    }
}

fn is_set_up(store: &Path) -> bool {
    matches!(kartika_bpjs::settings::load(store), Ok(Some(_)))
}

/// Writes a look's audit entry (a store that cannot be written to is said in the log:
/// the desk still gets its answer).
fn note_look(audit: &mut Option<kartika_store::Store>, store: &Path, ask: &Ask) {
    if audit.is_none() {
        *audit = kartika_store::Store::open(store).ok();
    }
    let noted = match audit.as_mut() {
        Some(audit) => kartika_lan::operation::note_member_check(audit, &ask.session, &ask.card)
            .map_err(|e| e.to_string()),
        None => Err("the store cannot be opened".into()),
    };
    if let Err(e) = noted {
        tracing::warn!(target: "kartika::bpjs", "the member check was not audited: {e}");
    }
}

fn check(store: &Path, ask: &Ask) -> BpjsLine {
    BpjsLine::from(kartika_bpjs::check_member(
        store,
        &ask.card,
        ask.nik.as_deref(),
        kartika_bpjs::CHECK_BUDGET,
    ))
}

impl From<MemberCheck> for BpjsLine {
    fn from(check: MemberCheck) -> Self {
        match check {
            MemberCheck::Active { elsewhere, arrears } => Self::Active { elsewhere, arrears },
            MemberCheck::Inactive(why) => Self::Inactive(why),
            MemberCheck::NotMember => Self::NotMember,
            MemberCheck::Unchecked(why) => Self::Unchecked(why),
            MemberCheck::NotSetUp => Self::NotSetUp,
        }
    }
}
