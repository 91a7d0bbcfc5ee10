//! The store's side of sync: batches of the outbox to send, settling them by the
//! registry's answer, and applying pulled changes with the cursor in one transaction.
//! Nothing here knows HTTP; `kartika-sync` carries the bytes.

use kartika_protocol::{Change, Kind};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::access::{Action, Session};
use crate::clock::from_millis;
use crate::patients::{insert_patient, validate, write_details, Origin, Patient};
use crate::visits::VisitDetail;

use crate::{Ctx, NewPatient, OutboxKind, OutboxRecord, Result, Store, StoreError};

/// The actor the audit log names for pulled changes.
pub(crate) const SYNC_ACTOR: &str = "kartika sync";

/// What the registry said of one sent outbox row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settlement {
    /// Durably stored (now or before): done.
    Sent,
    /// Refused for good: set aside with the reason, so it never blocks the queue.
    SetAside(String),
}

/// An outbox row the registry refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAside {
    /// The change id.
    pub id: String,
    /// What it carried.
    pub kind: OutboxKind,
    /// The record.
    pub record_id: String,
    /// The registry's reason.
    pub reason: String,
}

/// A pulled change with its payload read into the record it carries. Reading is the part
/// of applying that needs no store, so the sync client does it on the thread that fetches
/// pages while the store applies the page before.
#[derive(Debug)]
pub struct ReadChange {
    change: Change,
    record: std::result::Result<Record, (&'static str, String)>,
}

/// What a pulled change carries, read.
#[derive(Debug)]
enum Record {
    Patient(Box<Patient>),
    Visit(Box<VisitDetail>),
    Revocation(RevocationPayload),
    Link(kartika_protocol::PatientLink),
    /// Cards of other Puskesmas matter only through their revocations; proofs of presence
    /// are for the registry and never handed on.
    Ignored,
}

impl From<Change> for ReadChange {
    fn from(change: Change) -> Self {
        fn read<T: serde::de::DeserializeOwned>(
            what: &'static str,
            change: &Change,
        ) -> std::result::Result<T, (&'static str, String)> {
            serde_json::from_str(change.payload.get())
                .map_err(|e| (what, format!("cannot be read: {e}")))
        }
        let record = match change.kind {
            Kind::Patient => read("patient", &change).map(|p| Record::Patient(Box::new(p))),
            Kind::Visit => read("visit", &change).map(|v| Record::Visit(Box::new(v))),
            Kind::Revocation => read("revocation", &change).map(Record::Revocation),
            Kind::Link => read("link", &change).map(Record::Link),
            Kind::Card | Kind::Presence => Ok(Record::Ignored),
        };
        Self { change, record }
    }
}

/// What applying a page did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// Changes applied.
    pub applied: usize,
    /// Changes skipped, by sequence number, with why (a record this version cannot read).
    pub skipped: Vec<(i64, String)>,
}

/// Sync health for the admin screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncHealth {
    /// Outbox rows waiting to be sent.
    pub pending: i64,
    /// Outbox rows the registry refused.
    pub set_aside: i64,
    /// Pulled changes this store could not apply, kept to be tried again after an upgrade.
    #[serde(default)]
    pub pulled_set_aside: i64,
    /// The pull cursor.
    pub pull_after: i64,
    /// The last time a sync round finished.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success: Option<time::OffsetDateTime>,
    /// The last error, if the last round failed.
    pub last_error: Option<String>,
}

impl Store {
    /// The oldest pending outbox rows: at most `max_rows`, and no more than `max_bytes` of
    /// payload (but always at least one row, however big).
    pub fn outbox_batch(&self, max_rows: usize, max_bytes: usize) -> Result<Vec<OutboxRecord>> {
        let rows = self.outbox_pending(max_rows)?;
        let mut total = 0;
        let mut batch = Vec::with_capacity(rows.len());
        for row in rows {
            total += row.payload.get().len();
            if total > max_bytes && !batch.is_empty() {
                break;
            }
            batch.push(row);
        }
        Ok(batch)
    }

