//! BPJS at the desk, in the real app against the demo's fake BPJS: the member's status
//! while the patient is already on screen, and a BPJS that does not answer in two seconds
//! never holding up a registration.

use std::time::Duration;

use egui_kittest::kittest::Queryable;

use kartika_app::workers::bpjs::BpjsLine;

use crate::support::App;

#[test]
fn the_desk_sees_each_members_bpjs_status_and_never_waits_for_bpjs() {
    let mut app = App::demo();
    let bpjs = kartika_demo::start_bpjs(&app.world).expect("the demo's BPJS");
    app.at_the_desk();

    app.tap("Siti Rahayu — asli");
    app.until_text("Kartu asli");
    app.until_text("BPJS aktif");

    app.tap("Budi Santoso — asli");
    app.until_text("BPJS aktif · terdaftar di KLINIK PRATAMA BENDA");

    // Siti again the same day: what BPJS said is kept, nobody is asked.
    let asked = bpjs.requests();
    app.tap("Siti Rahayu — asli");
    app.until_text("BPJS aktif");
    assert_eq!(bpjs.requests(), asked, "kept for the day");
    app.click("Cabut kartu");

    // BPJS now answers after three seconds: Rina is registered at once, and the desk
    // says her status was not checked.
    bpjs.answer_after(Duration::from_secs(3));
    app.type_into("NIK, No. RM, No. BPJS, No. KK atau nama", "Rina Wulandari");
    app.click("Cari");
    app.until_text("Rina Wulandari · ");
    app.harness
        .get_all_by_label_contains("Rina Wulandari · ")
        .next()
        .expect("a hit")
        .click();
    app.harness.run_ok();
    app.until("Rina at the desk", |h| {
        h.query_by_label("Daftarkan").is_some()
    });
    assert!(app.shows("memeriksa"), "BPJS is being asked");
    app.click("Daftarkan");
    app.until_text("Nomor antrian");
    let line = |app: &App| {
        app.harness
            .state()
            .state()
            .desk
            .bpjs
            .clone()
            .map(|(_, line)| line)
    };
    assert_eq!(
        line(&app),
        Some(BpjsLine::Checking),
        "registered while BPJS had not answered yet"
    );
    app.until("BPJS given up on after two seconds", |h| {
        matches!(
            h.state().state().desk.bpjs,
            Some((_, BpjsLine::Unchecked(_)))
        )
    });
}

#[test]
fn the_desk_says_bpjs_was_not_checked_when_it_is_slow() {
    let mut app = App::demo();
    let bpjs = kartika_demo::start_bpjs(&app.world).expect("the demo's BPJS");
    bpjs.answer_after(Duration::from_secs(3));
    app.at_the_desk();
    app.tap("Siti Rahayu — asli");
    app.until_text("Kartu asli");
    app.until_text("status BPJS belum dicek");
    assert!(app.shows("Daftarkan"), "the desk goes on");
}
