//! `kartika patient duplicates --registry`, `propose-merge`, `accept-merge`,
//! `decline-merge` and `undo-link`: two Puskesmas's admins agree from the command line that
//! two records are one person, and take it back.

use std::path::{Path, PathBuf};

use kartika_card::model::Sex;
use kartika_registry::sqlite::SqliteBackend;
use kartika_store::{FacilityProfile, NewPatient, NewStaff, Role, Store, TimeZone};
use kartika_testkit::registry::{enroll, RunningRegistry};

use crate::store_cli::{as_admin, succeeds, ADMIN_PASSWORD};
use crate::support::path;

const NIK: &str = "3674014302800002";

/// A Puskesmas's store with Dewi registered (her NIK), its token file beside it; returns
/// the store and Dewi's number.
fn puskesmas_with_dewi(dir: &Path, code: &str, token: &str) -> (PathBuf, String) {
    let db = dir.join(format!("{code}.sqlite"));
    let profile = FacilityProfile {
        code: code.into(),
        name: format!("Puskesmas {code}"),
        region_code: None,
        zone: TimeZone::Wib,
    };
    let mut store = Store::create(&db, &profile).unwrap();
    store
        .add_first_admin(&NewStaff {
            username: "admin".into(),
            display_name: "Admin".into(),
            role: Role::Admin,
            password: ADMIN_PASSWORD.into(),
        })
        .unwrap();
    let admin = store.login("admin", ADMIN_PASSWORD).unwrap();
    let number = store
        .create_patient(
            &admin,
            &NewPatient {
                nik: Some(NIK.into()),
                name: "Dewi Lestari".into(),
                birth_date: "1980-02-03".into(),
                sex: Some(Sex::Female),
                ..NewPatient::default()
            },
        )
        .unwrap()
        .patient
        .patient_number;
    std::fs::write(dir.join(format!("{code}.token")), token).unwrap();
    (db, number)
}

/// Runs `kartika patient COMMAND` for the Puskesmas `code` with its link to `registry`.
fn patient(
    dir: &Path,
    code: &str,
    registry: &str,
    command: &str,
    more: &[&str],
) -> std::process::Output {
    let db = dir.join(format!("{code}.sqlite"));
    let token = dir.join(format!("{code}.token"));
    let mut args = vec![
        "patient",
        command,
        "--db",
        path(&db),
        "--as",
        "admin",
        "--registry",
        registry,
        "--token-file",
        path(&token),
        "--json",
    ];
    args.extend_from_slice(more);
    as_admin(&args)
}

fn json(output: std::process::Output) -> serde_json::Value {
    serde_json::from_str(&succeeds(output)).unwrap()
}

#[test]
fn two_admins_link_one_person_from_the_command_line_and_take_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut backend = SqliteBackend::open(&dir.path().join("registry.sqlite")).unwrap();
    let tokens = ["P3674060", "P3674010"].map(|code| enroll(&mut backend, code));
    let registry = RunningRegistry::start(Box::new(backend));
    let url = registry.url();
    let (pamulang, ours) = puskesmas_with_dewi(dir.path(), "P3674060", &tokens[0]);
    let (serpong, theirs) = puskesmas_with_dewi(dir.path(), "P3674010", &tokens[1]);
    for (db, code) in [(&pamulang, "P3674060"), (&serpong, "P3674010")] {
        let token = dir.path().join(format!("{code}.token"));
        let args = [
            "sync",
            "--db",
            path(db),
            "--registry",
            &url,
            "--token-file",
            path(&token),
            "--once",
        ];
        succeeds(as_admin(&args));
    }

    let board = json(patient(dir.path(), "P3674060", &url, "duplicates", &[]));
    assert_eq!(board["registry"]["candidates"][0]["other"], theirs.as_str());
    assert_eq!(board["registry"]["candidates"][0]["reason"], "nik");

    let proposed = json(patient(
        dir.path(),
        "P3674060",
        &url,
        "propose-merge",
        &["--keep", &ours, "--retire", &theirs],
    ));
    assert_eq!(proposed["state"], "proposed");
    let id = proposed["id"].as_str().unwrap().to_owned();

    // A nurse may not decide for Serpong; nothing is asked of the registry.
    let db = path(&serpong).to_owned();
    succeeds(crate::store_cli::run(
        &[
            "staff",
            "add",
            "--db",
            &db,
            "--as",
            "admin",
            "--username",
            "rina",
            "--display-name",
            "Rina",
            "--role",
            "nurse",
        ],
        &[
            ("KARTIKA_PASSWORD", ADMIN_PASSWORD),
            ("KARTIKA_NEW_PASSWORD", "sandi-perawat-1"),
        ],
        "",
    ));
    let token = dir.path().join("P3674010.token");
    let refused = crate::store_cli::run(
        &[
            "patient",
            "accept-merge",
            "--db",
            &db,
            "--as",
            "rina",
            "--registry",
            &url,
            "--token-file",
            path(&token),
            "--proposal",
            &id,
        ],
        &[("KARTIKA_PASSWORD", "sandi-perawat-1")],
        "",
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("may not merge"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let board = json(patient(dir.path(), "P3674010", &url, "duplicates", &[]));
    assert_eq!(board["registry"]["proposals"][0]["state"], "proposed");

    let accepted = json(patient(
        dir.path(),
        "P3674010",
        &url,
        "accept-merge",
        &["--proposal", &id],
    ));
    assert_eq!(accepted["state"], "accepted");
    // Serpong followed at once (the command synced): its number opens Pamulang's record.
    let mut store = Store::open(&serpong).unwrap();
    let admin = store.login("admin", ADMIN_PASSWORD).unwrap();
    let history = store.patient_history(&admin, &theirs).unwrap();
    assert_eq!(history.patient.patient_number, ours);
    let here = json(patient(dir.path(), "P3674010", &url, "duplicates", &[]));
    assert_eq!(here["here"]["links"][0]["retired"], theirs.as_str());

    let undone = json(patient(
        dir.path(),
        "P3674060",
        &url,
        "undo-link",
        &["--proposal", &id],
    ));
    assert_eq!(undone["state"], "undone");
    let declined = patient(
        dir.path(),
        "P3674010",
        &url,
        "decline-merge",
        &["--proposal", &id],
    );
    assert!(!declined.status.success(), "an undone link is not declined");
    assert!(
        String::from_utf8_lossy(&declined.stderr).contains("undone"),
        "{}",
        String::from_utf8_lossy(&declined.stderr)
    );
}