    /// Marks outbox rows by the registry's durable answer, all in one transaction.
    pub fn settle_outbox(&mut self, settled: &[(String, Settlement)]) -> Result<()> {
        self.write_as_system(SYNC_ACTOR, |ctx| {
            for (id, settlement) in settled {
                let Some(uuid) = crate::parse_uuid(id) else {
                    continue;
                };
                match settlement {
                    Settlement::Sent => ctx
                        .tx
                        .prepare_cached(
                            "UPDATE outbox SET sent_at = ?2 WHERE id = ?1 AND sent_at IS NULL",
                        )?
                        .execute(params![uuid, ctx.now_ms])?,
                    Settlement::SetAside(reason) => ctx
                        .tx
                        .prepare_cached(
                            "UPDATE outbox SET rejected_at = ?2, rejected_reason = ?3 WHERE id = ?1",
                        )?
                        .execute(params![uuid, ctx.now_ms, reason])?,
                };
            }
            Ok(())
        })
    }

    /// Puts set-aside rows back in the queue, for when a fix (at the registry or here)
    /// has made them sendable (admins only). Returns how many went back.
    pub fn resend_set_aside(&mut self, session: &Session, ids: &[String]) -> Result<usize> {
        self.write(session, Action::ManageFacility, |ctx| {
            let mut resent = 0;
            for id in ids {
                let Some(uuid) = crate::parse_uuid(id) else {
                    continue;
                };
                resent += ctx
                    .tx
                    .prepare_cached(
                        "UPDATE outbox SET rejected_at = NULL, rejected_reason = NULL
                         WHERE id = ?1 AND rejected_at IS NOT NULL",
                    )?
                    .execute([uuid])?;
            }
            ctx.audit("sync.resend", None, &format!("{resent} record(s)"))?;
            Ok(resent)
        })
    }

    /// Outbox rows the registry refused, newest first, for an admin: they name records and
    /// carry the registry's reasons.
    pub fn set_aside_records(&mut self, session: &Session, limit: usize) -> Result<Vec<SetAside>> {
        self.read(session, Action::ManageFacility, |ctx| {
            set_aside_rows(ctx.tx, limit)
        })
    }

    /// Outbox rows the registry refused, newest first (the sync worker's and the command
    /// line's own reading, with no session).
    pub fn set_aside(&self, limit: usize) -> Result<Vec<SetAside>> {
        set_aside_rows(&self.conn, limit)
    }

