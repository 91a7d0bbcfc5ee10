//! The clinic store's operations as data. A workstation's clinic worker answers an
//! [`Operation`] with [`apply`] on its own store, or sends it to the Puskesmas's server,
//! which answers it with the same [`apply`]: views cannot tell the two apart.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::Digest;

use kartika_card::crypto::TrustAnchors;
use kartika_card::model::Identity;
use kartika_card::presence::TapEvidence;
use kartika_protocol::PresenceProof;
use kartika_report::Report;
use kartika_store::{
    AuditEntry, AuditFilter, AuditReport, BackupReport, Card, DeliveryStatus, DeskPatient,
    DiagnosisRank, Duplicates, Examination, FacilityProfile, MergeField, MergePlan, NewPatient,
    NewStaff, NewVisit, Patient, PatientCreated, PatientHistory, PatientQuery, PatientSummary,
    QueueEntry, ReportFilter, ReportPeriod, RestoreReport, SatusehatLink, ServiceUnit, Session,
    SetAside, StaffMember, Store, StoreError, SyncHealth, TapOutcome, TapSeen, UnitQueue,
    VisitDetail, VisitStatus, VisitTicket,
};

/// How many years a new card is valid.
const CARD_YEARS: u8 = 5;
/// The most audit entries a search shows.
const AUDIT_ROWS: usize = 500;
/// The most visits not at SATUSEHAT listed.
const SATUSEHAT_ROWS: usize = 200;
/// The most set-aside records listed.
const SET_ASIDE_ROWS: usize = 200;

