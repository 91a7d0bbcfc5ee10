//! The demo world: made once, reopened, and each tray card is what its label says.

use kartika_card::crypto::TrustAnchors;
use kartika_card::verify::{Rejection, Verdict};
use kartika_card::{CardError, CardSession};
use kartika_demo::{DemoWorld, InProcessRegistry, SeedSize, TrayCardKind};
use kartika_store::{Role, Store, TapOutcome};
use kartika_vcard::VirtualCard;

fn verdict(
    world: &DemoWorld,
    kind: TrayCardKind,
) -> Result<(kartika_card::model::Identity, Verdict), CardError> {
    let card = world
        .tray
        .iter()
        .find(|c| c.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} card in the tray"));
    let mut card = VirtualCard::open(&card.path).expect("open tray card");
    let trust = TrustAnchors::new(vec![world.root.clone()]);
    let today = Store::open(&world.store_path).expect("store").today();
    let reading = CardSession::new(&mut card).verify_card(&trust, today, &[7u8; 32])?;
    Ok((reading.identity, reading.verdict))
}

#[test]
fn every_tray_card_reads_as_its_label_says_and_the_desk_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo");
    let world = DemoWorld::open_or_create(&path, false, SeedSize::SMALL).unwrap();
    assert_eq!(world.tray.len(), 8);

    let (genuine, v) = verdict(&world, TrayCardKind::Genuine).unwrap();
    assert_eq!(v, Verdict::Genuine);
    let (other, v) = verdict(&world, TrayCardKind::OtherPuskesmas).unwrap();
    assert_eq!(v, Verdict::Genuine);
    let (blocked, v) = verdict(&world, TrayCardKind::Blocked).unwrap();
    assert_eq!(
        v,
        Verdict::Genuine,
        "the chip is fine; the revocation list refuses it"
    );
    let (_, v) = verdict(&world, TrayCardKind::Copy).unwrap();
    assert_eq!(v, Verdict::NotGenuine(Rejection::ChallengeFailed));
    let (_, v) = verdict(&world, TrayCardKind::Expired).unwrap();
    assert!(
        matches!(v, Verdict::NotGenuine(Rejection::Expired(_))),
        "{v:?}"
    );
    assert!(matches!(
        verdict(&world, TrayCardKind::Blank),
        Err(CardError::NotActivated)
    ));

    let mut store = Store::open(&world.store_path).unwrap();
    let desk = world.account(Role::Registration).unwrap();
    let session = store.login(&desk.username, &desk.password).unwrap();
    assert!(matches!(
        store.admit_card(&session, &genuine).unwrap(),
        TapOutcome::Known { .. }
    ));
    assert!(matches!(
        store.admit_card(&session, &other).unwrap(),
        TapOutcome::RegisteredFromCard { .. }
    ));
    assert!(matches!(
        store.admit_card(&session, &blocked).unwrap(),
        TapOutcome::Refused { .. }
    ));
    let counts = store.queue_counts(&session).unwrap();
    assert!(
        counts.iter().map(|u| u.waiting).sum::<i64>() > 0,
        "a morning's queue is waiting"
    );
}

#[test]
fn the_folder_is_reused_and_fresh_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo");
    let first = DemoWorld::open_or_create(&path, false, SeedSize::SMALL).unwrap();
    let again = DemoWorld::open_or_create(&path, false, SeedSize::SMALL).unwrap();
    assert_eq!(first.token, again.token, "the same world is reopened");
    let fresh = DemoWorld::open_or_create(&path, true, SeedSize::SMALL).unwrap();
    assert_ne!(first.token, fresh.token, "--fresh makes a new world");
}

#[test]
fn the_in_process_registry_answers_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let world =
        DemoWorld::open_or_create(&dir.path().join("demo"), false, SeedSize::SMALL).unwrap();
    let registry =
        InProcessRegistry::start(&world.registry_path, Some(world.receipts.clone())).unwrap();
    assert!(registry.url().starts_with("http://127.0.0.1:"));
    let mut store = Store::open(&world.store_path).unwrap();
    let syncer =
        kartika_sync::Syncer::new(kartika_sync::SyncConfig::new(&registry.url(), &world.token))
            .expect("syncer");
    let report = syncer
        .round(&mut store)
        .expect("a sync round against the demo registry");
    assert!(
        report.sent > 0,
        "the demo's own patients and cards reach the registry"
    );
}