    /// The pull cursor: the registry sequence of the last change applied here.
    pub fn pull_cursor(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT pull_after FROM sync_state WHERE id = 1", [], |r| {
                r.get(0)
            })?)
    }

    /// Applies a pulled page and moves the cursor to `next_after`, in one transaction: a
    /// crash leaves the page and the cursor both applied or both not.
    pub fn apply_changes(&mut self, changes: &[Change], next_after: i64) -> Result<ApplyReport> {
        let read: Vec<ReadChange> = changes.iter().cloned().map(ReadChange::from).collect();
        self.apply_read_changes(&read, next_after)
    }

    /// [`Store::apply_changes`] for a page already read (see [`ReadChange`]).
    pub fn apply_read_changes(
        &mut self,
        changes: &[ReadChange],
        next_after: i64,
    ) -> Result<ApplyReport> {
        // Another zone's today may be this zone's tomorrow (a baby born after midnight WIT
        // is not "in the future" for a clinic in WIB).
        let today = self.today().next_day().unwrap_or(self.today());
        // Nearly every page applies whole, so it is first tried so, without a savepoint per
        // change (each costs more than the change: the name index is flushed at each).
        // Only when one change cannot be applied is the page applied again, each change
        // on its own, and that one set aside.
        let whole = self.write_as_system(SYNC_ACTOR, |ctx| {
            let mut report = ApplyReport::default();
            let names = DeferredNames::begin(ctx)?;
            retry_set_aside_after_upgrade(ctx, today, &mut report)?;
            let mut pulled = Vec::new();
            for change in changes {
                pulled.extend(apply_one(ctx, change, today)?);
            }
            names.index(ctx)?;
            crate::links::settle_links(ctx)?;
            // One entry names the page's patients (the audit search finds each in it).
            pulled.sort_unstable();
            pulled.dedup();
            if !pulled.is_empty() {
                ctx.audit("patient.pulled", None, &pulled.join(" "))?;
            }
            report.applied += changes.len();
            move_pull_cursor(ctx, next_after)?;
            Ok(report)
        });
        match whole {
            Err(error) if !of_the_store_itself(&error) => {}
            whole => return whole,
        }
        self.write_as_system(SYNC_ACTOR, |ctx| {
            let mut report = ApplyReport::default();
            let names = DeferredNames::begin(ctx)?;
            retry_set_aside_after_upgrade(ctx, today, &mut report)?;
            for change in changes {
                match apply_alone(ctx, change, today)? {
                    None => report.applied += 1,
                    Some(reason) => {
                        keep_set_aside(ctx, &change.change, &reason)?;
                        report.skipped.push((change.change.seq, reason));
                    }
                }
            }
            names.index(ctx)?;
            crate::links::settle_links(ctx)?;
            move_pull_cursor(ctx, next_after)?;
            Ok(report)
        })
    }

    /// Records how a sync round ended.
    pub fn record_sync(&mut self, error: Option<&str>) -> Result<()> {
        self.write_as_system(SYNC_ACTOR, |ctx| {
            match error {
                None => ctx.tx.execute(
                    "UPDATE sync_state SET last_success = ?1, last_error = NULL WHERE id = 1",
                    [ctx.now_ms],
                )?,
                Some(message) => ctx.tx.execute(
                    "UPDATE sync_state SET last_error = ?1, last_error_at = ?2 WHERE id = 1",
                    params![message, ctx.now_ms],
                )?,
            };
            Ok(())
        })
    }

    /// Pending and refused rows, the cursor, the last success and the last error.
    pub fn sync_health(&self) -> Result<SyncHealth> {
        sync_health_of(&self.conn)
    }

    /// [`Store::sync_health`] for a signed-in account of any role: the top bar shows it.
    pub fn sync_health_for(&mut self, session: &Session) -> Result<SyncHealth> {
        self.read(session, Action::ReadPatients, |ctx| sync_health_of(ctx.tx))
    }
}

/// Patients a page brings are indexed for name search at its end, in one statement: FTS5
/// writes what it holds in memory to disk before each statement that follows a change to
/// it, so indexing them one by one wrote an index segment per patient. While the page is
/// applied, `names_deferred_after` tells the update trigger which rows are not indexed yet
/// (migrations 8 and 14).
struct DeferredNames {
    after: i64,
}

impl DeferredNames {
    fn begin(ctx: &Ctx<'_>) -> Result<Self> {
        let after: i64 = ctx
            .tx
            .query_row("SELECT coalesce(max(id), 0) FROM patient", [], |r| r.get(0))?;
        ctx.tx.execute(
            "UPDATE sync_state SET names_deferred_after = ?1 WHERE id = 1",
            [after],
        )?;
        Ok(Self { after })
    }

    fn index(self, ctx: &Ctx<'_>) -> Result<()> {
        ctx.tx.execute(
            "INSERT INTO patient_name (rowid, name_key) SELECT id, name_key FROM patient
             WHERE id > ?1 ORDER BY id",
            [self.after],
        )?;
        ctx.tx.execute(
            "UPDATE sync_state SET names_deferred_after = NULL WHERE id = 1",
            [],
        )?;
        Ok(())
    }
}

fn move_pull_cursor(ctx: &Ctx<'_>, next_after: i64) -> Result<()> {
    ctx.tx.execute(
        "UPDATE sync_state SET pull_after = max(pull_after, ?1) WHERE id = 1",
        [next_after],
    )?;
    Ok(())
}

