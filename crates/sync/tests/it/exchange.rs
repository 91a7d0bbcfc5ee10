//! Two clinics, a month offline each, then syncing at the same time; and what a round
//! tells its observer.

use kartika_store::{PatientQuery, TapOutcome};

use crate::support::{
    card_of, registry, syncer, syncer_paging, syncer_with_batch, CardKey, Clinic,
};

const NODES: [&str; 3] = ["P3674060", "P3674010", "P3674040"];

#[test]
fn two_clinics_a_month_offline_then_syncing_at_once_see_each_others_work() {
    let (registry, tokens, _dir) = registry(&NODES);
    two_clinics_a_month_offline(&registry, &tokens);
}

#[test]
fn the_same_two_clinics_on_a_postgresql_registry_with_a_connection_pool() {
    let server = kartika_testkit::postgres::TestPostgres::start();
    let (registry, tokens, _url) =
        crate::support::registry_on_postgres(&server, "sync_two_clinics", &NODES);
    two_clinics_a_month_offline(&registry, &tokens);
}

fn two_clinics_a_month_offline(
    registry: &kartika_testkit::registry::RunningRegistry,
    tokens: &[String],
) {
    let mut pamulang = Clinic::new("P3674060", "Puskesmas Pamulang");
    let mut serpong = Clinic::new("P3674010", "Puskesmas Serpong");

    // Online once: Pamulang registers Dewi and issues her card; Serpong learns of nothing.
    let dewi = pamulang.patient("Dewi Lestari");
    let dewis_card = CardKey::new();
    pamulang
        .store
        .issue_card(&pamulang.admin, &dewi, "6037990000000030")
        .unwrap();
    pamulang
        .store
        .set_card_key(&pamulang.admin, "6037990000000030", &dewis_card.public())
        .unwrap();
    syncer(&registry.url(), &tokens[0])
        .round(&mut pamulang.store)
        .unwrap();

    // A month offline. Dewi visits both; each clinic blocks a lost card of its own.
    let lost_at_pamulang = pamulang.patient("Rina Wulandari");
    pamulang
        .store
        .issue_card(&pamulang.admin, &lost_at_pamulang, "6037990000000048")
        .unwrap();
    let lost_at_serpong = serpong.patient("Ani Susanto");
    serpong
        .store
        .issue_card(&serpong.admin, &lost_at_serpong, "6037990000000055")
        .unwrap();
    let tap = serpong
        .store
        .admit_card(&serpong.admin, &card_of(&dewi))
        .unwrap();
    assert!(
        matches!(tap, TapOutcome::RegisteredFromCard { .. }),
        "{tap:?}"
    );
    // The tap's proof that Dewi's card was at Serpong goes before Serpong's visits.
    let kept = serpong
        .store
        .note_presence(
            &serpong.admin,
            &dewis_card.proof("6037990000000030", &dewi, "P3674010"),
        )
        .unwrap();
    assert!(kept, "Dewi is Pamulang's patient");
    let mut visits_at = (Vec::new(), Vec::new());
    for day in 0..30 {
        pamulang.clock.advance(time::Duration::days(1));
        serpong.clock.advance(time::Duration::days(1));
        if day % 10 == 0 {
            visits_at.0.push(pamulang.visit(&dewi, "general"));
            visits_at.1.push(serpong.visit(&dewi, "dental"));
        }
    }
    pamulang
        .store
        .block_card(&pamulang.admin, "6037990000000048", "hilang")
        .unwrap();
    serpong
        .store
        .block_card(&serpong.admin, "6037990000000055", "dicuri")
        .unwrap();

    // Both come back at the same moment, and pull in pages of two: each page links the
    // next, which is fetched while this one is read.
    let url = registry.url();
    let (token_a, token_b) = (tokens[0].clone(), tokens[1].clone());
    let a = std::thread::spawn(move || {
        let report = syncer_paging(&url, &token_a, 2)
            .round(&mut pamulang.store)
            .unwrap();
        (pamulang, report)
    });
    let url = registry.url();
    let b = std::thread::spawn(move || {
        let report = syncer_paging(&url, &token_b, 2)
            .round(&mut serpong.store)
            .unwrap();
        (serpong, report)
    });
    let (mut pamulang, _) = a.join().unwrap();
    let (mut serpong, _) = b.join().unwrap();
    // A second round brings what the other pushed while this one was pulling.
    syncer(&registry.url(), &tokens[0])
        .round(&mut pamulang.store)
        .unwrap();
    syncer(&registry.url(), &tokens[1])
        .round(&mut serpong.store)
        .unwrap();

    assert!(pamulang
        .store
        .revocation_reason("6037990000000055")
        .unwrap()
        .is_some());
    assert!(serpong
        .store
        .revocation_reason("6037990000000048")
        .unwrap()
        .is_some());
    for clinic in [&mut pamulang, &mut serpong] {
        let history = clinic.store.patient_history(&clinic.admin, &dewi).unwrap();
        let mut ids: Vec<&str> = history.visits.iter().map(|v| v.visit_id.as_str()).collect();
        ids.sort_unstable();
        let mut expected: Vec<&str> = visits_at
            .0
            .iter()
            .chain(&visits_at.1)
            .map(String::as_str)
            .collect();
        expected.sort_unstable();
        assert_eq!(
            ids, expected,
            "one history holding both clinics' visits at {}",
            clinic.code
        );
        assert_eq!(clinic.store.sync_health().unwrap().pending, 0);
    }
    // Serpong's copy of Dewi is the registry's: found by name there too.
    let hits = serpong
        .store
        .search_patients(
            &serpong.admin,
            &PatientQuery::Name {
                name: "dewi".into(),
                birth_date: None,
            },
        )
        .unwrap();
    assert_eq!(hits.len(), 1);

    // A third Puskesmas sees Dewi for the first time: the tap asks the registry at once.
    let mut ciputat = Clinic::new("P3674040", "Puskesmas Ciputat");
    ciputat
        .store
        .admit_card(&ciputat.admin, &card_of(&dewi))
        .unwrap();
    let fetched = syncer(&registry.url(), &tokens[2])
        .fetch_patient(
            &mut ciputat.store,
            &dewi,
            Some(&dewis_card.proof("6037990000000030", &dewi, "P3674040")),
        )
        .unwrap();
    assert!(fetched >= 6, "{fetched}");
    let history = ciputat
        .store
        .patient_history(&ciputat.admin, &dewi)
        .unwrap();
    assert_eq!(
        history.visits.len(),
        6,
        "both clinics' visits, at a clinic that has none"
    );
}

