//! The registry's FHIR R4 views over real HTTP, on both backends: every answer valid
//! against the HL7 R4 JSON Schema, every error an OperationOutcome with its status.

use kartika_testkit::clinic::{finished_visit, FinishedVisit};
use kartika_testkit::fhir::validate;
use serde_json::{json, Value};

use crate::support::{postgres_setup, sqlite_setup, uuid, Answer, Setup};

fn entries(answer: &Answer) -> Vec<Value> {
    assert_eq!(answer.body["resourceType"], "Bundle", "{}", answer.body);
    assert_eq!(answer.body["type"], "searchset");
    let entries = answer.body["entry"].as_array().cloned().unwrap_or_default();
    assert_eq!(answer.body["total"], entries.len());
    for entry in &entries {
        assert!(entry["fullUrl"].as_str().unwrap().contains("/fhir/r4/"));
        validate(&entry["resource"]);
    }
    validate(&answer.body);
    entries
}

fn refused(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(
        answer.body["resourceType"], "OperationOutcome",
        "{}",
        answer.body
    );
    assert_eq!(answer.body["issue"][0]["code"], code);
    validate(&answer.body);
}

fn views(s: &Setup) {
    let FinishedVisit { patient, visit, .. } = finished_visit();
    let pushed = s.push(
        &s.pamulang,
        json!([
            { "id": uuid(700_001), "kind": "patient", "record_id": patient.id,
              "payload": serde_json::to_value(&patient).unwrap() },
            { "id": uuid(700_002), "kind": "visit", "record_id": visit.visit_id,
              "payload": serde_json::to_value(&visit).unwrap() },
        ]),
    );
    assert_eq!(pushed.status, 200, "{}", pushed.body);
    let number = &patient.patient_number;
    let token = Some(s.pamulang.as_str());

    let metadata = s.get(None, "/fhir/r4/metadata");
    assert_eq!(metadata.status, 200);
    assert_eq!(metadata.body["resourceType"], "CapabilityStatement");

    let read = s.get(token, &format!("/fhir/r4/Patient/{number}"));
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["id"], number.as_str());
    validate(&read.body);

    let nik = patient.nik.clone().unwrap();
    let by_nik = s.get(
        token,
        &format!("/fhir/r4/Patient?identifier=https://fhir.kemkes.go.id/id/nik|{nik}"),
    );
    let found = entries(&by_nik);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["resource"]["id"], number.as_str());
    let nobody = s.get(
        token,
        "/fhir/r4/Patient?identifier=https://fhir.kemkes.go.id/id/nik|3674065001909999",
    );
    assert!(entries(&nobody).is_empty());

    let encounter = s.get(token, &format!("/fhir/r4/Encounter/{}", visit.visit_id));
    assert_eq!(encounter.status, 200, "{}", encounter.body);
    assert_eq!(encounter.body["status"], "finished");
    assert_eq!(
        encounter.body["subject"]["reference"],
        format!("Patient/{number}")
    );
    validate(&encounter.body);
    let of_patient = s.get(
        token,
        &format!("/fhir/r4/Encounter?subject=Patient/{number}"),
    );
    assert_eq!(entries(&of_patient).len(), 1);
    let conditions = s.get(
        token,
        &format!("/fhir/r4/Condition?encounter=Encounter/{}", visit.visit_id),
    );
    assert_eq!(entries(&conditions).len(), 2);
    let observations = s.get(
        token,
        &format!(
            "/fhir/r4/Observation?encounter=Encounter/{}",
            visit.visit_id
        ),
    );
    assert_eq!(entries(&observations).len(), 7);
    let everything = s.get(token, &format!("/fhir/r4/Patient/{number}/$everything"));
    let all = entries(&everything);
    assert_eq!(all.len(), 1 + 1 + 2 + 7);

    refused(
        &s.get(token, "/fhir/r4/Patient/P99999999999999"),
        404,
        "not-found",
    );
    refused(
        &s.get(
            token,
            "/fhir/r4/Encounter/0190f0a0-0000-7000-8000-999999999999",
        ),
        404,
        "not-found",
    );
    refused(
        &s.get(token, "/fhir/r4/Patient?identifier=nik-without-system"),
        400,
        "invalid",
    );
    refused(
        &s.get(token, "/fhir/r4/Patient?identifier=http://example.org/x|1"),
        400,
        "invalid",
    );
    refused(
        &s.get(
            token,
            "/fhir/r4/Patient?identifier=https://fhir.kemkes.go.id/id/nik|123",
        ),
        400,
        "invalid",
    );
    refused(&s.get(token, "/fhir/r4/Patient"), 400, "invalid");
    refused(&s.get(token, "/fhir/r4/Patient/bad$id"), 400, "invalid");
    refused(
        &s.get(None, &format!("/fhir/r4/Patient/{number}")),
        401,
        "login",
    );
    refused(
        &s.get(Some("kt_wrong"), &format!("/fhir/r4/Patient/{number}")),
        401,
        "login",
    );
}

