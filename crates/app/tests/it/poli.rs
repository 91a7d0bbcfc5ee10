//! The poli, as a nurse between patients uses it: keyboard first, the store's answers on
//! screen, and the card of the patient in the room.

use eframe::egui;
use egui_kittest::kittest::Queryable;
use kartika_card::crypto::TrustAnchors;
use kartika_card::CardSession;
use kartika_store::{Role, VisitStatus};
use kartika_testkit::pcsc::exclusive;

use crate::support::App;

/// Logs in as the demo's nurse and waits for the poli's queue.
fn at_the_poli(app: &mut App) {
    app.log_in(Role::Nurse);
    app.until_text("Antrian poli hari ini");
    app.until("the queue", |h| {
        h.state()
            .state()
            .poli
            .queue
            .iter()
            .any(|q| q.status == VisitStatus::Waiting)
    });
}

/// The tickets still waiting in the poli's queue, in queue order.
fn waiting_tickets(app: &App) -> Vec<String> {
    let queue = &app.harness.state().state().poli.queue;
    queue
        .iter()
        .filter(|q| q.status == VisitStatus::Waiting)
        .map(|q| q.ticket.clone())
        .collect()
}

/// The visit open at the poli.
fn open_visit(app: &App) -> kartika_app::poli::OpenVisit {
    app.harness
        .state()
        .state()
        .poli
        .open
        .clone()
        .expect("a visit is open")
}

/// Siti's genuine demo card file.
fn siti_card(app: &App) -> std::path::PathBuf {
    app.tray_card(kartika_demo::TrayCardKind::Genuine)
}

/// The desk registers Siti (her tray card tapped; through vpcd when `through_pcscd`),
/// then the nurse logs in at the poli.
fn siti_waiting_at_the_poli(app: &mut App, through_pcscd: bool) {
    let reader = kartika_testkit::pcsc::reader_name(0);
    app.at_the_desk();
    if through_pcscd {
        app.until_text(&reader);
    }
    app.tap("Siti Rahayu — asli");
    app.until_text("Kartu asli");
    app.click("Daftarkan");
    app.until_text("Nomor antrian");
    app.click("Pasien berikutnya");
    if through_pcscd {
        // The next card must find the slot empty.
        app.until_text(&format!("{reader}: menunggu kartu"));
    }
    app.click("Keluar");
    at_the_poli(app);
}

fn open_status(app: &App) -> Option<VisitStatus> {
    app.harness
        .state()
        .state()
        .poli
        .open
        .as_ref()
        .map(|o| o.visit.status)
}