/// What a logged-in staff member asks of the clinic store.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// A verified card at the desk: refuses revoked cards, finds or registers the patient.
    AdmitCard {
        /// What the card sent, and its answer to the tap's challenge: the server judges it
        /// again under its own root keys.
        #[serde(with = "crate::tap_wire")]
        tap: Box<TapEvidence>,
        /// The card's proof of presence, kept for the registry when the patient is
        /// another Puskesmas's.
        proof: Option<PresenceProof>,
    },
    /// A patient at the desk, as after a tap.
    DeskPatient {
        /// The patient.
        patient_number: String,
    },
    /// The desk's search without a card.
    Search {
        /// What was typed.
        queries: Vec<PatientQuery>,
    },
    /// A new patient typed at the desk.
    CreatePatient {
        /// The details.
        patient: Box<NewPatient>,
    },
    /// Opens a visit and hands out a queue number.
    RegisterVisit {
        /// The visit.
        visit: NewVisit,
    },
    /// A visit a desk registered while the server was away, with the number of its
    /// emergency series it handed out and the time the patient came.
    RegisterEmergency {
        /// The visit.
        visit: NewVisit,
        /// The emergency series' number (`kartika_store::emergency_number`).
        number: i64,
        /// When the patient was registered at the desk.
        #[serde(with = "time::serde::rfc3339")]
        arrived_at: time::OffsetDateTime,
    },
    /// Today's queue counted per unit.
    QueueCounts,
    /// A unit's queue of today.
    UnitQueue {
        /// The unit.
        unit_code: String,
    },
    /// Calls the unit's next waiting patient and opens the visit.
    CallNext {
        /// The unit.
        unit_code: String,
    },
    /// Opens a visit from the queue, calling the patient in when still waiting.
    OpenVisit {
        /// The visit.
        visit_id: String,
        /// Its patient.
        patient_number: String,
    },
    /// A verified card in the poli's reader: refused, or whose it is.
    CardAtPoli {
        /// What the card says.
        #[serde(with = "crate::identity_wire")]
        identity: Box<Identity>,
    },
    /// Adds a diagnosis to the open visit.
    AddDiagnosis {
        /// The visit.
        visit_id: String,
        /// ICD-10 code.
        code: String,
        /// Primary or secondary.
        rank: DiagnosisRank,
    },
    /// Removes a diagnosis recorded in error.
    RemoveDiagnosis {
        /// The visit.
        visit_id: String,
        /// ICD-10 code.
        code: String,
    },
    /// Saves vitals, complaint and notes.
    SaveExamination {
        /// The visit.
        visit_id: String,
        /// What was recorded.
        exam: Box<Examination>,
    },
    /// Saves the examination, then finishes, refers or cancels the visit. When the
    /// examination is refused the visit does not end.
    EndVisit {
        /// The visit.
        visit_id: String,
        /// What was recorded, when the form is open.
        exam: Option<Box<Examination>>,
        /// How it ends.
        end: VisitEnd,
    },
    /// A patient's whole history again (after the registry sent more).
    History {
        /// The patient.
        patient_number: String,
    },
    /// A patient and their cards, for the admin.
    PatientCards {
        /// The patient.
        patient_number: String,
    },
    /// What a new card for the patient will carry.
    NewCardIdentity {
        /// The patient.
        patient_number: String,
        /// The card it will replace.
        replacing: Option<String>,
    },
    /// A card change: recording an issued card, blocking, unblocking, terminating.
    ChangeCard {
        /// The patient, whose cards come back.
        patient_number: String,
        /// What to do.
        change: CardChange,
    },
    /// The accounts, after a change when one is given.
    Staff {
        /// The change, if any.
        change: Option<StaffChange>,
    },
    /// The workstations of the LAN, after approving or revoking one when asked (approving
    /// needs the server's authority: only the server does it).
    Workstations {
        /// The change, if any.
        change: Option<WorkstationChange>,
    },
    /// Audit entries matching a filter.
    AuditSearch {
        /// Which entries.
        filter: AuditFilter,
    },
    /// Sync health: counts, the last success and error (any role: the top bar shows it).
    SyncHealth,
    /// Sync health and the set-aside records, after sending some again when given (admins
    /// only: the records and the registry's reasons name patients).
    SyncDetails {
        /// Set-aside records to send again.
        resend: Vec<String>,
    },
    /// SATUSEHAT's queue: the counts for anyone (the top bar), with `list` the visits not
    /// sent and why (admins only).
    SatusehatStatus {
        /// Whether to list the visits not sent.
        list: bool,
    },
    /// "Kirim ulang": a refused visit, or with `None` every refused visit, is sent again
    /// (admins only); answers the queue as [`Operation::SatusehatStatus`] with its list.
    SatusehatRetry {
        /// The visit.
        visit_id: Option<String>,
    },
    /// P-Care's word on the member with BPJS card `card` (by `nik` when P-Care does not know
    /// the card), within the desk's two seconds; audited. The server asks BPJS without
    /// holding a store connection.
    BpjsMember {
        /// The BPJS card number.
        card: String,
        /// The NIK, when known.
        nik: Option<String>,
    },
    /// BPJS's queue, as [`Operation::SatusehatStatus`] SATUSEHAT's.
    BpjsStatus {
        /// Whether to list the calls not at BPJS.
        list: bool,
    },
    /// "Kirim ulang" for BPJS: a visit's refused or waiting calls, or with `None` every
    /// such call (admins only); answers the queue with its list.
    BpjsRetry {
        /// The visit.
        visit_id: Option<String>,
    },
    /// Sets SATUSEHAT up (admins only): the link in the store, the secret (when given) and
    /// the CA in files beside it, on the PC that holds the store.
    SatusehatSetup {
        /// Where SATUSEHAT is and who this Puskesmas is to it.
        link: SatusehatLink,
        /// A new client secret; `None` keeps the one kept.
        secret: Option<kartika_satusehat::Secret>,
        /// CA certificates (PEM) to trust instead of the system's, with a new secret.
        ca_pem: Option<String>,
    },
    /// "Pasien ganda": the open duplicate flags and the merges in force, after a merge or
    /// its undo when one is given (admins only).
    Duplicates {
        /// The merge or undo, if any.
        change: Option<MergeChange>,
    },
    /// What merging two records would do; nothing changes (admins only).
    PlanMerge {
        /// The record that stays.
        keep: String,
        /// The record retired into it.
        retire: String,
        /// Fields the record that stays takes from the retired one.
        take: Vec<MergeField>,
    },
    /// Changes the facility's profile, or adds a unit.
    ChangeFacility {
        /// What to change.
        change: FacilityChange,
    },
    /// One of the monthly reports.
    Report {
        /// Which report, over which days, narrowed how.
        query: ReportQuery,
    },
}

