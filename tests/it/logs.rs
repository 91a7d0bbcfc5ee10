//! The servers' logs, after a stretch of a Puskesmas's traffic: a line for each request and
//! each refusal an operator can act on, and nothing of a patient's, nor any token or
//! password, whatever was sent.

use std::path::Path;
use std::sync::Arc;

use kartika_card::model::Sex;
use kartika_lan::{Answer, Client, Operation};
use kartika_store::{Care, NewPatient, NewVisit, PatientQuery, Payer, SystemClock};
use kartika_testkit::clinic::store_with_desks;

use crate::registry_cli::Registry;
use crate::support::{kartika, path, spawn_listening_to};

const PASSWORD: &str = "Sandi-Loket-7731";
const WRONG_PASSWORD: &str = "Salah-Sandi-0042";
/// A password typed into the name field by mistake.
const PASSWORD_AS_NAME: &str = "Rahasia!Tertukar55";

fn patients() -> Vec<NewPatient> {
    [
        ("Ratna Sari Wulandari", "3674064507880002", "0001122334455"),
        ("Bambang Hadi Prasetyo", "3674061203750005", "0009988776655"),
    ]
    .into_iter()
    .map(|(name, nik, bpjs)| NewPatient {
        name: name.into(),
        nik: Some(nik.into()),
        bpjs_number: Some(bpjs.into()),
        birth_date: if nik.as_bytes()[6] == b'4' {
            "1988-07-05"
        } else {
            "1975-03-12"
        }
        .into(),
        sex: Some(if nik.as_bytes()[6] == b'4' {
            Sex::Female
        } else {
            Sex::Male
        }),
        region_code: Some("36.74.06.1001".into()),
        ..NewPatient::default()
    })
    .collect()
}

fn log_file(dir: &Path, name: &str) -> std::fs::File {
    std::fs::File::create(dir.join(name)).unwrap()
}

#[test]
fn a_days_traffic_leaves_request_lines_and_refusals_and_nothing_of_a_patient_or_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("clinic.sqlite");
    store_with_desks(&db, Arc::new(SystemClock), 2, PASSWORD);
    let (mut registry, token_file) = Registry::enrolled("P3674060");
    registry.start_logging_to(log_file(dir.path(), "registry.log"), "debug");
    let (mut clinic_server, port) = spawn_listening_to(
        &["serve-clinic", "--db", path(&db), "--listen", "127.0.0.1:0"],
        log_file(dir.path(), "clinic.log"),
        "debug",
    );

    // The desk's morning: logins, two patients, their visits, searches by name and NIK.
    let desk = Client::new(&format!("http://127.0.0.1:{port}"), None).unwrap();
    assert!(desk.login("desk1", WRONG_PASSWORD).is_err());
    assert!(desk.login(PASSWORD_AS_NAME, PASSWORD).is_err());
    let me = desk.login("desk1", PASSWORD).unwrap();
    let mut tokens = vec![me.token.clone()];
    let mut numbers = Vec::new();
    for patient in patients() {
        let Answer::Created { created, .. } = desk
            .call(
                &me.token,
                Operation::CreatePatient {
                    patient: Box::new(patient.clone()),
                },
            )
            .unwrap()
        else {
            panic!("not created");
        };
        let number = created.patient.patient_number.clone();
        desk.call(
            &me.token,
            Operation::RegisterVisit {
                visit: NewVisit {
                    patient_number: number.clone(),
                    unit_code: "general".into(),
                    payer: Payer::BpjsPbi,
                    care: Care::Sick,
                    complaint: Some("demam".into()),
                },
            },
        )
        .unwrap();
        desk.call(
            &me.token,
            Operation::DeskPatient {
                patient_number: number.clone(),
            },
        )
        .unwrap();
        desk.call(
            &me.token,
            Operation::Search {
                queries: PatientQuery::guess(&patient.name)
                    .into_iter()
                    .chain(PatientQuery::guess(patient.nik.as_deref().unwrap()))
                    .collect(),
            },
        )
        .unwrap();
        numbers.push(number);
    }
    let second = desk.login("desk2", PASSWORD).unwrap();
    tokens.push(second.token.clone());

    // The night's sync, and one with a token that is no node's.
    let sync = |token: &Path| {
        kartika(&[
            "sync",
            "--db",
            path(&db),
            "--registry",
            &registry.url(),
            "--token-file",
            path(token),
            "--once",
        ])
    };
    let synced = sync(&token_file);
    assert!(
        synced.status.success(),
        "{}",
        String::from_utf8_lossy(&synced.stderr)
    );
    let wrong_token = dir.path().join("wrong-token");
    std::fs::write(&wrong_token, "kt_bukan_token_node_ini_123456").unwrap();
    assert!(!sync(&wrong_token).status.success());

    let node_token = std::fs::read_to_string(&token_file).unwrap();
    clinic_server.kill().unwrap();
    clinic_server.wait().unwrap();
    drop(registry);

    let clinic_log = std::fs::read_to_string(dir.path().join("clinic.log")).unwrap();
    let registry_log = std::fs::read_to_string(dir.path().join("registry.log")).unwrap();
    assert!(clinic_log.contains("route=/v1/operation"), "{clinic_log}");
    assert!(clinic_log.contains("refused a login"), "{clinic_log}");
    assert!(clinic_log.contains("(not an account name)"), "{clinic_log}");
    assert!(
        registry_log.contains("route=/v1/push") && registry_log.contains("caller=\"P3674060\""),
        "{registry_log}"
    );
    assert!(registry_log.contains("not any node's"), "{registry_log}");

    // Nothing of a patient's, no token, no password.
    let mut secrets: Vec<String> = vec![
        PASSWORD.into(),
        WRONG_PASSWORD.into(),
        PASSWORD_AS_NAME.into(),
        node_token.trim().to_owned(),
        "kt_bukan_token_node_ini_123456".into(),
    ];
    secrets.extend(tokens);
    secrets.extend(numbers);
    for patient in patients() {
        secrets.push(patient.name.clone());
        secrets.extend(patient.name.split(' ').map(str::to_owned));
        secrets.extend(patient.nik.clone());
        secrets.extend(patient.bpjs_number.clone());
    }
    for (log, text) in [("clinic", &clinic_log), ("registry", &registry_log)] {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "the {log} log holds {secret:?}"
            );
        }
    }
}