#[test]
fn a_nurse_calls_the_next_patient_records_vitals_and_diagnoses_and_finishes() {
    let mut app = App::demo();
    at_the_poli(&mut app);
    let first_waiting = waiting_tickets(&app)
        .first()
        .cloned()
        .expect("someone waits");

    // F2 calls the next patient; the keyboard lands in the first vital sign.
    app.harness.key_press(egui::Key::F2);
    app.until("the called visit", |h| {
        h.state()
            .state()
            .poli
            .open
            .as_ref()
            .is_some_and(|o| o.visit.status == VisitStatus::InProgress)
    });
    let ticket = open_visit(&app).visit.ticket;
    assert_eq!(ticket, first_waiting, "the oldest waiting number is called");
    assert!(app.shows("Dilayani"));

    for (label, value) in [
        ("Sistole (mmHg)", "120"),
        ("Diastole (mmHg)", "80"),
        ("Nadi (/menit)", "400"),
        ("Suhu (°C)", "37,8"),
        ("Berat badan (kg)", "54,5"),
    ] {
        app.type_into(label, value);
    }
    app.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    app.until_text("Nadi 400 /min di luar batas tubuh manusia");
    assert_eq!(
        open_status(&app),
        Some(VisitStatus::InProgress),
        "nothing ended"
    );

    app.replace_text("Nadi (/menit)", "88");
    app.type_into("Cari diagnosa (kode atau kata), Enter menambahkan", "J06.9");
    app.harness.key_press(egui::Key::Enter);
    app.until_text("J06.9");
    app.until("the first diagnosis", |h| {
        h.state()
            .state()
            .poli
            .open
            .as_ref()
            .is_some_and(|o| o.visit.diagnoses.len() == 1)
    });
    app.type_into(
        "Cari diagnosa (kode atau kata), Enter menambahkan",
        "hypertension",
    );
    app.harness.key_press(egui::Key::Enter);
    app.until("the second diagnosis", |h| {
        h.state()
            .state()
            .poli
            .open
            .as_ref()
            .is_some_and(|o| o.visit.diagnoses.len() == 2)
    });
    assert!(app.shows("utama"), "the first is primary");
    assert!(app.shows("sekunder"), "the second is secondary");
    assert!(app.shows("kasus"), "new or old case, as the store decides");

    app.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    app.until_text(&format!("{ticket} Selesai"));
    app.until("the queue to show it finished", |h| {
        h.state()
            .state()
            .poli
            .queue
            .iter()
            .any(|q| q.ticket == ticket && q.status == VisitStatus::Finished)
    });

    app.click(&format!("Buka {ticket}"));
    app.until("the visit opened again", |h| {
        h.state().state().poli.open.is_some()
    });
    let open = open_visit(&app);
    assert_eq!(open.visit.vitals.pulse, Some(88));
    assert_eq!(open.visit.vitals.temperature, Some(37.8));
    assert_eq!(open.rows[0].visit_id, open.visit.visit_id, "newest first");
    assert!(
        open.rows[0].diagnoses.starts_with("J06.9"),
        "primary first: {}",
        open.rows[0].diagnoses
    );

    app.click("Riwayat");
    // The Indonesian title in the history; WHO's stays on hover.
    assert!(app.shows("J06.9 Infeksi saluran pernapasan atas akut"));
    assert!(open_visit(&app).rows[0]
        .diagnoses_who
        .starts_with("J06.9 Acute upper respiratory infection"));
    // How each visit ended, and every vital sign up to the last column, are read without
    // scrolling sideways in the demo's window (1280 wide, the tray and the queue beside).
    let window_right = app.harness.ctx.content_rect().right();
    for status in ["Status", "Selesai", "TD", "Nadi", "Suhu", "BB"] {
        let shown: Vec<_> = app.harness.query_all_by_label(status).collect();
        assert!(!shown.is_empty(), "the history shows {status:?}");
        for node in shown {
            assert!(
                node.rect().right() <= window_right,
                "{status:?} lies beyond the window's edge: {:?}",
                node.rect()
            );
        }
    }
    app.click("Grafik");
    let with_pressure = open
        .history
        .visits
        .iter()
        .filter(|v| v.vitals.systolic.is_some() && v.vitals.diastolic.is_some())
        .count();
    assert!(with_pressure >= 1);
    assert_eq!(open.charts.systolic.len(), with_pressure);
    assert_eq!(open.charts.diastolic.len(), with_pressure);
    assert!(app.shows(&format!("Tekanan darah (mmHg) ({})", 2 * with_pressure)));
    let weights = open
        .history
        .visits
        .iter()
        .filter(|v| v.vitals.weight.is_some())
        .count();
    assert!(app.shows(&format!("Berat badan (kg) ({weights})")));
}

#[test]
fn a_visit_not_yet_called_can_be_cancelled_from_the_queue_and_an_empty_queue_says_so() {
    let mut app = App::demo();
    at_the_poli(&mut app);
    let waiting = waiting_tickets(&app);
    let (cancelled, called) = waiting.split_first().expect("someone waits");
    app.click(&format!("Batal {cancelled}"));
    app.until_text(&format!("{cancelled} Batal"));
    for _ in called {
        app.click("Panggil berikutnya (F2)");
        app.until("a visit", |h| h.state().state().poli.open.is_some());
        app.click("« Kembali ke antrian");
    }
    app.click("Panggil berikutnya (F2)");
    app.until_text("Tidak ada pasien yang menunggu di poli ini.");
}