#[test]
fn the_fhir_views_on_sqlite() {
    views(&sqlite_setup());
}

#[test]
fn the_fhir_views_on_postgres() {
    let server = kartika_testkit::postgres::TestPostgres::start();
    views(&postgres_setup(&server));
}

/// One person registered at Pamulang and at Serpong, linked once both agreed: each record
/// names the other in `link`, and `$everything` on either gives both histories.
fn linked_records(s: &Setup) {
    let FinishedVisit { patient, visit, .. } = finished_visit();
    let number = patient.patient_number.clone();
    let other = crate::support::number("P3674010", 1);
    let mut again = serde_json::to_value(&patient).unwrap();
    again["id"] = json!(uuid(710_000));
    again["patient_number"] = json!(other);
    again["origin_facility"] = json!("P3674010");
    let mut visit_again = serde_json::to_value(&visit).unwrap();
    visit_again["visit_id"] = json!(uuid(710_001));
    visit_again["facility_code"] = json!("P3674010");
    visit_again["patient_number"] = json!(other);
    let pushed = s.push(
        &s.pamulang,
        json!([
            { "id": uuid(710_002), "kind": "patient", "record_id": patient.id,
              "payload": serde_json::to_value(&patient).unwrap() },
            { "id": uuid(710_003), "kind": "visit", "record_id": visit.visit_id,
              "payload": serde_json::to_value(&visit).unwrap() },
        ]),
    );
    assert_eq!(pushed.status, 200, "{}", pushed.body);
    let pushed = s.push(
        &s.serpong,
        json!([
            { "id": uuid(710_004), "kind": "patient", "record_id": uuid(710_000), "payload": again },
            { "id": uuid(710_005), "kind": "visit", "record_id": uuid(710_001), "payload": visit_again },
        ]),
    );
    assert_eq!(pushed.status, 200, "{}", pushed.body);
    let proposed = s.post(
        Some(&s.pamulang),
        "/v1/merges",
        json!({ "survivor": number, "retired": other })
            .to_string()
            .as_bytes(),
    );
    assert_eq!(proposed.status, 200, "{}", proposed.body);
    let id = proposed.body["id"].as_str().unwrap().to_owned();
    let accepted = s.post(Some(&s.serpong), &format!("/v1/merges/{id}/accept"), b"{}");
    assert_eq!(accepted.body["state"], "accepted", "{}", accepted.body);

    let retired = s.get(Some(&s.serpong), &format!("/fhir/r4/Patient/{other}"));
    assert_eq!(retired.status, 200, "{}", retired.body);
    validate(&retired.body);
    assert_eq!(
        retired.body["link"],
        json!([{ "other": { "reference": format!("Patient/{number}") }, "type": "replaced-by" }])
    );
    let survivor = s.get(Some(&s.pamulang), &format!("/fhir/r4/Patient/{number}"));
    assert_eq!(
        survivor.body["link"],
        json!([{ "other": { "reference": format!("Patient/{other}") }, "type": "replaces" }])
    );
    for (token, asked) in [(&s.serpong, &other), (&s.pamulang, &number)] {
        let everything = s.get(
            Some(token),
            &format!("/fhir/r4/Patient/{asked}/$everything"),
        );
        let all = entries(&everything);
        let of = |kind: &str| {
            all.iter()
                .filter(|e| e["resource"]["resourceType"] == kind)
                .count()
        };
        assert_eq!(
            (of("Patient"), of("Encounter")),
            (2, 2),
            "asked for {asked}"
        );
        assert_eq!(
            all[0]["resource"]["id"],
            asked.as_str(),
            "the record asked for first"
        );
    }

    let undone = s.post(Some(&s.pamulang), &format!("/v1/merges/{id}/undo"), b"{}");
    assert_eq!(undone.body["state"], "undone", "{}", undone.body);
    let alone = s.get(
        Some(&s.serpong),
        &format!("/fhir/r4/Patient/{other}/$everything"),
    );
    assert_eq!(entries(&alone).len(), 1 + 1 + 2 + 7, "two records again");
}

#[test]
fn linked_records_on_sqlite() {
    linked_records(&sqlite_setup());
}

#[test]
fn linked_records_on_postgres() {
    let server = kartika_testkit::postgres::TestPostgres::start();
    linked_records(&postgres_setup(&server));
}
