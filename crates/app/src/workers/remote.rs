//! The clinic worker of a workstation: the store is on the Puskesmas's server PC, and
//! every request goes there through a [`kartika_lan::Client`]. Views cannot tell: the
//! answers are the same, and "changed elsewhere" news comes from the server's stream.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

use kartika_lan::{Answer, Client, LanError, Operation, PuskesmasLink};

use super::clinic::{ClinicReply, ClinicRequest, NEWS};
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
    /// and its own certificate.
    Puskesmas(PuskesmasLink),
}

/// The token of the session on the server; `None` when nobody is logged in or the worker
/// is stopping (the news stream of an older login then ends).
type CurrentToken = Mutex<Option<String>>;

/// Answers requests through the server until the UI goes.
pub(super) fn serve(
    link: &ServerLink,
    inbox: &Receiver<(u64, ClinicRequest)>,
    send: &(dyn Fn(ClinicReply) + Sync),
) {
    let client = match link {
        ServerLink::Url { url, ca_pem } => Client::new(url, ca_pem.as_deref()),
        ServerLink::Puskesmas(link) => Client::puskesmas(link),
    };
    let client = match client {
        Ok(client) => client,
        Err(e) => {
            return send(ClinicReply {
                id: 0,
                answer: Err(Problem::from(e)),
            })
        }
    };
    let token: CurrentToken = Mutex::new(None);
    std::thread::scope(|scope| {
        let opened = client
            .facility()
            .map(|(profile, units)| Answer::Opened { profile, units });
        let mut reachable = opened.is_ok();
        send(ClinicReply {
            id: 0,
            answer: opened.map_err(Problem::from),
        });
        loop {
            let wait = if reachable {
                Duration::MAX
            } else {
                KNOCK_AGAIN
            };
            match inbox.recv_timeout(wait) {
                Ok((id, ClinicRequest::LogIn { username, password })) => {
                    let answer = client.login(&username, &password).map(|logged_in| {
                        set(&token, Some(logged_in.token.clone()));
                        let client = client.clone();
                        let token = &token;
                        scope.spawn(move || follow_changes(&client, &logged_in.token, token, send));
                        Answer::LoggedIn(logged_in.session)
                    });
                    send(ClinicReply {
                        id,
                        answer: answer.map_err(Problem::from),
                    });
                }
                Ok((id, request)) => {
                    let token_now = current(&token);
                    if matches!(request, ClinicRequest::LogOut) {
                        // The news stream of this login ends with it.
                        set(&token, None);
                    }
                    send(ClinicReply {
                        id,
                        answer: answer(&client, token_now, request),
                    });
                }
                // Started while the server was away: the login screen comes when it answers.
                Err(RecvTimeoutError::Timeout) => {
                    if let Ok((profile, units)) = client.facility() {
                        reachable = true;
                        send(ClinicReply {
                            id: NEWS,
                            answer: Ok(Answer::Opened { profile, units }),
                        });
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

fn answer(
    client: &Client,
    token: Option<String>,
    request: ClinicRequest,
) -> Result<Answer, Problem> {
    match request {
        ClinicRequest::Store { operation, .. } => {
            let token = token.ok_or(Problem::SessionEnded)?;
            Ok(client.call(&token, operation)?)
        }
        ClinicRequest::SyncHealth => {
            let token = token.ok_or(Problem::SessionEnded)?;
            match client.call(&token, Operation::SyncDetails { resend: Vec::new() })? {
                Answer::SyncDetails(health, _) => Ok(Answer::SyncHealth(health)),
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

/// Follows the server's stream of changes for one login: "changed elsewhere" when the
/// store moved, the server's absence when it stops answering, until the login ends.
fn follow_changes(
    client: &Client,
    my_token: &str,
    token: &CurrentToken,
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
