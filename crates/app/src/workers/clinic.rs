//! The clinic worker: the one owner of the clinic store in this app. Every store call of
//! every view is a [`ClinicRequest`] answered on this thread, so the UI never waits on
//! SQLite or argon2, and the LAN mode (several workstations sharing one Puskesmas's store)
//! can replace this worker without touching the views.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;

use kartika_card::crypto::TrustAnchors;
use kartika_store::{Clock, FacilityProfile, NewStaff, Session, Store, StoreError};

pub use kartika_lan::{
    Answer as ClinicAnswer, CardChange, FacilityChange, Operation, PoliVisit, ReportKind,
    ReportQuery, StaffChange, VisitEnd,
};

use super::Waker;
use crate::problem::Problem;
use crate::workstation::{self, RegistryLink};

/// How often the daily backup runs.
const DAILY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);
/// How long a failed daily backup waits before trying again.
const BACKUP_RETRY: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// How often the worker, while idle, looks whether someone else wrote to the store.
const CHANGES_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// The id of a reply nobody asked for: news that the store changed elsewhere.
pub const NEWS: u64 = u64::MAX;

/// A question for the clinic store.
#[derive(Debug)]
pub enum ClinicRequest {
    /// and, unless it runs standalone, the registry link.
    SetUp {
        /// The facility.
        profile: FacilityProfile,
        /// The first admin.
        admin: NewStaff,
        /// The registry, or `None` to run standalone.
        registry: Option<RegistryLink>,
    },
    /// Checks a username and password.
    LogIn {
        /// Login name.
        username: String,
        /// Password.
        password: String,
    },
    /// Pending, set aside, last success and last error of sync.
    SyncHealth,
    /// The audit chain's check.
    VerifyAudit,
    /// A dated backup into a folder, keeping the newest `keep`.
    Backup {
        /// The folder.
        folder: PathBuf,
        /// How many to keep.
        keep: usize,
    },
    /// Where and how often this workstation backs up; `None` for no daily backup.
    BackupPlan(Option<(PathBuf, usize)>),
    /// Restores a backup in place of the store (the store is closed, replaced, opened).
    Restore {
        /// The copy.
        from: PathBuf,
    },
    /// The person at the workstation logged out.
    LogOut,
    /// An operation of the store, as the logged-in account.
    Store {
        /// Who asks.
        session: Session,
        /// What is asked.
        operation: Operation,
    },
}

/// An answer with the id of the request it answers.
#[derive(Debug)]
pub struct ClinicReply {
    /// The request's id.
    pub id: u64,
    /// The answer, or why there is none.
    /// Failures are turned into words for the screen here, once.
    pub answer: Result<ClinicAnswer, Problem>,
}

/// The UI's end of the clinic worker.
pub struct ClinicWorker {
    requests: Sender<(u64, ClinicRequest)>,
    replies: Receiver<ClinicReply>,
    next_id: u64,
}

