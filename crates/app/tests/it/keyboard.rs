//! Each screen's keyboard path, driven with key presses and typed text only, sent to
//! whatever has the keyboard, as on a real desk: nothing here focuses a field by its name
//! after the screen opens. (A demo card is still tapped on the tray: it stands for the
//! hand that puts the card on the reader.)

use eframe::egui;
use kartika_store::{Care, Payer, Role, VisitStatus};

use egui_kittest::kittest::Queryable;

use crate::support::App;

/// Text typed on the keyboard, to whatever has it.
fn types(app: &mut App, text: &str) {
    app.harness.event(egui::Event::Text(text.to_owned()));
    app.harness.run_ok();
}

fn press(app: &mut App, key: egui::Key) {
    app.harness.key_press(key);
    app.harness.run_ok();
}

fn press_with(app: &mut App, modifiers: egui::Modifiers, key: egui::Key) {
    app.harness.key_press_modifiers(modifiers, key);
    app.harness.run_ok();
}

/// Today's visits as the store holds them, read as the admin.
fn stored_visits_today(app: &App) -> Vec<kartika_store::QueueEntry> {
    let mut store = kartika_store::Store::open(&app.world.store_path).expect("demo store");
    let admin = app.world.account(Role::Admin).expect("admin").clone();
    let session = store
        .login(&admin.username, &admin.password)
        .expect("admin login");
    let today = kartika_store::Clock::now(&app.clock).date();
    let day = format!(
        "{:04}-{:02}-{:02}",
        today.year(),
        today.month() as u8,
        today.day()
    );
    store
        .visits_on(&session, Some(&day))
        .expect("today's visits")
}

/// Logs in by keyboard: the username, Tab, the password, Enter.
fn logs_in_by_keyboard(app: &mut App, role: Role) {
    let account = app.world.account(role).expect("demo account").clone();
    types(app, &account.username);
    press(app, egui::Key::Tab);
    types(app, &account.password);
    press(app, egui::Key::Enter);
}

#[test]
fn the_login_takes_the_username_tab_the_password_and_enter() {
    let mut app = App::demo();
    logs_in_by_keyboard(&mut app, Role::Registration);
    app.until_text("Tempelkan kartu");
}

#[test]
fn after_a_wrong_password_the_keyboard_is_ready_for_the_right_one() {
    let mut app = App::demo();
    let account = app.world.account(Role::Nurse).expect("nurse").clone();
    types(&mut app, &account.username);
    press(&mut app, egui::Key::Tab);
    types(&mut app, "salah");
    press(&mut app, egui::Key::Enter);
    app.until_text("Nama pengguna atau kata sandi salah");
    // The password box again, emptied: the nurse types it again and presses Enter.
    types(&mut app, &account.password);
    press(&mut app, egui::Key::Enter);
    app.until_text("Antrian poli hari ini");
}

#[test]
fn the_desk_goes_from_tap_to_ticket_to_the_next_patient_by_keys() {
    let mut app = App::demo();
    logs_in_by_keyboard(&mut app, Role::Registration);
    app.until_text("Tempelkan kartu");
    let units = app.harness.state().state().units.clone();
    let second_unit = units.get(1).expect("a second unit").clone();

    app.tap("Siti Rahayu — asli");
    app.until_text("Kartu asli");
    press(&mut app, egui::Key::Num2);
    press(&mut app, egui::Key::P);
    press(&mut app, egui::Key::H);
    press(&mut app, egui::Key::Enter);
    app.until_text("Nomor antrian");
    let ticket = app
        .harness
        .state()
        .state()
        .desk
        .ticket
        .clone()
        .expect("a ticket");
    assert_eq!(
        ticket.unit_code, second_unit.code,
        "2 chose the second unit"
    );

    // Esc: the next patient; the next tap and Enter register at once.
    press(&mut app, egui::Key::Escape);
    app.until_text("Tempelkan kartu");
    app.tap("Budi Santoso — asli");
    app.until_text("Kartu asli");
    press(&mut app, egui::Key::Enter);
    app.until_text("Nomor antrian");

    let visits = stored_visits_today(&app);
    let siti = visits
        .iter()
        .find(|v| v.ticket == ticket.ticket)
        .expect("Siti's visit");
    assert_eq!(
        (siti.payer, siti.care, siti.status),
        (Payer::BpjsPbi, Care::Well, VisitStatus::Waiting),
        "P and H as pressed"
    );
    assert!(visits.iter().any(|v| v.name == "Budi Santoso"));
}

