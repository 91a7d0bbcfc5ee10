//! The clinic worker: the one owner of the clinic store in this app. Every store call of
//! every view is a [`ClinicRequest`] answered on this thread, so the UI never waits on
//! SQLite or argon2, and the LAN mode (several workstations sharing one Puskesmas's store)
//! can replace this worker without touching the views.

use kartika_protocol::PresenceProof;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;

use kartika_card::crypto::TrustAnchors;
use kartika_card::model::Identity;
use kartika_store::{
    Clock, DeskPatient, FacilityProfile, NewPatient, NewStaff, NewVisit, PatientCreated,
    PatientQuery, PatientSummary, ServiceUnit, Session, Store, StoreError, SyncHealth, TapOutcome,
    UnitQueue, VisitTicket,
};

use kartika_report::Report;
use kartika_store::{
    AuditEntry, AuditFilter, AuditReport, BackupReport, Card, Patient, RestoreReport, SetAside,
    StaffMember,
};
use kartika_store::{
    DiagnosisRank, Examination, PatientHistory, QueueEntry, VisitDetail, VisitStatus,
};
use kartika_store::{ReportFilter, ReportPeriod};

use super::Waker;
use crate::problem::Problem;
use crate::workstation::{self, RegistryLink};

/// How often the daily backup runs.
const DAILY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);
/// How long a failed daily backup waits before trying again.
const BACKUP_RETRY: std::time::Duration = std::time::Duration::from_secs(60 * 60);
/// How many years a new card is valid.
const CARD_YEARS: u8 = 5;
/// The most audit entries a search shows.
const AUDIT_ROWS: usize = 500;
/// The most set-aside records listed.
const SET_ASIDE_ROWS: usize = 200;

/// How often the worker, while idle, looks whether someone else wrote to the store.
const CHANGES_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// The id of a reply nobody asked for: news that the store changed elsewhere.
pub const NEWS: u64 = u64::MAX;

