//! Every enrolled node is a stranger: each attack an enrolled node of another Puskesmas
//! tried with its own token and the documented API, refused, on both backends.

use serde_json::{json, Value};

use crate::support::{
    now_ms, number, patient, postgres_setup, revocation, sqlite_setup, uuid, visit, Setup, TestCard,
};

const PAMULANG: &str = "P3674060";
const SERPONG: &str = "P3674010";

fn outcome(answer: &crate::support::Answer, index: usize) -> (String, String) {
    let result = &answer.body["results"][index];
    (
        result["status"].as_str().unwrap_or_default().to_owned(),
        result["reason"].as_str().unwrap_or_default().to_owned(),
    )
}

fn assert_refused(answer: &crate::support::Answer, index: usize, words: &str) {
    let (status, reason) = outcome(answer, index);
    assert_eq!(status, "rejected", "{}", answer.body);
    assert!(
        reason.contains(words),
        "expected \"{words}\" in \"{reason}\""
    );
}

fn history_path(patient_number: &str) -> String {
    format!("/v1/patients/{patient_number}/history")
}

fn look_up(s: &Setup, token: &str, patient_number: &str, proof: &Value) -> crate::support::Answer {
    s.post(
        Some(token),
        &history_path(patient_number),
        proof.to_string().as_bytes(),
    )
}

