//! What a clinic and a registry admin rely on, over real HTTP.

use std::io::Write;

use serde_json::json;

use crate::support::{
    now_ms, number, patient, postgres_setup, revocation, sqlite_setup, uuid, visit, Setup, TestCard,
};

fn statuses(answer: &crate::support::Answer) -> Vec<String> {
    answer.body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {}", answer.body))
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect()
}

fn pushes_are_idempotent_record_by_record(s: &Setup) {
    let batch = json!([
        patient(1, &number("P3674060", 1), Some("3674065001900003")),
        visit(2, "P3674060", &number("P3674060", 1)),
        { "id": uuid(3), "kind": "visit", "record_id": "x", "payload": "not an object" },
        { "id": "not-a-uuid", "kind": "visit", "record_id": "x", "payload": {} },
        { "id": uuid(4), "kind": "spaceship", "record_id": "x", "payload": {} },
        visit(5, "P3674060", "P99999999999999"),
    ]);
    let first = s.push(&s.pamulang, batch.clone());
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(
        statuses(&first),
        ["stored", "stored", "rejected", "rejected", "rejected", "rejected"]
    );
    let reasons: Vec<&str> = first.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["reason"].as_str())
        .collect();
    assert!(reasons[0].contains("JSON object"), "{reasons:?}");
    assert!(reasons[1].contains("not a UUID"), "{reasons:?}");
    assert!(reasons[2].contains("malformed"), "{reasons:?}");
    assert!(
        reasons[3].contains("unknown to the registry"),
        "{reasons:?}"
    );
    let again = s.push(&s.pamulang, batch);
    assert_eq!(statuses(&again)[..2], ["duplicate", "duplicate"]);
}

