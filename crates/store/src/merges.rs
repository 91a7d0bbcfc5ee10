//! One person, one record: an admin merges two records of the same patient registered at
//! this Puskesmas, and can undo it any day later.
//!
//! The survivor keeps its number; the retired record stays (never deleted) and points to
//! it (`patient.merged_into`), so a card, a search or a visit that names the retired number
//! finds the survivor. The retired record's visits (with their diagnoses), cards and open
//! flags move to the survivor in one transaction, and the merge keeps exactly what it
//! moved and the survivor's fields before, so that undoing it puts back those rows and
//! nothing else: a visit registered for the survivor after the merge stays with it.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::access::{Action, Session};
use crate::patients::{find_exact, validate, write_details, NewPatient, Patient};
use crate::{Ctx, OutboxKind, Result, Store, StoreError};

/// A field of a patient's record that two records may disagree on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeField {
    /// NIK.
    Nik,
    /// BPJS card number.
    BpjsNumber,
    /// No. KK.
    FamilyCardNumber,
    /// Full name.
    Name,
    /// Date of birth.
    BirthDate,
    /// Sex.
    Sex,
    /// Blood group.
    BloodGroup,
    /// Street address.
    Address,
    /// Village code.
    RegionCode,
    /// Telephone.
    Phone,
}

impl MergeField {
    /// Every field, in the order a side-by-side view shows them.
    pub const ALL: [MergeField; 10] = [
        Self::Nik,
        Self::BpjsNumber,
        Self::FamilyCardNumber,
        Self::Name,
        Self::BirthDate,
        Self::Sex,
        Self::BloodGroup,
        Self::Address,
        Self::RegionCode,
        Self::Phone,
    ];

    /// The name the command line takes (`--take name,address`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Nik => "nik",
            Self::BpjsNumber => "bpjs",
            Self::FamilyCardNumber => "kk",
            Self::Name => "name",
            Self::BirthDate => "birth_date",
            Self::Sex => "sex",
            Self::BloodGroup => "blood_group",
            Self::Address => "address",
            Self::RegionCode => "region",
            Self::Phone => "phone",
        }
    }

    /// The field named `key` ([`MergeField::key`]).
    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == key.trim())
    }

    fn value(self, p: &NewPatient) -> Option<String> {
        match self {
            Self::Nik => p.nik.clone(),
            Self::BpjsNumber => p.bpjs_number.clone(),
            Self::FamilyCardNumber => p.family_card_number.clone(),
            Self::Name => Some(p.name.clone()),
            Self::BirthDate => Some(p.birth_date.clone()),
            Self::Sex => p.sex.map(|s| s.code().to_string()),
            Self::BloodGroup => p.blood_group.clone(),
            Self::Address => p.address.clone(),
            Self::RegionCode => p.region_code.clone(),
            Self::Phone => p.phone.clone(),
        }
    }

    fn copy(self, from: &NewPatient, to: &mut NewPatient) {
        match self {
            Self::Nik => to.nik = from.nik.clone(),
            Self::BpjsNumber => to.bpjs_number = from.bpjs_number.clone(),
            Self::FamilyCardNumber => to.family_card_number = from.family_card_number.clone(),
            Self::Name => to.name = from.name.clone(),
            Self::BirthDate => to.birth_date = from.birth_date.clone(),
            Self::Sex => to.sex = from.sex,
            Self::BloodGroup => to.blood_group = from.blood_group.clone(),
            Self::Address => to.address = from.address.clone(),
            Self::RegionCode => to.region_code = from.region_code.clone(),
            Self::Phone => to.phone = from.phone.clone(),
        }
    }
}

/// A field the two records disagree on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDifference {
    /// Which field.
    pub field: MergeField,
    /// The survivor's value.
    pub survivor: Option<String>,
    /// The retired record's value.
    pub retired: Option<String>,
}

/// A record's visits at a glance, for the side-by-side view.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitsAtAGlance {
    /// Visits per year, oldest year first.
    pub per_year: Vec<(i32, u32)>,
    /// The day of the last visit, `YYYY-MM-DD`.
    pub last: Option<String>,
    /// The record's cards.
    pub cards: Vec<String>,
}

