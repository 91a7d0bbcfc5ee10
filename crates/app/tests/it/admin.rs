//! The admin's room, as an admin answering for cards, accounts and the data uses it.

use egui_kittest::kittest::Queryable;
use kartika_card::CardSession;
use kartika_store::{CardStatus, Role};
use kartika_testkit::pcsc::exclusive;

use crate::support::App;

fn in_the_admin_room(app: &mut App) {
    app.log_in(Role::Admin);
    app.until_text("Tempelkan kartu");
    app.click("Ruang admin");
    app.until_text("Tempelkan kartu pasien atau kartu kosong");
}

/// Finds a patient by `text` and opens their cards.
pub(crate) fn open_patient(app: &mut App, text: &str, name: &str) {
    app.type_into("NIK, No. RM, No. BPJS, No. KK atau nama", text);
    app.click("Cari");
    // A result reads "name · No. RM · birth date" (the tray's cards read "name — …").
    let hit = format!("{name} · ");
    app.until_text(&hit);
    app.harness
        .get_all_by_label_contains(&hit)
        .next()
        .expect("a hit")
        .click();
    app.harness.run_ok();
    app.until("the patient's cards", |h| {
        h.state()
            .state()
            .admin
            .patient
            .as_ref()
            .is_some_and(|(p, _)| p.name.contains(name))
    });
}

/// The demo's first blank card file ("Kartu kosong 1").
fn first_blank_card(app: &App) -> std::path::PathBuf {
    app.tray_card(kartika_demo::TrayCardKind::Blank)
}

pub(crate) fn cards_of_open_patient(app: &App) -> Vec<kartika_store::Card> {
    app.harness
        .state()
        .state()
        .admin
        .patient
        .as_ref()
        .map(|(_, cards)| cards.clone())
        .unwrap_or_default()
}

/// Issues the blank tray card `blank` to the open patient with PIN 2468.
fn issue_to_blank(app: &mut App, blank: &str) {
    app.tap(blank);
    app.until_text("Kartu kosong siap diterbitkan.");
    app.type_into("PIN baru (4 sampai 8 angka)", "2468");
    app.type_into("Ulangi PIN", "2468");
    app.click("Terbitkan");
    app.until_text("Kartu diterbitkan dan tercatat");
}

#[test]
fn through_pcscd_an_admin_issues_a_card_that_reads_genuine_then_blocks_it_and_the_desk_refuses_it()
{
    let _pcsc = exclusive();
    let mut app = App::demo_with(true);
    in_the_admin_room(&mut app);
    app.until_text(&kartika_testkit::pcsc::reader_name(0));
    open_patient(&mut app, "Sri Nugroho", "Sri Nugroho");
    assert!(cards_of_open_patient(&app).is_empty());
    app.click("Terbitkan kartu baru");
    issue_to_blank(&mut app, "Kartu kosong 1");
    let cards = cards_of_open_patient(&app);
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0].status, CardStatus::Active, "the store holds it");
    assert!(
        app.shows("Muka kartu untuk dicetak"),
        "the card face is saved"
    );
    let face = app
        .folder()
        .join("cards")
        .join(format!("kartu-{}.pdf", cards[0].card_number));
    assert!(std::fs::read(&face).unwrap().starts_with(b"%PDF"));

    // The card itself, read as any Puskesmas would: genuine under the registry root.
    let blank = first_blank_card(&app);
    app.click("Cabut kartu");
    let mut software_card = kartika_vcard::VirtualCard::open(&blank).unwrap();
    let trust = kartika_card::crypto::TrustAnchors::new(vec![app.world.root.clone()]);
    let reading = CardSession::new(&mut software_card)
        .verify_card(
            &trust,
            kartika_store::Clock::now(&app.clock).date(),
            &[7; 32],
        )
        .unwrap();
    assert!(reading.verdict.is_genuine(), "{:?}", reading.verdict);
    assert_eq!(reading.identity.card_number.as_str(), cards[0].card_number);
    assert_eq!(reading.identity.name, "Sri Nugroho");

    app.type_into(
        "Alasan (blokir, buka blokir, nonaktifkan)",
        "hilang di angkot",
    );
    app.click(&format!("Blokir {}", cards[0].card_number));
    app.until("the block", |h| {
        h.state()
            .state()
            .admin
            .patient
            .as_ref()
            .is_some_and(|(_, cards)| cards[0].status == CardStatus::Blocked)
    });
    app.click("Keluar");
    app.at_the_desk();
    app.tap("Kartu kosong 1");
    app.until_text("Kartu diblokir (hilang di angkot)");
    app.leave_the_reader_empty();
}