/// Applies one pulled change inside a savepoint. A change that cannot be applied (a record
/// this version cannot read, one that breaks a rule of the store) is undone alone and
/// returned with why; a failure of the store itself (busy, disk) fails the whole page,
/// which is pulled again.
fn apply_alone(ctx: &Ctx<'_>, change: &ReadChange, today: time::Date) -> Result<Option<String>> {
    // A patient takes several statements; the other kinds take one, which SQLite applies
    // whole or not at all, so they need no savepoint of their own.
    let savepoint = change.change.kind == Kind::Patient;
    let run = |sql: &str| -> Result<()> {
        ctx.tx.prepare_cached(sql)?.execute([])?;
        Ok(())
    };
    if savepoint {
        run("SAVEPOINT pulled_change")?;
    }
    let applied = apply_one(ctx, change, today).and_then(|pulled| match pulled {
        Some(patient_number) => ctx.audit("patient.pulled", Some(&patient_number), ""),
        None => Ok(()),
    });
    match applied {
        Ok(()) => {
            if savepoint {
                run("RELEASE pulled_change")?;
            }
            Ok(None)
        }
        Err(error) => {
            if savepoint {
                run("ROLLBACK TO pulled_change")?;
                run("RELEASE pulled_change")?;
            }
            if of_the_store_itself(&error) {
                Err(error)
            } else {
                Ok(Some(error.to_string()))
            }
        }
    }
}

fn of_the_store_itself(error: &StoreError) -> bool {
    match error {
        StoreError::Busy | StoreError::Damaged(_) | StoreError::File { .. } => true,
        StoreError::Database(rusqlite::Error::SqliteFailure(failure, _)) => {
            failure.code != rusqlite::ErrorCode::ConstraintViolation
        }
        StoreError::Database(_) => true,
        _ => false,
    }
}

/// The version of Kartika applying pulled changes: a change set aside by another version
/// is tried again.
const KARTIKA_VERSION: &str = env!("CARGO_PKG_VERSION");

fn keep_set_aside(ctx: &Ctx<'_>, change: &Change, reason: &str) -> Result<()> {
    ctx.tx
        .prepare_cached(
            "INSERT INTO pulled_set_aside (seq, facility, kind, record_id, payload, reason,
                kartika_version, set_aside_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (seq) DO UPDATE SET reason = excluded.reason,
                kartika_version = excluded.kartika_version, set_aside_at = excluded.set_aside_at",
        )?
        .execute(params![
            change.seq,
            change.facility,
            OutboxKind::from(change.kind),
            change.record_id,
            change.payload.get(),
            reason,
            KARTIKA_VERSION,
            ctx.now_ms
        ])?;
    ctx.audit("sync.set_aside", None, &format!("{}: {reason}", change.seq))
}