/// The visit as the store holds it, read as the admin.
fn stored_visit(app: &App, patient_number: &str, visit_id: &str) -> kartika_store::VisitDetail {
    let mut store = kartika_store::Store::open(&app.world.store_path).expect("demo store");
    let admin = app.world.account(Role::Admin).expect("admin").clone();
    let session = store
        .login(&admin.username, &admin.password)
        .expect("admin login");
    store
        .patient_history(&session, patient_number)
        .expect("history")
        .visits
        .into_iter()
        .find(|v| v.visit_id == visit_id)
        .expect("the visit")
}

/// Types `typed` in the diagnosis box (which has the keyboard), presses Enter, and waits
/// for the visit's `count`th diagnosis.
fn adds_diagnosis(app: &mut App, typed: &str, count: usize) {
    types(app, typed);
    press(app, egui::Key::Enter);
    app.until(&format!("diagnosis {count}, {typed}"), move |h| {
        h.state()
            .state()
            .poli
            .open
            .as_ref()
            .is_some_and(|o| o.visit.diagnoses.len() == count)
    });
}

/// F2, and waits for the called visit; returns its patient's number and its id.
fn calls_the_next_patient(app: &mut App) -> (String, String) {
    press(app, egui::Key::F2);
    app.until("the called visit", |h| {
        h.state()
            .state()
            .poli
            .open
            .as_ref()
            .is_some_and(|o| o.visit.status == VisitStatus::InProgress)
    });
    let open = app.harness.state().state().poli.open.clone().expect("open");
    (open.visit.patient_number, open.visit.visit_id)
}

#[test]
fn the_poli_goes_from_f2_through_the_form_to_ctrl_enter_by_keys() {
    let mut app = App::demo();
    logs_in_by_keyboard(&mut app, Role::Nurse);
    app.until_text("Antrian poli hari ini");
    let (patient, visit) = calls_the_next_patient(&mut app);

    // The keyboard is in Sistole; Tab walks the vitals, the complaint and the notes, and
    // reaches the diagnosis box.
    for value in ["120", "80", "88", "20", "37,5", "54,5", "158"] {
        types(&mut app, value);
        press(&mut app, egui::Key::Tab);
    }
    types(&mut app, "batuk pilek tiga hari");
    press(&mut app, egui::Key::Tab);
    types(&mut app, "tenggorokan merah");
    press(&mut app, egui::Key::Tab);
    adds_diagnosis(&mut app, "ISPA", 1);
    adds_diagnosis(&mut app, "demam", 2);
    press_with(&mut app, egui::Modifiers::COMMAND, egui::Key::Enter);
    let finished = visit.clone();
    app.until("the queue to show the visit finished", move |h| {
        h.state()
            .state()
            .poli
            .queue
            .iter()
            .any(|q| q.visit_id == finished && q.status == VisitStatus::Finished)
    });

    let stored = stored_visit(&app, &patient, &visit);
    assert_eq!(stored.status, VisitStatus::Finished);
    let v = &stored.vitals;
    assert_eq!(
        (v.systolic, v.diastolic, v.pulse, v.respiratory_rate),
        (Some(120), Some(80), Some(88), Some(20))
    );
    assert_eq!(
        (v.temperature, v.weight, v.height),
        (Some(37.5), Some(54.5), Some(158.0))
    );
    assert_eq!(stored.complaint.as_deref(), Some("batuk pilek tiga hari"));
    assert_eq!(stored.notes.as_deref(), Some("tenggorokan merah"));
    let codes: Vec<&str> = stored.diagnoses.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["J06.9", "R50.9"]);
}

#[test]
fn a_referral_is_written_and_confirmed_from_the_keyboard() {
    let mut app = App::demo();
    logs_in_by_keyboard(&mut app, Role::Nurse);
    app.until_text("Antrian poli hari ini");
    let (patient, visit) = calls_the_next_patient(&mut app);
    types(&mut app, "150");
    press(&mut app, egui::Key::Tab);
    types(&mut app, "95");
    press_with(&mut app, egui::Modifiers::COMMAND, egui::Key::R);
    types(&mut app, "RSUD Tangerang Selatan");
    press(&mut app, egui::Key::Enter);
    let referred = visit.clone();
    app.until("the queue to show the visit referred", move |h| {
        h.state()
            .state()
            .poli
            .queue
            .iter()
            .any(|q| q.visit_id == referred && q.status == VisitStatus::Referred)
    });
    let stored = stored_visit(&app, &patient, &visit);
    assert_eq!(
        stored.referred_to.as_deref(),
        Some("RSUD Tangerang Selatan")
    );
    assert_eq!(
        stored.vitals.systolic,
        Some(150),
        "what was typed first is kept"
    );
}

