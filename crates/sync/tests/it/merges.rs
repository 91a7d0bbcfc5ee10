//! One person registered at two Puskesmas, and seen at a third: proposed, accepted,
//! followed by every node that holds either record, and undone, through a link that
//! breaks; a node that owns neither record is refused.

use kartika_card::model::Sex;
use kartika_store::{CaseKind, DiagnosisRank, NewPatient};
use kartika_sync::{LikelySame, MergeDecision, ProposalState, SyncError, Syncer};

use crate::support::{card_of, registry, syncer, CardKey, Clinic, CuttingProxy};

const PAMULANG: &str = "P3674060";
const SERPONG: &str = "P3674010";
const CIPUTAT: &str = "P3674040";
const STRANGER: &str = "P3674050";
const NIK: &str = "3674014302800002";
const CARD: &str = "6037990000000030";

#[test]
fn one_person_at_two_puskesmas_is_linked_everywhere_and_unlinked_everywhere() {
    let (registry, tokens, dir) = registry(&[PAMULANG, SERPONG, CIPUTAT, STRANGER]);
    let path = dir.path().join("registry.sqlite");
    one_person_at_two_puskesmas(&registry, &tokens, &|sql| {
        rusqlite::Connection::open(&path)
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    });
}

#[test]
fn the_same_on_a_postgresql_registry_with_a_connection_pool() {
    let server = kartika_testkit::postgres::TestPostgres::start();
    let (registry, tokens, url) = crate::support::registry_on_postgres(
        &server,
        "sync_merges",
        &[PAMULANG, SERPONG, CIPUTAT, STRANGER],
    );
    one_person_at_two_puskesmas(&registry, &tokens, &|sql| {
        postgres::Client::connect(&url, postgres::NoTls)
            .unwrap()
            .query_one(sql, &[])
            .unwrap()
            .get(0)
    });
}

fn dewi(clinic: &mut Clinic) -> String {
    clinic
        .store
        .create_patient(
            &clinic.admin,
            &NewPatient {
                nik: Some(NIK.into()),
                name: "Dewi Lestari".into(),
                birth_date: "1980-02-03".into(),
                sex: Some(Sex::Female),
                region_code: Some("36.74.06.1001".into()),
                ..NewPatient::default()
            },
        )
        .unwrap()
        .patient
        .patient_number
}

/// Tries `work` until the broken link lets it through: every cut is worth retrying.
fn through_cuts<T>(mut work: impl FnMut() -> Result<T, SyncError>) -> T {
    for _ in 0..200 {
        match work() {
            Ok(value) => return value,
            Err(error) => assert!(error.is_transient(), "a cut is worth retrying: {error}"),
        }
    }
    panic!("never got through the broken link");
}

/// Visits in the history a number brings up at `clinic`, and the record shown.
fn history(clinic: &mut Clinic, number: &str) -> (String, usize) {
    let history = clinic.store.patient_history(&clinic.admin, number).unwrap();
    (history.patient.patient_number, history.visits.len())
}