#[test]
fn a_replaced_card_hands_over_to_the_new_one_and_the_patient_keeps_number_and_history() {
    let mut app = App::demo();
    in_the_admin_room(&mut app);
    open_patient(&mut app, "Siti Rahayu", "Siti Rahayu");
    let before = cards_of_open_patient(&app);
    let old = before
        .iter()
        .find(|c| c.status == CardStatus::Active)
        .expect("Siti's card")
        .card_number
        .clone();
    let patient_number = before[0].patient_number.clone();
    app.click(&format!("Ganti {old}"));
    issue_to_blank(&mut app, "Kartu kosong 2");
    let after = cards_of_open_patient(&app);
    let replaced = after.iter().find(|c| c.card_number == old).unwrap();
    assert_eq!(replaced.status, CardStatus::Replaced);
    let new = after
        .iter()
        .find(|c| c.status == CardStatus::Active)
        .unwrap();
    assert_eq!(
        replaced.replaced_by.as_deref(),
        Some(new.card_number.as_str())
    );
    assert_eq!(
        new.patient_number, patient_number,
        "the same patient number"
    );

    app.click("Keluar");
    app.at_the_desk();
    app.tap("Kartu kosong 2");
    app.until_text("Kartu asli");
    assert!(app.shows("Siti Rahayu"));
    assert!(app.shows(&patient_number));
    app.tap("Siti Rahayu — asli");
    app.until_text("Kartu ini sudah diganti dengan kartu baru");
}

#[test]
fn an_admin_adds_a_nurse_who_can_log_in_but_not_open_the_admin_room_and_checks_the_audit_log() {
    let mut app = App::demo();
    in_the_admin_room(&mut app);
    app.click("Staf");
    app.until_text("perawat");
    app.type_into("Nama pengguna", "bidan.ani");
    app.type_into("Nama lengkap", "Bidan Ani");
    app.type_into("Kata sandi", "bidan-ani-2026");
    app.click("Tambah akun");
    app.until("the new account", |h| {
        h.state()
            .state()
            .admin
            .staff
            .iter()
            .any(|s| s.username == "bidan.ani" && s.role == Role::Nurse)
    });

    app.click("Audit");
    app.click("Periksa");
    app.until_text("Log audit utuh");
    app.type_into("Tindakan", "staff.");
    app.click("Cari");
    app.until("the staff entries", |h| {
        h.state()
            .state()
            .admin
            .audit_entries
            .iter()
            .any(|e| e.action == "staff.add" && e.detail.contains("bidan.ani"))
    });

    app.click("Sinkronisasi");
    app.until_text("Sertifikat terminal P3674060");
    // The sync health comes from the clinic worker, after the certificate (the set-up).
    app.until_text("Menunggu dikirim");

    app.click("Keluar");
    app.type_into("Nama pengguna", "bidan.ani");
    app.type_into("Kata sandi", "bidan-ani-2026");
    app.click("Masuk");
    app.until_text("Antrian poli hari ini");
    assert!(app.harness.query_by_label("Ruang admin").is_none());
}

#[test]
fn a_card_pulled_halfway_through_issuing_is_said_plainly_and_is_issued_again_from_the_start() {
    let _pcsc = exclusive();
    let mut app = App::demo_with(true);
    in_the_admin_room(&mut app);
    app.until_text(&kartika_testkit::pcsc::reader_name(0));
    open_patient(&mut app, "Sri Nugroho", "Sri Nugroho");
    app.click("Terbitkan kartu baru");
    let blank = first_blank_card(&app);
    // Pulled as ACTIVATE arrives: everything written, nothing made valid.
    let card = kartika_testkit::pcsc::InsertedCard::insert(
        &blank,
        0,
        kartika_testkit::pcsc::InsertOptions {
            pull_at_instruction: Some(0x44),
            ..Default::default()
        },
    );
    app.until_text("Kartu kosong siap diterbitkan.");
    app.type_into("PIN baru (4 sampai 8 angka)", "2468");
    app.type_into("Ulangi PIN", "2468");
    app.click("Terbitkan");
    app.until_text("Kartu dicabut sebelum selesai diterbitkan");
    drop(card);
    assert!(
        cards_of_open_patient(&app).is_empty(),
        "nothing is recorded for a card that was not activated"
    );
    let trust = kartika_card::crypto::TrustAnchors::new(vec![app.world.root.clone()]);
    let mut half = kartika_vcard::VirtualCard::open(&blank).unwrap();
    let read = CardSession::new(&mut half).verify_card(
        &trust,
        kartika_store::Clock::now(&app.clock).date(),
        &[9; 32],
    );
    assert!(
        matches!(read, Err(kartika_card::CardError::NotActivated)),
        "a half-issued card never reads genuine: {read:?}"
    );

    // Tapped again, it is issued from the start.
    app.until_text(&format!(
        "{}: menunggu kartu",
        kartika_testkit::pcsc::reader_name(0)
    ));
    app.tap("Kartu kosong 1");
    app.until_text("Kartu kosong siap diterbitkan.");
    app.type_into("PIN baru (4 sampai 8 angka)", "2468");
    app.type_into("Ulangi PIN", "2468");
    app.click("Terbitkan");
    app.until_text("Kartu diterbitkan dan tercatat");
    assert_eq!(cards_of_open_patient(&app)[0].status, CardStatus::Active);
    app.leave_the_reader_empty();
}

