//! A day of BPJS visits through the store's queue: each pendaftaran, antrean and kunjungan
//! arrives once at BPJS, with the fields P-Care and Antrean take, through 503s and answers
//! lost after the write was done; what BPJS refused is kept in its words until mended and
//! sent again; a visit not paid by JKN never goes.

use std::path::PathBuf;
use std::sync::Arc;

use kartika_bpjs::fake::{Consumer, FakeBpjs, Fault};
use kartika_bpjs::{BpjsLink, BpjsSecrets, Drained, Peserta, Secret, Sender};
use kartika_card::model::Sex;
use kartika_store::{
    BpjsCode, Care, DeliveryState, DiagnosisRank, Examination, ManualClock, NewPatient, NewVisit,
    Payer, Session, Store, VisitStatus,
};
use kartika_testkit::clinic::store_with_desks;
use serde_json::Value;
use tempfile::TempDir;
use time::macros::datetime;

const PASSWORD: &str = "kata-sandi-puskesmas-1";
const SECRET: &str = "rahasia-konsumen-9a8b7c";
const PCARE_KEY: &str = "kunci-pcare-51d2";
const ANTREAN_KEY: &str = "kunci-antrean-77e0";
const PCARE_PASSWORD: &str = "sandi-pcare-3c4d";
const SITI: &str = "0001234567890";
const BUDI: &str = "0002345678901";

struct Puskesmas {
    store: Store,
    path: PathBuf,
    clock: ManualClock,
    admin: Session,
    desk: Session,
    nurse: Session,
    fake: FakeBpjs,
    _dir: TempDir,
}

fn member(no_kartu: &str, nama: &str) -> Peserta {
    Peserta {
        no_kartu: no_kartu.into(),
        nama: nama.into(),
        aktif: true,
        ket_aktif: "AKTIF".into(),
        ..Peserta::default()
    }
}