#[test]
fn an_observer_hears_every_change_of_progress_through_a_round() {
    let (registry, tokens, _dir) = registry(&["P3674060"]);
    let mut clinic = Clinic::new("P3674060", "Puskesmas Pamulang");
    for n in 0..30 {
        let patient = clinic.patient(&format!("Pasien {n}"));
        clinic.visit(&patient, "general");
    }
    let (heard, reports) = std::sync::mpsc::channel();
    let syncer = syncer_with_batch(&registry.url(), &tokens[0], 10).observe(move |p| {
        let _ = heard.send(p.clone());
    });
    let report = syncer.round(&mut clinic.store).unwrap();
    let heard: Vec<_> = reports.try_iter().collect();
    assert!(
        heard.first().is_some_and(|p| p.running),
        "the start is heard"
    );
    let last = heard.last().expect("the end is heard");
    assert!(!last.running);
    assert_eq!(last.sent, report.sent);
    let sent: Vec<usize> = heard.iter().map(|p| p.sent).collect();
    assert!(
        sent.windows(2).all(|w| w[0] <= w[1] || w[1] == 0),
        "sent only grows within a round: {sent:?}"
    );
    assert!(sent.len() >= 6, "each batch of 10 is reported: {sent:?}");
}

#[test]
fn the_token_never_travels_in_plain_http_beyond_this_machine() {
    use kartika_sync::{SyncConfig, Syncer};
    for refused in [
        "http://10.0.0.5:8700",
        "http://registry.dinkes.example",
        "http://127.0.0.1.example.org:8700",
    ] {
        let error = Syncer::new(SyncConfig::new(refused, "kt_token")).err();
        assert!(
            error
                .as_ref()
                .is_some_and(|e| e.to_string().contains("use https")),
            "{refused}: {error:?}"
        );
    }
    for allowed in [
        "http://127.0.0.1:8700",
        "http://localhost:8700/",
        "http://[::1]:8700",
        "https://registry.dinkes.example",
    ] {
        assert!(
            Syncer::new(SyncConfig::new(allowed, "kt_token")).is_ok(),
            "{allowed}"
        );
    }
}