fn nodes_push_only_their_own_facilitys_records(s: &Setup) {
    s.push(
        &s.pamulang,
        json!([patient(10, &number("P3674060", 2), None)]),
    );
    let answer = s.push(
        &s.serpong,
        json!([
            visit(11, "P3674060", &number("P3674060", 2)),
            revocation(12, "P3674060", "6037990000000014"),
        ]),
    );
    assert_eq!(statuses(&answer), ["rejected", "rejected"]);
    assert!(answer.body["results"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("may push only its own"));
    // A visit id already owned by Pamulang cannot be taken over by Serpong.
    s.push(
        &s.pamulang,
        json!([visit(13, "P3674060", &number("P3674060", 2))]),
    );
    let mut hijack = visit(14, "P3674010", &number("P3674060", 2));
    hijack["record_id"] = json!(uuid(500_013));
    hijack["payload"]["visit_id"] = json!(uuid(500_013));
    let answer = s.push(&s.serpong, json!([hijack]));
    assert!(answer.body["results"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("belongs to facility P3674060"));
}

fn no_token_or_a_wrong_one_is_refused_and_stores_nothing(s: &Setup) {
    let body = json!({ "records": [patient(20, &number("P3674060", 3), None)] }).to_string();
    let none = s.post(None, "/v1/push", body.as_bytes());
    assert_eq!(none.status, 401);
    assert!(none.body["error"]
        .as_str()
        .unwrap()
        .contains("Authorization: Bearer"));
    let wrong = s.post(Some("kt_0000"), "/v1/push", body.as_bytes());
    assert_eq!(wrong.status, 401);
    assert_eq!(s.get(None, "/v1/changes").status, 401);
    let history = s.get(
        Some(&s.pamulang),
        &format!("/v1/patients/{}/history", number("P3674060", 3)),
    );
    assert_eq!(history.body, json!([]), "nothing was stored");
}

fn bad_bodies_get_a_clear_4xx(s: &Setup) {
    let malformed = s.post(Some(&s.pamulang), "/v1/push", b"{\"records\": [");
    assert_eq!(malformed.status, 400);
    assert!(malformed.body["error"]
        .as_str()
        .unwrap()
        .contains("not a push request"));
    let wrong_type = s.post(Some(&s.pamulang), "/v1/push", b"{\"records\": 7}");
    assert_eq!(wrong_type.status, 400);
    let too_many: Vec<_> = (0..2_001)
        .map(|n| patient(100_000 + n, &number("P3674060", 4), None))
        .collect();
    assert_eq!(s.push(&s.pamulang, json!(too_many)).status, 413);
    // Refused from its declared length, before the 9 MB are sent (a client still sending
    // would see the connection close under it).
    let status_line = crate::support::declare_body(s, &s.pamulang, 9 * 1024 * 1024);
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
    // A gzip bomb: small on the wire, over the limit unpacked.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![b' '; 20 * 1024 * 1024]).unwrap();
    let bomb = encoder.finish().unwrap();
    let answer = crate::support::gzip_post(s, &s.pamulang, &bomb);
    assert_eq!(answer.status, 413, "{}", answer.body);
    let damaged = crate::support::gzip_post(s, &s.pamulang, b"\x1f\x8b not gzip at all");
    assert_eq!(damaged.status, 400);
}

fn pulls_carry_revocations_and_the_patients_a_node_has_seen(s: &Setup) {
    s.push(
        &s.pamulang,
        json!([patient(
            30,
            &number("P3674060", 5),
            Some("3674061506850001")
        )]),
    );
    s.push(
        &s.pamulang,
        json!([visit(31, "P3674060", &number("P3674060", 5))]),
    );
    let card = TestCard::new("6037990000000022", &number("P3674060", 5));
    s.push(&s.pamulang, json!([card.record(33)]));
    s.push(
        &s.pamulang,
        json!([revocation(32, "P3674060", "6037990000000022")]),
    );
    let before = s.get(Some(&s.serpong), "/v1/changes?after=0");
    let kinds: Vec<&str> = before.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.iter().all(|k| *k == "revocation"), "{kinds:?}");
    // The patient's card at the desk in Serpong: the lookup, and from then on the pulls,
    // bring their records.
    let history = s.post(
        Some(&s.serpong),
        &format!("/v1/patients/{}/history", number("P3674060", 5)),
        card.proof("P3674010", now_ms()).to_string().as_bytes(),
    );
    assert_eq!(
        history.body.as_array().unwrap().len(),
        3,
        "{}",
        history.body
    );
    // Everything Serpong may pull, in one page, then the same in pages of two: the pages
    // join up exactly, in order, and the last one holds the rest.
    let seq_and_kind = |page: &serde_json::Value| -> Vec<(i64, String)> {
        page["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["seq"].as_i64().unwrap(),
                    c["kind"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let whole = s.get(Some(&s.serpong), "/v1/changes?after=0");
    let all = seq_and_kind(&whole.body);
    let kinds: Vec<&str> = all.iter().map(|(_, k)| k.as_str()).collect();
    assert_eq!(kinds, ["patient", "visit", "card", "revocation"], "{all:?}");
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "in registry order");
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = s.get(
            Some(&s.serpong),
            &format!("/v1/changes?after={after}&limit=2"),
        );
        let changes = seq_and_kind(&page.body);
        assert!(!changes.is_empty() && changes.len() <= 2, "{changes:?}");
        paged.extend(changes);
        if page.body["more"] == false {
            assert_eq!(page.link, None, "the last page links no next one");
            break;
        }
        after = page.body["next_after"].as_i64().unwrap();
        assert_eq!(
            after,
            paged.last().unwrap().0,
            "the cursor is the last change's seq"
        );
        // The next page's address is in the headers, before the body is read.
        assert_eq!(
            page.link.as_deref(),
            Some(format!("</v1/changes?after={after}&limit=2>; rel=\"next\"").as_str())
        );
    }
    assert_eq!(paged, all, "the pages hold exactly the whole, in order");
    // A node does not get its own changes back.
    let own = s.get(Some(&s.pamulang), "/v1/changes?after=0");
    assert!(own.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["facility"] != "P3674060"));
}

fn one_nik_from_two_facilities_keeps_both_and_flags_them(s: &Setup) {
    s.push(
        &s.pamulang,
        json!([patient(
            40,
            &number("P3674060", 6),
            Some("3674064101950002")
        )]),
    );
    let answer = s.push(
        &s.serpong,
        json!([patient(
            41,
            &number("P3674010", 1),
            Some("3674064101950002")
        )]),
    );
    assert_eq!(statuses(&answer), ["stored"]);
    let flags = (s.reopen)().nik_conflicts().unwrap();
    let (serpongs, pamulangs) = (number("P3674010", 1), number("P3674060", 6));
    let expected = ("3674064101950002", serpongs.as_str(), pamulangs.as_str());
    let flags: Vec<(&str, &str, &str)> = flags
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        flags,
        [expected],
        "both kept, flagged for the registry admin"
    );
}