impl Puskesmas {
    /// 08:00 WIB; BPJS knows Siti and Budi. Not set up yet: visits registered before the
    /// set-up are due all the same.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clinic.sqlite");
        let clock = ManualClock::new(datetime!(2026-12-07 01:00 UTC));
        store_with_desks(&path, Arc::new(clock.clone()), 1, PASSWORD);
        let mut store = Store::open_with_clock(&path, Arc::new(clock.clone())).unwrap();
        let admin = store.login("admin", PASSWORD).unwrap();
        let desk = store.login("desk1", PASSWORD).unwrap();
        let nurse = store.login("nurse", PASSWORD).unwrap();
        let fake = FakeBpjs::start(
            Consumer {
                cons_id: "12345".into(),
                secret: SECRET.into(),
                pcare_user_key: PCARE_KEY.into(),
                pcare_user: "pkm-pamulang".into(),
                pcare_password: PCARE_PASSWORD.into(),
                antrean_user_key: ANTREAN_KEY.into(),
            },
            vec![member(SITI, "SITI RAHAYU"), member(BUDI, "BUDI SANTOSO")],
        );
        Self {
            store,
            path,
            clock,
            admin,
            desk,
            nurse,
            fake,
            _dir: dir,
        }
    }

    fn set_up(&mut self, secret: &str) {
        kartika_bpjs::settings::save(
            &self.path,
            &BpjsLink {
                pcare_url: self.fake.pcare_url.clone(),
                antrean_url: self.fake.antrean_url.clone(),
                cons_id: "12345".into(),
                pcare_user: "pkm-pamulang".into(),
                provider_code: "0114U163".into(),
            },
            &BpjsSecrets {
                secret: Secret::new(secret),
                pcare_user_key: Secret::new(PCARE_KEY),
                antrean_user_key: Secret::new(ANTREAN_KEY),
                pcare_password: Secret::new(PCARE_PASSWORD),
            },
            Some(self.fake.ca_pem.as_bytes()),
        )
        .unwrap();
    }

    fn map_codes(&mut self) {
        for code in [
            BpjsCode::Unit {
                unit: "general".into(),
                kd_poli: "001".into(),
            },
            BpjsCode::Staff {
                username: "nurse".into(),
                kd_dokter: "131491".into(),
            },
        ] {
            self.store.set_bpjs_code(&self.admin, &code).unwrap();
        }
    }

    fn patient(&mut self, name: &str, nik: &str, bpjs: Option<&str>) -> String {
        self.store
            .create_patient(
                &self.desk,
                &NewPatient {
                    nik: Some(nik.into()),
                    bpjs_number: bpjs.map(Into::into),
                    name: name.into(),
                    birth_date: format!("19{}-{}-{}", &nik[10..12], &nik[8..10], {
                        let day: u8 = nik[6..8].parse().unwrap();
                        format!("{:02}", if day > 40 { day - 40 } else { day })
                    }),
                    sex: Some(if nik[6..8].parse::<u8>().unwrap() > 40 {
                        Sex::Female
                    } else {
                        Sex::Male
                    }),
                    ..NewPatient::default()
                },
            )
            .unwrap()
            .patient
            .patient_number
    }

    fn register(&mut self, patient: &str, payer: Payer) -> String {
        self.store
            .register_visit(
                &self.desk,
                &NewVisit {
                    patient_number: patient.into(),
                    unit_code: "general".into(),
                    payer,
                    care: Care::Sick,
                    complaint: Some("demam tiga hari".into()),
                },
            )
            .unwrap()
            .visit_id
    }

    fn examine(&mut self, visit: &str, diagnoses: &[&str]) {
        self.clock.advance(time::Duration::minutes(20));
        self.store
            .set_visit_status(&self.nurse, visit, VisitStatus::InProgress)
            .unwrap();
        self.store
            .record_examination(
                &self.nurse,
                visit,
                &Examination {
                    complaint: None,
                    notes: Some("batuk pilek".into()),
                    vitals: kartika_store::Vitals {
                        systolic: Some(120),
                        diastolic: Some(80),
                        pulse: Some(84),
                        temperature: Some(37.9),
                        ..Default::default()
                    },
                },
            )
            .unwrap();
        for (i, code) in diagnoses.iter().enumerate() {
            let rank = if i == 0 {
                DiagnosisRank::Primary
            } else {
                DiagnosisRank::Secondary
            };
            self.store
                .add_diagnosis(&self.nurse, visit, code, rank)
                .unwrap();
        }
    }

    /// Rounds until nothing is due, waiting out each pause on the store's clock.
    fn send_until_idle(&mut self) -> Drained {
        let mut sender = Sender::open(&self.path, "test-pc").unwrap();
        let mut total = Drained::default();
        for _ in 0..40 {
            let drained = sender.drain(&mut self.store, |_| {}).unwrap();
            total.sent += drained.sent;
            total.refused += drained.refused;
            total.waiting += drained.waiting;
            match drained.paused {
                Some((pause, _)) => self
                    .clock
                    .advance(time::Duration::try_from(pause).unwrap() + time::Duration::seconds(1)),
                None => {
                    sender.finish(&mut self.store).unwrap();
                    return total;
                }
            }
        }
        panic!("the queue never went idle");
    }
}

fn field<'a>(body: &'a Value, name: &str) -> &'a Value {
    &body[name]
}