#[test]
fn through_pcscd_the_finished_visit_is_written_to_the_card_and_three_wrong_pins_block_it() {
    let _pcsc = exclusive();
    let mut app = App::demo_with(true);
    siti_waiting_at_the_poli(&mut app, true);

    // Her card in the poli's reader opens her visit and reads the card's own log.
    app.tap("Siti Rahayu — asli");
    app.until("Siti's visit", |h| {
        h.state()
            .state()
            .poli
            .open
            .as_ref()
            .is_some_and(|o| o.history.patient.name == "Siti Rahayu")
    });
    app.until("the card's log", |h| {
        h.state()
            .state()
            .poli
            .card
            .as_ref()
            .is_some_and(|c| c.visits.is_some())
    });
    app.type_into("Cari diagnosa (kode atau kata), Enter menambahkan", "J06.9");
    app.harness.key_press(egui::Key::Enter);
    app.until("the diagnosis", |h| {
        h.state()
            .state()
            .poli
            .open
            .as_ref()
            .is_some_and(|o| !o.visit.diagnoses.is_empty())
    });
    let (visit_id, ticket) = {
        let open = open_visit(&app);
        (open.visit.visit_id, open.visit.ticket)
    };
    app.click("Selesai (Ctrl+Enter)");
    app.until("the card write", |h| {
        h.state()
            .state()
            .poli
            .card
            .as_ref()
            .is_some_and(|c| c.notice.is_some() || c.problem.is_some())
    });
    let card = app.harness.state().state().poli.card.as_ref().unwrap();
    assert_eq!(card.problem, None);
    let on_card = card.visits.as_ref().expect("the log read back");
    assert_eq!(on_card.len(), 1);

    // The software card's own file says so, read as any host would.
    let path = siti_card(&app);
    let mut software_card = kartika_vcard::VirtualCard::open(&path).expect("card file");
    let mut session = CardSession::new(&mut software_card);
    session.select().expect("select");
    session
        .verify_pin(&kartika_card::model::Pin::new("123456").unwrap())
        .expect("the patient's PIN opens the log");
    let log = session.read_visits().expect("visit log");
    assert_eq!(log.len(), 1);
    assert_eq!(
        uuid::Uuid::from_bytes(log[0].visit_id()).to_string(),
        visit_id
    );
    assert_eq!(log[0].diagnoses()[0].as_str(), "J06.9");
    assert_eq!(log[0].facility_code().as_str(), "P3674060");

    // The patient types a wrong PIN three times.
    app.until("the queue showing the visit finished", |h| {
        h.state()
            .state()
            .poli
            .queue
            .iter()
            .any(|q| q.ticket == ticket && q.status == VisitStatus::Finished)
    });
    app.click(&format!("Buka {ticket}"));
    app.until("the visit again", |h| h.state().state().poli.open.is_some());
    app.click("Kartu");
    // Opening the visit reads the card's log again; until then the card is at work.
    app.until("the card at rest", |h| {
        h.state()
            .state()
            .poli
            .card
            .as_ref()
            .is_some_and(|c| !c.busy)
    });
    for expected in ["Sisa percobaan: 2", "Sisa percobaan: 1"] {
        app.type_into("PIN pasien (diketik oleh pasien)", "0000");
        app.click("Buka ringkasan");
        app.until_text(expected);
    }
    app.type_into("PIN pasien (diketik oleh pasien)", "0000");
    app.click("Buka ringkasan");
    app.until_text("PIN kartu terblokir");
    drop(session);
    let mut software_card = kartika_vcard::VirtualCard::open(&path).expect("card file");
    let mut session = CardSession::new(&mut software_card);
    session.select().expect("select");
    assert_eq!(
        session.pin_status().expect("PIN status"),
        kartika_card::PinStatus::Blocked
    );
    drop(session);
    app.leave_the_reader_empty();
}

