//! The clinic store: everything a Puskesmas needs to work for days without a network, in
//! one SQLite file. Patients, cards and their revocations, visits with their queue
//! numbers, diagnoses, staff accounts, a hash-chained audit log and the outbox of changes
//! the registry must learn of.
//!
//! The public API is use-case operations with plain data in and out ([`Store::register_visit`],
//! [`Store::queue_for_unit`], [`Store::patient_history`], [`Store::block_card`]…); SQL and
//! connections never leave the crate, so the same operations can later be served to the
//! other workstations of a Puskesmas over its LAN.
//!
//! Every operation is one SQLite transaction: it happens whole, with its audit entry and
//! outbox row, or not at all. Writers take the lock up front (`BEGIN IMMEDIATE`) and wait
//! for each other, so a desk window and a nurse window can share the file.
#![deny(missing_docs)]

mod access;
mod audit;
mod backup;
mod bpjs_queue;
mod calls;
mod cards;
mod checkpoint;
mod clock;
mod desk;
mod diagnoses;
mod enums;
mod error;
mod exchange;
mod export;
mod facility;
mod fhir_records;
pub mod generate;
mod generation;
pub mod icd10;
mod links;
pub mod location;
mod merges;
mod outbox;
mod outside;
mod patients;
pub mod regions;
mod reports;
mod requests;
mod satusehat;
mod satusehat_queue;
mod schema;
mod sessions;
mod staff;
mod text;
mod visits;
mod workstations;

use std::path::Path;
use std::sync::Arc;

use rusqlite::{Connection, Transaction, TransactionBehavior};
use time::Date;

pub use access::{Role, Session};
pub use audit::{AuditEntry, AuditFilter, AuditProblem, AuditReport, RECEIPT_SIGNER};
pub use backup::{backups_in, BackupReport, RestoreReport};
pub use bpjs_queue::{BpjsDue, BpjsStep, BpjsVisitState, StepOutcome};
pub use calls::Call;
pub use cards::{Card, CardStatus, TapOutcome, TapSeen, TAP_MOST_AGE_MS};
pub use checkpoint::Committed;
pub use clock::{Clock, ManualClock, SystemClock};
pub use desk::{DeskPatient, LastVisit, UnitQueue};
pub use diagnoses::{CaseKind, Diagnosis, DiagnosisRank};
pub use error::{Result, StoreError};
pub use exchange::{ApplyReport, ReadChange, SetAside, Settlement, SyncHealth};
pub use export::{ExportRecords, ExportSelection, ExportedPatient};
pub use facility::{FacilityProfile, ServiceUnit, TimeZone};
pub use links::{MergeToTell, MergeTold, PatientLinkRecord};
pub use merges::{
    Duplicates, FieldDifference, MergeField, MergePlan, MergeRecord, Unmerged, VisitsAtAGlance,
};
pub use outbox::{OutboxKind, OutboxRecord};
pub use outside::{BpjsCode, BpjsCodes, OutsideStep};
pub use patients::{
    NewPatient, Patient, PatientCreated, PatientQuery, PatientSummary, PossibleDuplicate, Warning,
};
pub use reports::{
    full_years, AgeGroup, BySex, DailyReport, DiagnosisCount, Lb1Report, Lb1Row, ReportFilter,
    ReportPeriod, TopDiagnoses, UnitCount, VisitRecap,
};
pub use satusehat::SatusehatIds;
pub use satusehat_queue::{
    DeliveryOutcome, DeliveryState, DeliveryStatus, DueVisit, PendingDelivery, SatusehatLink,
    SentIds,
};
pub use schema::SCHEMA_VERSION;
pub use staff::{NewStaff, StaffMember, CONSOLE};
pub use text::name_key;
pub use visits::{
    emergency_number, ticket, Care, Examination, NewVisit, PatientHistory, Payer, QueueEntry, Step,
    VisitDetail, VisitStatus, VisitTicket, Vitals, EMERGENCY_SERIES,
};
pub use workstations::{workstation_source, Workstation};