impl ClinicWorker {
    /// Starts the worker on the store at `path`. Its first reply (id 0) says whether the
    /// store is open or must be set up.
    pub fn start(path: PathBuf, clock: Arc<dyn Clock>, trust: TrustAnchors, waker: Waker) -> Self {
        Self::spawn(waker, move |inbox, send| {
            let mut worker = Worker {
                path,
                clock,
                trust,
                store: None,
                backup_plan: None,
                backup_retry_at: None,
            };
            send(ClinicReply {
                id: 0,
                answer: worker.open().map_err(Problem::from),
            });
            let mut seen_version = worker.data_version();
            loop {
                match inbox.recv_timeout(CHANGES_POLL) {
                    Ok((id, request)) => send(ClinicReply {
                        id,
                        answer: worker.answer(request),
                    }),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if let Some(answer) = worker.daily_backup() {
                            send(ClinicReply { id: NEWS, answer });
                        }
                        let version = worker.data_version();
                        if version != seen_version {
                            seen_version = version;
                            send(ClinicReply {
                                id: NEWS,
                                answer: Ok(ClinicAnswer::ChangedElsewhere),
                            });
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
        })
    }

    /// Starts the worker on the Puskesmas's server instead of a store on this PC. Its first
    /// reply (id 0) says whether the server answered.
    pub fn start_remote(
        server: super::remote::ServerLink,
        clock: Arc<dyn Clock>,
        waker: Waker,
    ) -> Self {
        Self::spawn(waker, move |inbox, send| {
            super::remote::serve(&server, clock, &inbox, send);
        })
    }

    /// Runs `work` on the worker's thread with its inbox and a way to answer.
    fn spawn(
        waker: Waker,
        work: impl FnOnce(Receiver<(u64, ClinicRequest)>, &(dyn Fn(ClinicReply) + Sync))
            + Send
            + 'static,
    ) -> Self {
        let (requests, inbox) = mpsc::channel::<(u64, ClinicRequest)>();
        let (outbox, replies) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("clinic-worker".into())
            .spawn(move || {
                let outbox = std::sync::Mutex::new(outbox);
                let send = |reply: ClinicReply| {
                    // The UI has gone: nothing is left to answer.
                    if let Ok(outbox) = outbox.lock() {
                        let _ = outbox.send(reply);
                    }
                    waker.wake();
                };
                work(inbox, &send);
            });
        if let Err(e) = spawned {
            // Without a thread there is no store: say so as the first reply.
            let (outbox, dead) = mpsc::channel();
            let _ = outbox.send(ClinicReply {
                id: 0,
                answer: Err(Problem::StoreFailed(format!(
                    "cannot start the clinic worker: {e}"
                ))),
            });
            return Self {
                requests: mpsc::channel().0,
                replies: dead,
                next_id: 1,
            };
        }
        Self {
            requests,
            replies,
            next_id: 1,
        }
    }

    /// Sends a request; its reply will carry the returned id.
    pub fn send(&mut self, request: ClinicRequest) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        // A dead worker answers nothing; the view keeps waiting with its spinner and the
        // first reply has already said why.
        let _ = self.requests.send((id, request));
        id
    }

    /// Replies that have arrived, without waiting.
    pub fn replies(&self) -> impl Iterator<Item = ClinicReply> + '_ {
        self.replies.try_iter()
    }
}

struct Worker {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    /// The registry roots: the audit check verifies the registry's receipts with them.
    trust: TrustAnchors,
    store: Option<Store>,
    /// The daily backup's folder and how many copies it keeps.
    backup_plan: Option<(PathBuf, usize)>,
    /// After a failed daily backup (the USB stick is out), when to try again.
    backup_retry_at: Option<std::time::Instant>,
}

impl Worker {
    fn open(&mut self) -> Result<ClinicAnswer, StoreError> {
        if !self.path.exists() {
            return Ok(ClinicAnswer::NeedsSetUp);
        }
        let store = Store::open_with_clock(&self.path, Arc::clone(&self.clock))?;
        let answer = kartika_lan::opened(&store)?;
        self.store = Some(store);
        Ok(answer)
    }

    /// Makes the store with its first admin under a staging name and moves it into place
    /// only when both are written: a refused admin or a power cut halfway leaves no store
    /// without an account, and the set-up can simply be tried again.
    fn create_store(&self, profile: &FacilityProfile, admin: &NewStaff) -> Result<Store, Problem> {
        let staging = self.path.with_extension("setup");
        let remove_staging = || {
            for suffix in ["", "-wal", "-shm"] {
                let mut name = staging.clone().into_os_string();
                name.push(suffix);
                // Absent is what we want.
                let _ = std::fs::remove_file(name);
            }
        };
        remove_staging();
        let made = Store::create_with_clock(&staging, profile, Arc::clone(&self.clock))
            .and_then(|mut store| store.add_first_admin(admin).map(drop));
        if let Err(e) = made {
            remove_staging();
            return Err(e.into());
        }
        std::fs::rename(&staging, &self.path)
            .map_err(|e| Problem::FileNotSaved(format!("{}: {e}", self.path.display())))?;
        Ok(Store::open_with_clock(&self.path, Arc::clone(&self.clock))?)
    }