/// A question for the clinic store.
#[derive(Debug)]
pub enum ClinicRequest {
    /// Creates the store on first run, with its first admin, this workstation's node key
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
    /// A verified card at the desk: refuses revoked cards, finds or registers the patient.
    AdmitCard {
        /// Who is at the desk.
        session: Session,
        /// What the card says.
        identity: Box<Identity>,
        /// The card's proof of presence, kept for the registry when the patient is
        /// another Puskesmas's.
        proof: Option<PresenceProof>,
    },
    /// A patient at the desk, as after a tap.
    DeskPatient {
        /// Who asks.
        session: Session,
        /// The patient.
        patient_number: String,
    },
    /// The desk's search without a card.
    Search {
        /// Who asks.
        session: Session,
        /// What was typed.
        queries: Vec<PatientQuery>,
    },
    /// A new patient typed at the desk.
    CreatePatient {
        /// Who registers.
        session: Session,
        /// The details.
        patient: Box<NewPatient>,
    },
    /// Opens a visit and hands out a queue number.
    RegisterVisit {
        /// Who registers.
        session: Session,
        /// The visit.
        visit: NewVisit,
    },
    /// Today's queue counted per unit.
    QueueCounts {
        /// Who asks.
        session: Session,
    },
    /// Pending, set aside, last success and last error of sync.
    SyncHealth,
    /// A unit's queue of today.
    UnitQueue {
        /// Who asks.
        session: Session,
        /// The unit.
        unit_code: String,
    },
    /// Calls the unit's next waiting patient and opens the visit.
    CallNext {
        /// The examiner.
        session: Session,
        /// The unit.
        unit_code: String,
    },
    /// Opens a visit from the queue, calling the patient in when still waiting.
    OpenVisit {
        /// The examiner.
        session: Session,
        /// The visit.
        visit_id: String,
        /// Its patient.
        patient_number: String,
    },
    /// A verified card in the poli's reader: refused, or whose it is.
    CardAtPoli {
        /// Who is at the poli.
        session: Session,
        /// What the card says.
        identity: Box<Identity>,
    },
    /// Adds a diagnosis to the open visit.
    AddDiagnosis {
        /// The examiner.
        session: Session,
        /// The visit.
        visit_id: String,
        /// ICD-10 code.
        code: String,
        /// Primary or secondary.
        rank: DiagnosisRank,
    },
    /// Removes a diagnosis recorded in error.
    RemoveDiagnosis {
        /// The examiner.
        session: Session,
        /// The visit.
        visit_id: String,
        /// ICD-10 code.
        code: String,
    },
    /// Saves vitals, complaint and notes.
    SaveExamination {
        /// The examiner.
        session: Session,
        /// The visit.
        visit_id: String,
        /// What was recorded.
        exam: Box<Examination>,
    },
    /// Saves the examination, then finishes, refers or cancels the visit. When the
    /// examination is refused the visit does not end.
    EndVisit {
        /// The examiner.
        session: Session,
        /// The visit.
        visit_id: String,
        /// What was recorded, when the form is open.
        exam: Option<Box<Examination>>,
        /// How it ends.
        end: VisitEnd,
    },
    /// A patient's whole history again (after the registry sent more).
    History {
        /// Who asks.
        session: Session,
        /// The patient.
        patient_number: String,
    },
    /// A patient and their cards, for the admin.
    PatientCards {
        /// The admin.
        session: Session,
        /// The patient.
        patient_number: String,
    },
    /// What a new card for the patient will carry.
    NewCardIdentity {
        /// The admin.
        session: Session,
        /// The patient.
        patient_number: String,
        /// The card it will replace.
        replacing: Option<String>,
    },
    /// A card change: recording an issued card, blocking, unblocking, terminating.
    ChangeCard {
        /// The admin.
        session: Session,
        /// The patient, whose cards come back.
        patient_number: String,
        /// What to do.
        change: CardChange,
    },
    /// The accounts, after a change when one is given.
    Staff {
        /// The admin.
        session: Session,
        /// The change, if any.
        change: Option<StaffChange>,
    },
    /// Audit entries matching a filter.
    AuditSearch {
        /// The admin.
        session: Session,
        /// Which entries.
        filter: AuditFilter,
    },
    /// The audit chain's check.
    VerifyAudit,
    /// Sync health and the set-aside records, after sending some again when given.
    SyncDetails {
        /// The admin.
        session: Session,
        /// Set-aside records to send again.
        resend: Vec<String>,
    },
    /// Changes the facility's profile, or adds a unit.
    ChangeFacility {
        /// The admin.
        session: Session,
        /// What to change.
        change: FacilityChange,
    },
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
    /// One of the monthly reports.
    Report {
        /// Who asks.
        session: Session,
        /// Which report, over which days, narrowed how.
        query: ReportQuery,
    },
}

/// What the admin does to a patient's cards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardChange {
    /// The card was issued and reads genuine: record it (replacing one, when given).
    Issued {
        /// The new card.
        card_number: String,
        /// The card it replaces.
        replacing: Option<String>,
    },
    /// Lost or stolen.
    Block {
        /// The card.
        card_number: String,
        /// Why.
        reason: String,
    },
    /// Found again.
    Unblock {
        /// The card.
        card_number: String,
        /// Why.
        reason: String,
    },
    /// Returned and terminated.
    Terminate {
        /// The card.
        card_number: String,
        /// Why.
        reason: String,
    },
    /// Its PIN was reset at this terminal.
    PinReset {
        /// The card.
        card_number: String,
    },
}

/// What the admin does to an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaffChange {
    /// A new account.
    Add(NewStaff),
    /// Disable it.
    Disable(String),
    /// Enable it again.
    Enable(String),
    /// A new password.
    Password(String, String),
    /// Another role.
    Role(String, kartika_store::Role),
}

