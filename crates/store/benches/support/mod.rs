//! The benchmarks' database: a Puskesmas with two years of generated history, a million
//! visits (twenty thousand with `--small`), and its admin logged in.
// Each benchmark uses the parts it needs.
#![allow(dead_code)]

use std::path::PathBuf;

use kartika_store::generate::{GenerateOptions, GenerateReport};
use kartika_store::{FacilityProfile, NewStaff, Role, Session, Store, TimeZone};

const PASSWORD: &str = "bench-password";

pub struct Bench {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub profile: FacilityProfile,
    pub store: Store,
    pub admin: Session,
    pub generated: GenerateReport,
    pub patients: u32,
    pub visits: u32,
}

/// Makes the database; `--small` on the command line makes a small one for a quick look.
pub fn million_visits() -> Bench {
    let small = std::env::args().any(|a| a == "--small");
    let (patients, visits) = if small {
        (4_000, 20_000)
    } else {
        (200_000, 1_000_000)
    };
    // BENCH_DIR picks the disk; the default temporary folder is on the same disk here.
    let dir = match std::env::var_os("BENCH_DIR") {
        Some(parent) => tempfile::tempdir_in(parent),
        None => tempfile::tempdir(),
    }
    .expect("temp dir");
    let db = dir.path().join("clinic.sqlite");
    let profile = FacilityProfile {
        code: "P3674060".into(),
        name: "Puskesmas Pamulang".into(),
        region_code: Some("36.74.06".into()),
        zone: TimeZone::Wib,
    };
    let mut store = Store::create(&db, &profile).expect("create");
    store
        .add_first_admin(&NewStaff {
            username: "admin".into(),
            display_name: "Admin".into(),
            role: Role::Admin,
            password: PASSWORD.into(),
        })
        .expect("admin");
    let admin = store.login("admin", PASSWORD).expect("login");
    let generated = store
        .generate(&GenerateOptions {
            patients,
            visits,
            days: 730,
            seed: 7,
            until: None,
        })
        .expect("generate");
    Bench {
        dir,
        db,
        profile,
        store,
        admin,
        generated,
        patients,
        visits,
    }
}