    /// The daily backup, when one is planned and the newest copy in its folder is a day
    /// old or more.
    fn daily_backup(&mut self) -> Option<Result<ClinicAnswer, Problem>> {
        let (folder, keep) = self.backup_plan.clone()?;
        if self
            .backup_retry_at
            .is_some_and(|at| at > std::time::Instant::now())
        {
            return None;
        }
        let store = self.store.as_ref()?;
        let code = store.facility().code;
        let newest = kartika_store::backups_in(&folder, &code)
            .ok()?
            .iter()
            .filter_map(|p| p.metadata().and_then(|m| m.modified()).ok())
            .max();
        let due = newest
            .and_then(|at| at.elapsed().ok())
            .is_none_or(|age| age >= DAILY);
        if !due {
            return None;
        }
        let made = store.backup_into(&folder, keep);
        self.backup_retry_at = made
            .is_err()
            .then(|| std::time::Instant::now() + BACKUP_RETRY);
        Some(made.map(ClinicAnswer::BackedUp).map_err(Problem::from))
    }

    /// The store's data version, or `None` while there is no store.
    fn data_version(&self) -> Option<i64> {
        self.store.as_ref().and_then(|s| s.data_version().ok())
    }

    fn store(&mut self) -> Result<&mut Store, StoreError> {
        self.store.as_mut().ok_or_else(|| StoreError::Missing {
            path: self.path.display().to_string(),
        })
    }

    fn answer(&mut self, request: ClinicRequest) -> Result<ClinicAnswer, Problem> {
        match request {
            ClinicRequest::SetUp {
                profile,
                admin,
                registry,
            } => {
                let store = self.create_store(&profile, &admin)?;
                let folder = self.path.parent().unwrap_or(Path::new("."));
                let cannot =
                    |e: std::io::Error| Problem::FileNotSaved(format!("{}: {e}", folder.display()));
                let node_public_key = workstation::ensure_node_key(folder).map_err(cannot)?;
                if let Some(link) = &registry {
                    workstation::save_registry(folder, link).map_err(cannot)?;
                }
                let answer = ClinicAnswer::SetUpDone {
                    profile: store.facility(),
                    units: store.service_units()?,
                    node_public_key,
                    registry,
                };
                self.store = Some(store);
                Ok(answer)
            }
            ClinicRequest::LogIn { username, password } => Ok(ClinicAnswer::LoggedIn(
                self.store()?.login(&username, &password)?,
            )),
            ClinicRequest::SyncHealth => Ok(ClinicAnswer::SyncHealth(self.store()?.sync_health()?)),
            ClinicRequest::VerifyAudit => {
                let trust = self.trust.clone();
                Ok(ClinicAnswer::AuditVerdict(
                    self.store()?.verify_audit_with(Some(&trust))?,
                ))
            }
            ClinicRequest::Backup { folder, keep } => Ok(ClinicAnswer::BackedUp(
                self.store()?.backup_into(&folder, keep)?,
            )),
            ClinicRequest::BackupPlan(plan) => {
                self.backup_plan = plan;
                Ok(ClinicAnswer::BackupPlanSet)
            }
            ClinicRequest::Restore { from } => {
                // No connection of this worker may stay open on the file being replaced.
                self.store = None;
                let restored = Store::restore(&from, &self.path);
                let reopened = Store::open_with_clock(&self.path, Arc::clone(&self.clock));
                self.store = reopened.ok();
                Ok(ClinicAnswer::Restored(restored?))
            }
            ClinicRequest::LogOut => Ok(ClinicAnswer::LoggedOut),
            ClinicRequest::Store { session, operation } => Ok(kartika_lan::apply(
                self.store()?,
                &session,
                operation,
                None,
            )?),
        }
    }
}