#[test]
fn a_day_of_bpjs_visits_arrives_once_each_through_503s_and_lost_answers() {
    let mut pkm = Puskesmas::new();
    let siti = pkm.patient("Siti Rahayu", "3674065001900003", Some(SITI));
    let budi = pkm.patient("Budi Santoso", "3674061708659002", Some(BUDI));
    let ani = pkm.patient("Ani Lestari", "3674064203950001", None);
    // Registered at the desk before anyone set BPJS up.
    let siti_visit = pkm.register(&siti, Payer::BpjsPbi);
    let budi_visit = pkm.register(&budi, Payer::BpjsNonPbi);
    let ani_visit = pkm.register(&ani, Payer::General);
    pkm.set_up(SECRET);
    pkm.map_codes();

    // The morning: Siti's pendaftaran is taken and its answer lost; her antrean meets a
    // 503, then is taken with its answer lost.
    pkm.fake
        .fault_next(&[Fault::LoseAnswer, Fault::Unavailable, Fault::LoseAnswer]);
    let morning = pkm.send_until_idle();
    assert_eq!((morning.sent, morning.refused), (4, 0), "{morning:?}");

    // Siti is called, examined and goes home; Budi leaves before being seen.
    pkm.examine(&siti_visit, &["J06.9", "R50.9"]);
    pkm.store
        .set_visit_status(&pkm.nurse, &siti_visit, VisitStatus::Finished)
        .unwrap();
    pkm.store
        .set_visit_status(&pkm.desk, &budi_visit, VisitStatus::Cancelled)
        .unwrap();
    // The call meets a 503 (then goes); the kunjungan is taken and its answer lost.
    pkm.fake
        .fault_next(&[Fault::Unavailable, Fault::Pass, Fault::LoseAnswer]);
    let afternoon = pkm.send_until_idle();
    assert_eq!((afternoon.sent, afternoon.refused), (4, 0), "{afternoon:?}");

    let pendaftaran = pkm.fake.pendaftaran();
    assert_eq!(pendaftaran.len(), 2, "one pendaftaran per BPJS visit");
    let siti_daftar = &pendaftaran[0].body;
    assert_eq!(field(siti_daftar, "noKartu"), SITI);
    assert_eq!(field(siti_daftar, "kdPoli"), "001");
    assert_eq!(field(siti_daftar, "tglDaftar"), "07-12-2026");
    assert_eq!(field(siti_daftar, "kdProviderPeserta"), "0114U163");
    assert_eq!(field(siti_daftar, "kdTkp"), "10");
    assert_eq!(field(siti_daftar, "kunjSakit"), true);
    assert_eq!(field(siti_daftar, "keluhan"), "demam tiga hari");
    assert!(!pendaftaran[0].deleted);
    assert_eq!(field(&pendaftaran[1].body, "noKartu"), BUDI);
    assert!(
        pendaftaran[1].deleted,
        "Budi's cancelled registration is withdrawn"
    );

    let antrean = pkm.fake.antrean();
    let calls = |kind: &str| -> Vec<&Value> {
        antrean
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, body)| body)
            .collect()
    };
    let added = calls("add");
    assert_eq!(added.len(), 2, "one ticket per BPJS visit: {antrean:?}");
    assert_eq!(field(added[0], "nomorkartu"), SITI);
    assert_eq!(field(added[0], "nomorantrean"), "U-001");
    assert_eq!(field(added[0], "angkaantrean"), 1);
    assert_eq!(field(added[0], "tanggalperiksa"), "2026-12-07");
    assert_eq!(field(added[0], "kodepoli"), "001");
    assert_eq!(field(added[0], "kodedokter"), 131491);
    assert_eq!(field(added[0], "norm"), siti.as_str());
    let called = calls("panggil");
    assert_eq!(called.len(), 1);
    assert_eq!(field(called[0], "nomorkartu"), SITI);
    assert_eq!(field(called[0], "status"), 1);
    let cancelled = calls("batal");
    assert_eq!(cancelled.len(), 1);
    assert_eq!(field(cancelled[0], "nomorkartu"), BUDI);

    let kunjungan = pkm.fake.kunjungan();
    assert_eq!(
        kunjungan.len(),
        1,
        "one kunjungan, its lost answer found, not resent"
    );
    let body = &kunjungan[0].body;
    assert_eq!(field(body, "noKartu"), SITI);
    assert_eq!(
        field(body, "kdDiag1"),
        "J06.9",
        "the primary diagnosis first"
    );
    assert_eq!(field(body, "kdDiag2"), "R50.9");
    assert_eq!(field(body, "kdDiag3"), &Value::Null);
    assert_eq!(field(body, "kdDokter"), "131491");
    assert_eq!(field(body, "kdStatusPulang"), "3");
    assert_eq!(field(body, "tglPulang"), "07-12-2026");
    assert_eq!(field(body, "sistole"), 120);
    assert_eq!(field(body, "suhu"), "37.9");

    // What BPJS gave is kept with the visit; Ani's visit (Umum) never went.
    let states = pkm.store.bpjs_visit_states(&pkm.nurse, &siti).unwrap();
    let state = &states[&siti_visit];
    assert_eq!(state.state, DeliveryState::Sent);
    assert_eq!(
        state.no_urut.as_deref(),
        Some(pendaftaran[0].no_urut.as_str())
    );
    assert_eq!(
        state.no_kunjungan.as_deref(),
        Some(kunjungan[0].no_kunjungan.as_str())
    );
    assert!(pkm
        .store
        .bpjs_visit_states(&pkm.nurse, &ani)
        .unwrap()
        .is_empty());
    let status = pkm.store.bpjs_status(100).unwrap();
    assert!(status.visits.is_empty(), "{:?}", status.visits);
    assert!(status.visits.iter().all(|v| v.visit_id != ani_visit));
    assert_eq!(status.counts["refused"], 0);

    // Both visits are settled: a sender's look no longer reads them...
    assert_eq!(pkm.store.prune_bpjs_todo().unwrap(), 2);
    assert!(pkm.store.bpjs_due(10).unwrap().is_empty());
    // ...until one changes. The nurse mends the diagnosis after: the kunjungan is
    // changed, not sent twice.
    pkm.store
        .add_diagnosis(&pkm.nurse, &siti_visit, "B34.9", DiagnosisRank::Secondary)
        .unwrap();
    let change = pkm.send_until_idle();
    assert_eq!(change.sent, 1);
    let kunjungan = pkm.fake.kunjungan();
    assert_eq!(kunjungan.len(), 1);
    assert_eq!(field(&kunjungan[0].body, "kdDiag3"), "B34.9");
    assert_eq!(
        field(&kunjungan[0].body, "noKunjungan"),
        kunjungan[0].no_kunjungan.as_str()
    );
}