impl Operation {
    /// Whether the operation writes (beyond its audit entry): a write sent again with the
    /// same request id must be answered from what was kept, never done twice.
    pub fn writes(&self) -> bool {
        match self {
            Self::AdmitCard { .. }
            | Self::CreatePatient { .. }
            | Self::RegisterVisit { .. }
            | Self::RegisterEmergency { .. }
            | Self::CallNext { .. }
            | Self::OpenVisit { .. }
            | Self::AddDiagnosis { .. }
            | Self::RemoveDiagnosis { .. }
            | Self::SaveExamination { .. }
            | Self::EndVisit { .. }
            | Self::NewCardIdentity { .. }
            | Self::ChangeCard { .. }
            | Self::ChangeFacility { .. } => true,
            Self::Staff { change } => change.is_some(),
            Self::Workstations { change } => change.is_some(),
            Self::Duplicates { change } => change.is_some(),
            Self::PlanMerge { .. } => false,
            Self::SyncDetails { resend } => !resend.is_empty(),
            Self::SatusehatRetry { .. } | Self::SatusehatSetup { .. } => true,
            Self::SatusehatStatus { .. } => false,
            Self::BpjsRetry { .. } => true,
            Self::BpjsStatus { .. } => false,
            // Its audit entry aside, it changes nothing: asked again, it asks again.
            Self::BpjsMember { .. } => false,
            Self::DeskPatient { .. }
            | Self::Search { .. }
            | Self::QueueCounts
            | Self::SyncHealth
            | Self::UnitQueue { .. }
            | Self::CardAtPoli { .. }
            | Self::History { .. }
            | Self::PatientCards { .. }
            | Self::AuditSearch { .. }
            | Self::Report { .. } => false,
        }
    }
}

/// What the admin does to a patient's cards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

/// What the admin does to a workstation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkstationChange {
    /// Approve its request: the Puskesmas's CA issues its certificate.
    Approve(String),
    /// Revoke it: the server refuses it from now on.
    Revoke(String),
}

/// A merge of two records of one person, or its undo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeChange {
    /// Retire `retire` into `keep`, which takes the fields `take` from it.
    Merge {
        /// The record that stays.
        keep: String,
        /// The record retired into it.
        retire: String,
        /// Fields taken from the retired record.
        take: Vec<MergeField>,
    },
    /// Undo the last merge of this retired record.
    Unmerge {
        /// The retired record.
        retired: String,
    },
}

/// What the admin changes about the facility.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilityChange {
    /// Name, catchment and zone.
    Profile(FacilityProfile),
    /// A new service unit.
    AddUnit(ServiceUnit),
}

/// How a visit ends at the poli.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitEnd {
    /// Selesai.
    Finish,
    /// Dirujuk, to this place.
    Refer(String),
    /// Batal: left before being called.
    Cancel,
}

/// A visit open at the poli, with its patient's whole history.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PoliVisit {
    /// The visit.
    pub visit: VisitDetail,
    /// The patient, cards and every visit, here and elsewhere.
    pub history: PatientHistory,
    /// Open duplicate flags that involve the patient.
    pub duplicates: Vec<kartika_store::PossibleDuplicate>,
}

/// Which report is asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportQuery {
    /// The report.
    pub kind: ReportKind,
    /// Its days (the daily report takes the first).
    pub period: ReportPeriod,
    /// Unit and new cases.
    pub filter: ReportFilter,
}

/// The reports the Laporan view shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

/// The registry a workstation set up on its own syncs with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryLink {
    /// For example `https://registry.dinkes.example:8700`.
    pub url: String,
    /// The node's access token from its enrolment.
    pub token: String,
}

