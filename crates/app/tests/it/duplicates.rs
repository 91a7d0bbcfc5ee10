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
    let mut store = Store::open(&app.world.store_path).expect("the demo store");
    let account = app.world.account(Role::Registration).expect("desk").clone();
    let desk = store
        .login(&account.username, &account.password)
        .expect("desk login");
    let siti = store
        .search_patients(
            &desk,
            &kartika_store::PatientQuery::Name {
                name: "Siti Rahayu".into(),
                birth_date: None,
            },
        )
        .expect("search")
        .into_iter()
        .find(|p| p.nik.as_deref().is_some_and(|n| n.ends_with("9001")))
        .expect("the demo's Siti");
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
