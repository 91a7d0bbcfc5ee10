//! One person, one record, in the real app: a duplicate of Siti merged in the admin's
//! "Pasien ganda", her card tapping as the record kept, and the merge undone.

use egui_kittest::kittest::Queryable;
use kartika_store::{NewPatient, Role, Store};

use crate::support::App;

/// The number the desk shows for the card just tapped.
fn desk_patient_number(app: &App) -> String {
    app.harness
        .state()
        .state()
        .desk
        .patient
        .as_ref()
        .map(|p| p.patient.patient_number.clone())
        .expect("a patient at the desk")
}

/// The desk taps Siti's card: the number of the record it opens.
fn siti_taps_as(app: &mut App) -> String {
    app.at_the_desk();
    app.tap("Siti Rahayu — asli");
    app.until_text("Kartu asli");
    desk_patient_number(app)
}

/// The admin opens "Pasien ganda".
fn to_the_duplicates(app: &mut App) {
    app.log_in(Role::Admin);
    app.until_text("Tempelkan kartu");
    app.click("Ruang admin");
    app.click("Pasien ganda");
}

/// Siti registered a second time at the desk, without her NIK: the store flags the pair.
fn register_siti_again(app: &App) -> String {
    let (mut store, _, siti) = demo_siti(app);
    let account = app.world.account(Role::Registration).expect("desk").clone();
    let desk = store
        .login(&account.username, &account.password)
        .expect("desk login");
    let again = NewPatient {
        name: siti.name.clone(),
        birth_date: siti.birth_date.clone(),
        sex: Some(siti.sex),
        phone: Some("0813 5555 0101".into()),
        ..NewPatient::default()
    };
    store
        .create_patient(&desk, &again)
        .expect("registered again")
        .patient
        .patient_number
}

#[test]
fn the_admin_merges_a_duplicate_the_card_taps_as_the_record_kept_and_the_merge_is_undone() {
    let mut app = App::demo();
    let card_number = siti_taps_as(&mut app);
    let again = register_siti_again(&app);
    app.click("Keluar");

    to_the_duplicates(&mut app);
    let compare = format!("Bandingkan {card_number} · {again}");
    let compare_other_way = format!("Bandingkan {again} · {card_number}");
    app.until("the flag of Siti's two records", |h| {
        h.query_by_label_contains(&compare).is_some()
            || h.query_by_label_contains(&compare_other_way).is_some()
    });
    if app.shows(&compare) {
        app.click(&compare);
    } else {
        app.click(&compare_other_way);
    }
    app.until_text("Akan dipindahkan");
    // The record typed again stays; the card's record is retired into it, its phone taken.
    if app
        .harness
        .state()
        .state()
        .admin
        .duplicates
        .plan
        .as_ref()
        .map(|p| p.survivor.patient_number.clone())
        != Some(again.clone())
    {
        app.click("Tukar yang dipakai");
        app.until("the record typed again kept", |h| {
            h.state()
                .state()
                .admin
                .duplicates
                .plan
                .as_ref()
                .is_some_and(|p| p.survivor.patient_number == again)
        });
    }
    app.click(&format!("Gabungkan {card_number} ke {again}"));
    app.until_text(&format!("Batalkan penggabungan {card_number}"));
    app.click("Keluar");

    // At the desk the card opens the record kept.
    assert_eq!(
        siti_taps_as(&mut app),
        again,
        "the card taps as the record kept"
    );
    app.click("Keluar");

    to_the_duplicates(&mut app);
    app.until_text(&format!("Batalkan penggabungan {card_number}"));
    app.click(&format!("Batalkan penggabungan {card_number}"));
    app.until_text("Penggabungan dibatalkan.");
    app.until("the flag back", |h| {
        h.query_by_label_contains(&compare).is_some()
            || h.query_by_label_contains(&compare_other_way).is_some()
    });
    app.click("Keluar");
    assert_eq!(siti_taps_as(&mut app), card_number, "her own record again");
}

/// Siti's record as the demo's store holds it, and a session to read it with.
fn demo_siti(app: &App) -> (Store, kartika_store::Session, kartika_store::PatientSummary) {
    demo_patient(app, "Siti Rahayu", "9001")
}

/// A patient of the demo's store by name and the end of the NIK, with an admin's session.
fn demo_patient(
    app: &App,
    name: &str,
    nik_end: &str,
) -> (Store, kartika_store::Session, kartika_store::PatientSummary) {
    let mut store = Store::open(&app.world.store_path).expect("the demo store");
    let account = app.world.account(Role::Admin).expect("admin").clone();
    let admin = store
        .login(&account.username, &account.password)
        .expect("admin login");
    let found = store
        .search_patients(
            &admin,
            &kartika_store::PatientQuery::Name {
                name: name.into(),
                birth_date: None,
            },
        )
        .expect("search")
        .into_iter()
        .find(|p| p.nik.as_deref().is_some_and(|n| n.ends_with(nik_end)))
        .expect("the demo's patient");
    (store, admin, found)
}

#[test]
fn agus_registered_at_two_puskesmas_is_proposed_accepted_and_unlinked_from_the_admin_room() {
    // The demo's Pondok Aren registered Agus too, with his NIK.
    let mut app = App::demo_synced();
    let (mut store, admin, agus) = demo_patient(&app, "Agus Salim", "9003");
    // The demo's records at the registry, whatever its own worker has done so far.
    let registry = app.registry.as_ref().expect("the demo's registry").url();
    let link = |token: &str| {
        kartika_sync::Syncer::new(kartika_sync::SyncConfig::new(&registry, token))
            .expect("a link to the registry")
    };
    link(&app.world.token)
        .round(&mut store)
        .expect("the demo syncs");
    let pondok_aren = link(&app.world.enroll_other_puskesmas().expect("Pondok Aren"));

    to_the_duplicates(&mut app);
    let keep_ours = format!("Usulkan satu orang, tetap {}", agus.patient_number);
    app.until_text(&keep_ours);
    app.click(&keep_ours);
    app.until_text("menunggu jawaban P3674020");

    // Pondok Aren accepts in its own admin room.
    let board = pondok_aren.merge_board().expect("Pondok Aren's board");
    let proposal = board
        .proposals
        .iter()
        .find(|p| p.survivor == agus.patient_number)
        .expect("the demo's proposal");
    let twin = proposal.retired.clone();
    assert_eq!(
        store
            .patient_history(&admin, &twin)
            .map(|h| h.patient.patient_number)
            .ok(),
        None,
        "nothing changes until Pondok Aren accepts"
    );
    pondok_aren
        .decide_merge(&proposal.id, kartika_sync::MergeDecision::Accept)
        .expect("accepted");

    // Looking again brings the link: Pondok Aren's number opens Agus's record here.
    app.click("Kartu");
    app.click("Pasien ganda");
    let undo = format!("Batalkan tautan {twin}");
    app.until_text(&undo);
    assert_eq!(
        store
            .patient_history(&admin, &twin)
            .expect("history")
            .patient
            .patient_number,
        agus.patient_number,
        "one person, whichever number"
    );

    app.click(&undo);
    app.until_text("dibatalkan oleh P3674060");
    assert_eq!(
        store
            .patient_history(&admin, &twin)
            .expect("history")
            .patient
            .patient_number,
        twin,
        "two records again"
    );
}
