//! The clinic worker of a workstation: the store is on the Puskesmas's server PC, and
//! every request goes there through a [`kartika_lan::Client`]. Views cannot tell: the
//! answers are the same, and "changed elsewhere" news comes from the server's stream.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kartika_lan::{Answer, Client, LanError, Operation, PuskesmasLink};

use kartika_store::{Clock, ServiceUnit};

use super::clinic::{ClinicReply, ClinicRequest, NEWS};
use super::offline::Offline;
use crate::problem::Problem;

/// How often a workstation knocks again at a server that did not answer.
const KNOCK_AGAIN: Duration = Duration::from_secs(2);

/// Where a workstation's store is.
#[derive(Clone, Debug)]
pub enum ServerLink {
    /// A server by its URL, trusting these certificates (PEM) when given: a server with a
    /// certificate of its own, or plain HTTP on this PC.
    Url {
        /// For example `https://192.168.1.10:7443`.
        url: String,
        /// The certificates the server's must chain to.
        ca_pem: Option<Vec<u8>>,
    },
    /// A workstation set up with `kartika workstation join`: the Puskesmas's CA pinned,
    /// and its own certificate; its folder keeps what it did while the server was away.
    Puskesmas {
        /// The link.
        link: PuskesmasLink,
        /// The workstation's folder.
        folder: PathBuf,
    },
}

impl ServerLink {
    /// A client of the server.
    pub fn client(&self) -> Result<Client, LanError> {
        match self {
            Self::Url { url, ca_pem } => Client::new(url, ca_pem.as_deref()),
            Self::Puskesmas { link, .. } => Client::puskesmas(link),
        }
    }
}

/// What the worker knows to keep working while the server is away.
struct Away {
    /// The records kept for the server (a workstation with an emergency series only).
    offline: Option<Offline>,
    /// Who is logged in: the records they kept go out under their login only.
    username: Option<String>,
    units: Vec<ServiceUnit>,
    zone: time::UtcOffset,
    clock: Arc<dyn Clock>,
}

impl Away {
    fn remember(&mut self, answer: &Answer) {
        if let Answer::Opened { profile, units } = answer {
            self.units = units.clone();
            self.zone = crate::app::zone_offset(profile.zone);
        }
    }
}

/// The token of the session on the server; `None` when nobody is logged in or the worker
/// is stopping (the news stream of an older login then ends).
type CurrentToken = Mutex<Option<String>>;

