//! A card already lying on the reader when a screen opens is read there; pulling it always
//! ends "reading the card"; the demo tray shows the card the reader really holds.

use eframe::egui;
use egui_kittest::kittest::{NodeT, Queryable};
use kartika_store::Role;

use crate::support::App;

/// The tray card the app believes is in the demo reader, by its holder's label.
fn tray_holds(app: &App) -> Option<std::path::PathBuf> {
    let state = app.harness.state().state();
    let demo = state.demo.as_ref()?;
    demo.inserted.map(|i| demo.tray[i].path.clone())
}

/// The admin's room, with the tray card `card` laid on its reader.
fn tapped_in_the_admin_room(card: &str) -> App {
    let mut app = App::demo();
    app.log_in(Role::Admin);
    app.until_text("Tempelkan kartu");
    app.click("Ruang admin");
    app.until_text("Tempelkan kartu pasien atau kartu kosong");
    app.tap(card);
    app.until_text("Kartu di pembaca");
    app
}

/// Pulls the demo card and waits for the tray to say so.
fn pulled(app: &mut App) {
    app.click("Cabut kartu");
    app.until("the reader empty", |h| {
        h.state()
            .state()
            .demo
            .as_ref()
            .is_some_and(|d| d.inserted.is_none())
    });
}

#[test]
fn a_card_tapped_in_the_admin_room_is_read_at_the_desk_and_its_pull_clears_the_desk() {
    let mut app = tapped_in_the_admin_room("Siti Rahayu — asli");
    let siti = app.tray_card(kartika_demo::TrayCardKind::Genuine);
    assert_eq!(
        tray_holds(&app).as_ref(),
        Some(&siti),
        "the tray shows it in"
    );

    // To the desk with the card still there: read at once, Siti on screen.
    app.click("Pendaftaran");
    app.until_text("Kartu asli");
    assert!(app.shows("Siti Rahayu"));
    assert_eq!(tray_holds(&app).as_ref(), Some(&siti));

    // Pulled: nothing left reading, the tray empty.
    pulled(&mut app);
    assert!(!app.shows("Membaca kartu"));
}

#[test]
fn a_card_pulled_before_its_verdict_reaches_the_desk_leaves_no_reading_behind() {
    // A tap in the admin room once left the desk "reading" for good.
    let mut app = tapped_in_the_admin_room("Budi Santoso — asli");
    pulled(&mut app);
    app.click("Pendaftaran");
    app.until_text("Tempelkan kartu");
    assert!(!app.shows("Membaca kartu"), "nothing is being read");
}

#[test]
fn the_poli_reads_the_card_already_on_the_reader_when_it_opens() {
    let mut app = App::demo();
    app.log_in(Role::Nurse);
    app.until_text("Antrian poli hari ini");
    app.click("Laporan");
    app.until_text("LB1 — Laporan Bulanan Data Kesakitan");
    app.tap("Siti Rahayu — asli");
    app.harness.run_ok();
    // The top bar's "Poli" (the report's heading says it too).
    app.harness
        .get_all_by_label("Poli")
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::Button)
        .expect("the top bar's Poli")
        .click();
    app.harness.run_ok();
    app.until("the poli to hold Siti's card", |h| {
        h.state()
            .state()
            .poli
            .card
            .as_ref()
            .is_some_and(|c| c.identity.name.contains("Siti"))
    });
    assert!(app.harness.query_by_label("Cabut kartu").is_some());
}
