//! `kartika db generate`: fills a clinic database with realistic history for benchmarks
//! and demos: Indonesian names, NIKs that agree with birth date and sex, Tangerang Selatan
//! addresses, a Puskesmas's mix of units, payers and diagnoses, with queue numbers, first
//! visits of the year and new and old cases worked out as the live operations would.
//!
//! It writes rows in bulk, not through the audited operations: it stands for history that
//! was already synced, so it writes one audit entry and no outbox rows.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use kartika_card::checks::mod30_check_char;
use rusqlite::{params, TransactionBehavior};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, Time};

use crate::clock::to_millis;
use crate::text::name_key;
use crate::{audit, regions, Result, Store, StoreError};

/// How much to generate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerateOptions {
    /// Patients to create.
    pub patients: u32,
    /// Visits to create, spread over the patients.
    pub visits: u32,
    /// Days of history, ending on `until`.
    pub days: u32,
    /// Seed of the random choices: the same seed gives the same data.
    pub seed: u64,
    /// The history's last day, before today; yesterday when not given.
    pub until: Option<Date>,
}

/// What was generated, and how fast.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenerateReport {
    /// Patients written.
    pub patients: u64,
    /// Visits written.
    pub visits: u64,
    /// Diagnoses written.
    pub diagnoses: u64,
    /// Time spent on patients.
    pub patient_time: Duration,
    /// Time spent on visits and their diagnoses.
    pub visit_time: Duration,
}

impl GenerateReport {
    /// Visits (with their diagnoses) written a second.
    pub fn visits_per_second(&self) -> f64 {
        self.visits as f64 / self.visit_time.as_secs_f64().max(1e-9)
    }
}

const MALE_NAMES: &[&str] = &[
    "Ahmad", "Muhammad", "Budi", "Agus", "Joko", "Dedi", "Eko", "Hendra", "Rudi", "Andi", "Rizky",
    "Fajar", "Dimas", "Arif", "Bambang", "Hadi", "Yusuf", "Irfan", "Wahyu", "Teguh", "Bayu",
    "Aditya", "Reza", "Fikri", "Galih", "Hasan", "Imam", "Slamet", "Sutrisno", "Iwan", "Gilang",
    "Rafi", "Daffa", "Ilham", "Rahmat",
];
const FEMALE_NAMES: &[&str] = &[
    "Siti", "Sri", "Dewi", "Nur", "Ani", "Rina", "Wati", "Lestari", "Putri", "Ayu", "Fitri",
    "Indah", "Ratna", "Yuni", "Rahma", "Nurul", "Aisyah", "Dian", "Eka", "Maya", "Nadia", "Anisa",
    "Sari", "Wulan", "Intan", "Mega", "Rini", "Kartika", "Novita", "Suci", "Zahra",
];
const FAMILY_NAMES: &[&str] = &[
    "Rahayu",
    "Wijaya",
    "Saputra",
    "Hidayat",
    "Santoso",
    "Pratama",
    "Kurniawan",
    "Setiawan",
    "Nugroho",
    "Susanto",
    "Hakim",
    "Lubis",
    "Nasution",
    "Siregar",
    "Harahap",
    "Simanjuntak",
    "Situmorang",
    "Permana",
    "Gunawan",
    "Hartono",
    "Purnomo",
    "Wibowo",
    "Hermawan",
    "Kusuma",
    "Ramadhan",
    "Firmansyah",
    "Maulana",
    "Syahputra",
    "Anggraini",
    "Handayani",
    "Wulandari",
    "Puspita",
    "Utami",
    "Fauzi",
    "Yulianti",
    "Sihombing",
    "Daulay",
    "Ma'ruf",
    "Sumantri",
];
const STREETS: &[&str] = &[
    "Merdeka",
    "Siliwangi",
    "Pahlawan",
    "Raya Serpong",
    "Ciater Raya",
    "Pajajaran",
    "Cendrawasih",
    "Kenanga",
    "Melati",
    "Mawar",
    "Flamboyan",
    "Veteran",
    "Sudirman",
    "Diponegoro",
    "Pamulang Raya",
    "Dewi Sartika",
    "Kartini",
    "Ki Hajar Dewantara",
    "Cempaka",
    "Anggrek",
];
/// Units and how often each is visited, in percent.
const UNITS: &[(&str, u32)] = &[
    ("general", 55),
    ("dental", 10),
    ("maternal_child", 12),
    ("family_planning", 6),
    ("immunization", 8),
    ("elderly", 9),
];
/// What a Puskesmas sees most, and how often, in relative weights.
const DIAGNOSES: &[(&str, u32)] = &[
    ("J06.9", 30),
    ("I10", 14),
    ("K29.7", 8),
    ("E11.9", 6),
    ("M79.1", 6),
    ("J00", 5),
    ("R50.9", 4),
    ("A09.9", 4),
    ("L30.9", 3),
    ("R51", 3),
    ("M54.5", 3),
    ("J02.9", 3),
    ("K30", 2),
    ("E78.5", 2),
    ("H10.9", 2),
    ("B35.4", 1),
    ("B86", 1),
    ("N39.0", 1),
    ("J45.9", 1),
    ("A01.0", 1),
];
const DENTAL_DIAGNOSES: &[(&str, u32)] = &[("K02.9", 6), ("K04.0", 3), ("K05.1", 1)];