#[test]
fn a_backup_made_in_the_admin_room_restores_while_the_app_runs() {
    let mut app = App::demo();
    in_the_admin_room(&mut app);
    app.click("Cadangan");
    let folder = app.folder().join("usb");
    app.type_into(
        "Folder cadangan (disk kedua atau USB)",
        folder.to_str().unwrap(),
    );
    app.click("Cadangkan sekarang");
    app.until_text("Cadangan dibuat:");
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

    app.type_into("File cadangan", copy.to_str().unwrap());
    app.click("Pulihkan");
    app.until_text("Data dipulihkan.");
    // The store works after the restore: the audit check runs on it.
    app.click("Audit");
    app.click("Periksa");
    app.until_text("Log audit utuh");

    app.click("Cadangan");
    let junk = app.folder().join("junk.sqlite");
    std::fs::write(&junk, "not a database").unwrap();
    app.replace_text("File cadangan", &format!("{}", junk.display()));
    app.click("Pulihkan");
    app.until_text("tidak dapat dipulihkan");
}

#[test]
fn a_blocked_pin_is_reset_and_a_returned_card_terminated_with_the_card_in_the_reader() {
    let mut app = App::demo();
    // Siti typed a wrong PIN three times somewhere.
    let siti = app.tray_card(kartika_demo::TrayCardKind::Genuine);
    {
        let mut card = kartika_vcard::VirtualCard::open(&siti).unwrap();
        let mut session = CardSession::new(&mut card);
        session.select().unwrap();
        for _ in 0..3 {
            let _ = session.verify_pin(&kartika_card::model::Pin::new("0000").unwrap());
        }
        assert_eq!(
            session.pin_status().unwrap(),
            kartika_card::PinStatus::Blocked
        );
    }
    in_the_admin_room(&mut app);
    open_patient(&mut app, "Siti Rahayu", "Siti Rahayu");
    app.tap("Siti Rahayu — asli");
    app.until_text("Kartu di pembaca");
    app.type_into("PIN baru (4 sampai 8 angka)", "8642");
    app.type_into("Ulangi PIN", "8642");
    app.click("Buka blokir PIN");
    app.until_text("PIN kartu dibuka dengan PIN baru.");
    {
        let mut card = kartika_vcard::VirtualCard::open(&siti).unwrap();
        let mut session = CardSession::new(&mut card);
        session.select().unwrap();
        assert_eq!(
            session.pin_status().unwrap(),
            kartika_card::PinStatus::TriesLeft(3)
        );
        session
            .verify_pin(&kartika_card::model::Pin::new("8642").unwrap())
            .expect("the new PIN opens the card");
    }

    // The card is returned: TERMINATE, then the record.
    let number = cards_of_open_patient(&app)
        .into_iter()
        .find(|c| c.status == CardStatus::Active)
        .unwrap()
        .card_number;
    app.type_into(
        "Alasan (blokir, buka blokir, nonaktifkan)",
        "dikembalikan pasien",
    );
    app.click(&format!("Nonaktifkan {number}"));
    app.until("the card terminated", |h| {
        h.state()
            .state()
            .admin
            .patient
            .as_ref()
            .is_some_and(|(_, cards)| cards.iter().any(|c| c.status == CardStatus::Terminated))
    });
    app.click("Cabut kartu");
    let mut card = kartika_vcard::VirtualCard::open(&siti).unwrap();
    let mut session = CardSession::new(&mut card);
    assert!(
        matches!(session.select(), Err(kartika_card::CardError::Terminated))
            || session.select().map(|fci| fci.life_cycle)
                == Ok(kartika_card::model::LifeCycle::Terminated),
        "the card itself is terminated"
    );
}

#[test]
fn an_admin_reads_the_apps_last_warnings_in_the_settings_and_a_nurse_does_not() {
    let mut app = App::demo();
    let logs = app.folder().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("kartika.2026-12-05.log"),
        "2026-12-05T01:00:00.000000Z  WARN kartika::sync: sync round failed error=kemarin\n",
    )
    .unwrap();
    std::fs::write(
        logs.join("kartika.2026-12-06.log"),
        "2026-12-06T02:00:00.000000Z  INFO kartika::sync: sync round sent=3\n\
         2026-12-06T02:05:00.000000Z  WARN kartika::sync: sync round failed error=the registry cannot be reached\n",
    )
    .unwrap();
    app.log_in(Role::Admin);
    app.until_text("Tempelkan kartu");
    app.click("Pengaturan");
    app.until_text("the registry cannot be reached");
    assert!(!app.shows("sent=3"), "warnings and errors only");
    assert!(!app.shows("kemarin"), "from the newest log");
    app.click("Tutup");
    app.click("Keluar");

    app.log_in(Role::Nurse);
    app.until_text("Poli");
    app.click("Pengaturan");
    app.harness.run_ok();
    assert!(!app.shows("Kesalahan terakhir"), "an admin's reading");
}
