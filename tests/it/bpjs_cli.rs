//! `kartika bpjs setup` and `kartika bpjs peserta` against the fake BPJS on loopback HTTPS.

use std::time::Duration;

use kartika_bpjs::fake::{Consumer, FakeBpjs};
use kartika_bpjs::{Peserta, Provider};

use crate::store_cli::{as_admin, db_path, init, succeeds};

const SECRET: &str = "rahasia-konsumen-cli";
const PASSWORD: &str = "sandi-pcare-cli";
const USER_KEY: &str = "kunci-pcare-cli";

fn fake() -> FakeBpjs {
    FakeBpjs::start(
        Consumer {
            cons_id: "777".into(),
            secret: SECRET.into(),
            pcare_user_key: USER_KEY.into(),
            pcare_user: "pkm".into(),
            pcare_password: PASSWORD.into(),
            antrean_user_key: "kunci-antrean".into(),
        },
        vec![Peserta {
            no_kartu: "0001234567890".into(),
            nama: "SITI RAHAYU".into(),
            aktif: true,
            ket_aktif: "AKTIF".into(),
            kd_provider_pst: Some(Provider {
                kd_provider: "0114A026".into(),
                nm_provider: "PUSKESMAS PAMULANG".into(),
            }),
            no_ktp: Some("3674065001900001".into()),
            ..Peserta::default()
        }],
    )
}

#[test]
fn bpjs_is_set_up_and_a_member_checked_or_left_unchecked_when_bpjs_is_slow() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_path(dir.path());
    init(&db);
    let fake = fake();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        // A file's trailing newline is not part of its secret.
        std::fs::write(&path, format!("{text}\n")).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let (secret, key, antrean, password, ca) = (
        file("secret.txt", SECRET),
        file("pcare-key.txt", USER_KEY),
        file("antrean-key.txt", "kunci-antrean"),
        file("password.txt", PASSWORD),
        file("ca.pem", &fake.ca_pem),
    );
    let set_up = succeeds(as_admin(&[
        "bpjs",
        "setup",
        "--db",
        &db,
        "--as",
        "admin",
        "--pcare-url",
        &fake.pcare_url,
        "--antrean-url",
        &fake.antrean_url,
        "--ca-file",
        &ca,
        "--cons-id",
        "777",
        "--secret-file",
        &secret,
        "--pcare-user-key-file",
        &key,
        "--antrean-user-key-file",
        &antrean,
        "--pcare-user",
        "pkm",
        "--pcare-password-file",
        &password,
        "--provider-code",
        "0114A026",
    ]));
    assert!(set_up.contains("BPJS set up"), "{set_up}");
    let store_bytes = std::fs::read(&db).unwrap();
    let in_store = String::from_utf8_lossy(&store_bytes);
    assert!(!in_store.contains(SECRET) && !in_store.contains(PASSWORD));

    let check = |extra: &[&str]| {
        let mut args = vec!["bpjs", "peserta", "--db", &db, "--as", "admin"];
        args.extend_from_slice(extra);
        succeeds(as_admin(&args))
    };
    let found = check(&["--card", "0001234567890"]);
    assert!(
        found.contains("SITI RAHAYU") && found.contains("aktif"),
        "{found}"
    );
    assert!(found.contains("PUSKESMAS PAMULANG"), "{found}");
    let json: serde_json::Value =
        serde_json::from_str(&check(&["--nik", "3674065001900001", "--json"])).unwrap();
    assert_eq!(json["checked"], true);
    assert_eq!(json["peserta"]["noKartu"], "0001234567890");

    // Units and staff as BPJS knows them, checked against P-Care's own lists.
    let mapped = check_map(&db, &["--unit", "general", "--kd-poli", "001"]);
    assert!(mapped.contains("unit general: kdPoli 001"), "{mapped}");
    let refused = as_admin(&[
        "bpjs",
        "map",
        "--db",
        &db,
        "--as",
        "admin",
        "--unit",
        "kia",
        "--kd-poli",
        "999",
    ]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("999") && said.contains("003 KIA"), "{said}");
    let mapped = check_map(&db, &["--staff", "admin", "--kd-dokter", "131491"]);
    assert!(mapped.contains("staff admin: kdDokter 131491"), "{mapped}");

    // A BPJS visit goes to P-Care and Antrean through the queue; `status` says so.
    let mut store = kartika_store::Store::open(std::path::Path::new(&db)).unwrap();
    let admin = store
        .login("admin", crate::store_cli::ADMIN_PASSWORD)
        .unwrap();
    let siti = store
        .create_patient(
            &admin,
            &kartika_store::NewPatient {
                name: "Siti Rahayu".into(),
                birth_date: "1990-01-10".into(),
                sex: Some(kartika_card::model::Sex::Female),
                bpjs_number: Some("0001234567890".into()),
                ..kartika_store::NewPatient::default()
            },
        )
        .unwrap()
        .patient;
    let visit = store
        .register_visit(
            &admin,
            &kartika_store::NewVisit {
                patient_number: siti.patient_number,
                unit_code: "general".into(),
                payer: kartika_store::Payer::BpjsPbi,
                care: kartika_store::Care::Sick,
                complaint: None,
            },
        )
        .unwrap();
    let status = |db: &str| -> serde_json::Value {
        serde_json::from_str(&succeeds(as_admin(&[
            "bpjs", "status", "--db", db, "--json",
        ])))
        .unwrap()
    };
    let before = status(&db);
    assert_eq!(before["counts"]["waiting"], 2, "{before}");
    assert_eq!(before["visits"][0]["visit_id"], visit.visit_id.as_str());
    assert_eq!(before["visits"][0]["step"], "pendaftaran");
    succeeds(as_admin(&[
        "bpjs",
        "send",
        "--db",
        &db,
        "--as",
        "admin",
        "--until-idle",
    ]));
    let after = status(&db);
    assert_eq!(after["counts"]["sent"], 2, "{after}");
    assert_eq!(after["visits"], serde_json::json!([]));
    assert_eq!(fake.pendaftaran().len(), 1);
    assert_eq!(fake.antrean().len(), 1);

    // BPJS answering after three seconds: the check gives up at two and says so.
    fake.answer_after(Duration::from_secs(3));
    let unchecked = check(&["--card", "0001234567890"]);
    assert!(unchecked.contains("belum dicek"), "{unchecked}");
    for said in [&set_up, &found, &unchecked] {
        for secret in [SECRET, PASSWORD, USER_KEY] {
            assert!(!said.contains(secret), "{said}");
        }
    }
}

fn check_map(db: &str, extra: &[&str]) -> String {
    let mut args = vec!["bpjs", "map", "--db", db, "--as", "admin"];
    args.extend_from_slice(extra);
    succeeds(as_admin(&args))
}