#[test]
fn dewi_tapped_at_the_demo_desk_is_proven_present_and_her_visit_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let world =
        DemoWorld::open_or_create(&dir.path().join("demo"), false, SeedSize::SMALL).unwrap();
    let registry =
        InProcessRegistry::start(&world.registry_path, Some(world.receipts.clone())).unwrap();
    // The desk's tap, as the app makes it: a presence challenge with this node's id.
    let card = world
        .tray
        .iter()
        .find(|c| c.kind == TrayCardKind::OtherPuskesmas)
        .unwrap();
    let mut card = VirtualCard::open(&card.path).unwrap();
    let at_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let nonce = [3u8; 16];
    let node_id = world.node.certificate().node_id();
    let challenge = kartika_card::presence::presence_challenge(node_id, at_ms, &nonce);
    let mut store = Store::open(&world.store_path).unwrap();
    let trust = TrustAnchors::new(vec![world.root.clone()]);
    let reading = CardSession::new(&mut card)
        .verify_card(&trust, store.today(), &challenge)
        .unwrap();
    assert_eq!(reading.verdict, Verdict::Genuine);
    let proof = kartika_protocol::PresenceProof {
        card_number: reading.identity.card_number.to_string(),
        patient_number: reading.identity.patient_number.to_string(),
        at_ms,
        nonce: hex::encode(nonce),
        signature: hex::encode(&reading.challenge_signature),
    };
    let desk = world.account(Role::Registration).unwrap();
    let session = store.login(&desk.username, &desk.password).unwrap();
    store.admit_card(&session, &reading.identity).unwrap();
    assert!(store.note_presence(&session, &proof).unwrap());
    let dewi = reading.identity.patient_number.to_string();
    store
        .register_visit(
            &session,
            &kartika_store::NewVisit {
                patient_number: dewi.clone(),
                unit_code: "general".into(),
                payer: kartika_store::Payer::General,
                care: kartika_store::Care::Sick,
                complaint: None,
            },
        )
        .unwrap();
    let syncer =
        kartika_sync::Syncer::new(kartika_sync::SyncConfig::new(&registry.url(), &world.token))
            .expect("syncer");
    let report = syncer.round(&mut store).expect("a round");
    assert_eq!(
        report.set_aside,
        0,
        "the morning's queue and Dewi's visit: {:?}",
        store.set_aside(10).unwrap()
    );
    // With the same tap's proof, the registry answers what Pondok Aren knows of her, once.
    let fetched = syncer
        .fetch_patient(&mut store, &dewi, Some(&proof))
        .expect("the lookup with the card present");
    assert!(fetched >= 2, "her record and her card: {fetched}");
    let again = syncer.fetch_patient(&mut store, &dewi, Some(&proof));
    assert!(
        again
            .as_ref()
            .is_err_and(|e| e.to_string().contains("used already")),
        "{again:?}"
    );
}

#[test]
fn the_demos_finished_visits_go_to_the_demos_satusehat() {
    let dir = tempfile::tempdir().unwrap();
    let world =
        DemoWorld::open_or_create(&dir.path().join("demo"), false, SeedSize::SMALL).unwrap();
    let satusehat = kartika_demo::start_satusehat(&world, 0).unwrap();
    // The app's sender, as it runs beside the demo's window, until nothing is due.
    let (_keep, stop) = std::sync::mpsc::channel();
    kartika_satusehat::serve(&world.store_path, "demo-pc", &stop, true, |_| {}).unwrap();
    let mut store = Store::open(&world.store_path).unwrap();
    let status = store.satusehat_status(0).unwrap();
    assert!(status.counts["sent"] > 0, "{:?}", status.counts);
    assert_eq!(
        satusehat.encounters_by_identifier().len() as i64,
        status.counts["sent"]
    );
}