/// What the clinic store answered. The variants marked `skip` are the workstation's own
/// (its set-up, login, backups) and never travel on the LAN.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "answer", content = "of", rename_all = "snake_case")]
pub enum Answer {
    /// The store is open: its facility and units.
    Opened {
        /// The facility.
        profile: FacilityProfile,
        /// Its service units.
        units: Vec<ServiceUnit>,
    },
    /// There is no store yet: the first-run set-up must make one.
    #[serde(skip)]
    NeedsSetUp,
    /// The first-run set-up made the store, the node key and the registry link.
    #[serde(skip)]
    SetUpDone {
        /// The facility.
        profile: FacilityProfile,
        /// Its service units.
        units: Vec<ServiceUnit>,
        /// The node's public key file, for the registry's operator.
        node_public_key: std::path::PathBuf,
        /// The registry link, unless standalone.
        registry: Option<RegistryLink>,
    },
    /// A login succeeded.
    #[serde(skip)]
    LoggedIn(Session),
    /// The session ended at the user's request.
    #[serde(skip)]
    LoggedOut,
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
    #[serde(with = "crate::identity_wire")]
    CardIdentity(Box<Identity>),
    /// The accounts.
    Staff(Vec<StaffMember>),
    /// The workstations.
    Workstations(Vec<kartika_store::Workstation>),
    /// Audit entries.
    Audit(Vec<AuditEntry>),
    /// The audit chain's verdict.
    AuditVerdict(AuditReport),
    /// Sync health and set-aside records.
    SyncDetails(SyncHealth, Vec<SetAside>),
    /// SATUSEHAT's queue.
    Satusehat(Box<DeliveryStatus>),
    /// BPJS's queue.
    Bpjs(Box<DeliveryStatus>),
    /// What P-Care said of the member with this BPJS card.
    BpjsMember {
        /// The card asked about.
        card: String,
        /// P-Care's word, or why there is none.
        check: kartika_bpjs::MemberCheck,
    },
    /// "Pasien ganda".
    Duplicates(Box<Duplicates>),
    /// What a merge would do.
    MergePlan(Box<MergePlan>),
    /// The facility after a change.
    FacilityChanged(FacilityProfile, Vec<ServiceUnit>),
    /// A backup was made.
    #[serde(skip)]
    BackedUp(BackupReport),
    /// A backup was restored.
    #[serde(skip)]
    Restored(RestoreReport),
    /// The daily backup plan is taken.
    #[serde(skip)]
    BackupPlanSet,
}

/// The store's facility and units, as a workstation opens.
pub fn opened(store: &Store) -> Result<Answer, StoreError> {
    Ok(Answer::Opened {
        profile: store.facility(),
        units: store.service_units()?,
    })
}

/// A request's id with what it was for: the account that sent it and a digest of what it
/// asked. A kept answer goes back only to the same account asking the same thing: an id
/// reused by another session, or for another request, is refused.
struct Request {
    id: [u8; 16],
    purpose: String,
}

impl Request {
    fn new(id: [u8; 16], session: &Session, operation: &Operation) -> Self {
        let body = serde_json::to_vec(operation).unwrap_or_default();
        let digest = sha2::Sha256::digest(&body);
        Self {
            id,
            purpose: format!("{} {}", session.username(), hex::encode(&digest[..16])),
        }
    }

    /// The `step`th write of one request that makes several (a visit's examination, then
    /// its end), so each is kept on its own.
    fn step(&self, step: u8) -> Self {
        let mut id = self.id;
        id[15] ^= step;
        Self {
            id,
            purpose: self.purpose.clone(),
        }
    }
}

/// Runs a write once for `request` when one is given (a retry gets the kept answer);
/// without one, simply runs it.
fn once<T>(
    store: &mut Store,
    request: Option<&Request>,
    name: &str,
    write: impl FnOnce(&mut Store) -> Result<T, StoreError>,
) -> Result<T, StoreError>
where
    T: Serialize + serde::de::DeserializeOwned + 'static,
{
    match request {
        Some(request) => {
            store.answer_once(&request.id, &format!("{name} {}", request.purpose), write)
        }
        None => write(store),
    }
}

/// Audits a member check by `session` (only the card's last four digits kept); refused
/// for a role that may not read patients.
pub fn note_member_check(
    store: &mut Store,
    session: &Session,
    card: &str,
) -> Result<(), StoreError> {
    store.note_outside(
        session,
        &kartika_store::OutsideStep::member_checked("card", card),
    )
}

/// Asks P-Care about a member as set up beside the store at `store_path`, within the
/// desk's two seconds; no store connection is held meanwhile.
pub fn member_check(
    store_path: &std::path::Path,
    card: &str,
    nik: Option<&str>,
) -> kartika_bpjs::MemberCheck {
    kartika_bpjs::check_member(store_path, card, nik, kartika_bpjs::CHECK_BUDGET)
}

/// The most queries one `Search` may carry.
const MOST_SEARCH_QUERIES: usize = 5;

/// Answers `operation` for `session` on `store`. With a `request_id`, each write is done
/// once: the same id again gets the answer kept with the write.
pub fn apply(
    store: &mut Store,
    session: &Session,
    operation: Operation,
    request_id: Option<&[u8; 16]>,
) -> Result<Answer, StoreError> {
    apply_from(store, session, operation, request_id, &Sender::default())
}

