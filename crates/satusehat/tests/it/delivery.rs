//! Every finished visit reaches SATUSEHAT once: through its outages and faults, in the
//! order visits finished, with what it refused kept in its own words.

use kartika_satusehat::{SatusehatError, Sender};
use kartika_store::DeliveryState;
use kartika_testkit::satusehat::Fault;

use crate::support::{Puskesmas, ORGANIZATION, SECRET};

#[test]
fn a_month_kept_while_satusehat_was_away_arrives_once_each_through_its_faults() {
    let mut puskesmas = Puskesmas::with_month_of_visits(240);
    let due_at_first = puskesmas.count("waiting");
    assert!(
        due_at_first > 100,
        "visits finished before the set-up are due: {due_at_first}"
    );

    // SATUSEHAT down at first: nothing is lost, the round pauses.
    puskesmas.fake.fail_next(&[Fault::Unavailable]);
    let mut sender = puskesmas.sender();
    let first = sender.drain(&mut puskesmas.store, |_| {}).unwrap();
    let (pause, why) = first.paused.clone().expect("a paused round");
    assert!(why.contains("503"), "{why}");
    // The sender waits out its pause before the next round.
    puskesmas
        .clock
        .advance(time::Duration::try_from(pause).unwrap() + time::Duration::seconds(1));

    // Then it answers, with every fault it is known for along the way.
    puskesmas.fake.fail_next(&[
        Fault::TooMany(7),
        Fault::LoseAnswer,
        Fault::ExpiredToken,
        Fault::Unavailable,
        Fault::LoseAnswer,
    ]);
    let rounds = puskesmas.drain_through_pauses(&mut sender);
    assert!(
        rounds.iter().any(|r| r
            .paused
            .as_ref()
            .is_some_and(|(pause, _)| pause.as_secs() >= 7)),
        "Retry-After is honoured: {rounds:?}"
    );
    let at_satusehat = puskesmas.fake.encounters_by_identifier();
    let sent = puskesmas.count("sent");
    assert_eq!(at_satusehat.len() as i64, sent, "every sent visit is there");
    assert!(
        at_satusehat.values().all(|n| *n == 1),
        "no visit twice: {:?}",
        at_satusehat
            .iter()
            .filter(|(_, n)| **n > 1)
            .collect::<Vec<_>>()
    );
    assert_eq!(puskesmas.count("retrying"), 0);
    // In the order the visits finished, whatever failed on the way.
    let ends: Vec<String> = puskesmas
        .fake
        .stored()
        .iter()
        .filter(|s| s.kind == "Encounter")
        .map(|s| {
            s.resource["period"]["end"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert!(
        ends.windows(2).all(|w| w[0] <= w[1]),
        "out of order: {ends:?}"
    );
    assert_eq!(puskesmas.count("refused"), 0);
    // Children have no NIK: their visits wait, saying why.
    let status = puskesmas.store.satusehat_status(usize::MAX).unwrap();
    assert!(!status.visits.is_empty(), "some patients have no NIK");
    for waiting in &status.visits {
        assert_eq!(waiting.state, DeliveryState::Waiting);
        assert!(
            waiting
                .reason
                .as_deref()
                .unwrap_or_default()
                .contains("no NIK"),
            "{waiting:?}"
        );
    }
    assert_eq!(sent + status.visits.len() as i64, due_at_first);
    // The poli's history says the same of a patient's visits.
    let waiting = &status.visits[0];
    let admin = puskesmas.admin.clone();
    let history = puskesmas
        .store
        .patient_history(&admin, &waiting.patient_number)
        .unwrap();
    assert_eq!(history.satusehat[&waiting.visit_id], DeliveryState::Waiting);
    // One token for the lot, and one more after SATUSEHAT ended it early (the 401).
    assert_eq!(puskesmas.fake.token_requests(), 2);
}

#[test]
fn a_refused_visit_keeps_satusehats_words_and_arrives_once_mended_and_sent_again() {
    let mut puskesmas = Puskesmas::with_month_of_visits(30);
    // The admin typed another Puskesmas's Organization id.
    puskesmas.set_up("10000099", SECRET);
    let mut sender = puskesmas.sender();
    let drained = sender.drain(&mut puskesmas.store, |_| {}).unwrap();
    assert!(drained.refused > 0, "{drained:?}");
    let status = puskesmas.store.satusehat_status(usize::MAX).unwrap();
    let refused: Vec<_> = status
        .visits
        .iter()
        .filter(|v| v.state == DeliveryState::Refused)
        .collect();
    assert_eq!(refused.len(), drained.refused);
    assert!(refused[0]
        .reason
        .as_deref()
        .unwrap_or_default()
        .contains("(RuleNumber: 10117)"));
    // Refused stays refused: another round sends nothing.
    let transactions = puskesmas.fake.transactions();
    let again = sender.drain(&mut puskesmas.store, |_| {}).unwrap();
    assert_eq!((again.sent, again.refused), (0, 0));
    assert_eq!(puskesmas.fake.transactions(), transactions);
    sender.finish(&mut puskesmas.store).unwrap();

    // Mended, and "Kirim ulang" for all.
    puskesmas.set_up(ORGANIZATION, SECRET);
    let admin = puskesmas.admin.clone();
    let queued = puskesmas.store.retry_satusehat(&admin, None).unwrap();
    assert_eq!(queued, refused.len());
    let mut sender = puskesmas.sender();
    puskesmas.drain_through_pauses(&mut sender);
    assert_eq!(puskesmas.count("refused"), 0);
    assert_eq!(
        puskesmas.fake.encounters_by_identifier().len() as i64,
        puskesmas.count("sent")
    );
}

#[test]
fn a_refused_secret_is_tried_once_a_minute_and_is_written_nowhere() {
    let mut puskesmas = Puskesmas::with_month_of_visits(30);
    let wrong = "salah-rahasia-0a1b2c3d4e5f";
    puskesmas.set_up(ORGANIZATION, wrong);
    let mut sender = puskesmas.sender();
    let drained = sender.drain(&mut puskesmas.store, |_| {}).unwrap();
    let (_, why) = drained.paused.expect("paused");
    assert!(why.contains("client id and secret"), "{why}");
    assert!(!why.contains(wrong));
    // Within the minute, SATUSEHAT is not asked again.
    puskesmas.clock.advance(time::Duration::minutes(10));
    let again = sender.drain(&mut puskesmas.store, |_| {}).unwrap();
    let (_, why) = again.paused.expect("paused");
    assert!(why.contains("next attempt"), "{why}");
    assert_eq!(puskesmas.fake.token_requests(), 1);
    drop(sender);
    // Neither the secret nor a token is in the store's files.
    let folder = puskesmas.path.parent().unwrap().to_owned();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "satusehat-secret") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(wrong), "{} holds the secret", path.display());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(folder.join("satusehat-secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the secret is its owner's only");
    }
}

#[test]
fn one_sender_per_store() {
    let mut puskesmas = Puskesmas::with_month_of_visits(10);
    let mut first = puskesmas.sender();
    first.drain(&mut puskesmas.store, |_| {}).unwrap();
    let mut second = Sender::open(&mut puskesmas.store, &puskesmas.path, "other-pc").unwrap();
    let err = second.drain(&mut puskesmas.store, |_| {}).unwrap_err();
    assert!(
        matches!(err, SatusehatError::AnotherSender(ref holder) if holder == "test-pc"),
        "{err}"
    );
    first.finish(&mut puskesmas.store).unwrap();
    second.drain(&mut puskesmas.store, |_| {}).unwrap();
}

#[test]
fn a_visit_changed_after_it_was_sent_replaces_what_satusehat_holds() {
    let mut puskesmas = Puskesmas::with_month_of_visits(40);
    let mut sender = puskesmas.sender();
    puskesmas.drain_through_pauses(&mut sender);
    // A sent visit with a diagnosis: the nurse adds one and removes the one there was.
    let stored = puskesmas.fake.stored();
    let (encounter_id, visit_id, removed) = stored
        .iter()
        .filter(|s| s.kind == "Condition")
        .find_map(|condition| {
            let encounter_ref = condition.resource["encounter"]["reference"].as_str()?;
            let encounter_id = encounter_ref.strip_prefix("Encounter/")?;
            let encounter = stored.iter().find(|s| s.id == encounter_id)?;
            let visit_id = encounter.resource["identifier"][0]["value"].as_str()?;
            let code = condition.resource["code"]["coding"][0]["code"].as_str()?;
            (code != "R50.9").then(|| {
                (
                    encounter_id.to_owned(),
                    visit_id.to_owned(),
                    code.to_owned(),
                )
            })
        })
        .expect("a sent visit with a diagnosis");
    let admin = puskesmas.admin.clone();
    puskesmas
        .store
        .add_diagnosis(
            &admin,
            &visit_id,
            "R50.9",
            kartika_store::DiagnosisRank::Secondary,
        )
        .unwrap();
    puskesmas
        .store
        .remove_diagnosis(&admin, &visit_id, &removed)
        .unwrap();
    let drained = puskesmas.drain_through_pauses(&mut sender);
    assert_eq!(
        drained.iter().map(|d| d.sent).sum::<usize>(),
        1,
        "{drained:?}"
    );

    let stored = puskesmas.fake.stored();
    let for_visit = |code: &str| {
        stored
            .iter()
            .filter(|s| s.kind == "Condition")
            .filter(|s| s.resource["encounter"]["reference"] == format!("Encounter/{encounter_id}"))
            .filter(|s| s.resource["code"]["coding"][0]["code"] == code)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        for_visit("R50.9").len(),
        1,
        "the new diagnosis is there once"
    );
    let gone = for_visit(&removed);
    assert_eq!(gone.len(), 1);
    assert_eq!(
        gone[0].resource["verificationStatus"]["coding"][0]["code"], "entered-in-error",
        "the removed diagnosis is marked in error, not left standing"
    );
    assert_eq!(puskesmas.fake.encounters_by_identifier()[&visit_id], 1);
}
