//! SATUSEHAT beside the registry in the admin's Sinkronisasi: what SATUSEHAT refused, in
//! its words, and "Kirim ulang" once the admin mended the set-up. The sender is this
//! standalone PC's own, on a thread of the app.

use std::sync::Arc;

use kartika_satusehat::{save_link_files, Secret};
use kartika_store::{Role, SatusehatLink, Store};
use kartika_testkit::satusehat::FakeSatusehat;

use crate::support::App;

const SECRET: &str = "rahasia-satusehat-demo-1";
const ORGANIZATION: &str = "10000004";

fn set_up(app: &App, fake: &FakeSatusehat, organization_id: &str) {
    let mut store = Store::open_with_clock(&app.world.store_path, Arc::new(app.clock.clone()))
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
    let link = SatusehatLink {
        auth_url: fake.auth_url.clone(),
        fhir_url: fake.fhir_url.clone(),
        client_id: "kartika-demo".into(),
        organization_id: organization_id.into(),
        pace: 0,
    };
    store.set_satusehat_link(&session, &link).expect("link");
    save_link_files(
        &app.world.store_path,
        &Secret::new(SECRET),
        Some(fake.ca_pem.as_bytes()),
    )
    .expect("secret");
}

fn refused(app: &App) -> i64 {
    app.harness
        .state()
        .state()
        .satusehat
        .as_ref()
        .map_or(0, |s| s.counts["refused"])
}

#[test]
fn the_admin_sees_what_satusehat_refused_in_its_words_and_sends_it_again() {
    let mut app = App::demo();
    let fake = FakeSatusehat::start("kartika-demo", SECRET, ORGANIZATION);
    fake.know_every_nik();
    // Another Puskesmas's Organization id, typed by mistake.
    set_up(&app, &fake, "10000099");
    app.log_in(Role::Admin);
    app.until_text("Tempelkan kartu");
    app.click("Ruang admin");
    app.click("Sinkronisasi");
    app.until_text("(RuleNumber: 10117)");
    assert!(refused(&app) > 0);
    assert!(app.shows("SATUSEHAT:"), "the top bar counts what waits");

    // The admin mends the Organization id in the form; the secret field left empty keeps
    // the secret kept, which never comes back to the screen.
    app.click("Pengaturan SATUSEHAT");
    app.replace_text("Organization ID", ORGANIZATION);
    app.click("Simpan");
    app.until("the set-up saved", |h| {
        h.state()
            .state()
            .satusehat
            .as_ref()
            .and_then(|s| s.link.as_ref())
            .is_some_and(|l| l.organization_id == ORGANIZATION)
    });
    assert!(!app.shows(SECRET));
    app.click("Kirim ulang semua");
    app.until("every refused visit sent", |h| {
        eprintln!(
            "DEBUG {:?} {:?}",
            h.state().state().satusehat.as_ref().map(|s| &s.counts),
            h.state().state().satusehat_paused
        );
        h.state()
            .state()
            .satusehat
            .as_ref()
            .is_some_and(|s| s.counts["refused"] == 0 && s.counts["sent"] > 0)
    });
    let sent = app
        .harness
        .state()
        .state()
        .satusehat
        .as_ref()
        .unwrap()
        .counts["sent"];
    assert_eq!(fake.encounters_by_identifier().len() as i64, sent);
}