fn one_person_at_two_puskesmas(
    registry: &kartika_testkit::registry::RunningRegistry,
    tokens: &[String],
    count: &dyn Fn(&str) -> i64,
) {
    let mut pamulang = Clinic::new(PAMULANG, "Puskesmas Pamulang");
    let mut serpong = Clinic::new(SERPONG, "Puskesmas Serpong");
    let mut ciputat = Clinic::new(CIPUTAT, "Puskesmas Ciputat");
    // Every request of every node goes through a link cut at every kind of moment.
    let proxy = CuttingProxy::start(registry.addr(), 60, 11);
    let node = |i: usize| syncer(&proxy.url, &tokens[i]);
    let (to_pamulang, to_serpong, to_ciputat) = (node(0), node(1), node(2));
    let sync = |syncer: &Syncer, clinic: &mut Clinic| {
        through_cuts(|| syncer.round(&mut clinic.store));
    };

    // Dewi is registered at Pamulang, with a card, and again at Serpong; she visits both,
    // and Ciputat, where her Pamulang card is tapped.
    let at_pamulang = dewi(&mut pamulang);
    let key = CardKey::new();
    let admin = pamulang.admin.clone();
    pamulang
        .store
        .issue_card(&admin, &at_pamulang, CARD)
        .unwrap();
    pamulang
        .store
        .set_card_key(&admin, CARD, &key.public())
        .unwrap();
    pamulang.visit(&at_pamulang, "general");
    sync(&to_pamulang, &mut pamulang);
    let at_serpong = dewi(&mut serpong);
    let dental = serpong.visit(&at_serpong, "dental");
    let admin = serpong.admin.clone();
    serpong
        .store
        .add_diagnosis(&admin, &dental, "K02.1", DiagnosisRank::Primary)
        .unwrap();
    sync(&to_serpong, &mut serpong);
    let admin = ciputat.admin.clone();
    ciputat
        .store
        .admit_card(&admin, &card_of(&at_pamulang))
        .unwrap();
    ciputat
        .store
        .note_presence(&admin, &key.proof(CARD, &at_pamulang, CIPUTAT))
        .unwrap();
    ciputat.visit(&at_pamulang, "general");
    sync(&to_ciputat, &mut ciputat);
    sync(&to_pamulang, &mut pamulang);

    // Both owners are shown the pair.
    let board = through_cuts(|| to_pamulang.merge_board());
    assert!(
        board.candidates.iter().any(|c| c.patient == at_pamulang
            && c.other == at_serpong
            && c.other_facility == SERPONG
            && c.reason == LikelySame::Nik),
        "{board:?}"
    );
    let board = through_cuts(|| to_serpong.merge_board());
    assert!(
        board
            .candidates
            .iter()
            .any(|c| c.patient == at_serpong && c.other == at_pamulang),
        "{board:?}"
    );

    // A node that owns neither record may not propose.
    let stranger = syncer(&registry.url(), &tokens[3]);
    let refused = stranger.propose_merge(&at_pamulang, &at_serpong);
    assert!(
        matches!(refused, Err(SyncError::Refused { status: 403, .. })),
        "{refused:?}"
    );

    // Pamulang proposes its record to stand for both; the answer may be lost on the way.
    let proposal = through_cuts(|| to_pamulang.propose_merge(&at_pamulang, &at_serpong));
    assert_eq!(proposal.state, ProposalState::Proposed);
    assert_eq!(
        count("SELECT count(*) FROM merge_proposal"),
        1,
        "proposed once"
    );
    // Nothing changes until Serpong accepts; the proposer cannot accept, nor a stranger.
    sync(&to_serpong, &mut serpong);
    assert_eq!(history(&mut serpong, &at_serpong), (at_serpong.clone(), 1));
    let proposer = syncer(&registry.url(), &tokens[0]);
    for (who, clinic) in [(&proposer, "the proposer"), (&stranger, "a stranger")] {
        let refused = who.decide_merge(&proposal.id, MergeDecision::Accept);
        assert!(
            matches!(refused, Err(SyncError::Refused { status: 403, .. })),
            "{clinic}: {refused:?}"
        );
    }
    let accepted = through_cuts(|| to_serpong.decide_merge(&proposal.id, MergeDecision::Accept));
    assert_eq!(accepted.state, ProposalState::Accepted);
    assert_eq!(
        count("SELECT count(*) FROM change WHERE kind = 'link'"),
        2,
        "the link travels once, to the holders of either record"
    );

    // Every node that holds either record follows on its next pull: one history of three
    // visits, whichever number is asked, shown as Pamulang's record.
    let one = (at_pamulang.clone(), 3);
    for (syncer, clinic) in [
        (&to_pamulang, &mut pamulang),
        (&to_serpong, &mut serpong),
        (&to_ciputat, &mut ciputat),
    ] {
        sync(syncer, clinic);
        assert_eq!(history(clinic, &at_pamulang), one, "at {}", clinic.code);
        assert_eq!(history(clinic, &at_serpong), one, "at {}", clinic.code);
    }
    let board = through_cuts(|| to_serpong.merge_board());
    assert!(
        board.candidates.is_empty(),
        "the pair is settled: {board:?}"
    );

    // Serpong sees Dewi again, under her Serpong number: the visit is the one person's,
    // and a caries Serpong found before the link is an old case for LB1.
    serpong.clock.advance(time::Duration::days(1));
    let again = serpong.visit(&at_serpong, "dental");
    let admin = serpong.admin.clone();
    let examined = serpong
        .store
        .add_diagnosis(&admin, &again, "K02.1", DiagnosisRank::Primary)
        .unwrap();
    assert_eq!(
        examined.patient_number, at_pamulang,
        "registered for the survivor"
    );
    assert_eq!(
        examined.diagnoses[0].case,
        CaseKind::Old,
        "seen on either record before"
    );
    sync(&to_serpong, &mut serpong);
    assert_eq!(
        serpong.store.sync_health().unwrap().set_aside,
        0,
        "the registry takes Serpong's visit for Pamulang's record"
    );
    sync(&to_pamulang, &mut pamulang);
    assert_eq!(
        history(&mut pamulang, &at_pamulang),
        (at_pamulang.clone(), 4)
    );

    // Serpong undoes it: every node shows two records again.
    let undone = through_cuts(|| to_serpong.decide_merge(&proposal.id, MergeDecision::Undo));
    assert_eq!(undone.state, ProposalState::Undone);
    assert_eq!(count("SELECT count(*) FROM change WHERE kind = 'link'"), 4);
    for (syncer, clinic) in [
        (&to_pamulang, &mut pamulang),
        (&to_serpong, &mut serpong),
        (&to_ciputat, &mut ciputat),
    ] {
        sync(syncer, clinic);
        let code = clinic.code.clone();
        assert_eq!(
            history(clinic, &at_pamulang),
            (at_pamulang.clone(), 3),
            "at {code}: Pamulang's, Ciputat's, and Serpong's made for the survivor"
        );
        assert_eq!(
            history(clinic, &at_serpong),
            (at_serpong.clone(), 1),
            "at {code}"
        );
    }
    assert!(proxy.cuts.load(std::sync::atomic::Ordering::SeqCst) > 0);
}

