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
    // Each look that reached BPJS is audited: who asked, about which card's last digits.
    let mut store = kartika_store::Store::open(&app.world.store_path).expect("the store");
    let admin = app
        .world
        .accounts
        .iter()
        .find(|a| a.role == kartika_store::Role::Admin)
        .expect("an admin");
    let session = store
        .login(&admin.username, &admin.password)
        .expect("admin");
    let filter = kartika_store::AuditFilter {
        action: Some("bpjs.peserta".into()),
        ..kartika_store::AuditFilter::default()
    };
    let looks = store
        .audit_search(&session, &filter, 10)
        .expect("the audit");
    assert_eq!(looks.len(), 2, "Siti and Budi, once each: {looks:?}");
    assert!(looks.iter().all(|l| l.actor == "loket"), "{looks:?}");
    assert!(
        looks.iter().any(|l| l.detail.ends_with("…7890")),
        "{looks:?}"
    );

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

/// What P-Care refused of a BPJS visit, in its words, in the admin's Sinkronisasi beside
/// SATUSEHAT; "Kirim ulang" once the admin mended the unit's kdPoli. The sender is this
/// standalone PC's own, on a thread of the app.
#[test]
fn the_admin_sees_what_pcare_refused_in_its_words_and_sends_it_again() {
    use kartika_store::{BpjsCode, Care, NewVisit, Payer, Role, Store};

    let mut app = App::demo();
    let bpjs = kartika_demo::start_bpjs(&app.world).expect("the demo's BPJS");
    let mut store = Store::open_with_clock(
        &app.world.store_path,
        std::sync::Arc::new(app.clock.clone()),
    )
    .expect("the demo store");
    let admin = app
        .world
        .accounts
        .iter()
        .find(|a| a.role == Role::Admin)
        .expect("an admin");
    let session = store
        .login(&admin.username, &admin.password)
        .expect("admin");
    // Lansia mapped to a kdPoli P-Care does not have, by mistake.
    let map = |store: &mut Store, kd_poli: &str| {
        let code = BpjsCode::Unit {
            unit: "elderly".into(),
            kd_poli: kd_poli.into(),
        };
        store.set_bpjs_code(&session, &code).expect("mapped");
    };
    map(&mut store, "099");
    let siti = store
        .search_patients(
            &session,
            &kartika_store::PatientQuery::Name {
                name: "Siti Rahayu".into(),
                birth_date: None,
            },
        )
        .expect("search")
        .into_iter()
        .next()
        .expect("Siti");
    store
        .register_visit(
            &session,
            &NewVisit {
                patient_number: siti.patient_number.clone(),
                unit_code: "elderly".into(),
                payer: Payer::BpjsPbi,
                care: Care::Sick,
                complaint: None,
            },
        )
        .expect("registered");

    app.log_in(Role::Admin);
    app.until_text("Tempelkan kartu");
    app.click("Ruang admin");
    app.click("Sinkronisasi");
    app.until_text("BPJS (P-Care, Antrean FKTP)");
    app.until_text("kdPoli: Poli tidak ditemukan");
    let sitis = || {
        bpjs.pendaftaran()
            .into_iter()
            .filter(|p| p.body["noKartu"] == "0001234567890")
            .collect::<Vec<_>>()
    };
    assert!(sitis().is_empty());

    // Mended as `kartika bpjs map` would; "Kirim ulang" sends it now.
    map(&mut store, "001");
    app.click("Kirim ulang semua ke BPJS");
    app.until("P-Care holds the visit", |_| sitis().len() == 1);
    app.until("nothing refused on screen", |h| {
        h.state()
            .state()
            .bpjs_queue
            .as_ref()
            .is_some_and(|s| s.counts["refused"] == 0)
    });
    assert_eq!(sitis()[0].body["kdPoli"], "001");
    // The demo's consumer secret and P-Care password never reach the screen.
    for secret in ["rahasia-demo-bpjs", "sandi-demo-pcare", "kunci-demo-pcare"] {
        assert!(!app.shows(secret), "{secret} on screen");
    }
}

/// A workstation's desk (the store and BPJS's set-up on the server PC): the member's
/// status through the server, kept for the day; a slow BPJS holds up no registration.
#[test]
fn a_workstations_desk_sees_the_members_status_through_the_server() {
    let server_pc = crate::support::ServerPc::start();
    let bpjs = kartika_demo::start_bpjs(&server_pc.world).expect("the demo's BPJS");
    let mut desk = App::workstation(&server_pc);
    desk.at_the_desk();

    desk.tap("Budi Santoso — asli");
    desk.until_text("Kartu asli");
    desk.until_text("BPJS aktif · terdaftar di KLINIK PRATAMA BENDA");
    desk.click("Cabut kartu");
    let asked = bpjs.requests();
    desk.tap("Budi Santoso — asli");
    desk.until_text("BPJS aktif · terdaftar di KLINIK PRATAMA BENDA");
    assert_eq!(bpjs.requests(), asked, "kept for the day");
    desk.click("Cabut kartu");

    // BPJS now answers after three seconds: Siti is registered at once, and the desk
    // says her status was not checked.
    bpjs.answer_after(Duration::from_secs(3));
    desk.tap("Siti Rahayu — asli");
    desk.until_text("Kartu asli");
    assert!(desk.shows("memeriksa"), "BPJS is being asked");
    desk.click("Daftarkan");
    desk.until_text("Nomor antrian");
    assert!(
        matches!(
            desk.harness.state().state().desk.bpjs,
            Some((_, BpjsLine::Checking))
        ),
        "registered while BPJS had not answered yet"
    );
    desk.until("BPJS given up on after two seconds", |h| {
        matches!(
            h.state().state().desk.bpjs,
            Some((_, BpjsLine::Unchecked(_)))
        )
    });
}
