//! A clinic database in a temporary folder, with a desk clerk, a nurse and an admin.

use std::path::PathBuf;
use std::sync::Arc;

use kartika_card::model::Sex;
use kartika_store::{
    Care, FacilityProfile, ManualClock, NewPatient, NewStaff, NewVisit, Payer, Role, Session,
    Store, TimeZone,
};
use tempfile::TempDir;
use time::macros::datetime;

/// Passwords of the test accounts.
pub const PASSWORD: &str = "rahasia-puskesmas";

/// An open store, its folder, its clock and three logged-in staff.
pub struct Clinic {
    pub store: Store,
    pub clock: ManualClock,
    pub admin: Session,
    pub desk: Session,
    pub nurse: Session,
    pub path: PathBuf,
    _dir: TempDir,
}

pub fn facility() -> FacilityProfile {
    FacilityProfile {
        code: "P3674060".into(),
        name: "Puskesmas Pamulang".into(),
        region_code: Some("36.74.06".into()),
        zone: TimeZone::Wib,
    }
}

pub fn staff(username: &str, role: Role) -> NewStaff {
    NewStaff {
        username: username.into(),
        display_name: format!("Staf {username}"),
        role,
        password: PASSWORD.into(),
    }
}

impl Clinic {
    /// A new clinic; the clock stands at 09:00 WIB on 2026-11-28.
    pub fn new() -> Self {
        Self::with_profile(&facility())
    }

    /// Another Puskesmas's clinic.
    pub fn with_facility(code: &str) -> Self {
        Self::with_profile(&FacilityProfile {
            code: code.into(),
            ..facility()
        })
    }

    /// A clinic in another time zone.
    pub fn in_zone(zone: TimeZone) -> Self {
        Self::with_profile(&FacilityProfile { zone, ..facility() })
    }

    fn with_profile(profile: &FacilityProfile) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("clinic.sqlite");
        let clock = ManualClock::new(datetime!(2026-11-28 02:00 UTC));
        let mut store =
            Store::create_with_clock(&path, profile, Arc::new(clock.clone())).expect("create");
        store
            .add_first_admin(&staff("admin", Role::Admin))
            .expect("first admin");
        let admin = store.login("admin", PASSWORD).expect("admin login");
        store
            .add_staff(&admin, &staff("desk", Role::Registration))
            .expect("desk");
        store
            .add_staff(&admin, &staff("nurse", Role::Nurse))
            .expect("nurse");
        let desk = store.login("desk", PASSWORD).expect("desk login");
        let nurse = store.login("nurse", PASSWORD).expect("nurse login");
        Self {
            store,
            clock,
            admin,
            desk,
            nurse,
            path,
            _dir: dir,
        }
    }

    /// Registers a patient and returns their number.
    pub fn patient(&mut self, details: &NewPatient) -> String {
        self.store
            .create_patient(&self.desk, details)
            .expect("create patient")
            .patient
            .patient_number
    }

    /// Opens a visit at a unit.
    pub fn visit(&mut self, patient_number: &str, unit: &str) -> kartika_store::VisitTicket {
        self.store
            .register_visit(&self.desk, &sick_visit(patient_number, unit))
            .expect("register visit")
    }
}

pub fn sick_visit(patient_number: &str, unit: &str) -> NewVisit {
    NewVisit {
        patient_number: patient_number.into(),
        unit_code: unit.into(),
        payer: Payer::BpjsPbi,
        care: Care::Sick,
        complaint: Some("batuk pilek tiga hari".into()),
    }
}

/// Siti Rahayu, born 1990-01-10, living in Pamulang Barat (inside the catchment).
pub fn siti() -> NewPatient {
    NewPatient {
        nik: Some("3674065001900003".into()),
        bpjs_number: Some("0001234567890".into()),
        family_card_number: Some("3674061201150007".into()),
        name: "Siti Rahayu".into(),
        birth_date: "1990-01-10".into(),
        sex: Some(Sex::Female),
        blood_group: Some("O+".into()),
        address: Some("Jl. Siliwangi No. 12".into()),
        region_code: Some("36.74.06.1001".into()),
        phone: Some("0812 3456 7890".into()),
    }
}

/// A man with no NIK, from a numbered series, living in Serpong (outside the catchment).
pub fn numbered(n: u32) -> NewPatient {
    NewPatient {
        name: format!("Budi Santoso {}", roman(n)),
        birth_date: "1985-06-15".into(),
        sex: Some(Sex::Male),
        region_code: Some("36.74.01.1001".into()),
        ..NewPatient::default()
    }
}

/// Distinct names for numbered patients, letters only (a name is folded to letters).
fn roman(mut n: u32) -> String {
    let mut text = String::new();
    loop {
        text.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
        if n == 0 {
            return text;
        }
    }
}

/// Opens the file with plain SQLite, as someone tampering with it would.
pub fn raw(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("open raw")
}