/// What a merge does, told before it is done (`--dry-run`, the admin's "Gabungkan").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergePlan {
    /// The record that stays, as it will read after the merge.
    pub survivor: Patient,
    /// The record retired into it.
    pub retired: Patient,
    /// The survivor's visits and cards before the merge.
    pub survivor_visits: VisitsAtAGlance,
    /// The retired record's.
    pub retired_visits: VisitsAtAGlance,
    /// Where the two disagree, and which the survivor keeps is the caller's choice.
    pub differences: Vec<FieldDifference>,
    /// Fields the survivor takes from the retired record.
    pub taken_from_retired: Vec<MergeField>,
    /// Visits that move.
    pub visits: usize,
    /// Diagnoses that move with them.
    pub diagnoses: usize,
    /// Cards that move (they tap as the survivor from then on).
    pub cards: Vec<String>,
    /// Open duplicate flags: the one between the two is settled, others follow.
    pub flags: usize,
}

/// A merge in force, which an admin may undo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRecord {
    /// The record that stays.
    pub survivor: String,
    /// The record retired into it.
    pub retired: String,
    /// When, in milliseconds since 1970.
    pub merged_at_ms: i64,
    /// Who merged them.
    pub merged_by: String,
}

/// The admin's "Pasien ganda": the open flags and the merges that can be undone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duplicates {
    /// Possible duplicates not settled yet.
    pub flags: Vec<crate::PossibleDuplicate>,
    /// Merges in force, newest first (the last hundred).
    pub merges: Vec<MergeRecord>,
    /// Links with other Puskesmas's records in force, newest first (the last hundred):
    /// undone through the registry, by either owner.
    #[serde(default)]
    pub links: Vec<crate::PatientLinkRecord>,
}

/// A merge undone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmerged {
    /// The record that had survived.
    pub survivor: String,
    /// The record that is its own again.
    pub retired: String,
    /// Visits that went back.
    pub visits: usize,
    /// Cards that went back.
    pub cards: usize,
    /// Visits registered for the survivor after the merge, which stay with it.
    pub kept_with_survivor: usize,
}

/// What a merge moved, kept in the merge's row so that its undo moves exactly that back.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Moved {
    visits: Vec<i64>,
    cards: Vec<String>,
    /// Flags that named the retired record, and which side did.
    flags: Vec<MovedFlag>,
    /// The survivor's fields before, when any was taken from the retired record.
    survivor_before: Option<NewPatient>,
}

#[derive(Debug, Serialize, Deserialize)]
struct MovedFlag {
    id: i64,
    /// The flag was between the two records and the merge settled it.
    settled: bool,
    /// The retired record was the flag's `patient_id` (else `other_patient_id`).
    first: bool,
}

fn details_of(p: &Patient) -> NewPatient {
    NewPatient {
        nik: p.nik.clone(),
        bpjs_number: p.bpjs_number.clone(),
        family_card_number: p.family_card_number.clone(),
        name: p.name.clone(),
        birth_date: p.birth_date.clone(),
        sex: Some(p.sex),
        blood_group: p.blood_group.clone(),
        address: p.address.clone(),
        region_code: p.region_code.clone(),
        phone: p.phone.clone(),
    }
}

fn differences(survivor: &NewPatient, retired: &NewPatient) -> Vec<FieldDifference> {
    MergeField::ALL
        .into_iter()
        .filter_map(|field| {
            let (a, b) = (field.value(survivor), field.value(retired));
            (a != b).then_some(FieldDifference {
                field,
                survivor: a,
                retired: b,
            })
        })
        .collect()
}

/// The two records, checked: both here, both their own, one person as far as can be told.
struct Pair {
    survivor_id: i64,
    survivor: Patient,
    retired_id: i64,
    retired: Patient,
}

