//! `kartika db`, `staff`, `patient`, `visit` and `audit` against a real clinic file.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub(crate) const ADMIN_PASSWORD: &str = "sandi-admin-1";

/// Runs kartika with `env` set and `stdin` typed in.
pub(crate) fn run(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kartika"))
        .args(args)
        .env_remove("KARTIKA_PASSWORD")
        .env_remove("KARTIKA_NEW_PASSWORD")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kartika");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("type into stdin");
    child.wait_with_output().expect("kartika output")
}

pub(crate) fn succeeds(output: Output) -> String {
    assert!(
        output.status.success(),
        "kartika failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn as_admin(args: &[&str]) -> Output {
    run(args, &[("KARTIKA_PASSWORD", ADMIN_PASSWORD)], "")
}

pub(crate) fn init(db: &str) {
    succeeds(run(
        &[
            "db",
            "init",
            "--db",
            db,
            "--facility-code",
            "P3674060",
            "--facility-name",
            "Puskesmas Pamulang",
            "--region",
            "36.74.06",
        ],
        &[],
        "",
    ));
    // The first admin's password typed on standard input.
    succeeds(run(
        &[
            "staff",
            "add",
            "--db",
            db,
            "--username",
            "admin",
            "--display-name",
            "Admin",
            "--role",
            "admin",
        ],
        &[],
        &format!("{ADMIN_PASSWORD}\n"),
    ));
}

pub(crate) fn db_path(dir: &Path) -> String {
    dir.join("clinic.sqlite")
        .to_str()
        .expect("UTF-8 path")
        .to_owned()
}

#[test]
fn a_clinic_is_set_up_filled_searched_listed_and_verified_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_path(dir.path());
    init(&db);
    let added = succeeds(run(
        &[
            "staff",
            "add",
            "--db",
            &db,
            "--username",
            "bidan.ani",
            "--display-name",
            "Bidan Ani",
            "--role",
            "nurse",
            "--as",
            "admin",
            "--json",
        ],
        &[
            ("KARTIKA_PASSWORD", ADMIN_PASSWORD),
            ("KARTIKA_NEW_PASSWORD", "sandi-bidan-1"),
        ],
        "",
    ));
    let member: serde_json::Value = serde_json::from_str(&added).unwrap();
    assert_eq!(member["role"], "nurse");

    // The history's last day is given, not read from the clock by the command and the test
    // apart: a run crossing midnight in WIB would have them disagree. Two days back, it is
    // before the command's today even then.
    let last_day = (time::OffsetDateTime::now_utc() + time::Duration::hours(7)).date()
        - time::Duration::days(2);
    let date = kartika_card::model::format_iso_date(last_day);
    let generated = succeeds(as_admin(&[
        "db",
        "generate",
        "--db",
        &db,
        "--patients",
        "300",
        "--visits",
        "1500",
        "--days",
        "10",
        "--until",
        &date,
        "--json",
    ]));
    let report: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert_eq!(report["visits"], 1500);

    let found = succeeds(as_admin(&[
        "patient", "search", "--db", &db, "--as", "admin", "siti", "--json",
    ]));
    let hits: Vec<serde_json::Value> = serde_json::from_str(&found).unwrap();
    assert!(!hits.is_empty(), "300 generated patients include a Siti");
    assert!(hits
        .iter()
        .all(|h| h["name"].as_str().unwrap().to_lowercase().contains("siti")));
    let number = hits[0]["patient_number"].as_str().unwrap();
    let by_number = succeeds(as_admin(&[
        "patient", "search", "--db", &db, "--as", "admin", number,
    ]));
    assert!(by_number.starts_with(number), "{by_number}");

    // The generated history's last day.
    let listed = succeeds(as_admin(&[
        "visit", "list", "--db", &db, "--as", "admin", "--date", &date, "--json",
    ]));
    let visits: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap();
    assert!(
        (100..=200).contains(&visits.len()),
        "about 150 visits a day: {}",
        visits.len()
    );
    let queue = succeeds(as_admin(&[
        "visit", "list", "--db", &db, "--as", "admin", "--date", &date, "--unit", "dental",
    ]));
    assert!(queue.starts_with("G-001"), "{queue}");

    let verified = succeeds(run(&["audit", "verify", "--db", &db], &[], ""));
    assert!(verified.starts_with("audit log intact"), "{verified}");
}

