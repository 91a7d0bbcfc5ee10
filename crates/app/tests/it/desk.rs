//! The registration desk, as a clerk with forty people waiting uses it.

use crate::support::App;
use eframe::egui;
use egui_kittest::kittest::{NodeT, Queryable};

#[test]
fn a_wrong_password_is_refused_in_words_the_desk_understands() {
    let mut app = App::demo();
    app.type_into("Nama pengguna", "loket");
    app.type_into("Kata sandi", "not-the-password");
    app.click("Masuk");
    app.until_text("Nama pengguna atau kata sandi salah");
    assert!(!app.shows("Tempelkan kartu"), "still on the login screen");
}

#[test]
fn each_demo_card_gets_its_verdict_at_the_desk() {
    let mut app = App::demo();
    app.at_the_desk();
    let cases = [
        ("Siti Rahayu — asli", "Kartu asli"),
        (
            "Dewi Lestari — asli, dari Puskesmas lain",
            "Pasien baru di Puskesmas ini",
        ),
        (
            "Agus Salim — diblokir",
            "Kartu diblokir (dilaporkan hilang)",
        ),
        (
            "Siti Rahayu — salinan palsu",
            "ini salinan, bukan kartu asli",
        ),
        ("Rina Wulandari — kedaluwarsa", "Kartu kedaluwarsa sejak"),
        ("Kartu kosong 1", "Kartu ini kosong"),
    ];
    for (card, verdict) in cases {
        app.tap(card);
        app.until_text(verdict);
    }
    // The refused cards show no patient to register.
    assert!(app.harness.query_by_label("Daftarkan").is_none());
}

#[test]
fn a_genuine_card_opens_the_patient_and_registering_gives_a_number_once() {
    let mut app = App::demo();
    app.at_the_desk();
    app.tap("Siti Rahayu — asli");
    app.until_text("Kartu asli");
    assert!(app.shows("Siti Rahayu"));
    assert!(app.shows("367406••••••9001"), "the NIK is shown masked");
    assert!(app.shows("tahun"), "the age is shown in years and months");

    app.click("Daftarkan");
    app.until_text("Nomor antrian");
    assert!(app.shows("Poli Umum"));
    assert!(
        app.shows("sebelum Anda"),
        "the ticket says how many wait ahead"
    );
    let ticket = app
        .harness
        .get_all_by_label_contains("U-0")
        .next()
        .and_then(|n| n.accesskit_node().value())
        .expect("the ticket number is shown");

    app.click("Pasien berikutnya");
    app.until_text("Tempelkan kartu");
    app.tap("Siti Rahayu — asli");
    app.until_text("Sudah mendapat nomor antrian hari ini");
    assert!(
        app.shows(&ticket),
        "the number already held is shown, {ticket}"
    );
    app.click("Cetak ulang");
    app.until_text("Nomor antrian");
    assert!(app.shows(&ticket), "the reprint is the same number");

    app.click("Pasien berikutnya");
    app.tap("Siti Rahayu — asli");
    app.until_text("Sudah mendapat nomor antrian hari ini");
    app.click("Daftarkan");
    app.until_text("Nomor antrian hanya dapat diambil satu kali");
}

#[test]
fn the_common_choices_are_one_key_each() {
    let mut app = App::demo();
    app.at_the_desk();
    app.tap("Budi Santoso — asli");
    app.until_text("Kartu asli");
    app.harness.key_press(egui::Key::Num2);
    app.harness.key_press(egui::Key::U);
    app.harness.key_press(egui::Key::H);
    app.harness.run_ok();
    app.harness.key_press(egui::Key::Enter);
    app.until_text("Nomor antrian");
    assert!(app.shows("Poli Gigi"), "2 chose the second unit");
    assert!(app.shows("G-0"), "a dental queue number");
}

#[test]
fn without_a_card_the_desk_searches_then_registers_a_new_patient() {
    let mut app = App::demo();
    app.at_the_desk();
    app.type_into(
        "NIK, No. RM, No. BPJS, No. KK atau nama",
        "Sutrisno Wibisono",
    );
    app.click("Cari");
    app.until_text("Data tidak ditemukan, silakan daftar sebagai pasien baru");

    app.click("Daftar pasien baru");
    app.until_text("Pasien baru");
    // The name typed in the search is carried over; the NIK is typed wrong first.
    app.type_into("NIK", "3674061708650000");
    app.type_into("Tanggal lahir (HH-BB-TTTT)", "17-08-1966");
    app.click("Laki-laki");
    app.click("Simpan");
    app.until_text("Format NIK tidak sesuai");

    let nik = app.harness.get_by_label("NIK");
    nik.focus();
    app.harness
        .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    app.harness
        .get_by_label("NIK")
        .type_text("3674061708669001");
    app.harness.run_ok();
    app.click("Simpan");
    app.until_text("Sutrisno Wibisono");
    app.until("the new patient at the desk", |h| {
        h.query_by_label("Daftarkan").is_some()
    });
    app.click("Daftarkan");
    app.until_text("Nomor antrian");

    // Found again by name and birth date.
    app.click("Pasien berikutnya");
    app.type_into("NIK, No. RM, No. BPJS, No. KK atau nama", "sutrisno wib");
    app.click("Cari");
    app.until_text("Sutrisno Wibisono · 17 Agustus 1966");
}

#[test]
fn the_desk_switches_to_english() {
    let mut app = App::demo();
    app.at_the_desk();
    app.click("English");
    app.until_text("Tap the card");
    app.tap("Agus Salim — blocked (lost)");
    app.until_text("The card is blocked");
    app.click("Bahasa Indonesia");
    app.until_text("Tempelkan kartu");
}

#[test]
fn todays_queue_is_counted_per_unit() {
    let mut app = App::demo();
    app.at_the_desk();
    // The counts come from the clinic worker after the heading is drawn.
    app.until_text("Poli Umum");
    assert!(app.shows("Poli Gigi"));
    assert!(app.shows("Lansia"), "every unit is listed, busy or not");
}