/// Test-only hooks, compiled with the `test-hooks` feature.
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub mod test_hooks {
    /// Runs inside every write transaction, after its work and before its COMMIT.
    pub static BEFORE_COMMIT: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();
}

#[doc(hidden)]
pub use schema::create_at_version;

use access::Action;
use facility::Facility;

/// An open clinic database.
pub struct Store {
    conn: Connection,
    clock: Arc<dyn Clock>,
    facility: Facility,
    /// Set while `answer_once` runs its operation.
    answer_keeper: Option<requests::AnswerKeeper>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("facility", &self.facility.code)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens an existing clinic database, upgrading its schema if it is older.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_clock(path, Arc::new(SystemClock))
    }

    /// Opens with a clock of the caller's choosing.
    pub fn open_with_clock(path: &Path, clock: Arc<dyn Clock>) -> Result<Self> {
        let conn = schema::open(path, false)?;
        let facility = Facility::load(&conn, path)?;
        Ok(Self {
            conn,
            clock,
            facility,
            answer_keeper: None,
        })
    }

    /// Creates a new clinic database for a facility. Refuses if the file exists.
    pub fn create(path: &Path, profile: &FacilityProfile) -> Result<Self> {
        Self::create_with_clock(path, profile, Arc::new(SystemClock))
    }

    /// Creates with a clock of the caller's choosing.
    pub fn create_with_clock(
        path: &Path,
        profile: &FacilityProfile,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let facility = Facility::validate(profile)?;
        let mut conn = schema::open(path, true)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = clock.now();
        facility.insert(&tx, clock::to_millis(now))?;
        audit::append(
            &tx,
            clock::to_millis(now),
            "kartika db init",
            "facility.create",
            None,
            &format!("{} {}", facility.code, facility.name),
        )?;
        tx.commit()?;
        Ok(Self {
            conn,
            clock,
            facility,
            answer_keeper: None,
        })
    }

    /// The facility this database belongs to.
    pub fn facility(&self) -> FacilityProfile {
        self.facility.profile()
    }

    /// How this connection writes: what a power cut may cost depends on these.
    pub fn durability(&self) -> Result<Durability> {
        durability_of(&self.conn)
    }

    /// A number that changes whenever another connection commits to the file (another
    /// window, the sync worker, another workstation): a screen showing the queue polls it to
    /// know when to read again. Its own commits leave it unchanged.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// The store's file, as SQLite opened it (for the files kept beside it).
    pub fn file_path(&self) -> Option<std::path::PathBuf> {
        self.conn
            .path()
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
    }

    /// Today in the facility's zone: the queue day.
    pub fn today(&self) -> Date {
        clock::local_date(self.clock.now(), self.facility.offset())
    }

    /// Runs `work` as one immediate transaction on behalf of `session`, after checking the
    /// account is still enabled and its role allows `action`.
    fn write<T: 'static>(
        &mut self,
        session: &Session,
        action: Action,
        work: impl FnOnce(&Ctx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.transact(&session.username, Some((session, action)), work)
    }

    /// Runs `work` as a read-only transaction on behalf of `session`, for reads that name
    /// no patient and so write no audit entry: no writer's lock, nothing to make durable.
    fn read<T: 'static>(
        &mut self,
        session: &Session,
        action: Action,
        work: impl FnOnce(&Ctx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.transact_with(
            TransactionBehavior::Deferred,
            &session.username,
            Some((session, action)),
            work,
        )
    }

    /// Runs `work` as one immediate transaction for a part of Kartika itself (the sync
    /// worker), named in the audit log as `actor`.
    fn write_as_system<T: 'static>(
        &mut self,
        actor: &str,
        work: impl FnOnce(&Ctx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.transact(actor, None, work)
    }

    /// Runs `work` as a read-only transaction for a part of Kartika itself: no writer's
    /// lock, so a sender that looks every few seconds never holds up a desk.
    fn read_as_system<T: 'static>(
        &mut self,
        actor: &str,
        work: impl FnOnce(&Ctx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.transact_with(TransactionBehavior::Deferred, actor, None, work)
    }

    fn transact<T: 'static>(
        &mut self,
        actor: &str,
        check: Option<(&Session, Action)>,
        work: impl FnOnce(&Ctx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.transact_with(TransactionBehavior::Immediate, actor, check, work)
    }

    fn transact_with<T: 'static>(
        &mut self,
        behavior: TransactionBehavior,
        actor: &str,
        check: Option<(&Session, Action)>,
        work: impl FnOnce(&Ctx<'_>) -> Result<T>,
    ) -> Result<T> {
        let tx = self.conn.transaction_with_behavior(behavior)?;
        if let Some((session, action)) = check {
            access::check(&tx, session, action)?;
        }
        let now = self.clock.now();
        let ctx = Ctx {
            tx: &tx,
            now_ms: clock::to_millis(now),
            today: clock::local_date(now, self.facility.offset()),
            actor,
            facility: &self.facility,
        };
        let value = work(&ctx)?;
        if let Some(keeper) = &self.answer_keeper {
            if keeper.keep_if_answer(&ctx, &value)? {
                self.answer_keeper = None;
            }
        }
        #[cfg(feature = "test-hooks")]
        if let Some(hook) = test_hooks::BEFORE_COMMIT.get() {
            hook();
        }
        tx.commit()?;
        Ok(value)
    }
}

