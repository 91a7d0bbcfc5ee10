//! The reader worker through the real PC/SC stack: pcscd with the vpcd virtual reader.

use kartika_testkit::pcsc::{exclusive, reader_name, InsertOptions, InsertedCard};

use crate::support::App;

#[test]
fn a_software_card_in_vpcd_reaches_the_desks_verdict() {
    let _pcsc = exclusive();
    let mut app = App::demo_with(true);
    app.at_the_desk();
    app.until_text(&reader_name(0));
    let siti = app.tray_card(kartika_demo::TrayCardKind::Genuine);
    let card = InsertedCard::insert(&siti, 0, InsertOptions::default());
    app.until_text("Kartu asli");
    assert!(app.shows("Siti Rahayu"));
    drop(card);
}

#[test]
fn a_tray_card_is_tapped_through_vpcd_when_pcscd_runs() {
    let _pcsc = exclusive();
    let mut app = App::demo_with(true);
    app.at_the_desk();
    app.until_text(&reader_name(0));
    app.tap("Agus Salim — diblokir");
    app.until_text("Kartu diblokir");
    app.click("Cabut kartu");
    // The next test's card must find the slot empty.
    app.until_text(&format!("{}: menunggu kartu", reader_name(0)));
}

#[test]
fn a_card_that_stops_answering_is_said_so_and_the_reader_serves_the_next() {
    let _pcsc = exclusive();
    let mut app = App::demo_with(true);
    app.at_the_desk();
    app.until_text(&reader_name(0));
    let siti = app.tray_card(kartika_demo::TrayCardKind::Genuine);
    // It answers SELECT and GET DATA, then hangs at INTERNAL AUTHENTICATE (0x88); pcscd
    // and vpcd would wait for it for ever.
    let silent = InsertedCard::insert(
        &siti,
        0,
        InsertOptions {
            stall_at_instruction: Some(0x88),
            ..InsertOptions::default()
        },
    );
    app.until_text("Kartu tidak menjawab");
    drop(silent);
    app.until_text(&format!("{}: menunggu kartu", reader_name(0)));
    let card = InsertedCard::insert(&siti, 0, InsertOptions::default());
    app.until_text("Kartu asli");
    assert!(app.shows("Siti Rahayu"));
    drop(card);
}

#[test]
fn a_copied_card_through_pcscd_is_refused_as_a_copy() {
    let _pcsc = exclusive();
    let mut app = App::demo_with(true);
    app.at_the_desk();
    app.until_text(&reader_name(0));
    // Every data object of Siti's card written onto another chip, with that chip's own key.
    let copy = app.tray_card(kartika_demo::TrayCardKind::Copy);
    let card = InsertedCard::insert(&copy, 0, InsertOptions::default());
    app.until_text("ini salinan, bukan kartu asli");
    assert!(!app.shows("Kartu asli"));
    drop(card);
}