/// Who sent an operation, as far as the server knows it from the connection.
#[derive(Clone, Debug, Default)]
pub struct Sender {
    /// The emergency series of the sending workstation (from its certificate); `None` for
    /// a store on this PC, or a server without an authority.
    pub emergency_series: Option<u8>,
    /// Who judges a tapped card.
    pub cards: CardJudge,
}

/// Who judges whether a tapped card is genuine before the store admits it.
#[derive(Clone, Debug, Default)]
pub enum CardJudge {
    /// The reader of this PC did, a moment ago: the store is on the same PC.
    #[default]
    ThisPc,
    /// The card was tapped at a workstation: the server judges its evidence again under
    /// these root keys, and refuses every tap without them.
    Server(Option<Arc<TrustAnchors>>),
}

impl CardJudge {
    /// The card's identity, if the tap's evidence holds; otherwise why not, in the words
    /// a refused tap carries (`not genuine: …`).
    fn identity(&self, tap: &TapEvidence, today: time::Date) -> Result<Identity, String> {
        let judged = match self {
            Self::ThisPc => tap.identity(),
            Self::Server(Some(trust)) => tap.judge(trust, today),
            Self::Server(None) => {
                return Err("not genuine: this server cannot check cards; start serve-clinic with --trust (the registry's root key)".into())
            }
        };
        judged.map_err(|rejection| format!("not genuine: {rejection}"))
    }
}