#[test]
fn a_wrong_password_and_a_broken_audit_log_fail_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_path(dir.path());
    init(&db);
    let denied = run(
        &["patient", "search", "--db", &db, "--as", "admin", "siti"],
        &[("KARTIKA_PASSWORD", "salah")],
        "",
    );
    assert!(!denied.status.success());
    assert!(String::from_utf8_lossy(&denied.stderr).contains("wrong username or password"));
    let second_admin = run(
        &[
            "staff",
            "add",
            "--db",
            &db,
            "--username",
            "eve",
            "--display-name",
            "Eve",
            "--role",
            "admin",
        ],
        &[("KARTIKA_NEW_PASSWORD", "sandi-eve-12")],
        "",
    );
    assert!(
        !second_admin.status.success(),
        "only the first account may skip the login"
    );

    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = 'nothing' WHERE seq = 1;",
    )
    .unwrap();
    let broken = run(&["audit", "verify", "--db", &db, "--json"], &[], "");
    assert_eq!(broken.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&broken.stdout).unwrap();
    assert_eq!(report["problem"]["kind"], "changed");
    assert_eq!(report["problem"]["seq"], 1);
}

#[test]
fn init_refuses_bad_facility_data_and_existing_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_path(dir.path());
    let bad = run(
        &[
            "db",
            "init",
            "--db",
            &db,
            "--facility-code",
            "P36-74",
            "--facility-name",
            "X",
        ],
        &[],
        "",
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("facility code"));
    init(&db);
    let again = run(
        &[
            "db",
            "init",
            "--db",
            &db,
            "--facility-code",
            "P3674060",
            "--facility-name",
            "X",
        ],
        &[],
        "",
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn the_monthly_reports_come_out_as_table_csv_xlsx_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_path(dir.path());
    init(&db);
    succeeds(as_admin(&[
        "db",
        "generate",
        "--db",
        &db,
        "--patients",
        "300",
        "--visits",
        "1500",
        "--days",
        "10",
    ]));
    // The generated history covers the ten days before today, in WIB.
    let today = (time::OffsetDateTime::now_utc() + time::Duration::hours(7)).date();
    let from = kartika_card::model::format_iso_date(today - time::Duration::days(40));
    let to = kartika_card::model::format_iso_date(today);
    let report = |kind: &str, format: &str, out: Option<&str>| {
        let mut args = vec![
            "report", kind, "--db", &db, "--as", "admin", "--from", &from, "--to", &to, "--format",
            format,
        ];
        if let Some(out) = out {
            args.extend(["--out", out]);
        }
        as_admin(&args)
    };
    let json: serde_json::Value =
        serde_json::from_str(&succeeds(report("lb1", "json", None))).unwrap();
    assert_eq!(json["report"], "lb1");
    let total = json["totals"]["total"].as_i64().unwrap();
    assert!(
        total > 1000,
        "1,500 visits bring over a thousand diagnoses: {total}"
    );

    let csv = succeeds(report("lb1", "csv", None));
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("Kode ICD-10,Diagnosa,0-7 hr L,0-7 hr P"));
    let totals = lines.last().unwrap();
    assert!(totals.starts_with("TOTAL,Jumlah,"), "{totals}");
    assert!(
        totals.ends_with(&format!(",{total}")),
        "the CSV totals agree with the JSON"
    );

    let xlsx = dir.path().join("lb1.xlsx");
    succeeds(report("lb1", "xlsx", Some(xlsx.to_str().unwrap())));
    assert!(
        std::fs::read(&xlsx).unwrap().starts_with(b"PK"),
        "a zip: an XLSX"
    );
    let refused = report("lb1", "xlsx", None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--out"));

    let table = succeeds(report("top10", "table", None));
    assert!(table.starts_with("10 Besar Penyakit"), "{table}");
    let ranked = table.lines().skip_while(|l| !l.starts_with("---")).skip(1);
    assert_eq!(ranked.count(), 10, "{table}");
    let visits = succeeds(report("visits", "csv", None));
    let count = |prefix: &str| -> Vec<i64> {
        visits
            .lines()
            .filter(|l| l.starts_with(prefix))
            .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
            .collect()
    };
    let total = count("Kunjungan,Jumlah kunjungan,")[0];
    assert!(
        (1400..1500).contains(&total),
        "cancelled visits never count: {total}"
    );
    assert_eq!(count("Poli,").iter().sum::<i64>(), total, "{visits}");
    assert_eq!(count("Cara bayar,").iter().sum::<i64>(), total, "{visits}");

    let bad = as_admin(&[
        "report", "lb1", "--db", &db, "--as", "admin", "--month", "2026-13",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a month"));
}

#[test]
fn a_clinic_exports_its_records_as_a_fhir_transaction_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_path(dir.path());
    init(&db);
    succeeds(as_admin(&[
        "db",
        "generate",
        "--db",
        &db,
        "--patients",
        "100",
        "--visits",
        "300",
        "--days",
        "10",
    ]));
    let today = (time::OffsetDateTime::now_utc() + time::Duration::hours(7)).date();
    let since = kartika_card::model::format_iso_date(today - time::Duration::days(40));
    let ids = succeeds(as_admin(&[
        "db",
        "satusehat",
        "--db",
        &db,
        "--as",
        "admin",
        "--organization",
        "10000004",
        "--location",
        "general=b017aa54-f1df-4ec2-9d84-8823815d7228",
    ]));
    assert!(ids.contains("10000004"), "{ids}");
    let refused = as_admin(&[
        "db",
        "satusehat",
        "--db",
        &db,
        "--as",
        "admin",
        "--location",
        "general",
    ]);
    assert!(!refused.status.success(), "UNIT=ID is required");
    let out = dir.path().join("bundle.json");
    succeeds(as_admin(&[
        "export",
        "fhir",
        "--db",
        &db,
        "--as",
        "admin",
        "--since",
        &since,
        "--out",
        out.to_str().unwrap(),
    ]));
    let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "transaction");
    let entries = bundle["entry"].as_array().unwrap();
    let count = |kind: &str| {
        entries
            .iter()
            .filter(|e| e["resource"]["resourceType"] == kind)
            .count()
    };
    assert!(
        count("Encounter") >= 280,
        "every visit but the cancelled: {}",
        count("Encounter")
    );
    assert!(count("Patient") > 50);
    assert!(count("Condition") > 200);
    let encounter = entries
        .iter()
        .find(|e| {
            e["resource"]["resourceType"] == "Encounter"
                && e["resource"]["location"][0]["location"]["display"] == "Poli Umum"
        })
        .expect("a visit at Poli Umum");
    assert_eq!(
        encounter["resource"]["serviceProvider"]["reference"],
        "Organization/10000004"
    );
    assert_eq!(
        encounter["resource"]["identifier"][0]["system"],
        "http://sys-ids.kemkes.go.id/encounter/10000004"
    );
    assert_eq!(
        encounter["resource"]["location"][0]["location"]["reference"],
        "Location/b017aa54-f1df-4ec2-9d84-8823815d7228"
    );
    for entry in entries {
        kartika_testkit::fhir::validate(&entry["resource"]);
    }
    let urls: std::collections::HashSet<&str> = entries
        .iter()
        .map(|e| e["fullUrl"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls.len(),
        entries.len(),
        "every entry has its own urn:uuid"
    );
    for entry in entries {
        for field in ["subject", "encounter"] {
            if let Some(reference) = entry["resource"][field]["reference"].as_str() {
                assert!(
                    urls.contains(reference),
                    "{reference} resolves inside the Bundle"
                );
            }
        }
    }
    let number = entries
        .iter()
        .find(|e| e["resource"]["resourceType"] == "Patient")
        .and_then(|e| e["resource"]["identifier"].as_array())
        .and_then(|ids| {
            ids.iter()
                .find(|i| i["system"] == kartika_fhir::system::PATIENT_NUMBER)
        })
        .and_then(|i| i["value"].as_str())
        .unwrap()
        .to_owned();
    let one = dir.path().join("one.json");
    succeeds(as_admin(&[
        "export",
        "fhir",
        "--db",
        &db,
        "--as",
        "admin",
        "--patient",
        &number,
        "--out",
        one.to_str().unwrap(),
    ]));
    let one: serde_json::Value = serde_json::from_slice(&std::fs::read(&one).unwrap()).unwrap();
    assert_eq!(
        one["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["resource"]["resourceType"] == "Patient")
            .count(),
        1
    );
    let neither = as_admin(&[
        "export", "fhir", "--db", &db, "--as", "admin", "--out", "x.json",
    ]);
    assert!(!neither.status.success());
    assert!(String::from_utf8_lossy(&neither.stderr).contains("--patient NUMBER or --since"));
}

#[test]
fn a_backup_from_the_command_line_restores_and_a_bad_copy_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_path(dir.path());
    init(&db);
    let folder = dir.path().join("usb");
    let folder_text = folder.to_str().unwrap();
    let out = succeeds(run(
        &[
            "db",
            "backup",
            "--db",
            &db,
            "--into",
            folder_text,
            "--keep",
            "2",
        ],
        &[],
        "",
    ));
    assert!(out.contains("backup: "), "{out}");
    let copy = std::fs::read_dir(&folder)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(copy
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("kartika-P3674060-"));

    let out = succeeds(run(
        &[
            "db",
            "restore",
            "--db",
            &db,
            "--from",
            copy.to_str().unwrap(),
        ],
        &[],
        "",
    ));
    assert!(out.contains("audit chain intact"), "{out}");
    assert!(out.contains("kept as"), "{out}");
    succeeds(run(&["audit", "verify", "--db", &db], &[], ""));

    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, "not a database").unwrap();
    let refused = run(
        &[
            "db",
            "restore",
            "--db",
            &db,
            "--from",
            junk.to_str().unwrap(),
        ],
        &[],
        "",
    );
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("cannot be restored") && said.contains("left as it is"),
        "{said}"
    );
}