/// Answers requests through the server until the UI goes.
pub(super) fn serve(
    link: &ServerLink,
    clock: Arc<dyn Clock>,
    inbox: &Receiver<(u64, ClinicRequest)>,
    send: &(dyn Fn(ClinicReply) + Sync),
) {
    let mut away = Away {
        offline: match link {
            ServerLink::Puskesmas { link, folder } => link
                .emergency_series
                .zip(link.identity.as_ref())
                .map(|(series, (key_pem, _))| Offline::open(folder, series, key_pem.as_bytes())),
            ServerLink::Url { .. } => None,
        },
        username: None,
        units: Vec::new(),
        zone: time::UtcOffset::UTC,
        clock,
    };
    let client = match link.client() {
        Ok(client) => client,
        Err(e) => {
            return send(ClinicReply {
                id: 0,
                answer: Err(Problem::from(e)),
            })
        }
    };
    let token: CurrentToken = Mutex::new(None);
    // Set by the change stream while the server does not answer: a desk's tap then goes
    // straight to this PC's records instead of waiting seconds for the server first.
    let server_away = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let opened = client
            .facility()
            .map(|(profile, units)| Answer::Opened { profile, units });
        let mut reachable = opened.is_ok();
        if let Ok(opened) = &opened {
            away.remember(opened);
        }
        send(ClinicReply {
            id: 0,
            answer: opened.map_err(Problem::from),
        });
        loop {
            let waiting = away.offline.as_ref().is_some_and(|o| o.waiting() > 0);
            let wait = if reachable && !waiting {
                Duration::MAX
            } else {
                KNOCK_AGAIN
            };
            match inbox.recv_timeout(wait) {
                Ok((id, ClinicRequest::LogIn { username, password })) => {
                    let answer = client.login(&username, &password).map(|logged_in| {
                        set(&token, Some(logged_in.token.clone()));
                        away.username = Some(logged_in.session.username().to_owned());
                        let client = client.clone();
                        let (token, server_away) = (&token, &server_away);
                        scope.spawn(move || {
                            follow_changes(&client, &logged_in.token, token, server_away, send)
                        });
                        Answer::LoggedIn(logged_in.session)
                    });
                    send(ClinicReply {
                        id,
                        answer: answer.map_err(Problem::from),
                    });
                }
                // BPJS may take its two seconds: on a thread of its own, so the desk's
                // other requests (the registration) go on meanwhile.
                Ok((
                    id,
                    ClinicRequest::Store {
                        operation: operation @ Operation::BpjsMember { .. },
                        ..
                    },
                )) => {
                    let token_now = current(&token);
                    let client = client.clone();
                    scope.spawn(move || {
                        let answer = match token_now {
                            Some(token) => client.call(&token, operation).map_err(Problem::from),
                            None => Err(Problem::SessionEnded),
                        };
                        send(ClinicReply { id, answer });
                    });
                }
                Ok((id, request)) => {
                    let token_now = current(&token);
                    if matches!(request, ClinicRequest::LogOut) {
                        // The news stream of this login ends with it.
                        set(&token, None);
                        away.username = None;
                    }
                    send(ClinicReply {
                        id,
                        answer: answer(
                            &client,
                            token_now,
                            request,
                            server_away.load(Ordering::SeqCst),
                            &mut away,
                        ),
                    });
                }
                Err(RecvTimeoutError::Timeout) if !reachable => {
                    // Started while the server was away: the login screen comes when it
                    // answers.
                    if let Ok((profile, units)) = client.facility() {
                        reachable = true;
                        let opened = Answer::Opened { profile, units };
                        away.remember(&opened);
                        send(ClinicReply {
                            id: NEWS,
                            answer: Ok(opened),
                        });
                    }
                }
                // Records kept while the server was away go as soon as it answers.
                Err(RecvTimeoutError::Timeout) => {
                    if let (Some(token), Some(username), Some(offline)) = (
                        current(&token),
                        away.username.clone(),
                        away.offline.as_mut(),
                    ) {
                        if let Some(news) = send_kept(offline, &client, &token, &username) {
                            send(ClinicReply {
                                id: NEWS,
                                answer: news,
                            });
                        }
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        if let Some(token) = current(&token) {
            // Best effort: an unanswered logout ends on the server when it sits idle.
            let _ = client.logout(&token);
        }
        set(&token, None);
    });
}

/// Sends the records kept while the server was away; the news for the screens, if any:
/// changed (they were sent) or what the server refused of them.
fn send_kept(
    offline: &mut Offline,
    client: &Client,
    token: &str,
    username: &str,
) -> Option<Result<Answer, Problem>> {
    if offline.waiting() == 0 {
        return None;
    }
    match offline.send(client, token, username) {
        Ok(refused) if refused.is_empty() => Some(Ok(Answer::ChangedElsewhere)),
        Ok(refused) => Some(Err(Problem::KeptRecordsRefused(
            refused
                .iter()
                .map(|r| r.refusal.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        ))),
        // Still away: the next knock tries again.
        Err(_) => None,
    }
}

fn answer(
    client: &Client,
    token: Option<String>,
    request: ClinicRequest,
    known_away: bool,
    away: &mut Away,
) -> Result<Answer, Problem> {
    match request {
        ClinicRequest::Store { operation, session } => {
            let token = token.ok_or(Problem::SessionEnded)?;
            let username = session.username().to_owned();
            if known_away && away.offline.is_some() {
                if let Some(kept) = keep_while_away(away, &username, operation.clone()) {
                    return kept;
                }
            }
            // What was kept goes first: a visit after the tap that admitted its patient.
            let kept_first = match away.offline.as_mut() {
                Some(offline) if offline.waiting() > 0 => {
                    offline.send(client, &token, &username).map(drop)
                }
                _ => Ok(()),
            };
            let answered = match kept_first {
                Ok(()) => client.call(&token, operation.clone()),
                Err(e) => Err(e),
            };
            match answered {
                Err(LanError::Unreachable { server, .. }) => {
                    keep_while_away(away, &username, operation)
                        .unwrap_or(Err(Problem::ServerUnreachable(server)))
                }
                other => Ok(other?),
            }
        }
        ClinicRequest::SyncHealth => {
            let token = token.ok_or(Problem::SessionEnded)?;
            match client.call(&token, Operation::SyncHealth)? {
                Answer::SyncHealth(health) => Ok(Answer::SyncHealth(health)),
                other => Err(Problem::from(LanError::BadAnswer(format!("{other:?}")))),
            }
        }
        ClinicRequest::LogOut => {
            if let Some(token) = token {
                // Best effort: a session not logged out ends when it sits idle.
                let _ = client.logout(&token);
            }
            Ok(Answer::LoggedOut)
        }
        // The server PC backs its store up; a workstation has nothing to plan.
        ClinicRequest::BackupPlan(_) => Ok(Answer::BackupPlanSet),
        ClinicRequest::LogIn { .. } => Err(Problem::SessionEnded),
        ClinicRequest::SetUp { .. }
        | ClinicRequest::VerifyAudit
        | ClinicRequest::Backup { .. }
        | ClinicRequest::Restore { .. } => Err(Problem::OnlyOnServer),
    }
}

/// An operation done while the server is away, when this workstation may: the desk's tap
/// and registration (an emergency ticket), the poli's records (kept, said so). `None` for
/// what needs the server.
fn keep_while_away(
    away: &mut Away,
    username: &str,
    operation: Operation,
) -> Option<Result<Answer, Problem>> {
    let offline = away.offline.as_mut()?;
    let cannot_keep = |e: std::io::Error| Problem::FileNotSaved(e.to_string());
    Some(match operation {
        Operation::AdmitCard { tap, proof } => offline
            .admit(username, tap, proof)
            .map(|(outcome, desk)| Answer::Admitted {
                outcome,
                desk: Some(desk),
            })
            .map_err(cannot_keep),
        Operation::RegisterVisit { visit } => {
            let unit = away
                .units
                .iter()
                .find(|u| u.code == visit.unit_code)?
                .clone();
            let now = away.clock.now();
            let today = kartika_card::model::format_iso_date(now.to_offset(away.zone).date());
            offline
                .register(username, visit, &unit, &today, now)
                .map(Answer::Registered)
                .map_err(cannot_keep)
        }
        operation @ (Operation::SaveExamination { .. }
        | Operation::AddDiagnosis { .. }
        | Operation::RemoveDiagnosis { .. }
        | Operation::EndVisit { .. }) => match offline.keep(username, operation) {
            Ok(()) => Err(Problem::KeptOffline),
            Err(e) => Err(cannot_keep(e)),
        },
        _ => return None,
    })
}

/// Follows the server's stream of changes for one login: "changed elsewhere" when the
/// store moved, the server's absence when it stops answering, until the login ends.
fn follow_changes(
    client: &Client,
    my_token: &str,
    token: &CurrentToken,
    server_away: &AtomicBool,
    send: &(dyn Fn(ClinicReply) + Sync),
) {
    let mut version = None;
    let mut away = false;
    while current(token).as_deref() == Some(my_token) {
        match client.next_change(my_token, version.unwrap_or(u64::MAX)) {
            Ok(now) => {
                // A workstation back from an absence re-reads, as after any change.
                if away || version.is_some_and(|seen| seen != now) {
                    send(ClinicReply {
                        id: NEWS,
                        answer: Ok(Answer::ChangedElsewhere),
                    });
                }
                away = false;
                server_away.store(false, Ordering::SeqCst);
                version = Some(now);
            }
            // The login or this Kartika is no longer good there: the screen says so once.
            Err(
                e @ (LanError::SessionEnded
                | LanError::NeedsUpdate(_)
                | LanError::NotApproved(_)
                | LanError::OldServer { .. }),
            ) => {
                send(ClinicReply {
                    id: NEWS,
                    answer: Err(Problem::from(e)),
                });
                return;
            }
            // Anything else (refused, cut, a server stopping halfway through an answer):
            // the server is away until it answers again.
            Err(_) => {
                server_away.store(true, Ordering::SeqCst);
                if !away {
                    away = true;
                    send(ClinicReply {
                        id: NEWS,
                        answer: Err(Problem::ServerUnreachable(client.server().to_owned())),
                    });
                }
                std::thread::sleep(KNOCK_AGAIN);
            }
        }
    }
}

fn current(token: &CurrentToken) -> Option<String> {
    token.lock().map(|t| t.clone()).unwrap_or_default()
}

fn set(token: &CurrentToken, value: Option<String>) {
    if let Ok(mut held) = token.lock() {
        *held = value;
    }
}