#[test]
fn a_card_pulled_while_the_visit_is_written_to_it_is_told_plainly_and_the_visit_stays_recorded() {
    let _pcsc = exclusive();
    let mut app = App::demo_with(true);
    siti_waiting_at_the_poli(&mut app, true);

    // The card answers the tap, the log read and the write's checks and terminal
    // authentication, and is pulled as APPEND RECORD arrives.
    let path = siti_card(&app);
    let card = kartika_testkit::pcsc::InsertedCard::insert(
        &path,
        0,
        kartika_testkit::pcsc::InsertOptions {
            pull_at_instruction: Some(0xE2),
            ..Default::default()
        },
    );
    app.until("Siti's visit and her card's log", |h| {
        let state = h.state().state();
        state.poli.open.is_some() && state.poli.card.as_ref().is_some_and(|c| c.visits.is_some())
    });
    let ticket = open_visit(&app).visit.ticket;
    app.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    app.until_text("Kartu dicabut sebelum kunjungan tertulis di kartu");
    assert!(
        !app.shows("Tersimpan di kartu"),
        "nothing unconfirmed is believed"
    );
    app.until("the queue", |h| {
        h.state()
            .state()
            .poli
            .queue
            .iter()
            .any(|q| q.ticket == ticket && q.status == VisitStatus::Finished)
    });
    drop(card);
    let mut software_card = kartika_vcard::VirtualCard::open(&path).expect("card file");
    let mut session = CardSession::new(&mut software_card);
    session.select().expect("select");
    session
        .verify_pin(&kartika_card::model::Pin::new("123456").unwrap())
        .expect("the patient's PIN opens the log");
    assert!(
        session.read_visits().expect("visit log").is_empty(),
        "the card was pulled before APPEND RECORD"
    );
}

#[test]
fn a_patient_registered_at_another_window_appears_in_the_polis_queue() {
    let mut poli = App::demo();
    at_the_poli(&mut poli);
    let mut desk = poli.another_window();
    desk.at_the_desk();
    desk.registers_budi();
    poli.until_budi_waits_in_the_queue();
}

/// What another Puskesmas pushes to the registry: Siti's visit there, finished with a
/// diagnosis, from its own clinic store.
fn siti_seen_at_the_other_puskesmas(app: &App) {
    let token = app
        .world
        .enroll_other_puskesmas()
        .expect("the other node enrolled");
    let url = app.registry.as_ref().expect("a registry").url();
    // Pamulang has told the registry of Siti's card and its key.
    let syncer = kartika_sync::Syncer::new(kartika_sync::SyncConfig::new(&url, &app.world.token))
        .expect("syncer");
    let mut pamulang = kartika_store::Store::open(&app.world.store_path).expect("demo store");
    syncer.round(&mut pamulang).expect("Pamulang's round");
    // Siti's card in the other Puskesmas's reader: its answer proves she was there.
    let card_path = siti_card(app);
    let mut card = kartika_vcard::VirtualCard::open(&card_path).expect("card file");
    let mut session = CardSession::new(&mut card);
    let nonce = [9u8; 16];
    let at_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms");
    let challenge = kartika_card::presence::presence_challenge(
        kartika_demo::OTHER_FACILITY_CODE,
        at_ms,
        &nonce,
    );
    let trust = TrustAnchors::new(vec![app.world.root.clone()]);
    let reading = session
        .verify_card(&trust, time::macros::date!(2026 - 11 - 28), &challenge)
        .expect("Siti's card read");
    let identity = reading.identity;
    let proof = kartika_protocol::PresenceProof {
        card_number: identity.card_number.to_string(),
        patient_number: identity.patient_number.to_string(),
        at_ms,
        nonce: hex::encode(nonce),
        signature: hex::encode(&reading.challenge_signature),
    };
    let other = tempfile::tempdir().expect("folder");
    let mut store = kartika_store::Store::create(
        &other.path().join("clinic.sqlite"),
        &kartika_store::FacilityProfile {
            code: kartika_demo::OTHER_FACILITY_CODE.into(),
            name: "Puskesmas Pondok Aren".into(),
            region_code: Some("36.74.02".into()),
            zone: kartika_store::TimeZone::Wib,
        },
    )
    .expect("the other store");
    store
        .add_first_admin(&kartika_store::NewStaff {
            username: "admin".into(),
            display_name: "Admin Pondok Aren".into(),
            role: Role::Admin,
            password: "admin-pondok-aren".into(),
        })
        .expect("admin");
    let admin = store.login("admin", "admin-pondok-aren").expect("login");
    store
        .admit_card(&admin, &identity)
        .expect("Siti admitted there");
    assert!(store.note_presence(&admin, &proof).expect("proof kept"));
    let ticket = store
        .register_visit(
            &admin,
            &kartika_store::NewVisit {
                patient_number: identity.patient_number.to_string(),
                unit_code: "general".into(),
                payer: kartika_store::Payer::General,
                care: kartika_store::Care::Sick,
                complaint: Some("diare".into()),
            },
        )
        .expect("visit there");
    let id = &ticket.visit_id;
    store
        .set_visit_status(&admin, id, VisitStatus::InProgress)
        .unwrap();
    store
        .add_diagnosis(&admin, id, "A09", kartika_store::DiagnosisRank::Primary)
        .unwrap();
    store
        .set_visit_status(&admin, id, VisitStatus::Finished)
        .unwrap();
    let syncer =
        kartika_sync::Syncer::new(kartika_sync::SyncConfig::new(&url, &token)).expect("syncer");
    syncer.round(&mut store).expect("pushed to the registry");
}