#[test]
fn a_refused_kunjungan_keeps_bpjss_words_until_mended_and_sent_again() {
    let mut pkm = Puskesmas::new();
    pkm.set_up(SECRET);
    pkm.map_codes();
    let siti = pkm.patient("Siti Rahayu", "3674065001900003", Some(SITI));
    let visit = pkm.register(&siti, Payer::BpjsPbi);
    // Finished without a diagnosis: P-Care refuses the kunjungan.
    pkm.examine(&visit, &[]);
    pkm.store
        .set_visit_status(&pkm.nurse, &visit, VisitStatus::Finished)
        .unwrap();
    let round = pkm.send_until_idle();
    assert_eq!((round.sent, round.refused), (3, 1), "{round:?}");
    assert!(pkm.fake.kunjungan().is_empty());
    let status = pkm.store.bpjs_status_for(&pkm.admin, 100).unwrap();
    assert_eq!(status.counts["refused"], 1);
    let refused = &status.visits[0];
    assert_eq!(refused.state, DeliveryState::Refused);
    assert_eq!(refused.step, Some(kartika_store::BpjsStep::Kunjungan));
    let reason = refused.reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("kdDiag1: Diagnosa utama tidak boleh kosong"),
        "BPJS's own field message is kept: {reason}"
    );
    assert!(!reason.contains(SECRET) && !reason.contains(PCARE_PASSWORD));

    // Mending alone sends nothing; "Kirim ulang" after it does.
    pkm.store
        .add_diagnosis(&pkm.nurse, &visit, "J06.9", DiagnosisRank::Primary)
        .unwrap();
    assert_eq!(pkm.send_until_idle().sent, 0);
    assert_eq!(pkm.store.retry_bpjs(&pkm.admin, Some(&visit)).unwrap(), 1);
    assert_eq!(pkm.send_until_idle().sent, 1);
    let kunjungan = pkm.fake.kunjungan();
    assert_eq!(kunjungan.len(), 1);
    assert_eq!(field(&kunjungan[0].body, "kdDiag1"), "J06.9");
}