/// [`apply`] for an operation that came from `sender`.
pub fn apply_from(
    store: &mut Store,
    session: &Session,
    operation: Operation,
    request_id: Option<&[u8; 16]>,
    sender: &Sender,
) -> Result<Answer, StoreError> {
    let request = request_id.map(|id| Request::new(*id, session, &operation));
    let request_id = request.as_ref();
    match operation {
        Operation::AdmitCard { tap, proof } => {
            let identity = match sender.cards.identity(&tap, store.today()) {
                Ok(identity) => identity,
                Err(reason) => {
                    let card_number = tap.identity().map(|i| i.card_number.to_string());
                    let card_number = card_number.unwrap_or_default();
                    store.note_refused_tap(session, &card_number, &reason)?;
                    return Ok(Answer::Admitted {
                        outcome: TapOutcome::Refused {
                            card_number,
                            reason,
                            patient_number: None,
                        },
                        desk: None,
                    });
                }
            };
            let outcome = once(store, request_id, "admit_card", |s| match sender.cards {
                CardJudge::ThisPc => s.admit_card(session, &identity),
                CardJudge::Server(_) => s.admit_workstation_tap(
                    session,
                    &identity,
                    &TapSeen {
                        at_ms: tap.at_ms,
                        nonce: tap.nonce,
                    },
                ),
            })?;
            let desk = match &outcome {
                TapOutcome::Known { patient, .. }
                | TapOutcome::RegisteredFromCard { patient, .. } => {
                    if let Some(proof) = &proof {
                        let id = request_id.map(|r| r.step(1));
                        once(store, id.as_ref(), "note_presence", |s| {
                            s.note_presence(session, proof)
                        })?;
                    }
                    Some(Box::new(
                        store.desk_patient(session, &patient.patient_number)?,
                    ))
                }
                TapOutcome::Refused { .. } => None,
            };
            Ok(Answer::Admitted { outcome, desk })
        }
        Operation::DeskPatient { patient_number } => Ok(Answer::Desk(Box::new(
            store.desk_patient(session, &patient_number)?,
        ))),
        Operation::Search { queries } => {
            // Each query is an audited read: a desk asks a few at once, never many.
            if queries.len() > MOST_SEARCH_QUERIES {
                return Err(StoreError::Invalid {
                    field: "search",
                    reason: format!("at most {MOST_SEARCH_QUERIES} queries at once"),
                });
            }
            let mut found: Vec<PatientSummary> = Vec::new();
            for query in &queries {
                for hit in store.search_patients(session, query)? {
                    if !found.iter().any(|f| f.patient_number == hit.patient_number) {
                        found.push(hit);
                    }
                }
            }
            Ok(Answer::Found(found))
        }
        Operation::CreatePatient { patient } => {
            let created = once(store, request_id, "create_patient", |s| {
                s.create_patient(session, &patient)
            })?;
            let desk = store.desk_patient(session, &created.patient.patient_number)?;
            Ok(Answer::Created {
                created: Box::new(created),
                desk: Box::new(desk),
            })
        }
        Operation::RegisterVisit { visit } => Ok(Answer::Registered(once(
            store,
            request_id,
            "register_visit",
            |s| s.register_visit(session, &visit),
        )?)),
        Operation::RegisterEmergency {
            visit,
            number,
            arrived_at,
        } => {
            let series = sender.emergency_series.ok_or_else(|| {
                StoreError::Invalid {
                    field: "emergency visit",
                    reason: "only a workstation with an emergency series (joined to the server) registers one".into(),
                }
            })?;
            Ok(Answer::Registered(once(
                store,
                request_id,
                "register_emergency_visit",
                |s| s.register_emergency_visit(session, &visit, number, arrived_at, series),
            )?))
        }
        Operation::QueueCounts => Ok(Answer::QueueCounts(store.queue_counts(session)?)),
        Operation::UnitQueue { unit_code } => Ok(Answer::UnitQueue(
            store.queue_for_unit(session, &unit_code, None)?,
        )),
        Operation::CallNext { unit_code } => {
            match once(store, request_id, "call_next", |s| {
                s.call_next(session, &unit_code)
            })? {
                Some(visit) => {
                    let history = store.patient_history(session, &visit.patient_number)?;
                    with_duplicates(store, session, visit, history)
                }
                None => Ok(Answer::NobodyWaiting),
            }
        }
        Operation::OpenVisit {
            visit_id,
            patient_number,
        } => {
            let mut history = store.patient_history(session, &patient_number)?;
            let at = history
                .visits
                .iter()
                .position(|v| v.visit_id == visit_id)
                .ok_or_else(|| StoreError::NotFound {
                    what: "visit",
                    key: visit_id.clone(),
                })?;
            // Opening a waiting visit calls the patient in; the history already read
            // takes the called visit's place.
            if history.visits[at].status == VisitStatus::Waiting {
                history.visits[at] = once(store, request_id, "open_visit", |s| {
                    s.set_visit_status(session, &visit_id, VisitStatus::InProgress)
                })?;
            }
            let visit = history.visits[at].clone();
            with_duplicates(store, session, visit, history)
        }
        Operation::CardAtPoli { identity } => Ok(Answer::CardAtPoli(Box::new(
            store.card_at_poli(session, &identity)?,
        ))),
        Operation::AddDiagnosis {
            visit_id,
            code,
            rank,
        } => Ok(Answer::VisitChanged(Box::new(once(
            store,
            request_id,
            "add_diagnosis",
            |s| s.add_diagnosis(session, &visit_id, &code, rank),
        )?))),
        Operation::RemoveDiagnosis { visit_id, code } => Ok(Answer::VisitChanged(Box::new(once(
            store,
            request_id,
            "remove_diagnosis",
            |s| s.remove_diagnosis(session, &visit_id, &code),
        )?))),
        Operation::SaveExamination { visit_id, exam } => Ok(Answer::VisitChanged(Box::new(once(
            store,
            request_id,
            "record_examination",
            |s| s.record_examination(session, &visit_id, &exam),
        )?))),
        Operation::EndVisit {
            visit_id,
            exam,
            end,
        } => {
            if let Some(exam) = exam {
                let id = request_id.map(|r| r.step(1));
                once(store, id.as_ref(), "record_examination", |s| {
                    s.record_examination(session, &visit_id, &exam)
                })?;
            }
            let ended = once(store, request_id, "end_visit", |s| match &end {
                VisitEnd::Finish => s.set_visit_status(session, &visit_id, VisitStatus::Finished),
                VisitEnd::Refer(to) => s.refer_visit(session, &visit_id, to),
                VisitEnd::Cancel => s.set_visit_status(session, &visit_id, VisitStatus::Cancelled),
            })?;
            Ok(Answer::VisitEnded(Box::new(ended)))
        }
        Operation::History { patient_number } => Ok(Answer::History(Box::new(
            store.patient_history(session, &patient_number)?,
        ))),
        Operation::PatientCards { patient_number } => {
            patient_cards(store, session, &patient_number)
        }
        // Not kept for a retry (an identity is not kept as text): a retry takes the next
        // card number, and the one before is never written to a card.
        Operation::NewCardIdentity {
            patient_number,
            replacing,
        } => Ok(Answer::CardIdentity(Box::new(store.new_card_identity(
            session,
            &patient_number,
            replacing.as_deref(),
            CARD_YEARS,
        )?))),
        Operation::ChangeCard {
            patient_number,
            change,
        } => {
            change_card(store, session, &patient_number, &change, request_id)?;
            patient_cards(store, session, &patient_number)
        }
        Operation::Staff { change } => {
            if let Some(change) = change {
                change_staff(store, session, &change, request_id)?;
            }
            Ok(Answer::Staff(store.list_staff(session)?))
        }
        Operation::Workstations { change } => {
            match change {
                Some(WorkstationChange::Revoke(id)) => {
                    once(store, request_id, "revoke_workstation", |s| {
                        s.revoke_workstation(session, &id)
                    })?
                }
                // Answered by the server with its authority, before this.
                Some(WorkstationChange::Approve(_)) => {
                    return Err(StoreError::Conflict(
                        "workstations are approved on the Puskesmas's server".into(),
                    ))
                }
                None => {}
            }
            Ok(Answer::Workstations(store.list_workstations(session)?))
        }
        Operation::AuditSearch { filter } => Ok(Answer::Audit(
            store.audit_search(session, &filter, AUDIT_ROWS)?,
        )),
        Operation::SyncDetails { resend } => {
            if !resend.is_empty() {
                once(store, request_id, "resend_set_aside", |s| {
                    s.resend_set_aside(session, &resend)
                })?;
            }
            let set_aside = store.set_aside_records(session, SET_ASIDE_ROWS)?;
            Ok(Answer::SyncDetails(store.sync_health()?, set_aside))
        }
        Operation::SyncHealth => Ok(Answer::SyncHealth(store.sync_health_for(session)?)),
        Operation::Duplicates { change } => {
            match change {
                Some(MergeChange::Merge { keep, retire, take }) => {
                    once(store, request_id, "merge_patients", |s| {
                        s.merge_patients(session, &keep, &retire, &take)
                    })?;
                }
                Some(MergeChange::Unmerge { retired }) => {
                    once(store, request_id, "unmerge_patient", |s| {
                        s.unmerge_patient(session, &retired)
                    })?;
                }
                None => {}
            }
            Ok(Answer::Duplicates(Box::new(store.duplicates(session)?)))
        }
        Operation::PlanMerge { keep, retire, take } => Ok(Answer::MergePlan(Box::new(
            store.plan_merge(session, &keep, &retire, &take)?,
        ))),
        Operation::SatusehatStatus { list } => {
            let list = if list { SATUSEHAT_ROWS } else { 0 };
            Ok(Answer::Satusehat(Box::new(
                store.satusehat_status_for(session, list)?,
            )))
        }
        Operation::BpjsMember { card, nik } => {
            note_member_check(store, session, &card)?;
            let check = match store.file_path() {
                Some(path) => member_check(&path, &card, nik.as_deref()),
                None => kartika_bpjs::MemberCheck::NotSetUp,
            };
            Ok(Answer::BpjsMember { card, check })
        }
        Operation::BpjsStatus { list } => {
            let list = if list { SATUSEHAT_ROWS } else { 0 };
            Ok(Answer::Bpjs(Box::new(
                store.bpjs_status_for(session, list)?,
            )))
        }
        Operation::BpjsRetry { visit_id } => {
            once(store, request_id, "bpjs_retry", |s| {
                s.retry_bpjs(session, visit_id.as_deref())
            })?;
            Ok(Answer::Bpjs(Box::new(
                store.bpjs_status_for(session, SATUSEHAT_ROWS)?,
            )))
        }
        Operation::SatusehatSetup {
            link,
            secret,
            ca_pem,
        } => {
            // The link first: it is the admin's right that lets the files be written.
            store.set_satusehat_link(session, &link)?;
            if let Some(secret) = secret {
                let invalid = |reason: String| StoreError::Invalid {
                    field: "SATUSEHAT",
                    reason,
                };
                let path = store.file_path().ok_or_else(|| {
                    invalid("this store has no file to keep the secret beside".into())
                })?;
                let ca = ca_pem.as_deref().map(str::as_bytes);
                kartika_satusehat::save_link_files(&path, &secret, ca)
                    .map_err(|e| invalid(e.to_string()))?;
            }
            Ok(Answer::Satusehat(Box::new(
                store.satusehat_status_for(session, SATUSEHAT_ROWS)?,
            )))
        }
        Operation::SatusehatRetry { visit_id } => {
            once(store, request_id, "satusehat_retry", |s| {
                s.retry_satusehat(session, visit_id.as_deref())
            })?;
            Ok(Answer::Satusehat(Box::new(
                store.satusehat_status_for(session, SATUSEHAT_ROWS)?,
            )))
        }
        Operation::ChangeFacility { change } => {
            match &change {
                FacilityChange::Profile(profile) => {
                    once(store, request_id, "update_facility", |s| {
                        s.update_facility(session, profile)
                    })?
                }
                FacilityChange::AddUnit(unit) => {
                    once(store, request_id, "add_service_unit", |s| {
                        s.add_service_unit(session, unit)
                    })?
                }
            }
            Ok(Answer::FacilityChanged(
                store.facility(),
                store.service_units()?,
            ))
        }
        Operation::Report { query } => {
            let (period, filter) = (&query.period, &query.filter);
            let report = match query.kind {
                ReportKind::Lb1 => {
                    Report::Lb1(Box::new(store.lb1_report(session, period, filter)?))
                }
                ReportKind::Visits => Report::Visits(store.visit_recap(session, period, filter)?),
                ReportKind::Top10 => {
                    Report::Top10(store.top_diagnoses(session, period, filter, 10)?)
                }
                ReportKind::Daily => Report::Daily(store.daily_report(session, &period.from)?),
            };
            Ok(Answer::Report(Box::new(report)))
        }
    }
}