fn pulled(s: &Setup, token: &str) -> Vec<Value> {
    s.get(Some(token), "/v1/changes?after=0").body["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Siti, registered at Pamulang with her card; returns the card.
fn siti_at_pamulang(s: &Setup, seq: u32, n: u32) -> TestCard {
    let siti = number(PAMULANG, seq);
    let card = TestCard::new(
        &kartika_testkit::fixtures::card_number(&format!("6036740600{seq:05}")),
        &siti,
    );
    let answer = s.push(
        &s.pamulang,
        json!([
            patient(n, &siti, Some("3674064101950002")),
            card.record(n + 1)
        ]),
    );
    assert_eq!(outcome(&answer, 0).0, "stored", "{}", answer.body);
    assert_eq!(outcome(&answer, 1).0, "stored", "{}", answer.body);
    card
}

fn another_facility_cannot_rename_or_blank_a_patient(s: &Setup) {
    let siti = number(PAMULANG, 101);
    siti_at_pamulang(s, 101, 1_000);
    let mut renamed = patient(1_010, &siti, None);
    renamed["payload"]["name"] = json!("Someone Else");
    renamed["payload"]["version"] = json!(99);
    let answer = s.push(&s.serpong, json!([renamed]));
    assert_refused(&answer, 0, "registered by facility P3674060");
    // A number of Pamulang's that Pamulang never pushed is not Serpong's to take either.
    let squatted = s.push(
        &s.serpong,
        json!([patient(1_011, &number(PAMULANG, 102), None)]),
    );
    assert_refused(&squatted, 0, "not one of facility P3674010's numbers");
    let stored: Vec<Value> = (s.reopen)()
        .patient_history(
            &kartika_registry::node(PAMULANG, "terminal").unwrap(),
            &siti,
            kartika_registry::Lookup::OwnOnly,
        )
        .unwrap()
        .into_iter()
        .map(|c| serde_json::from_str(c.payload.get()).unwrap())
        .collect();
    assert_eq!(stored.len(), 2, "Siti's record and her card, nothing else");
    assert_eq!(stored[0]["name"], "Siti Rahayu");
}

fn a_patient_id_cannot_be_reused_for_another_patient(s: &Setup) {
    let siti = number(PAMULANG, 111);
    siti_at_pamulang(s, 111, 1_100);
    let mut twin = patient(1_110, &number(SERPONG, 111), None);
    twin["payload"]["id"] = json!(uuid(900_000 + 1_100));
    let answer = s.push(&s.serpong, json!([twin]));
    assert_refused(&answer, 0, &format!("belongs to patient {siti}"));
}

fn records_need_the_card_present(s: &Setup) {
    let siti = number(PAMULANG, 121);
    let card = siti_at_pamulang(s, 121, 1_200);
    let without = s.get(Some(&s.serpong), &history_path(&siti));
    assert_eq!(without.status, 403, "{}", without.body);
    assert!(without.body["error"].as_str().unwrap().contains("card"));

    // A proof made for Pamulang's node does not open Serpong's lookup.
    let for_pamulang = card.proof(PAMULANG, now_ms());
    assert_eq!(look_up(s, &s.serpong, &siti, &for_pamulang).status, 403);
    // Stale and future-dated proofs.
    let stale = card.proof(SERPONG, now_ms() - 10 * 60 * 1000);
    let answer = look_up(s, &s.serpong, &siti, &stale);
    assert_eq!(answer.status, 403);
    assert!(answer.body["error"].as_str().unwrap().contains("too old"));
    let ahead = card.proof(SERPONG, now_ms() + 10 * 60 * 1000);
    assert_eq!(look_up(s, &s.serpong, &siti, &ahead).status, 403);
    // A proof of another card (another key) for Siti's card number.
    let forged = TestCard::new(&card.number, &siti).proof(SERPONG, now_ms());
    let answer = look_up(s, &s.serpong, &siti, &forged);
    assert_eq!(answer.status, 403);
    assert!(answer.body["error"]
        .as_str()
        .unwrap()
        .contains("does not verify"));
    assert!(
        pulled(s, &s.serpong)
            .iter()
            .all(|c| c["payload"]["patient_number"] != json!(siti)),
        "no refused lookup subscribes Serpong to Siti"
    );

    // The card in Serpong's reader: answered once.
    let proof = card.proof(SERPONG, now_ms());
    let answer = look_up(s, &s.serpong, &siti, &proof);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body.as_array().unwrap().len(), 2);
    let replayed = look_up(s, &s.serpong, &siti, &proof);
    assert_eq!(replayed.status, 403);
    assert!(replayed.body["error"]
        .as_str()
        .unwrap()
        .contains("used already"));
    let mut upper = proof.clone();
    upper["signature"] = json!(proof["signature"].as_str().unwrap().to_uppercase());
    assert_eq!(
        look_up(s, &s.serpong, &siti, &upper).status,
        403,
        "same proof, other case"
    );

    // Who looked, in the registry's words.
    let log = (s.reopen)().access_log(&siti).unwrap();
    let serpongs: Vec<&str> = log
        .iter()
        .filter(|e| e.node == SERPONG)
        .map(|e| e.outcome.as_str())
        .collect();
    assert_eq!(serpongs.len(), 8, "{serpongs:?}");
    assert!(serpongs[0].starts_with("refused"), "{serpongs:?}");
    assert_eq!(
        serpongs
            .iter()
            .filter(|o| o.starts_with("answered"))
            .count(),
        1,
        "{serpongs:?}"
    );
}

fn a_visit_to_a_stranger_needs_proof_of_presence(s: &Setup) {
    let siti = number(PAMULANG, 131);
    let card = siti_at_pamulang(s, 131, 1_300);
    let mut planted = visit(1_310, SERPONG, &siti);
    planted["payload"]["diagnoses"] = json!([{ "code": "B24" }]);
    let answer = s.push(&s.serpong, json!([planted]));
    assert_refused(&answer, 0, "has not proven the patient's card was present");
    // The tap was offline: its proof travels before the visit, and both are accepted.
    let proof = card.proof(SERPONG, now_ms() - 3 * 24 * 60 * 60 * 1000);
    let presence = json!({
        "id": uuid(1_311), "kind": "presence", "record_id": card.number, "payload": proof
    });
    let answer = s.push(&s.serpong, json!([presence, visit(1_312, SERPONG, &siti)]));
    assert_eq!(outcome(&answer, 0).0, "stored", "{}", answer.body);
    assert_eq!(outcome(&answer, 1).0, "stored", "{}", answer.body);
    // A proof from another card (a copy's key) proves nothing.
    let copy = TestCard::new(&card.number, &siti).proof(SERPONG, now_ms());
    let presence = json!({
        "id": uuid(1_313), "kind": "presence", "record_id": card.number, "payload": copy
    });
    assert_refused(&s.push(&s.serpong, json!([presence])), 0, "does not verify");
}

fn only_the_issuer_or_the_operator_revokes_a_card(s: &Setup) {
    let card = siti_at_pamulang(s, 141, 1_400);
    let answer = s.push(
        &s.serpong,
        json!([
            revocation(1_410, SERPONG, &card.number),
            revocation(1_411, SERPONG, "6039990000000018"),
        ]),
    );
    assert_refused(&answer, 0, "issued by facility P3674060");
    assert_refused(&answer, 1, "unknown to the registry");
    // Serpong may not change the card record either.
    let mut takeover = card.record(1_412);
    takeover["payload"]["status"] = json!("blocked");
    assert_refused(
        &s.push(&s.serpong, json!([takeover])),
        0,
        "only it changes the card",
    );
    // The issuer revokes, then lifts (a found card); the operator can do both too.
    assert_eq!(
        outcome(
            &s.push(
                &s.pamulang,
                json!([revocation(1_413, PAMULANG, &card.number)])
            ),
            0
        )
        .0,
        "stored"
    );
    let mut lift = revocation(1_414, PAMULANG, &card.number);
    lift["payload"]["lifted"] = json!(true);
    assert_eq!(outcome(&s.push(&s.pamulang, json!([lift])), 0).0, "stored");
    let mut operator = (s.reopen)();
    operator
        .operator_revocation(&card.number, "stolen, reported to the police", false)
        .unwrap();
    assert!(matches!(
        operator.operator_revocation("6039990000000018", "no such card", false),
        Err(kartika_registry::RegistryError::NotFound(_))
    ));
    let revocations: Vec<(String, bool)> = pulled(s, &s.serpong)
        .into_iter()
        .filter(|c| c["record_id"] == json!(card.number))
        .map(|c| {
            (
                c["facility"].as_str().unwrap().to_owned(),
                c["payload"]["lifted"] == json!(true),
            )
        })
        .collect();
    assert_eq!(
        revocations,
        [
            (PAMULANG.to_owned(), false),
            (PAMULANG.to_owned(), true),
            (kartika_registry::OPERATOR.to_owned(), false)
        ]
    );
}

fn a_terminal_only_node_does_not_push_cards(s: &Setup) {
    let siti = number(PAMULANG, 151);
    siti_at_pamulang(s, 151, 1_500);
    let (token, hash) = kartika_registry::new_token();
    (s.reopen)()
        .enroll(
            &kartika_registry::node("P3674030", "terminal").unwrap(),
            &hash,
            b"cert",
        )
        .unwrap();
    let card = TestCard::new("6036740300000016", &siti);
    assert_refused(
        &s.push(&token, json!([card.record(1_510)])),
        0,
        "not enrolled as a card issuer",
    );
}

fn a_revoked_node_is_refused_and_its_revocation_travels(s: &Setup) {
    let (token, hash) = kartika_registry::new_token();
    let mut operator = (s.reopen)();
    operator
        .enroll(
            &kartika_registry::node("P3674040", "terminal,issuer").unwrap(),
            &hash,
            b"cert",
        )
        .unwrap();
    assert_eq!(s.get(Some(&token), "/v1/changes").status, 200);
    operator
        .revoke_node("P3674040", "its PC was stolen")
        .unwrap();
    let refused = s.get(Some(&token), "/v1/changes");
    assert_eq!(refused.status, 403);
    assert!(refused.body["error"].as_str().unwrap().contains("revoked"));
    let travelled = pulled(s, &s.pamulang)
        .into_iter()
        .any(|c| c["record_id"] == "node:P3674040" && c["payload"]["node"] == "P3674040");
    assert!(travelled, "every clinic learns of the node's revocation");

    // A token rotated: the old one ends at once.
    let (new_token, new_hash) = kartika_registry::new_token();
    let (old_token, old_hash) = kartika_registry::new_token();
    operator
        .enroll(
            &kartika_registry::node("P3674050", "terminal").unwrap(),
            &old_hash,
            b"cert",
        )
        .unwrap();
    operator.rotate_token("P3674050", &new_hash).unwrap();
    assert_eq!(s.get(Some(&old_token), "/v1/changes").status, 401);
    assert_eq!(s.get(Some(&new_token), "/v1/changes").status, 200);

    // The operator forgets a restored node's audit heads: the same entry then gives a new
    // receipt history instead of a refusal.
    let node = kartika_registry::node("P3674050", "terminal").unwrap();
    operator.keep_audit_head(&node, 7, &[1; 32]).unwrap();
    assert!(
        operator.keep_audit_head(&node, 7, &[2; 32]).is_err(),
        "rewritten"
    );
    assert_eq!(operator.forget_audit_heads("P3674050").unwrap(), 1);
    operator.keep_audit_head(&node, 7, &[2; 32]).unwrap();
}

fn suite(s: &Setup) {
    another_facility_cannot_rename_or_blank_a_patient(s);
    a_patient_id_cannot_be_reused_for_another_patient(s);
    records_need_the_card_present(s);
    a_visit_to_a_stranger_needs_proof_of_presence(s);
    only_the_issuer_or_the_operator_revokes_a_card(s);
    a_terminal_only_node_does_not_push_cards(s);
    a_revoked_node_is_refused_and_its_revocation_travels(s);
}

#[test]
fn the_sqlite_registry_trusts_no_node() {
    suite(&sqlite_setup());
}

#[test]
fn the_postgres_registry_trusts_no_node() {
    let server = kartika_testkit::postgres::TestPostgres::start();
    suite(&postgres_setup(&server));
}