#[test]
fn a_unit_without_its_kd_poli_waits_for_the_admin_and_no_secret_reaches_a_reason() {
    let mut pkm = Puskesmas::new();
    // A secret typed wrong: BPJS refuses every request.
    pkm.set_up("rahasia-yang-salah-0000");
    let siti = pkm.patient("Siti Rahayu", "3674065001900003", Some(SITI));
    pkm.register(&siti, Payer::BpjsPbi);

    let mut sender = Sender::open(&pkm.path, "test-pc").unwrap();
    let round = sender.drain(&mut pkm.store, |_| {}).unwrap();
    assert_eq!((round.sent, round.waiting), (0, 2), "{round:?}");
    let status = pkm.store.bpjs_status(100).unwrap();
    let reason = status.visits[0].reason.clone().unwrap_or_default();
    assert!(
        reason.contains("kartika bpjs map --unit general"),
        "{reason}"
    );
    assert_eq!(
        pkm.fake.requests(),
        0,
        "nothing goes before the unit is mapped"
    );

    pkm.map_codes();
    // "Kirim ulang" after mapping: due at once.
    assert_eq!(pkm.store.retry_bpjs(&pkm.admin, None).unwrap(), 2);
    let round = sender.drain(&mut pkm.store, |_| {}).unwrap();
    let (_, why) = round.paused.expect("a refused login pauses the round");
    assert!(why.contains("credentials"), "{why}");
    assert!(pkm.fake.refused_logins() > 0);
    for text in [why, format!("{:?}", pkm.store.bpjs_status(100).unwrap())] {
        for secret in [
            "rahasia-yang-salah-0000",
            PCARE_KEY,
            ANTREAN_KEY,
            PCARE_PASSWORD,
        ] {
            assert!(!text.contains(secret), "a secret in {text}");
        }
    }

    // Mended: the next round sends.
    pkm.set_up(SECRET);
    pkm.clock.advance(time::Duration::minutes(2));
    sender.reload(&pkm.path).unwrap();
    let round = sender.drain(&mut pkm.store, |_| {}).unwrap();
    assert_eq!(round.sent, 2, "{round:?}");
}

#[test]
fn an_idle_senders_look_writes_nothing_the_screens_would_wake_for() {
    let mut pkm = Puskesmas::new();
    pkm.set_up(SECRET);
    pkm.map_codes();
    let siti = pkm.patient("Siti Rahayu", "3674065001900003", Some(SITI));
    pkm.register(&siti, Payer::BpjsPbi);
    let mut sender = Sender::open(&pkm.path, "test-pc").unwrap();
    assert_eq!(sender.drain(&mut pkm.store, |_| {}).unwrap().sent, 2);
    // The next look forgets the settled visit: a write of its own.
    sender.drain(&mut pkm.store, |_| {}).unwrap();
    // A screen follows the store by its data version, on a connection of its own.
    let screen = Store::open_with_clock(&pkm.path, Arc::new(pkm.clock.clone())).unwrap();
    let seen = screen.data_version().unwrap();
    for _ in 0..3 {
        pkm.clock.advance(time::Duration::seconds(5));
        let idle = sender.drain(&mut pkm.store, |_| {}).unwrap();
        assert_eq!(idle, Drained::default());
    }
    assert_eq!(
        screen.data_version().unwrap(),
        seen,
        "idle looks wrote to the store"
    );
    // Past half its turn, the sender renews it: one write, then quiet again.
    pkm.clock.advance(time::Duration::minutes(1));
    sender.drain(&mut pkm.store, |_| {}).unwrap();
    assert_ne!(screen.data_version().unwrap(), seen);
    let renewed = screen.data_version().unwrap();
    sender.drain(&mut pkm.store, |_| {}).unwrap();
    assert_eq!(screen.data_version().unwrap(), renewed);
}