/// Budi registered twice at Pamulang; his card, on the first record, tapped at Ciputat.
/// Pamulang's admin merges the two: Ciputat follows on its next pull, and again when the
/// merge is undone.
#[test]
fn a_merge_made_in_one_admin_room_is_followed_by_every_node_that_holds_either_record() {
    let (registry, tokens, _dir) = registry(&[PAMULANG, CIPUTAT]);
    let mut pamulang = Clinic::new(PAMULANG, "Puskesmas Pamulang");
    let mut ciputat = Clinic::new(CIPUTAT, "Puskesmas Ciputat");
    let (to_pamulang, to_ciputat) = (
        syncer(&registry.url(), &tokens[0]),
        syncer(&registry.url(), &tokens[1]),
    );
    let first = dewi(&mut pamulang);
    let key = CardKey::new();
    let admin = pamulang.admin.clone();
    pamulang.store.issue_card(&admin, &first, CARD).unwrap();
    pamulang
        .store
        .set_card_key(&admin, CARD, &key.public())
        .unwrap();
    pamulang.visit(&first, "general");
    let again = pamulang.patient("Dewi Lestari");
    pamulang.visit(&again, "dental");
    to_pamulang.round(&mut pamulang.store).unwrap();
    let admin = ciputat.admin.clone();
    ciputat.store.admit_card(&admin, &card_of(&first)).unwrap();
    ciputat
        .store
        .note_presence(&admin, &key.proof(CARD, &first, CIPUTAT))
        .unwrap();
    ciputat.visit(&first, "general");
    to_ciputat.round(&mut ciputat.store).unwrap();
    assert_eq!(history(&mut ciputat, &first), (first.clone(), 2));

    let admin = pamulang.admin.clone();
    pamulang
        .store
        .merge_patients(&admin, &again, &first, &[])
        .unwrap();
    let report = to_pamulang.round(&mut pamulang.store).unwrap();
    assert_eq!(report.merges_told, 1);
    assert!(
        pamulang.store.merges_to_tell().unwrap().is_empty(),
        "told once"
    );
    to_ciputat.round(&mut ciputat.store).unwrap();
    assert_eq!(
        history(&mut ciputat, &first),
        (again.clone(), 3),
        "the card's number opens the record kept, with the visits of both"
    );
    assert_eq!(history(&mut pamulang, &first), (again.clone(), 3));

    pamulang.store.unmerge_patient(&admin, &first).unwrap();
    let report = to_pamulang.round(&mut pamulang.store).unwrap();
    assert_eq!(report.merges_told, 1, "the undo told");
    to_ciputat.round(&mut ciputat.store).unwrap();
    assert_eq!(history(&mut ciputat, &first), (first.clone(), 2));
    assert_eq!(history(&mut pamulang, &first), (first.clone(), 2));
    assert_eq!(history(&mut pamulang, &again), (again.clone(), 1));
}