struct GeneratedPatient {
    row_id: i64,
    village: &'static str,
    birth: Date,
}

fn weighted<'a>(rng: &mut fastrand::Rng, table: &'a [(&'a str, u32)]) -> &'a str {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut pick = rng.u32(0..total.max(1));
    for (item, weight) in table {
        if pick < *weight {
            return item;
        }
        pick -= weight;
    }
    table.first().map_or("", |(item, _)| item)
}

impl Store {
    /// Generates patients and visits into this database (see the module documentation).
    pub fn generate(&mut self, options: &GenerateOptions) -> Result<GenerateReport> {
        if options.patients == 0 && options.visits > 0 {
            return Err(StoreError::invalid(
                "patients",
                "visits need at least one patient",
            ));
        }
        if options.days == 0 {
            return Err(StoreError::invalid("days", "must be at least 1"));
        }
        if options.until.is_some_and(|until| until >= self.today()) {
            return Err(StoreError::invalid(
                "until",
                "must be before today: the history ends before the day's own queue",
            ));
        }
        let mut rng = fastrand::Rng::with_seed(options.seed);
        let villages = regions::villages_under("36.74");
        if villages.is_empty() {
            return Err(StoreError::Damaged(
                "the region list has no Tangerang Selatan".into(),
            ));
        }
        // Every row refers to rows made just before it, so foreign keys are not looked up
        // row by row (SQLite reads the pragma only outside a transaction); the checks and
        // the usual cache come back whatever happens.
        self.conn
            .execute_batch("PRAGMA foreign_keys = OFF; PRAGMA cache_size = -262144")?;
        let generated = self.generate_rows(&mut rng, options, &villages);
        self.conn
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536")?;
        let (patients, patient_time, visits, diagnoses, visit_time) = generated?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        audit::append(
            &tx,
            to_millis(self.clock.now()),
            "kartika db generate",
            "generate",
            None,
            &format!(
                "{} patients, {visits} visits, seed {}",
                patients.len(),
                options.seed
            ),
        )?;
        tx.commit()?;
        Ok(GenerateReport {
            patients: patients.len() as u64,
            visits,
            diagnoses,
            patient_time,
            visit_time,
        })
    }

    #[allow(clippy::type_complexity)]
    fn generate_rows(
        &mut self,
        rng: &mut fastrand::Rng,
        options: &GenerateOptions,
        villages: &[(&'static str, &'static str)],
    ) -> Result<(Vec<GeneratedPatient>, Duration, u64, u64, Duration)> {
        let started = Instant::now();
        let patients = self.generate_patients(rng, options.patients, villages)?;
        let patient_time = started.elapsed();
        let started = Instant::now();
        let (visits, diagnoses) = self.generate_visits(rng, options, &patients)?;
        Ok((patients, patient_time, visits, diagnoses, started.elapsed()))
    }

    fn generate_patients(
        &mut self,
        rng: &mut fastrand::Rng,
        count: u32,
        villages: &[(&'static str, &'static str)],
    ) -> Result<Vec<GeneratedPatient>> {
        let today = self.today();
        let code = self.facility.code.clone();
        let home_district = self.facility.region_code.clone().unwrap_or_default();
        let now = to_millis(self.clock.now());
        let mut nik_serials: HashMap<(String, Date, bool), u32> = HashMap::new();
        let mut generated = Vec::with_capacity(count as usize);
        let mut done = 0;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let structures = drop_structures(&tx, &["patient"])?;
        {
            let mut seq: i64 = tx.query_row(
                "SELECT next_patient_seq FROM facility WHERE id = 1",
                [],
                |r| r.get(0),
            )?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO patient (uuid, patient_number, nik, bpjs_number, family_card_number,
                        name, name_key, birth_date, sex, address, region_code, phone,
                        origin_facility, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
                )?;
                while done < count {
                    let female = rng.bool();
                    let given = if female {
                        FEMALE_NAMES[rng.usize(..FEMALE_NAMES.len())]
                    } else {
                        MALE_NAMES[rng.usize(..MALE_NAMES.len())]
                    };
                    let family = FAMILY_NAMES[rng.usize(..FAMILY_NAMES.len())];
                    let name = if rng.u8(..4) == 0 {
                        let middle = if female { FEMALE_NAMES } else { MALE_NAMES };
                        format!("{given} {} {family}", middle[rng.usize(..middle.len())])
                    } else {
                        format!("{given} {family}")
                    };
                    // Most patients live in the facility's own district.
                    let (village, village_name) = loop {
                        let v = villages[rng.usize(..villages.len())];
                        if home_district.is_empty()
                            || v.0.starts_with(&home_district)
                            || rng.u8(..10) < 3
                        {
                            break v;
                        }
                    };
                    let age_days = if rng.u8(..4) == 0 {
                        rng.i64(0..12 * 365)
                    } else {
                        rng.i64(0..80 * 365)
                    };
                    let birth = today - time::Duration::days(age_days);
                    let district: String = village[..8].replace('.', "");
                    let serial = nik_serials
                        .entry((district.clone(), birth, female))
                        .and_modify(|s| *s += 1)
                        .or_insert(1);
                    let nik = (age_days > 17 * 365).then(|| {
                        let day = birth.day() + if female { 40 } else { 0 };
                        format!(
                            "{district}{day:02}{:02}{:02}{serial:04}",
                            u8::from(birth.month()),
                            birth.year().rem_euclid(100)
                        )
                    });
                    let payload = format!("{code}{seq:07}");
                    let check = mod30_check_char(&payload).unwrap_or('0');
                    let bpjs =
                        (rng.u8(..10) < 7).then(|| format!("000{:010}", rng.u64(..10_000_000_000)));
                    let kk = (rng.u8(..10) < 6)
                        .then(|| format!("{district}{:010}", rng.u64(..10_000_000_000)));
                    let phone =
                        (rng.u8(..2) == 0).then(|| format!("08{:010}", rng.u64(..10_000_000_000)));
                    let address = format!(
                        "Jl. {} No. {}, {village_name}",
                        STREETS[rng.usize(..STREETS.len())],
                        rng.u16(1..200)
                    );
                    let uuid =
                        uuid::Builder::from_random_bytes(rng.u128(..).to_le_bytes()).into_uuid();
                    insert.execute(params![
                        uuid,
                        format!("{payload}{check}"),
                        nik,
                        bpjs,
                        kk,
                        name,
                        name_key(&name),
                        kartika_card::model::format_iso_date(birth),
                        if female { 2 } else { 1 },
                        address,
                        village,
                        phone,
                        code,
                        now,
                    ])?;
                    generated.push(GeneratedPatient {
                        row_id: tx.last_insert_rowid(),
                        village,
                        birth,
                    });
                    seq += 1;
                    done += 1;
                }
            }
            tx.execute(
                "UPDATE facility SET next_patient_seq = ?1 WHERE id = 1",
                [seq],
            )?;
        }
        restore_structures(&tx, &structures)?;
        // The generated patients are not in the name index yet: build it whole.
        tx.execute_batch("INSERT INTO patient_name (patient_name) VALUES ('rebuild')")?;
        tx.commit()?;
        Ok(generated)
    }

    fn generate_visits(
        &mut self,
        rng: &mut fastrand::Rng,
        options: &GenerateOptions,
        patients: &[GeneratedPatient],
    ) -> Result<(u64, u64)> {
        let offset = self.facility.offset();
        let facility = self.facility.clone();
        let last_day = options
            .until
            .unwrap_or(self.today() - time::Duration::days(1));
        let first_day = last_day - time::Duration::days(i64::from(options.days) - 1);
        let mut seen_in_year: HashSet<(usize, i32)> = HashSet::new();
        let mut seen_diagnosis: HashSet<(usize, &str)> = HashSet::new();
        let mut queue: HashMap<&str, i64> = HashMap::new();
        let (mut visits, mut diagnoses) = (0u64, 0u64);
        let mut day_index = 0;
        let per_day = options.visits.div_ceil(options.days);
        let mut left_today = 0;
        // One transaction, so a crash leaves the file as it was. Indexes take their rows in
        // random order; building them once at the end, sorted, is faster (and a unique
        // index rebuilt still refuses duplicates).
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let structures = drop_structures(&tx, &["visit", "diagnosis"])?;
        {
            {
                let mut insert_visit = tx.prepare_cached(
                    "INSERT INTO visit (uuid, patient_id, facility_code, unit_code, queue_date,
                        queue_number, payer, care, first_this_year, inside_catchment, status,
                        arrived_at, arrived_by, started_at, started_by, ended_at, ended_by,
                        complaint, systolic, diastolic, pulse, temperature, weight)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'generator',
                        ?13, 'generator', ?14, 'generator', ?15, ?16, ?17, ?18, ?19, ?20)",
                )?;
                let mut insert_diagnosis = tx.prepare_cached(
                    "INSERT INTO diagnosis (visit_id, code, is_primary, new_case, patient_id,
                        recorded_at, recorded_by)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'generator')",
                )?;
                while visits < u64::from(options.visits) {
                    if left_today == 0 {
                        day_index += 1;
                        left_today = per_day;
                        queue.clear();
                    }
                    let date = first_day + time::Duration::days(i64::from(day_index - 1));
                    let date_text = kartika_card::model::format_iso_date(date);
                    let patient_index = rng.usize(..patients.len());
                    let patient = &patients[patient_index];
                    let unit = weighted(rng, UNITS);
                    let care = match unit {
                        "immunization" | "family_planning" => "well",
                        "maternal_child" if rng.bool() => "well",
                        _ if rng.u8(..10) == 0 => "well",
                        _ => "sick",
                    };
                    let payer = match rng.u8(..20) {
                        0..=8 => "bpjs_pbi",
                        9..=14 => "bpjs_non_pbi",
                        _ => "general",
                    };
                    let status = match rng.u8(..100) {
                        0..=1 => "cancelled",
                        2..=4 => "referred",
                        _ => "finished",
                    };
                    let number = queue.entry(unit).or_insert(0);
                    *number += 1;
                    let arrived = OffsetDateTime::new_in_offset(
                        date,
                        Time::from_hms(7, 30, 0).unwrap_or(Time::MIDNIGHT),
                        offset,
                    ) + time::Duration::seconds(*number * 45 + rng.i64(0..40));
                    let started = arrived + time::Duration::minutes(rng.i64(5..90));
                    let ended = started + time::Duration::minutes(rng.i64(5..30));
                    let first =
                        status != "cancelled" && seen_in_year.insert((patient_index, date.year()));
                    let adult = (date - patient.birth).whole_days() > 15 * 365;
                    let vitals = (care == "sick" && adult && status != "cancelled").then(|| {
                        let systolic = rng.i64(100..170);
                        (
                            systolic,
                            systolic - rng.i64(30..60),
                            rng.i64(60..110),
                            36.0 + f64::from(rng.u8(..25)) / 10.0,
                            f64::from(rng.u16(400..950)) / 10.0,
                        )
                    });
                    let uuid = uuid::Builder::from_unix_timestamp_millis(
                        u64::try_from(to_millis(arrived)).unwrap_or(0),
                        &rng.u128(..).to_le_bytes()[..10]
                            .try_into()
                            .unwrap_or([0; 10]),
                    )
                    .into_uuid();
                    let (started_at, ended_at) = if status == "cancelled" {
                        (None, Some(to_millis(arrived + time::Duration::minutes(20))))
                    } else {
                        (Some(to_millis(started)), Some(to_millis(ended)))
                    };
                    insert_visit.execute(params![
                        uuid,
                        patient.row_id,
                        facility.code,
                        unit,
                        date_text,
                        *number,
                        payer,
                        care,
                        first,
                        facility.inside_catchment(Some(patient.village)),
                        status,
                        to_millis(arrived),
                        started_at,
                        ended_at,
                        (care == "sick").then_some("keluhan"),
                        vitals.map(|v| v.0),
                        vitals.map(|v| v.1),
                        vitals.map(|v| v.2),
                        vitals.map(|v| v.3),
                        vitals.map(|v| v.4),
                    ])?;
                    let visit_row = tx.last_insert_rowid();
                    if care == "sick" && status != "cancelled" {
                        let table = if unit == "dental" {
                            DENTAL_DIAGNOSES
                        } else {
                            DIAGNOSES
                        };
                        let primary = weighted(rng, table);
                        let secondary = (rng.u8(..10) < 3)
                            .then(|| weighted(rng, DIAGNOSES))
                            .filter(|s| *s != primary);
                        for (code, is_primary) in
                            std::iter::once((primary, true)).chain(secondary.map(|s| (s, false)))
                        {
                            let new_case = seen_diagnosis.insert((patient_index, code));
                            insert_diagnosis.execute(params![
                                visit_row,
                                code,
                                is_primary,
                                new_case,
                                patient.row_id,
                                ended_at
                            ])?;
                            diagnoses += 1;
                        }
                    }
                    visits += 1;
                    left_today -= 1;
                }
            }
        }
        restore_structures(&tx, &structures)?;
        tx.commit()?;
        Ok((visits, diagnoses))
    }
}

/// Drops the indexes (all but primary keys) and triggers of `tables` and returns the
/// statements that create them again. Rows then go in without random index inserts or a
/// full-text flush per row; [`restore_structures`] builds each once, sorted.
fn drop_structures(tx: &rusqlite::Transaction<'_>, tables: &[&str]) -> Result<Vec<String>> {
    let mut found: Vec<(String, String, String)> = Vec::new();
    let mut stmt = tx.prepare(
        "SELECT type, name, sql FROM sqlite_schema
         WHERE type IN ('index', 'trigger') AND tbl_name = ?1 AND sql IS NOT NULL",
    )?;
    for table in tables {
        let rows = stmt.query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        found.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);
    }
    for (kind, name, _) in &found {
        tx.execute_batch(&format!("DROP {} \"{name}\"", kind.to_ascii_uppercase()))?;
    }
    Ok(found.into_iter().map(|(_, _, sql)| sql).collect())
}

/// Creates again what [`drop_structures`] dropped; a unique index still refuses duplicates.
fn restore_structures(tx: &rusqlite::Transaction<'_>, statements: &[String]) -> Result<()> {
    for sql in statements {
        tx.execute_batch(sql)?;
    }
    Ok(())
}