fn checked_pair(ctx: &Ctx<'_>, keep: &str, retire: &str) -> Result<Pair> {
    let (survivor_id, survivor) = find_exact(ctx.tx, keep)?;
    let (retired_id, retired) = find_exact(ctx.tx, retire)?;
    if survivor_id == retired_id {
        return Err(StoreError::invalid(
            "patients",
            "choose two different records to merge",
        ));
    }
    for (id, patient) in [(survivor_id, &survivor), (retired_id, &retired)] {
        if let Some(into) = merged_into(ctx, id)? {
            return Err(StoreError::Conflict(format!(
                "patient {} was merged into {into} already; undo that merge first",
                patient.patient_number
            )));
        }
        if patient.origin_facility != ctx.facility.code {
            return Err(StoreError::Conflict(format!(
                "patient {} was registered at {}, not here: propose the merge to that Puskesmas instead",
                patient.patient_number, patient.origin_facility
            )));
        }
    }
    if let (Some(a), Some(b)) = (&survivor.nik, &retired.nik) {
        if a != b {
            return Err(StoreError::Conflict(format!(
                "patients {} and {} have different NIKs ({a} and {b}): they are two people, or one NIK is wrong; correct it first",
                survivor.patient_number, retired.patient_number
            )));
        }
    }
    Ok(Pair {
        survivor_id,
        survivor,
        retired_id,
        retired,
    })
}

fn merged_into(ctx: &Ctx<'_>, patient_id: i64) -> Result<Option<String>> {
    Ok(ctx
        .tx
        .prepare_cached(
            "SELECT s.patient_number FROM patient p JOIN patient s ON s.id = p.merged_into
             WHERE p.id = ?1",
        )?
        .query_row([patient_id], |r| r.get(0))
        .optional()?)
}