fn patient_cards(
    store: &mut Store,
    session: &Session,
    patient_number: &str,
) -> Result<Answer, StoreError> {
    let patient = store.patient(session, patient_number)?;
    let cards = store.patient_cards(session, patient_number)?;
    Ok(Answer::PatientCards(Box::new(patient), cards))
}

/// Each change is kept for a retry under its own name, with the type its transaction
/// returns: that is what `answer_once` keeps.
fn change_card(
    store: &mut Store,
    session: &Session,
    patient_number: &str,
    change: &CardChange,
    id: Option<&Request>,
) -> Result<(), StoreError> {
    match change {
        CardChange::Issued {
            card_number,
            replacing: Some(old),
        } => drop(once(store, id, "replace_card", |s| {
            s.replace_card(session, old, card_number, "diganti kartu baru")
        })?),
        CardChange::Issued {
            card_number,
            replacing: None,
        } => drop(once(store, id, "issue_card", |s| {
            s.issue_card(session, patient_number, card_number)
        })?),
        CardChange::Block {
            card_number,
            reason,
        } => drop(once(store, id, "block_card", |s| {
            s.block_card(session, card_number, reason)
        })?),
        CardChange::Unblock {
            card_number,
            reason,
        } => drop(once(store, id, "lift_block", |s| {
            s.lift_block(session, card_number, reason)
        })?),
        CardChange::Terminate {
            card_number,
            reason,
        } => drop(once(store, id, "terminate_card", |s| {
            s.terminate_card(session, card_number, reason)
        })?),
        CardChange::PinReset { card_number } => once(store, id, "note_pin_reset", |s| {
            s.note_pin_reset(session, card_number)
        })?,
    }
    Ok(())
}