/// What the admin changes about the facility.
#[derive(Clone, Debug)]
pub enum FacilityChange {
    /// Name, catchment and zone.
    Profile(FacilityProfile),
    /// A new service unit.
    AddUnit(ServiceUnit),
}

/// How a visit ends at the poli.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VisitEnd {
    /// Selesai.
    Finish,
    /// Dirujuk, to this place.
    Refer(String),
    /// Batal: left before being called.
    Cancel,
}

/// A visit open at the poli, with its patient's whole history.
#[derive(Clone, Debug)]
pub struct PoliVisit {
    /// The visit.
    pub visit: VisitDetail,
    /// The patient, cards and every visit, here and elsewhere.
    pub history: PatientHistory,
    /// Open duplicate flags that involve the patient.
    pub duplicates: Vec<kartika_store::PossibleDuplicate>,
}

/// Which report is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportQuery {
    /// The report.
    pub kind: ReportKind,
    /// Its days (the daily report takes the first).
    pub period: ReportPeriod,
    /// Unit and new cases.
    pub filter: ReportFilter,
}

/// The reports the Laporan view shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportKind {
    /// LB1.
    Lb1,
    /// The visit recap.
    Visits,
    /// The ten most common diagnoses.
    Top10,
    /// The day's report.
    Daily,
}

