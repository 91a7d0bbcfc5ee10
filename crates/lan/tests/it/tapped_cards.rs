//! A card tapped at a workstation (review M4): the server judges the card's own bytes and
//! its answer under the registry root, and a tap never records a card of this Puskesmas.

use std::sync::Arc;

use kartika_card::crypto::Roles;
use kartika_card::model::{Identity, IdentityJson};
use kartika_card::presence::TapEvidence;
use kartika_lan::{Answer, Client, Operation};
use kartika_store::{Clock, TapOutcome};
use kartika_testkit::fixtures::{card_issued_by, date, sample_identity, tap_evidence, Pki};

use crate::support::Running;

/// A server that judges cards under `pki`'s root.
fn server(pki: &Pki) -> Running {
    let trust = Arc::new(pki.trust());
    Running::start_with(move |config| config.card_trust = Some(trust))
}

fn now_ms(server: &Running) -> i64 {
    i64::try_from(server.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap()
}

fn admit(client: &Client, token: &str, tap: &TapEvidence) -> TapOutcome {
    let answer = client
        .call(
            token,
            Operation::AdmitCard {
                tap: Box::new(tap.clone()),
                proof: None,
            },
        )
        .expect("an answer");
    let Answer::Admitted { outcome, .. } = answer else {
        panic!("not a tap's answer: {answer:?}");
    };
    outcome
}

/// Siti's genuine card, issued by another Puskesmas (P3674010, the PKI's node).
fn sitis_card(dir: &std::path::Path, pki: &Pki) -> kartika_vcard::VirtualCard {
    card_issued_by(
        &dir.join("siti.json"),
        &pki.node,
        &pki.root,
        &sample_identity(),
    )
}

fn refusal(outcome: &TapOutcome) -> &str {
    match outcome {
        TapOutcome::Refused { reason, .. } => reason,
        other => panic!("the tap must be refused: {other:?}"),
    }
}

fn count(server: &Running, sql: &str) -> i64 {
    server.sql().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_forged_copied_or_replayed_tap_is_refused_and_writes_no_patient_and_no_card() {
    let pki = Pki::new();
    let server = server(&pki);
    let dir = tempfile::tempdir().unwrap();
    let mut card = sitis_card(dir.path(), &pki);
    let (desk, me) = server.login("desk1");
    let genuine = tap_evidence(&mut card, &pki.trust(), "", now_ms(&server));

    // The name changed on the way: the issuer's signature no longer holds.
    let mut forged = genuine.clone();
    let mut json = IdentityJson::from(&genuine.identity().unwrap());
    json.name = "Orang Lain".into();
    forged.identity_tlv = Identity::try_from(json).unwrap().to_tlv();
    let reason = refusal(&admit(&desk, &me.token, &forged)).to_owned();
    assert!(reason.starts_with("not genuine"), "{reason}");
    // A genuine card's bytes with a challenge it never answered: a copy, or a replay
    // with another time.
    let mut copied = genuine.clone();
    copied.at_ms -= 1000;
    assert!(refusal(&admit(&desk, &me.token, &copied)).starts_with("not genuine"));
    // A card of a root this server does not trust.
    let stranger = Pki::new();
    let mut strangers_card = card_issued_by(
        &dir.path().join("s.json"),
        &stranger.node,
        &stranger.root,
        &sample_identity(),
    );
    let foreign_root = tap_evidence(&mut strangers_card, &stranger.trust(), "", now_ms(&server));
    assert!(refusal(&admit(&desk, &me.token, &foreign_root)).starts_with("not genuine"));
    assert_eq!(count(&server, "SELECT count(*) FROM patient"), 0);
    assert_eq!(count(&server, "SELECT count(*) FROM card"), 0);
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM audit_log WHERE action = 'card.tap_not_genuine'"
        ),
        3,
        "each refused tap is in the audit log"
    );

    // The genuine tap registers Siti; the same answer sent again is refused.
    let first = admit(&desk, &me.token, &genuine);
    assert!(
        matches!(first, TapOutcome::RegisteredFromCard { .. }),
        "{first:?}"
    );
    let again = admit(&desk, &me.token, &genuine);
    assert!(refusal(&again).contains("sent before"), "{again:?}");
    // An old answer, or one dated ahead of the server's clock, is refused too.
    let day = 24 * 60 * 60 * 1000;
    let stale = tap_evidence(&mut card, &pki.trust(), "", now_ms(&server) - 8 * day);
    assert!(refusal(&admit(&desk, &me.token, &stale)).contains("too old"));
    let ahead = tap_evidence(&mut card, &pki.trust(), "", now_ms(&server) + day);
    assert!(refusal(&admit(&desk, &me.token, &ahead)).contains("future"));
    // A tap kept by a desk while the server was away, sent a day later: admitted.
    let kept = tap_evidence(&mut card, &pki.trust(), "", now_ms(&server) - day);
    assert!(matches!(
        admit(&desk, &me.token, &kept),
        TapOutcome::Known { .. }
    ));
}

#[test]
fn a_desk_cannot_record_a_card_of_this_puskesmas_only_the_admin_can() {
    let pki = Pki::new();
    let server = server(&pki);
    let dir = tempfile::tempdir().unwrap();
    // A genuine card of this Puskesmas (P3674060), signed by its own node, that its store
    // has no record of.
    let ours = pki.node(
        "P3674060",
        Roles::TERMINAL | Roles::ISSUER,
        date(2030, 12, 31),
    );
    let mut json = IdentityJson::from(&sample_identity());
    json.facility_code = "P3674060".into();
    let identity = Identity::try_from(json).unwrap();
    let mut card = card_issued_by(&dir.path().join("own.json"), &ours, &pki.root, &identity);

    let (desk, me) = server.login("desk1");
    let tap = tap_evidence(&mut card, &pki.trust(), "", now_ms(&server));
    let reason = refusal(&admit(&desk, &me.token, &tap)).to_owned();
    assert!(reason.starts_with("unrecorded"), "{reason}");
    assert_eq!(count(&server, "SELECT count(*) FROM card"), 0);
    assert_eq!(
        count(&server, "SELECT count(*) FROM outbox WHERE kind = 'card'"),
        0
    );

    // The admin, who issues and replaces cards, records it by tapping it.
    let (admin_pc, admin) = server.login("admin");
    let tap = tap_evidence(&mut card, &pki.trust(), "", now_ms(&server));
    let outcome = admit(&admin_pc, &admin.token, &tap);
    assert!(
        matches!(outcome, TapOutcome::RegisteredFromCard { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        count(&server, "SELECT count(*) FROM card WHERE issued_here = 1"),
        1
    );
}

#[test]
fn a_server_without_the_registry_root_refuses_every_tap_from_a_workstation() {
    let pki = Pki::new();
    let server = Running::start();
    let dir = tempfile::tempdir().unwrap();
    let mut card = sitis_card(dir.path(), &pki);
    let (desk, me) = server.login("desk1");
    let tap = tap_evidence(&mut card, &pki.trust(), "", now_ms(&server));
    let reason = refusal(&admit(&desk, &me.token, &tap)).to_owned();
    assert!(reason.contains("--trust"), "{reason}");
    assert_eq!(count(&server, "SELECT count(*) FROM patient"), 0);
}