#[test]
fn with_the_card_present_the_history_shows_what_the_registry_knows_from_other_puskesmas() {
    let mut app = App::demo_synced();
    siti_seen_at_the_other_puskesmas(&app);
    siti_waiting_at_the_poli(&mut app, false);
    app.tap("Siti Rahayu — asli");
    app.until("the visit at the other Puskesmas in Siti's history", |h| {
        h.state().state().poli.open.as_ref().is_some_and(|o| {
            o.rows.iter().any(|r| {
                r.facility == kartika_demo::OTHER_FACILITY_CODE && r.diagnoses.starts_with("A09")
            })
        })
    });
    app.click("Riwayat");
    assert!(app.shows(kartika_demo::OTHER_FACILITY_CODE));
}

#[test]
fn the_patients_pin_opens_the_medical_summary_and_the_terminal_writes_it_back() {
    let mut app = App::demo();
    siti_waiting_at_the_poli(&mut app, false);
    app.tap("Siti Rahayu — asli");
    app.until("Siti's visit and her card's log", |h| {
        let state = h.state().state();
        state.poli.open.is_some() && state.poli.card.as_ref().is_some_and(|c| c.visits.is_some())
    });
    app.click("Kartu");
    app.type_into("PIN pasien (diketik oleh pasien)", "123456");
    app.click("Buka ringkasan");
    app.until_text("Penyakit kronis");
    app.type_into("Alergi", "Penisilin");
    app.type_into("Penyakit kronis (kode ICD-10, dipisah koma)", "e11, I10");
    app.click("Simpan ke kartu");
    app.until_text("Tersimpan di kartu.");
    assert!(app.shows("Penisilin"), "the header shows the allergy");

    // Read back as any host would: the PIN, then FF22.
    app.click("Cabut kartu");
    let mut card = kartika_vcard::VirtualCard::open(&siti_card(&app)).expect("card file");
    let mut session = CardSession::new(&mut card);
    session.select().expect("select");
    session
        .verify_pin(&kartika_card::model::Pin::new("123456").unwrap())
        .expect("PIN");
    let summary = session
        .read_medical_summary()
        .expect("summary")
        .expect("written");
    assert_eq!(summary.allergies(), Some("Penisilin"));
    let codes: Vec<&str> = summary
        .chronic_conditions()
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(codes, ["E11", "I10"]);
}