fn merge_proposals_keep_to_their_owners_and_are_answered_once(s: &Setup) {
    let (ours, theirs) = (number("P3674060", 21), number("P3674010", 21));
    let (also_ours, other_nik) = (number("P3674060", 22), number("P3674010", 22));
    s.push(
        &s.pamulang,
        json!([
            patient(60, &ours, Some("3674064101950021")),
            patient(61, &also_ours, None)
        ]),
    );
    s.push(
        &s.serpong,
        json!([
            patient(62, &theirs, Some("3674064101950021")),
            patient(63, &other_nik, Some("3674064101950099"))
        ]),
    );
    let propose = |token: &str, survivor: &str, retired: &str| {
        let body = json!({ "survivor": survivor, "retired": retired }).to_string();
        s.post(Some(token), "/v1/merges", body.as_bytes())
    };
    let decide = |token: &str, id: &str, decision: &str| {
        s.post(Some(token), &format!("/v1/merges/{id}/{decision}"), b"{}")
    };
    let refused = |answer: crate::support::Answer, status: u16, words: &str| {
        assert_eq!(answer.status, status, "{}", answer.body);
        let error = answer.body["error"].as_str().unwrap_or_default().to_owned();
        assert!(error.contains(words), "{error}");
    };
    refused(
        propose(&s.pamulang, &ours, &other_nik),
        400,
        "different NIKs",
    );
    // Two records of its own, merged in its admin room: linked at once, told again alike.
    let own = propose(&s.pamulang, &also_ours, &ours);
    assert_eq!(own.body["state"], "accepted", "{}", own.body);
    assert_eq!(
        propose(&s.pamulang, &also_ours, &ours).body["id"],
        own.body["id"]
    );
    let own_id = own.body["id"].as_str().unwrap().to_owned();
    assert_eq!(decide(&s.pamulang, &own_id, "undo").body["state"], "undone");
    refused(
        propose(&s.pamulang, &ours, "P36740609999999"),
        404,
        "unknown",
    );

    let first = propose(&s.pamulang, &ours, &theirs);
    assert_eq!(first.body["state"], "proposed", "{}", first.body);
    let id = first.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        propose(&s.pamulang, &ours, &theirs).body["id"],
        id,
        "a resend"
    );
    refused(
        propose(&s.serpong, &theirs, &ours),
        409,
        "accept or decline",
    );
    assert_eq!(decide(&s.serpong, &id, "decline").body["state"], "declined");
    refused(decide(&s.serpong, &id, "accept"), 409, "declined");

    let second = propose(&s.pamulang, &ours, &theirs);
    let id = second.body["id"].as_str().unwrap().to_owned();
    assert_eq!(decide(&s.serpong, &id, "accept").body["state"], "accepted");
    assert_eq!(
        decide(&s.serpong, &id, "accept").body["state"],
        "accepted",
        "a resend"
    );
    refused(decide(&s.pamulang, &id, "decline"), 409, "undo the link");
    refused(
        decide(&s.pamulang, &id, "merge"),
        404,
        "accept, decline or undo",
    );
    assert_eq!(decide(&s.pamulang, &id, "undo").body["state"], "undone");
    assert_eq!(
        decide(&s.serpong, &id, "undo").body["state"],
        "undone",
        "a resend"
    );
    let board = s.get(Some(&s.pamulang), "/v1/merges");
    let proposals = board.body["proposals"].as_array().unwrap();
    assert_eq!(proposals.len(), 3, "{}", board.body);
}

fn health_and_the_openapi_document_are_served(s: &Setup) {
    assert_eq!(s.get(None, "/healthz").status, 200);
    assert_eq!(s.get(None, "/readyz").status, 200);
    let doc = s.get(None, "/v1/openapi.json");
    assert_eq!(doc.body["openapi"], "3.0.3");
    assert!(doc.body["paths"]["/v1/push"].is_object());
    assert!(doc.body["paths"]["/v1/merges/{id}/{decision}"].is_object());
}

/// The whole suite against one backend.
pub fn suite(s: &Setup) {
    pushes_are_idempotent_record_by_record(s);
    nodes_push_only_their_own_facilitys_records(s);
    no_token_or_a_wrong_one_is_refused_and_stores_nothing(s);
    bad_bodies_get_a_clear_4xx(s);
    pulls_carry_revocations_and_the_patients_a_node_has_seen(s);
    one_nik_from_two_facilities_keeps_both_and_flags_them(s);
    merge_proposals_keep_to_their_owners_and_are_answered_once(s);
    health_and_the_openapi_document_are_served(s);
}

#[test]
fn the_sqlite_backend_passes_the_suite() {
    suite(&sqlite_setup());
}

#[test]
fn the_postgres_backend_passes_the_suite() {
    let server = kartika_testkit::postgres::TestPostgres::start();
    let setup = postgres_setup(&server);
    suite(&setup);
}