fn change_staff(
    store: &mut Store,
    session: &Session,
    change: &StaffChange,
    id: Option<&Request>,
) -> Result<(), StoreError> {
    match change {
        StaffChange::Add(new) => drop(once(store, id, "add_staff", |s| s.add_staff(session, new))?),
        StaffChange::Disable(user) => once(store, id, "disable_staff", |s| {
            s.disable_staff(session, user)
        })?,
        StaffChange::Enable(user) => {
            once(store, id, "enable_staff", |s| s.enable_staff(session, user))?
        }
        StaffChange::Password(user, password) => once(store, id, "reset_password", |s| {
            s.reset_password(session, user, password)
        })?,
        StaffChange::Role(user, role) => {
            once(store, id, "set_role", |s| s.set_role(session, user, *role))?
        }
    }
    Ok(())
}

/// The open visit, its history and the patient's open duplicate flags.
fn with_duplicates(
    store: &mut Store,
    session: &Session,
    visit: VisitDetail,
    history: PatientHistory,
) -> Result<Answer, StoreError> {
    let duplicates = store
        .desk_patient(session, &visit.patient_number)?
        .possible_duplicates;
    Ok(Answer::VisitOpened(Box::new(PoliVisit {
        visit,
        history,
        duplicates,
    })))
}