/// What the store answered.
#[derive(Debug)]
pub enum ClinicAnswer {
    /// The store is open: its facility and units.
    Opened {
        /// The facility.
        profile: FacilityProfile,
        /// Its service units.
        units: Vec<ServiceUnit>,
    },
    /// There is no store yet: the first-run set-up must make one.
    NeedsSetUp,
    /// The first-run set-up made the store, the node key and the registry link.
    SetUpDone {
        /// The facility.
        profile: FacilityProfile,
        /// Its service units.
        units: Vec<ServiceUnit>,
        /// The node's public key file, for the registry's operator.
        node_public_key: PathBuf,
        /// The registry link, unless standalone.
        registry: Option<RegistryLink>,
    },
    /// A login succeeded.
    LoggedIn(Session),
    /// A tap's outcome, and the patient at a glance when the card was accepted.
    Admitted {
        /// The store's decision.
        outcome: TapOutcome,
        /// The patient, unless the card was refused.
        desk: Option<Box<DeskPatient>>,
    },
    /// A patient at the desk.
    Desk(Box<DeskPatient>),
    /// Search results.
    Found(Vec<PatientSummary>),
    /// A patient was registered.
    Created {
        /// The patient and the warnings.
        created: Box<PatientCreated>,
        /// The patient at a glance.
        desk: Box<DeskPatient>,
    },
    /// A visit was opened.
    Registered(VisitTicket),
    /// Today's counts.
    QueueCounts(Vec<UnitQueue>),
    /// Sync health.
    SyncHealth(SyncHealth),
    /// A report.
    Report(Box<Report>),
    /// A unit's queue of today.
    UnitQueue(Vec<QueueEntry>),
    /// A visit is open at the poli.
    VisitOpened(Box<PoliVisit>),
    /// "Panggil berikutnya" found nobody waiting.
    NobodyWaiting,
    /// What the store says of the card in the poli's reader.
    CardAtPoli(Box<TapOutcome>),
    /// The open visit after a change.
    VisitChanged(Box<VisitDetail>),
    /// The visit ended (finished, referred or cancelled).
    VisitEnded(Box<VisitDetail>),
    /// A patient's history, read again.
    History(Box<PatientHistory>),
    /// Another window, workstation or the sync worker wrote to the store: what is on screen
    /// may be old.
    ChangedElsewhere,
    /// A patient and their cards.
    PatientCards(Box<Patient>, Vec<Card>),
    /// A new card's identity.
    CardIdentity(Box<Identity>),
    /// The accounts.
    Staff(Vec<StaffMember>),
    /// Audit entries.
    Audit(Vec<AuditEntry>),
    /// The audit chain's verdict.
    AuditVerdict(AuditReport),
    /// Sync health and set-aside records.
    SyncDetails(SyncHealth, Vec<SetAside>),
    /// The facility after a change.
    FacilityChanged(FacilityProfile, Vec<ServiceUnit>),
    /// A backup was made.
    BackedUp(BackupReport),
    /// A backup was restored.
    Restored(RestoreReport),
    /// The daily backup plan is taken.
    BackupPlanSet,
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
        let (requests, inbox) = mpsc::channel::<(u64, ClinicRequest)>();
        let (outbox, replies) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("clinic-worker".into())
            .spawn(move || {
                let mut worker = Worker {
                    path,
                    clock,
                    trust,
                    store: None,
                    backup_plan: None,
                    backup_retry_at: None,
                };
                let send = |reply: ClinicReply| {
                    // The UI has gone: nothing is left to answer.
                    let _ = outbox.send(reply);
                    waker.wake();
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
        let answer = opened(&store)?;
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
            ClinicRequest::AdmitCard {
                session,
                identity,
                proof,
            } => {
                let store = self.store()?;
                let outcome = store.admit_card(&session, &identity)?;
                let desk = match &outcome {
                    TapOutcome::Known { patient, .. }
                    | TapOutcome::RegisteredFromCard { patient, .. } => {
                        if let Some(proof) = &proof {
                            store.note_presence(&session, proof)?;
                        }
                        Some(Box::new(
                            store.desk_patient(&session, &patient.patient_number)?,
                        ))
                    }
                    TapOutcome::Refused { .. } => None,
                };
                Ok(ClinicAnswer::Admitted { outcome, desk })
            }
            ClinicRequest::DeskPatient {
                session,
                patient_number,
            } => Ok(ClinicAnswer::Desk(Box::new(
                self.store()?.desk_patient(&session, &patient_number)?,
            ))),
            ClinicRequest::Search { session, queries } => {
                let store = self.store()?;
                let mut found: Vec<PatientSummary> = Vec::new();
                for query in &queries {
                    for hit in store.search_patients(&session, query)? {
                        if !found.iter().any(|f| f.patient_number == hit.patient_number) {
                            found.push(hit);
                        }
                    }
                }
                Ok(ClinicAnswer::Found(found))
            }
            ClinicRequest::CreatePatient { session, patient } => {
                let store = self.store()?;
                let created = store.create_patient(&session, &patient)?;
                let desk = store.desk_patient(&session, &created.patient.patient_number)?;
                Ok(ClinicAnswer::Created {
                    created: Box::new(created),
                    desk: Box::new(desk),
                })
            }
            ClinicRequest::RegisterVisit { session, visit } => Ok(ClinicAnswer::Registered(
                self.store()?.register_visit(&session, &visit)?,
            )),
            ClinicRequest::QueueCounts { session } => Ok(ClinicAnswer::QueueCounts(
                self.store()?.queue_counts(&session)?,
            )),
            ClinicRequest::SyncHealth => Ok(ClinicAnswer::SyncHealth(self.store()?.sync_health()?)),
            ClinicRequest::UnitQueue { session, unit_code } => Ok(ClinicAnswer::UnitQueue(
                self.store()?.queue_for_unit(&session, &unit_code, None)?,
            )),
            ClinicRequest::CallNext { session, unit_code } => {
                let store = self.store()?;
                match store.call_next(&session, &unit_code)? {
                    Some(visit) => poli_visit(store, &session, visit),
                    None => Ok(ClinicAnswer::NobodyWaiting),
                }
            }
            ClinicRequest::OpenVisit {
                session,
                visit_id,
                patient_number,
            } => {
                let store = self.store()?;
                let mut history = store.patient_history(&session, &patient_number)?;
                let at = history
                    .visits
                    .iter()
                    .position(|v| v.visit_id == visit_id)
                    .ok_or(Problem::NotFound)?;
                // Opening a waiting visit calls the patient in; the history already read
                // takes the called visit's place.
                if history.visits[at].status == VisitStatus::Waiting {
                    history.visits[at] =
                        store.set_visit_status(&session, &visit_id, VisitStatus::InProgress)?;
                }
                let visit = history.visits[at].clone();
                with_duplicates(store, &session, visit, history)
            }
            ClinicRequest::CardAtPoli { session, identity } => Ok(ClinicAnswer::CardAtPoli(
                Box::new(self.store()?.card_at_poli(&session, &identity)?),
            )),
            ClinicRequest::AddDiagnosis {
                session,
                visit_id,
                code,
                rank,
            } => Ok(ClinicAnswer::VisitChanged(Box::new(
                self.store()?
                    .add_diagnosis(&session, &visit_id, &code, rank)?,
            ))),
            ClinicRequest::RemoveDiagnosis {
                session,
                visit_id,
                code,
            } => Ok(ClinicAnswer::VisitChanged(Box::new(
                self.store()?.remove_diagnosis(&session, &visit_id, &code)?,
            ))),
            ClinicRequest::SaveExamination {
                session,
                visit_id,
                exam,
            } => Ok(ClinicAnswer::VisitChanged(Box::new(
                self.store()?
                    .record_examination(&session, &visit_id, &exam)?,
            ))),
            ClinicRequest::EndVisit {
                session,
                visit_id,
                exam,
                end,
            } => {
                let store = self.store()?;
                if let Some(exam) = exam {
                    store.record_examination(&session, &visit_id, &exam)?;
                }
                let ended = match end {
                    VisitEnd::Finish => {
                        store.set_visit_status(&session, &visit_id, VisitStatus::Finished)?
                    }
                    VisitEnd::Refer(to) => store.refer_visit(&session, &visit_id, &to)?,
                    VisitEnd::Cancel => {
                        store.set_visit_status(&session, &visit_id, VisitStatus::Cancelled)?
                    }
                };
                Ok(ClinicAnswer::VisitEnded(Box::new(ended)))
            }
            ClinicRequest::History {
                session,
                patient_number,
            } => Ok(ClinicAnswer::History(Box::new(
                self.store()?.patient_history(&session, &patient_number)?,
            ))),
            ClinicRequest::PatientCards {
                session,
                patient_number,
            } => {
                let store = self.store()?;
                let patient = store.patient(&session, &patient_number)?;
                let cards = store.patient_cards(&session, &patient_number)?;
                Ok(ClinicAnswer::PatientCards(Box::new(patient), cards))
            }
            ClinicRequest::NewCardIdentity {
                session,
                patient_number,
                replacing,
            } => Ok(ClinicAnswer::CardIdentity(Box::new(
                self.store()?.new_card_identity(
                    &session,
                    &patient_number,
                    replacing.as_deref(),
                    CARD_YEARS,
                )?,
            ))),
            ClinicRequest::ChangeCard {
                session,
                patient_number,
                change,
            } => {
                let store = self.store()?;
                match change {
                    CardChange::Issued {
                        card_number,
                        replacing: Some(old),
                    } => {
                        store.replace_card(&session, &old, &card_number, "diganti kartu baru")?;
                    }
                    CardChange::Issued {
                        card_number,
                        replacing: None,
                    } => {
                        store.issue_card(&session, &patient_number, &card_number)?;
                    }
                    CardChange::Block {
                        card_number,
                        reason,
                    } => {
                        store.block_card(&session, &card_number, &reason)?;
                    }
                    CardChange::Unblock {
                        card_number,
                        reason,
                    } => {
                        store.lift_block(&session, &card_number, &reason)?;
                    }
                    CardChange::Terminate {
                        card_number,
                        reason,
                    } => {
                        store.terminate_card(&session, &card_number, &reason)?;
                    }
                    CardChange::PinReset { card_number } => {
                        store.note_pin_reset(&session, &card_number)?;
                    }
                }
                let patient = store.patient(&session, &patient_number)?;
                let cards = store.patient_cards(&session, &patient_number)?;
                Ok(ClinicAnswer::PatientCards(Box::new(patient), cards))
            }
            ClinicRequest::Staff { session, change } => {
                let store = self.store()?;
                match change {
                    Some(StaffChange::Add(new)) => drop(store.add_staff(&session, &new)?),
                    Some(StaffChange::Disable(user)) => store.disable_staff(&session, &user)?,
                    Some(StaffChange::Enable(user)) => store.enable_staff(&session, &user)?,
                    Some(StaffChange::Password(user, password)) => {
                        store.reset_password(&session, &user, &password)?;
                    }
                    Some(StaffChange::Role(user, role)) => store.set_role(&session, &user, role)?,
                    None => {}
                }
                Ok(ClinicAnswer::Staff(store.list_staff(&session)?))
            }
            ClinicRequest::AuditSearch { session, filter } => Ok(ClinicAnswer::Audit(
                self.store()?.audit_search(&session, &filter, AUDIT_ROWS)?,
            )),
            ClinicRequest::VerifyAudit => {
                let trust = self.trust.clone();
                Ok(ClinicAnswer::AuditVerdict(
                    self.store()?.verify_audit_with(Some(&trust))?,
                ))
            }
            ClinicRequest::SyncDetails { session, resend } => {
                let store = self.store()?;
                if !resend.is_empty() {
                    store.resend_set_aside(&session, &resend)?;
                }
                Ok(ClinicAnswer::SyncDetails(
                    store.sync_health()?,
                    store.set_aside(SET_ASIDE_ROWS)?,
                ))
            }
            ClinicRequest::ChangeFacility { session, change } => {
                let store = self.store()?;
                match change {
                    FacilityChange::Profile(profile) => {
                        store.update_facility(&session, &profile)?
                    }
                    FacilityChange::AddUnit(unit) => store.add_service_unit(&session, &unit)?,
                }
                Ok(ClinicAnswer::FacilityChanged(
                    store.facility(),
                    store.service_units()?,
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
            ClinicRequest::Report { session, query } => {
                let store = self.store()?;
                let (period, filter) = (&query.period, &query.filter);
                let report = match query.kind {
                    ReportKind::Lb1 => {
                        Report::Lb1(Box::new(store.lb1_report(&session, period, filter)?))
                    }
                    ReportKind::Visits => {
                        Report::Visits(store.visit_recap(&session, period, filter)?)
                    }
                    ReportKind::Top10 => {
                        Report::Top10(store.top_diagnoses(&session, period, filter, 10)?)
                    }
                    ReportKind::Daily => Report::Daily(store.daily_report(&session, &period.from)?),
                };
                Ok(ClinicAnswer::Report(Box::new(report)))
            }
        }
    }
}

fn opened(store: &Store) -> Result<ClinicAnswer, StoreError> {
    Ok(ClinicAnswer::Opened {
        profile: store.facility(),
        units: store.service_units()?,
    })
}

/// A visit just called in, with its patient's history.
fn poli_visit(
    store: &mut Store,
    session: &Session,
    visit: VisitDetail,
) -> Result<ClinicAnswer, Problem> {
    let history = store.patient_history(session, &visit.patient_number)?;
    with_duplicates(store, session, visit, history)
}

/// The open visit, its history and the patient's open duplicate flags.
fn with_duplicates(
    store: &mut Store,
    session: &Session,
    visit: VisitDetail,
    history: PatientHistory,
) -> Result<ClinicAnswer, Problem> {
    let duplicates = store
        .desk_patient(session, &visit.patient_number)?
        .possible_duplicates;
    Ok(ClinicAnswer::VisitOpened(Box::new(PoliVisit {
        visit,
        history,
        duplicates,
    })))
}
