//! `kartika satusehat` as an operator runs it: set-up from files, the sender killed in the
//! middle of a Bundle and started again, the queue's status as JSON.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use kartika_store::generate::GenerateOptions;
use kartika_store::{Store, SystemClock};
use kartika_testkit::clinic::store_with_desks;
use kartika_testkit::satusehat::{FakeSatusehat, Fault};

use crate::support::path;

const PASSWORD: &str = "kata-sandi-puskesmas-1";
const CLIENT_ID: &str = "kartika-pamulang";
const SECRET: &str = "rahasia-satusehat-5e6f7a8b9c0d";
const ORGANIZATION: &str = "10000004";

fn as_admin(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kartika"));
    command.args(args).env("KARTIKA_PASSWORD", PASSWORD);
    command
}

fn succeeded(args: &[&str]) -> Output {
    let output = as_admin(args).output().expect("run kartika");
    assert!(
        output.status.success(),
        "kartika {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A store with two months of visits, and SATUSEHAT set up for it through the command line.
fn set_up(dir: &Path, fake: &FakeSatusehat) -> PathBuf {
    let db = dir.join("clinic.sqlite");
    store_with_desks(&db, Arc::new(SystemClock), 1, PASSWORD);
    Store::open(&db)
        .unwrap()
        .generate(&GenerateOptions {
            patients: 30,
            visits: 60,
            days: 60,
            seed: 3,
            until: None,
        })
        .unwrap();
    let secret = dir.join("secret.txt");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    let ca = dir.join("satusehat-ca-given.pem");
    std::fs::write(&ca, &fake.ca_pem).unwrap();
    succeeded(&[
        "satusehat",
        "setup",
        "--db",
        path(&db),
        "--as",
        "admin",
        "--auth-url",
        &fake.auth_url,
        "--fhir-url",
        &fake.fhir_url,
        "--ca-file",
        path(&ca),
        "--org-id",
        ORGANIZATION,
        "--client-id",
        CLIENT_ID,
        "--secret-file",
        path(&secret),
        "--pace",
        "0",
    ]);
    db
}

#[test]
fn a_sender_killed_mid_bundle_and_started_again_sends_nothing_twice_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeSatusehat::start(CLIENT_ID, SECRET, ORGANIZATION);
    fake.know_every_nik();
    let db = set_up(dir.path(), &fake);

    // The first Bundle is stored at SATUSEHAT and its answer never comes: SIGKILL.
    fake.fail_next(&[Fault::Stall]);
    let mut sender = as_admin(&[
        "satusehat",
        "send",
        "--db",
        path(&db),
        "--as",
        "admin",
        "--until-idle",
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    fake.wait_for_transactions(1);
    sender.kill().unwrap();
    sender.wait().unwrap();
    assert_eq!(fake.encounters_by_identifier().len(), 1);

    let again = succeeded(&[
        "satusehat",
        "send",
        "--db",
        path(&db),
        "--as",
        "admin",
        "--until-idle",
    ]);
    let status = succeeded(&["satusehat", "status", "--db", path(&db), "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let counts = status["counts"].as_object().unwrap();
    let mut states: Vec<&str> = counts.keys().map(String::as_str).collect();
    states.sort_unstable();
    assert_eq!(states, ["refused", "retrying", "sent", "waiting"]);
    let sent = counts["sent"].as_u64().unwrap();
    assert!(sent > 20, "{status}");
    let at_satusehat = fake.encounters_by_identifier();
    assert_eq!(at_satusehat.len() as u64, sent);
    assert!(at_satusehat.values().all(|n| *n == 1), "{at_satusehat:?}");
    assert_eq!(counts["retrying"], 0);
    assert_eq!(counts["refused"], 0);
    for visit in status["visits"].as_array().unwrap() {
        assert_eq!(visit["state"], "waiting", "{visit}");
        assert!(
            visit["visit_id"].as_str().is_some_and(|id| id.len() == 36),
            "{visit}"
        );
        assert!(
            visit["reason"].as_str().is_some_and(|r| r.contains("NIK")),
            "{visit}"
        );
    }

    // The secret: in its own file, owner-only, and nowhere an operator reads.
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&again.stdout),
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(!printed.contains(SECRET));
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let file = entry.unwrap().path();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name == "secret.txt" || name == "satusehat-secret" {
            continue;
        }
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "{name} holds the secret"
        );
    }
}