fn plan(ctx: &Ctx<'_>, pair: &Pair, take: &[MergeField]) -> Result<(MergePlan, NewPatient)> {
    let before = details_of(&pair.survivor);
    let retired = details_of(&pair.retired);
    let mut after = before.clone();
    let mut taken: Vec<MergeField> = take.to_vec();
    taken.sort();
    taken.dedup();
    for field in &taken {
        field.copy(&retired, &mut after);
    }
    let count = |sql: &str| -> Result<usize> {
        let n: i64 = ctx.tx.query_row(sql, [pair.retired_id], |r| r.get(0))?;
        Ok(usize::try_from(n).unwrap_or(0))
    };
    let visits = count("SELECT count(*) FROM visit WHERE patient_id = ?1")?;
    let diagnoses = count("SELECT count(*) FROM diagnosis WHERE patient_id = ?1")?;
    let flags = count(
        "SELECT count(*) FROM patient_flag
         WHERE resolved_at IS NULL AND (patient_id = ?1 OR other_patient_id = ?1)",
    )?;
    let cards = ctx
        .tx
        .prepare_cached("SELECT card_number FROM card WHERE patient_id = ?1 ORDER BY card_number")?
        .query_map([pair.retired_id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    let mut survivor = pair.survivor.clone();
    apply_shown(&mut survivor, &after);
    Ok((
        MergePlan {
            survivor,
            retired: pair.retired.clone(),
            survivor_visits: at_a_glance(ctx, pair.survivor_id)?,
            retired_visits: at_a_glance(ctx, pair.retired_id)?,
            differences: differences(&before, &retired),
            taken_from_retired: taken,
            visits,
            diagnoses,
            cards,
            flags,
        },
        after,
    ))
}

fn at_a_glance(ctx: &Ctx<'_>, patient_id: i64) -> Result<VisitsAtAGlance> {
    let per_year = ctx
        .tx
        .prepare_cached(
            "SELECT CAST(substr(queue_date, 1, 4) AS INTEGER), count(*) FROM visit
             WHERE patient_id = ?1 GROUP BY 1 ORDER BY 1",
        )?
        .query_map([patient_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let last = ctx
        .tx
        .prepare_cached("SELECT max(queue_date) FROM visit WHERE patient_id = ?1")?
        .query_row([patient_id], |r| r.get(0))?;
    let cards = ctx
        .tx
        .prepare_cached("SELECT card_number FROM card WHERE patient_id = ?1 ORDER BY card_number")?
        .query_map([patient_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(VisitsAtAGlance {
        per_year,
        last,
        cards,
    })
}

/// The survivor as the plan shows it: its own record with the chosen fields.
fn apply_shown(p: &mut Patient, d: &NewPatient) {
    p.nik = d.nik.clone();
    p.bpjs_number = d.bpjs_number.clone();
    p.family_card_number = d.family_card_number.clone();
    p.name = d.name.clone();
    p.birth_date = d.birth_date.clone();
    p.sex = d.sex.unwrap_or(p.sex);
    p.blood_group = d.blood_group.clone();
    p.address = d.address.clone();
    p.region_code = d.region_code.clone();
    p.phone = d.phone.clone();
}

impl Store {
    /// The open duplicate flags and the merges in force (admins only; audited).
    pub fn duplicates(&mut self, session: &Session) -> Result<Duplicates> {
        let flags = self.possible_duplicates(session)?;
        let merges = self.write(session, Action::MergePatients, |ctx| {
            let mut stmt = ctx.tx.prepare_cached(
                "SELECT s.patient_number, r.patient_number, m.merged_at, m.merged_by
                 FROM patient_merge m JOIN patient s ON s.id = m.survivor_id
                 JOIN patient r ON r.id = m.retired_id
                 WHERE m.undone_at IS NULL ORDER BY m.id DESC LIMIT 100",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(MergeRecord {
                    survivor: r.get(0)?,
                    retired: r.get(1)?,
                    merged_at_ms: r.get(2)?,
                    merged_by: r.get(3)?,
                })
            })?;
            let merges = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((merges, crate::links::links_in_force(ctx)?))
        })?;
        let (merges, links) = merges;
        Ok(Duplicates {
            flags,
            merges,
            links,
        })
    }

    /// What merging `retire` into `keep` would do, taking the fields `take` from the
    /// retired record; nothing changes (admins only; the look is audited).
    pub fn plan_merge(
        &mut self,
        session: &Session,
        keep: &str,
        retire: &str,
        take: &[MergeField],
    ) -> Result<MergePlan> {
        self.write(session, Action::MergePatients, |ctx| {
            let pair = checked_pair(ctx, keep, retire)?;
            let (plan, _) = plan(ctx, &pair, take)?;
            ctx.audit(
                "patient.merge_planned",
                Some(&pair.survivor.patient_number),
                &format!("retire {}", pair.retired.patient_number),
            )?;
            Ok(plan)
        })
    }

    /// Merges `retire` into `keep` in one transaction (admins only): see the module's text.
    /// Refused, changing nothing, for two records with different NIKs, a record already
    /// merged, or a record another Puskesmas registered.
    pub fn merge_patients(
        &mut self,
        session: &Session,
        keep: &str,
        retire: &str,
        take: &[MergeField],
    ) -> Result<MergePlan> {
        let today = self.today();
        self.write(session, Action::MergePatients, |ctx| {
            let pair = checked_pair(ctx, keep, retire)?;
            let (plan, after) = plan(ctx, &pair, take)?;
            let mut moved = Moved::default();
            let (keep_id, retire_id) = (pair.survivor_id, pair.retired_id);
            moved.visits = ctx
                .tx
                .prepare_cached("SELECT id FROM visit WHERE patient_id = ?1 ORDER BY id")?
                .query_map([retire_id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            moved.cards = plan.cards.clone();
            let mut flags = ctx.tx.prepare_cached(
                "SELECT id, patient_id, other_patient_id FROM patient_flag
                 WHERE resolved_at IS NULL AND (patient_id = ?1 OR other_patient_id = ?1)
                 ORDER BY id",
            )?;
            let rows = flags.query_map([retire_id], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })?;
            for row in rows {
                let (id, first, second) = row?;
                moved.flags.push(MovedFlag {
                    id,
                    settled: first == keep_id || second == keep_id,
                    first: first == retire_id,
                });
            }
            ctx.tx
                .prepare_cached("UPDATE visit SET patient_id = ?1 WHERE patient_id = ?2")?
                .execute(params![keep_id, retire_id])?;
            ctx.tx
                .prepare_cached("UPDATE diagnosis SET patient_id = ?1 WHERE patient_id = ?2")?
                .execute(params![keep_id, retire_id])?;
            ctx.tx
                .prepare_cached("UPDATE card SET patient_id = ?1 WHERE patient_id = ?2")?
                .execute(params![keep_id, retire_id])?;
            for flag in &moved.flags {
                let (sql, value) = match (flag.settled, flag.first) {
                    (true, _) => (
                        "UPDATE patient_flag SET resolved_at = ?2 WHERE id = ?1",
                        ctx.now_ms,
                    ),
                    (false, true) => ("UPDATE patient_flag SET patient_id = ?2 WHERE id = ?1", keep_id),
                    (false, false) => (
                        "UPDATE patient_flag SET other_patient_id = ?2 WHERE id = ?1",
                        keep_id,
                    ),
                };
                ctx.tx.prepare_cached(sql)?.execute(params![flag.id, value])?;
            }
            ctx.tx
                .prepare_cached("UPDATE patient SET merged_into = ?1 WHERE id = ?2")?
                .execute(params![keep_id, retire_id])?;
            if !plan.taken_from_retired.is_empty() {
                moved.survivor_before = Some(details_of(&pair.survivor));
                rewrite_survivor(ctx, keep_id, &after, today)?;
            }
            let kept = serde_json::to_string(&moved)
                .map_err(|e| StoreError::Conflict(format!("cannot keep the merge: {e}")))?;
            ctx.tx
                .prepare_cached(
                    "INSERT INTO patient_merge (survivor_id, retired_id, merged_at, merged_by, moved)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![keep_id, retire_id, ctx.now_ms, ctx.actor, kept])?;
            ctx.audit(
                "patient.merge",
                Some(&pair.survivor.patient_number),
                &format!(
                    "retired {}: {} visits, {} diagnoses, {} cards, {} flags; fields from it: {}",
                    pair.retired.patient_number,
                    plan.visits,
                    plan.diagnoses,
                    plan.cards.len(),
                    plan.flags,
                    field_list(&plan.taken_from_retired),
                ),
            )?;
            Ok(plan)
        })
    }

    /// Undoes the last merge of `retired` (admins only): every row it moved goes back, the
    /// survivor's fields are as they were before it, and what was recorded for the
    /// survivor since stays with it. A merge whose survivor was itself merged later waits
    /// for that merge to be undone first.
    pub fn unmerge_patient(&mut self, session: &Session, retired: &str) -> Result<Unmerged> {
        let today = self.today();
        self.write(session, Action::MergePatients, |ctx| {
            let (retire_id, retired_patient) = find_exact(ctx.tx, retired)?;
            let merge: Option<(i64, i64, String)> = ctx
                .tx
                .prepare_cached(
                    "SELECT id, survivor_id, moved FROM patient_merge
                     WHERE retired_id = ?1 AND undone_at IS NULL ORDER BY id DESC LIMIT 1",
                )?
                .query_row([retire_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            let Some((merge_id, keep_id, kept)) = merge else {
                if let Some(into) = merged_into(ctx, retire_id)? {
                    return Err(StoreError::Conflict(format!(
                        "patient {} is linked to {into} through the registry (two Puskesmas agreed); undo the link instead (kartika patient undo-link)",
                        retired_patient.patient_number
                    )));
                }
                return Err(StoreError::Conflict(format!(
                    "patient {} is not merged into another record",
                    retired_patient.patient_number
                )));
            };
            let survivor_number: String = ctx.tx.query_row(
                "SELECT patient_number FROM patient WHERE id = ?1",
                [keep_id],
                |r| r.get(0),
            )?;
            if let Some(into) = merged_into(ctx, keep_id)? {
                return Err(StoreError::Conflict(format!(
                    "{survivor_number} was merged into {into} after; undo that merge first"
                )));
            }
            let moved: Moved = serde_json::from_str(&kept).map_err(|e| {
                StoreError::Damaged(format!("merge {merge_id} of {survivor_number}: {e}"))
            })?;
            let mut back = 0;
            for visit in &moved.visits {
                back += ctx
                    .tx
                    .prepare_cached("UPDATE visit SET patient_id = ?1 WHERE id = ?2 AND patient_id = ?3")?
                    .execute(params![retire_id, visit, keep_id])?;
                ctx.tx
                    .prepare_cached(
                        "UPDATE diagnosis SET patient_id = ?1 WHERE visit_id = ?2 AND patient_id = ?3",
                    )?
                    .execute(params![retire_id, visit, keep_id])?;
            }
            let mut cards = 0;
            for card in &moved.cards {
                cards += ctx
                    .tx
                    .prepare_cached(
                        "UPDATE card SET patient_id = ?1 WHERE card_number = ?2 AND patient_id = ?3",
                    )?
                    .execute(params![retire_id, card, keep_id])?;
            }
            for flag in &moved.flags {
                let sql = match (flag.settled, flag.first) {
                    (true, _) => "UPDATE patient_flag SET resolved_at = NULL WHERE id = ?1",
                    (false, true) => "UPDATE patient_flag SET patient_id = ?2 WHERE id = ?1",
                    (false, false) => "UPDATE patient_flag SET other_patient_id = ?2 WHERE id = ?1",
                };
                let restore = ctx.tx.prepare_cached(sql);
                if flag.settled {
                    restore?.execute([flag.id])?;
                } else {
                    restore?.execute(params![flag.id, retire_id])?;
                }
            }
            ctx.tx
                .prepare_cached("UPDATE patient SET merged_into = NULL WHERE id = ?1")?
                .execute([retire_id])?;
            if let Some(before) = &moved.survivor_before {
                rewrite_survivor(ctx, keep_id, before, today)?;
            }
            let since: i64 = ctx.tx.query_row(
                "SELECT count(*) FROM visit WHERE patient_id = ?1 AND arrived_at >= (
                     SELECT merged_at FROM patient_merge WHERE id = ?2)",
                params![keep_id, merge_id],
                |r| r.get(0),
            )?;
            ctx.tx
                .prepare_cached(
                    "UPDATE patient_merge SET undone_at = ?2, undone_by = ?3 WHERE id = ?1",
                )?
                .execute(params![merge_id, ctx.now_ms, ctx.actor])?;
            ctx.audit(
                "patient.unmerge",
                Some(&survivor_number),
                &format!(
                    "{} is its own again: {back} visits and {cards} cards back",
                    retired_patient.patient_number
                ),
            )?;
            Ok(Unmerged {
                survivor: survivor_number,
                retired: retired_patient.patient_number,
                visits: back,
                cards,
                kept_with_survivor: usize::try_from(since).unwrap_or(0),
            })
        })
    }
}

/// The survivor's fields set to `details`, as an edit: checked, its version counted up,
/// and the registry told (the survivor is a record of this Puskesmas).
fn rewrite_survivor(
    ctx: &Ctx<'_>,
    survivor_id: i64,
    details: &NewPatient,
    today: time::Date,
) -> Result<()> {
    let valid = validate(details, today)?;
    write_details(ctx, survivor_id, &valid, None)?;
    let number: String = ctx.tx.query_row(
        "SELECT patient_number FROM patient WHERE id = ?1",
        [survivor_id],
        |r| r.get(0),
    )?;
    let (_, patient) = find_exact(ctx.tx, &number)?;
    ctx.outbox(OutboxKind::Patient, &patient.id, &patient)
}

/// Every record merged or linked into `patient_id`, directly or through another merge or
/// link, with its number: their visits belong to its history.
pub(crate) fn retired_records(ctx: &Ctx<'_>, patient_id: i64) -> Result<Vec<(i64, String)>> {
    let mut stmt = ctx.tx.prepare_cached(
        "WITH RECURSIVE retired(id) AS (
             SELECT id FROM patient WHERE merged_into = ?1
             UNION SELECT p.id FROM patient p JOIN retired r ON p.merged_into = r.id)
         SELECT id, patient_number FROM patient WHERE id IN (SELECT id FROM retired) AND id != ?1",
    )?;
    let rows = stmt.query_map([patient_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every record of the person `patient_id` is a record of: the survivor it was merged or
/// linked into (if any), and every record merged or linked into that.
pub(crate) fn one_person(ctx: &Ctx<'_>, patient_id: i64) -> Result<Vec<i64>> {
    let root = crate::patients::survivor_of(ctx.tx, patient_id)?;
    let retired = retired_records(ctx, root)?;
    Ok(std::iter::once(root)
        .chain(retired.into_iter().map(|(id, _)| id))
        .collect())
}

fn field_list(fields: &[MergeField]) -> String {
    if fields.is_empty() {
        return "none".into();
    }
    fields
        .iter()
        .map(|f| f.key())
        .collect::<Vec<_>>()
        .join(", ")
}