/// Tries again the pulled changes an older Kartika could not apply.
fn retry_set_aside_after_upgrade(
    ctx: &Ctx<'_>,
    today: time::Date,
    report: &mut ApplyReport,
) -> Result<()> {
    let waiting: Vec<(i64, String, OutboxKind, String, String)> = ctx
        .tx
        .prepare_cached(
            "SELECT seq, facility, kind, record_id, payload FROM pulled_set_aside
             WHERE kartika_version != ?1 ORDER BY seq",
        )?
        .query_map([KARTIKA_VERSION], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (seq, facility, kind, record_id, payload) in waiting {
        let Ok(payload) = serde_json::value::RawValue::from_string(payload) else {
            continue;
        };
        let change = ReadChange::from(Change {
            seq,
            facility,
            kind: kind.into(),
            record_id,
            payload,
        });
        match apply_alone(ctx, &change, today)? {
            None => {
                ctx.tx
                    .execute("DELETE FROM pulled_set_aside WHERE seq = ?1", [seq])?;
                report.applied += 1;
            }
            Some(reason) => keep_set_aside(ctx, &change.change, &reason)?,
        }
    }
    Ok(())
}

/// Applies a pulled change; returns the number of the patient it brought, for the audit log.
fn apply_one(ctx: &Ctx<'_>, read: &ReadChange, today: time::Date) -> Result<Option<String>> {
    let change = &read.change;
    let record = read
        .record
        .as_ref()
        .map_err(|(what, reason)| StoreError::invalid(what, reason.clone()))?;
    match record {
        Record::Revocation(revocation) => apply_revocation(ctx, change, revocation).map(|()| None),
        Record::Patient(patient) => apply_patient(ctx, &change.facility, patient, today),
        Record::Visit(visit) => apply_visit(ctx, change, visit).map(|()| None),
        Record::Link(link) => crate::links::apply_link(ctx, change, link),
        Record::Ignored => Ok(None),
    }
}

fn apply_revocation(ctx: &Ctx<'_>, change: &Change, revocation: &RevocationPayload) -> Result<()> {
    if let Some(node) = &revocation.node {
        return revoke_node(ctx, change, node, revocation);
    }
    if revocation.lifted {
        // A Puskesmas lifts the revocations it made; the registry's operator
        // any that came through the registry. A block this Puskesmas made itself
        // stays until it lifts it.
        ctx.tx
            .prepare_cached(
                "DELETE FROM card_revocation WHERE card_number = ?1
                 AND (source = 'registry:' || ?2
                      OR (?2 = 'registry' AND source LIKE 'registry:%'))",
            )?
            .execute(params![change.record_id, change.facility])?;
        return Ok(());
    }
    let reason = revocation.reason.as_deref().unwrap_or("revoked");
    ctx.tx
        .prepare_cached(
            "INSERT INTO card_revocation (card_number, reason, revoked_at, source)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (card_number) DO NOTHING",
        )?
        .execute(params![
            change.record_id,
            format!("{reason} ({})", change.facility),
            ctx.now_ms,
            format!("registry:{}", change.facility)
        ])?;
    Ok(())
}

fn apply_visit(ctx: &Ctx<'_>, change: &Change, visit: &VisitDetail) -> Result<()> {
    if visit.facility_code == ctx.facility.code {
        return Ok(());
    }
    if visit.facility_code != change.facility {
        return Err(StoreError::invalid(
            "visit",
            format!(
                "{} took place at {}; {} may not send it",
                visit.visit_id, visit.facility_code, change.facility
            ),
        ));
    }
    ctx.tx
        .prepare_cached(
            "INSERT INTO remote_visit (visit_id, patient_number, facility_code, version,
                arrived_at, payload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (visit_id) DO UPDATE SET version = excluded.version,
                payload = excluded.payload WHERE excluded.version > remote_visit.version",
        )?
        .execute(params![
            visit.visit_id,
            visit.patient_number,
            visit.facility_code,
            visit.version,
            visit.arrived.at.unix_timestamp().to_string(),
            change.payload.get()
        ])?;
    Ok(())
}

/// What a revocation carries: a card's (or its lifting), or a node's from the operator.
#[derive(Debug, Deserialize)]
struct RevocationPayload {
    #[serde(default)]
    lifted: bool,
    node: Option<String>,
    reason: Option<String>,
    revoked_at: Option<i64>,
}

/// A node the registry's operator revoked: cards it signs from that day are refused here.
fn revoke_node(
    ctx: &Ctx<'_>,
    change: &Change,
    node: &str,
    revocation: &RevocationPayload,
) -> Result<()> {
    if change.facility != "registry" {
        return Err(StoreError::invalid(
            "node revocation",
            format!(
                "comes from {}, not the registry's operator",
                change.facility
            ),
        ));
    }
    let at = revocation
        .revoked_at
        .ok_or_else(|| StoreError::invalid("node revocation", "has no revoked_at"))?;
    let reason = revocation.reason.as_deref().unwrap_or("revoked");
    ctx.tx
        .prepare_cached(
            "INSERT INTO node_revocation (node_id, revoked_at, reason) VALUES (?1, ?2, ?3)
             ON CONFLICT (node_id) DO NOTHING",
        )?
        .execute(params![node, at, reason])?;
    Ok(())
}

/// A pulled patient: new here, or newer details of one known here. The registry orders
/// changes, so the last applied wins.
fn apply_patient(
    ctx: &Ctx<'_>,
    from: &str,
    patient: &Patient,
    today: time::Date,
) -> Result<Option<String>> {
    // This Puskesmas's own record, brought back with a linked record's history: held here.
    if from == ctx.facility.code && patient.origin_facility == ctx.facility.code {
        return Ok(None);
    }
    // A patient's details belong to the facility that registered them.
    if from != patient.origin_facility || patient.origin_facility == ctx.facility.code {
        return Err(StoreError::invalid(
            "patient",
            format!(
                "{} is registered by {}; details sent by {from} are not theirs to give",
                patient.patient_number, patient.origin_facility
            ),
        ));
    }
    let held: Option<(i64, i64, Patient)> = ctx
        .tx
        .prepare_cached("SELECT id, version FROM patient WHERE patient_number = ?1")?
        .query_row([&patient.patient_number], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .map(|(row, version)| -> Result<_> {
            let (_, known) = crate::patients::find_exact(ctx.tx, &patient.patient_number)?;
            Ok((row, version, known))
        })
        .transpose()?;
    if let Some((_, version, _)) = &held {
        if patient.version <= *version {
            // Older than, or the same as, what is held: nothing to do.
            return Ok(None);
        }
    }
    let keep = |new: &Option<String>, old: Option<&Option<String>>| {
        new.clone()
            .filter(|v| !v.trim().is_empty())
            .or_else(|| old.cloned().flatten())
    };
    let old = held.as_ref().map(|(_, _, p)| p);
    let details = NewPatient {
        // A field this Puskesmas knows is never blanked by a record that lacks it.
        nik: keep(&patient.nik, old.map(|p| &p.nik)),
        bpjs_number: keep(&patient.bpjs_number, old.map(|p| &p.bpjs_number)),
        family_card_number: keep(
            &patient.family_card_number,
            old.map(|p| &p.family_card_number),
        ),
        name: patient.name.clone(),
        birth_date: patient.birth_date.clone(),
        sex: Some(patient.sex),
        blood_group: keep(&patient.blood_group, old.map(|p| &p.blood_group)),
        address: keep(&patient.address, old.map(|p| &p.address)),
        region_code: keep(&patient.region_code, old.map(|p| &p.region_code)),
        phone: keep(&patient.phone, old.map(|p| &p.phone)),
    };
    let valid = validate(&details, today)?;
    match held.map(|(row, _, _)| row) {
        Some(row) => {
            write_details(ctx, row, &valid, Some(patient.version))?;
            Ok(Some(patient.patient_number.clone()))
        }
        None => {
            let uuid = crate::parse_uuid(&patient.id)
                .ok_or_else(|| StoreError::invalid("patient id", "is not a UUID"))?;
            insert_patient(
                ctx,
                valid,
                patient.patient_number.clone(),
                uuid,
                &patient.origin_facility,
                Origin::Registry(patient.version),
            )
            .map(|(_, created)| Some(created.patient.patient_number))
        }
    }
}

/// The refused outbox rows, newest first, at most `limit`.
fn set_aside_rows(conn: &rusqlite::Connection, limit: usize) -> Result<Vec<SetAside>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, record_id, rejected_reason FROM outbox
             WHERE rejected_at IS NOT NULL ORDER BY seq DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
        Ok(SetAside {
            id: r.get::<_, uuid::Uuid>(0)?.to_string(),
            kind: r.get(1)?,
            record_id: r.get(2)?,
            reason: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Pending and refused rows, the cursor, the last success and the last error.
fn sync_health_of(conn: &rusqlite::Connection) -> Result<SyncHealth> {
    let (pending, set_aside): (i64, i64) = conn.query_row(
        "SELECT count(*) FILTER (WHERE sent_at IS NULL AND rejected_at IS NULL),
                    count(*) FILTER (WHERE rejected_at IS NOT NULL) FROM outbox",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (pull_after, last_success, last_error): (i64, Option<i64>, Option<String>) = conn
        .query_row(
            "SELECT pull_after, last_success, last_error FROM sync_state WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
    let pulled_set_aside: i64 =
        conn.query_row("SELECT count(*) FROM pulled_set_aside", [], |r| r.get(0))?;
    Ok(SyncHealth {
        pending,
        set_aside,
        pulled_set_aside,
        pull_after,
        last_success: last_success.map(from_millis),
        last_error,
    })
}