/// What an operation sees inside its transaction.
struct Ctx<'a> {
    tx: &'a Transaction<'a>,
    now_ms: i64,
    today: Date,
    actor: &'a str,
    facility: &'a Facility,
}

impl Ctx<'_> {
    /// Appends an audit entry in this transaction.
    fn audit(&self, action: &str, patient_number: Option<&str>, detail: &str) -> Result<()> {
        audit::append(
            self.tx,
            self.now_ms,
            self.actor,
            action,
            patient_number,
            detail,
        )
    }

    /// Queues a record for the registry in this transaction.
    fn outbox(
        &self,
        kind: OutboxKind,
        record_id: &str,
        payload: &impl serde::Serialize,
    ) -> Result<()> {
        outbox::enqueue(self.tx, self.now_ms, kind, record_id, payload)
    }
}

/// A new id for a record born here: UUID version 7, time-ordered, so the ids of a busy day
/// sit together in the index.
fn new_uuid() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// The stored id of a visit or patient id as given to the API; `None` if it is not a UUID.
fn parse_uuid(text: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(text.trim()).ok()
}

/// A connection's settings that decide what survives a power cut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Durability {
    /// `wal` for the clinic store and the registry.
    pub journal_mode: String,
    /// 2 is FULL: a commit is on the disk when it returns.
    pub synchronous: i64,
    /// Whether foreign keys are enforced.
    pub foreign_keys: bool,
    /// The log is copied into the file once it holds this many pages (SQLite's 1,000), so
    /// it never grows without bound.
    pub wal_autocheckpoint: i64,
}

/// Reads a connection's [`Durability`].
pub fn durability_of(conn: &rusqlite::Connection) -> Result<Durability> {
    let pragma = |name: &str| -> Result<String> {
        Ok(conn
            .query_row(&format!("PRAGMA {name}"), [], |r| {
                r.get::<_, rusqlite::types::Value>(0)
            })
            .map(|v| match v {
                rusqlite::types::Value::Integer(i) => i.to_string(),
                rusqlite::types::Value::Text(t) => t,
                other => format!("{other:?}"),
            })?)
    };
    Ok(Durability {
        journal_mode: pragma("journal_mode")?,
        synchronous: pragma("synchronous")?.parse().unwrap_or(-1),
        foreign_keys: pragma("foreign_keys")? == "1",
        wal_autocheckpoint: pragma("wal_autocheckpoint")?.parse().unwrap_or(-1),
    })
}