#[test]
fn a_visit_opened_again_from_the_queue_takes_the_keyboard_in_its_first_vital() {
    let mut app = App::demo();
    logs_in_by_keyboard(&mut app, Role::Nurse);
    app.until_text("Antrian poli hari ini");
    let (patient, visit) = calls_the_next_patient(&mut app);
    let ticket = app
        .harness
        .state()
        .state()
        .poli
        .open
        .clone()
        .expect("open")
        .visit
        .ticket;
    // Back to the queue, then the nurse opens the same visit again: choosing whom to
    // see is done on the list; from there on, keys only.
    app.click("« Kembali ke antrian");
    let in_progress = visit.clone();
    app.until("the queue to show the visit in progress", move |h| {
        let poli = &h.state().state().poli;
        poli.open.is_none()
            && poli
                .queue
                .iter()
                .any(|q| q.visit_id == in_progress && q.status == VisitStatus::InProgress)
    });
    app.click(&format!("Buka {ticket}"));
    app.until("the visit open again", |h| {
        h.state().state().poli.open.is_some()
    });
    types(&mut app, "130");
    press(&mut app, egui::Key::Tab);
    types(&mut app, "85");
    press_with(&mut app, egui::Modifiers::COMMAND, egui::Key::S);
    app.until_text("Tersimpan");
    assert_eq!(
        stored_visit(&app, &patient, &visit).vitals.systolic,
        Some(130)
    );
}

#[test]
fn an_issuance_goes_from_the_tap_through_the_pin_twice_to_done_by_keys() {
    let mut app = App::demo();
    logs_in_by_keyboard(&mut app, Role::Admin);
    app.until_text("Tempelkan kartu");
    // Finding the patient and choosing "issue" happen before the path under test.
    app.click("Ruang admin");
    app.until_text("Tempelkan kartu pasien atau kartu kosong");
    crate::admin::open_patient(&mut app, "Sri Nugroho", "Sri Nugroho");
    app.until_text("Terbitkan kartu baru");
    app.click("Terbitkan kartu baru");

    // The blank card on the reader; the patient types the PIN, Tab, the PIN, Enter.
    app.tap("Kartu kosong 1");
    app.until_text("Kartu kosong siap diterbitkan.");
    types(&mut app, "2468");
    press(&mut app, egui::Key::Tab);
    types(&mut app, "2468");
    press(&mut app, egui::Key::Enter);
    app.until_text("Kartu diterbitkan dan tercatat");
    let cards = crate::admin::cards_of_open_patient(&app);
    assert_eq!(cards.len(), 1, "the store holds the new card");
    assert_eq!(cards[0].status, kartika_store::CardStatus::Active);
}

#[test]
fn after_enter_adds_a_diagnosis_the_keyboard_stays_in_the_box_for_the_next() {
    let mut app = App::demo();
    logs_in_by_keyboard(&mut app, Role::Nurse);
    app.until_text("Antrian poli hari ini");
    calls_the_next_patient(&mut app);
    // Once, to reach the box; from here on only keys and typed text.
    app.harness
        .get_by_label("Cari diagnosa (kode atau kata), Enter menambahkan")
        .focus();
    app.harness.run_ok();
    // The words a nurse types, each finding its usual code first.
    for (typed, count) in [("ISPA", 1), ("darah tinggi", 2), ("K30", 3)] {
        adds_diagnosis(&mut app, typed, count);
    }
    let codes: Vec<String> = app
        .harness
        .state()
        .state()
        .poli
        .open
        .as_ref()
        .expect("open")
        .visit
        .diagnoses
        .iter()
        .map(|d| d.code.clone())
        .collect();
    assert_eq!(codes, ["J06.9", "I10", "K30"], "every code typed was added");
    assert!(
        app.shows("Hipertensi esensial (primer)"),
        "in Bahasa Indonesia"
    );
}