#[test]
fn two_records_of_one_person_are_merged_and_unmerged_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_path(dir.path());
    init(&db);
    let twin = |phone: &str| kartika_store::NewPatient {
        name: "Siti Rahayu".into(),
        birth_date: "1990-01-10".into(),
        sex: Some(kartika_card::model::Sex::Female),
        phone: Some(phone.into()),
        ..kartika_store::NewPatient::default()
    };
    let (kept, retired) = {
        let mut store = kartika_store::Store::open(Path::new(&db)).unwrap();
        let admin = store.login("admin", ADMIN_PASSWORD).unwrap();
        let mut number = |phone| {
            store
                .create_patient(&admin, &twin(phone))
                .unwrap()
                .patient
                .patient_number
        };
        (number("0812 0000 0001"), number("0812 0000 0002"))
    };
    let flags = succeeds(as_admin(&[
        "patient",
        "duplicates",
        "--db",
        &db,
        "--as",
        "admin",
    ]));
    assert!(flags.contains(&kept) && flags.contains(&retired), "{flags}");

    let merge = |extra: &[&str]| {
        let mut args = vec![
            "patient", "merge", "--db", &db, "--as", "admin", "--keep", &kept, "--retire",
            &retired, "--take", "phone", "--json",
        ];
        args.extend_from_slice(extra);
        let plan: serde_json::Value =
            serde_json::from_str(&succeeds(as_admin(&args))).expect("a JSON plan");
        plan
    };
    let dry = merge(&["--dry-run"]);
    assert_eq!(dry["survivor"]["patient_number"], kept.as_str());
    assert_eq!(dry["taken_from_retired"], serde_json::json!(["phone"]));
    let search = |number: &str| {
        succeeds(as_admin(&[
            "patient", "search", "--db", &db, "--as", "admin", number,
        ]))
    };
    assert!(
        search(&retired).starts_with(&retired),
        "--dry-run changed nothing"
    );

    merge(&[]);
    let found = search(&retired);
    assert!(
        found.starts_with(&kept) && found.contains(&format!("digabung dari {retired}")),
        "{found}"
    );
    let refused = as_admin(&[
        "patient", "merge", "--db", &db, "--as", "admin", "--keep", &kept, "--retire", &retired,
        "--take", "hobby",
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a field"));

    let undone = succeeds(as_admin(&[
        "patient",
        "unmerge",
        "--db",
        &db,
        "--as",
        "admin",
        "--retired",
        &retired,
    ]));
    assert!(undone.contains("its own record again"), "{undone}");
    assert!(search(&retired).starts_with(&retired));
}
