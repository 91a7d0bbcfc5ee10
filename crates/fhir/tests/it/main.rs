//! The mapping checked against the HL7 FHIR R4 JSON Schema, offline, and against
//! SATUSEHAT's rules: identifier systems, the three statuses with their periods, UTC times,
//! and references that resolve inside a transaction Bundle.

mod support;

use kartika_fhir::{system, References};
use serde_json::Value;

use support::{finished_visit, validate, Visit};

#[test]
fn every_resource_of_a_finished_visit_is_valid_fhir_r4() {
    let Visit {
        patient,
        visit,
        facility,
        ..
    } = finished_visit();
    let mut resources = vec![kartika_fhir::patient(&patient, References::Server).resource];
    resources
        .push(kartika_fhir::encounter(&visit, &patient, &facility, References::Server).resource);
    resources.extend(
        kartika_fhir::conditions(&visit, &patient, References::Server)
            .into_iter()
            .map(|e| e.resource),
    );
    resources.extend(
        kartika_fhir::observations(&visit, &patient, &facility, References::Server)
            .into_iter()
            .map(|e| e.resource),
    );
    assert_eq!(
        resources.len(),
        1 + 1 + 2 + 7,
        "patient, encounter, two diagnoses, seven vital signs"
    );
    for resource in &resources {
        validate(resource);
    }
}

#[test]
fn the_patient_carries_nik_number_and_bpjs_under_their_systems() {
    let Visit { patient, .. } = finished_visit();
    let fhir = kartika_fhir::patient(&patient, References::Server).resource;
    let id = |system: &str| {
        fhir["identifier"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["system"] == system)
            .map(|i| i["value"].as_str().unwrap().to_owned())
    };
    assert_eq!(id(system::NIK).as_deref(), patient.nik.as_deref());
    assert_eq!(
        id(system::PATIENT_NUMBER).as_deref(),
        Some(patient.patient_number.as_str())
    );
    assert_eq!(id(system::BPJS).as_deref(), patient.bpjs_number.as_deref());
    assert_eq!(id(system::IHS).as_deref(), Some("P02478375538"));
    assert_eq!(fhir["gender"], "female");
    assert_eq!(fhir["birthDate"], "1990-01-10");
    let codes = &fhir["address"][0]["extension"][0]["extension"];
    assert_eq!(codes[3]["url"], "village");
    assert_eq!(codes[3]["valueCode"], "3674061001");
    assert_eq!(fhir["id"], patient.patient_number.as_str());
}

#[test]
fn the_encounter_has_its_statuses_periods_and_ranked_diagnoses() {
    let Visit {
        patient,
        visit,
        facility,
        ..
    } = finished_visit();
    let e = kartika_fhir::encounter(&visit, &patient, &facility, References::Server).resource;
    assert_eq!(e["status"], "finished");
    assert_eq!(e["class"]["code"], "AMB");
    assert_eq!(
        e["class"]["system"],
        "http://terminology.hl7.org/CodeSystem/v3-ActCode"
    );
    assert_eq!(
        e["identifier"][0]["system"],
        format!(
            "http://sys-ids.kemkes.go.id/encounter/{}",
            facility.organization_id
        )
    );
    let statuses: Vec<&str> = e["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["arrived", "in-progress", "finished"]);
    let history = e["statusHistory"].as_array().unwrap();
    for pair in history.windows(2) {
        assert_eq!(
            pair[0]["period"]["end"], pair[1]["period"]["start"],
            "one status ends as the next starts"
        );
    }
    assert_eq!(e["period"]["start"], "2026-11-28T02:00:00+00:00");
    assert_eq!(e["period"]["end"], "2026-11-28T02:25:00+00:00");
    assert!(e["period"]["end"].as_str() > e["period"]["start"].as_str());
    assert_eq!(e["participant"][0]["type"][0]["coding"][0]["code"], "ATND");
    assert_eq!(
        e["participant"][0]["individual"]["reference"],
        "Practitioner/N10000001"
    );
    assert_eq!(
        e["location"][0]["location"]["reference"],
        "Location/b017aa54-f1df-4ec2-9d84-8823815d7228"
    );
    assert_eq!(
        e["serviceProvider"]["reference"],
        format!("Organization/{}", facility.organization_id)
    );
    let diagnoses = e["diagnosis"].as_array().unwrap();
    assert_eq!(diagnoses[0]["rank"], 1);
    assert_eq!(
        diagnoses[0]["condition"]["reference"],
        format!("Condition/{}-I10", visit.visit_id)
    );
    assert_eq!(diagnoses[1]["rank"], 2);
    assert_eq!(diagnoses[0]["use"]["coding"][0]["code"], "DD");
}

#[test]
fn conditions_and_observations_follow_satusehat() {
    let Visit {
        patient,
        visit,
        facility,
        ..
    } = finished_visit();
    let conditions = kartika_fhir::conditions(&visit, &patient, References::Server);
    let hypertension = &conditions
        .iter()
        .find(|c| c.resource["code"]["coding"][0]["code"] == "I10")
        .unwrap()
        .resource;
    assert_eq!(
        hypertension["code"]["coding"][0]["system"],
        "http://hl7.org/fhir/sid/icd-10"
    );
    assert_eq!(
        hypertension["category"][0]["coding"][0]["code"],
        "encounter-diagnosis"
    );
    assert_eq!(
        hypertension["clinicalStatus"]["coding"][0]["code"],
        "active"
    );
    assert_eq!(hypertension["extension"][0]["url"], system::CASE_KIND);
    assert_eq!(hypertension["extension"][0]["valueCode"], "new");
    let observations = kartika_fhir::observations(&visit, &patient, &facility, References::Server);
    let by_code = |code: &str| -> &Value {
        &observations
            .iter()
            .find(|o| o.resource["code"]["coding"][0]["code"] == code)
            .unwrap()
            .resource
    };
    assert_eq!(by_code("8480-6")["valueQuantity"]["value"], 150.0);
    assert_eq!(
        by_code("8462-4")["valueQuantity"]["value"],
        95.0,
        "diastolic apart, as SATUSEHAT wants"
    );
    assert_eq!(by_code("8310-5")["valueQuantity"]["code"], "Cel");
    assert_eq!(by_code("29463-7")["valueQuantity"]["value"], 62.5);
    for o in &observations {
        assert_eq!(
            o.resource["category"][0]["coding"][0]["code"],
            "vital-signs"
        );
        assert_eq!(
            o.resource["valueQuantity"]["system"],
            "http://unitsofmeasure.org"
        );
        assert_eq!(
            o.resource["performer"][0]["reference"],
            "Practitioner/N10000001"
        );
        assert!(o.resource["component"].is_null(), "no LOINC components");
    }
}

/// Every time in the resource is UTC in SATUSEHAT's form.
fn times_are_utc(value: &Value) {
    match value {
        Value::String(s) if s.len() == 25 && s.as_bytes()[10] == b'T' => {
            assert!(s.ends_with("+00:00"), "{s}");
        }
        Value::Array(items) => items.iter().for_each(times_are_utc),
        Value::Object(map) => map.values().for_each(times_are_utc),
        _ => {}
    }
}

#[test]
fn a_transaction_bundle_refers_only_inside_itself_by_urn_uuid() {
    let Visit {
        patient,
        visit,
        facility,
        ..
    } = finished_visit();
    let mut entries = vec![kartika_fhir::patient(&patient, References::Bundle)];
    entries.push(kartika_fhir::encounter(
        &visit,
        &patient,
        &facility,
        References::Bundle,
    ));
    entries.extend(kartika_fhir::conditions(
        &visit,
        &patient,
        References::Bundle,
    ));
    entries.extend(kartika_fhir::observations(
        &visit,
        &patient,
        &facility,
        References::Bundle,
    ));
    let bundle = kartika_fhir::transaction(entries);
    assert_eq!(bundle["type"], "transaction");
    let entries = bundle["entry"].as_array().unwrap();
    let urls: Vec<&str> = entries
        .iter()
        .map(|e| e["fullUrl"].as_str().unwrap())
        .collect();
    assert!(
        urls.iter()
            .all(|u| u.starts_with("urn:uuid:") && u.len() == 45),
        "{urls:?}"
    );
    let mut references = Vec::new();
    fn collect<'a>(value: &'a Value, into: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("reference") {
                    into.push(r);
                }
                map.values().for_each(|v| collect(v, into));
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, into)),
            _ => {}
        }
    }
    for entry in entries {
        collect(&entry["resource"], &mut references);
        assert_eq!(entry["request"]["method"], "POST");
        validate(&entry["resource"]);
        times_are_utc(&entry["resource"]);
    }
    let internal: Vec<&&str> = references
        .iter()
        .filter(|r| r.starts_with("urn:uuid:"))
        .collect();
    assert!(internal.len() > 10);
    for r in internal {
        assert!(urls.contains(r), "{r} resolves inside the Bundle");
    }
    let external: Vec<&&str> = references
        .iter()
        .filter(|r| !r.starts_with("urn:uuid:"))
        .collect();
    assert!(
        external.iter().all(|r| r.starts_with("Organization/")
            || r.starts_with("Location/")
            || r.starts_with("Practitioner/")),
        "{external:?}"
    );
    validate(&bundle);
}

#[test]
fn an_operation_outcome_and_the_capability_statement_are_valid() {
    validate(&kartika_fhir::operation_outcome(
        "not-found",
        "Patient X is not known",
    ));
    let statement = kartika_fhir::capability_statement("2026-11-28");
    assert_eq!(statement["fhirVersion"], "4.0.1");
    // The published R4 schema's list of versions ends at 4.0.0 (it predates the 4.0.1
    // technical correction that R4 servers report): the rest is checked as 4.0.0.
    let mut checked = statement.clone();
    checked["fhirVersion"] = "4.0.0".into();
    validate(&checked);
}

#[test]
fn the_records_come_back_out_of_their_resources() {
    let Visit {
        patient,
        visit,
        facility,
        ..
    } = finished_visit();
    let observations = kartika_fhir::observations(&visit, &patient, &facility, References::Server);
    let value = |code: &str| {
        observations
            .iter()
            .find(|o| o.resource["code"]["coding"][0]["code"] == code)
            .and_then(|o| o.resource["valueQuantity"]["value"].as_f64())
    };
    let vitals = &visit.vitals;
    assert_eq!(value("8480-6"), vitals.systolic.map(|v| v as f64));
    assert_eq!(value("8462-4"), vitals.diastolic.map(|v| v as f64));
    assert_eq!(value("8867-4"), vitals.pulse.map(|v| v as f64));
    assert_eq!(value("9279-1"), vitals.respiratory_rate.map(|v| v as f64));
    assert_eq!(value("8310-5"), vitals.temperature);
    assert_eq!(value("29463-7"), vitals.weight);
    assert_eq!(value("8302-2"), vitals.height);
    let conditions = kartika_fhir::conditions(&visit, &patient, References::Server);
    let codes: Vec<(&str, &str)> = conditions
        .iter()
        .map(|c| {
            (
                c.resource["code"]["coding"][0]["code"].as_str().unwrap(),
                c.resource["extension"][0]["valueCode"].as_str().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(&str, &str)> = visit
        .diagnoses
        .iter()
        .map(|d| {
            (
                d.code.as_str(),
                if d.case == kartika_fhir::CaseKind::New {
                    "new"
                } else {
                    "old"
                },
            )
        })
        .collect();
    assert_eq!(codes, expected);
    let encounter =
        kartika_fhir::encounter(&visit, &patient, &facility, References::Server).resource;
    assert_eq!(
        encounter["period"]["start"],
        kartika_fhir::utc(visit.arrived.at)
    );
    assert_eq!(encounter["identifier"][0]["value"], visit.visit_id.as_str());
}

#[test]
fn visits_not_yet_finished_say_where_they_stand() {
    let Visit {
        patient,
        visit,
        facility,
        ..
    } = finished_visit();
    let statuses = |v: &kartika_fhir::VisitRecord| {
        let e = kartika_fhir::encounter(v, &patient, &facility, References::Server).resource;
        validate(&e);
        let history: Vec<String> = e["statusHistory"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["status"].as_str().unwrap().to_owned())
            .collect();
        (
            e["status"].as_str().unwrap().to_owned(),
            history,
            e["period"]["end"].is_null(),
        )
    };
    let mut waiting = visit.clone();
    waiting.status = kartika_fhir::VisitStatus::Waiting;
    waiting.started = None;
    waiting.ended = None;
    assert_eq!(
        statuses(&waiting),
        ("arrived".into(), vec!["arrived".into()], true)
    );
    let mut seen = visit.clone();
    seen.status = kartika_fhir::VisitStatus::InProgress;
    seen.ended = None;
    assert_eq!(
        statuses(&seen),
        (
            "in-progress".into(),
            vec!["arrived".into(), "in-progress".into()],
            true
        )
    );
    let mut cancelled = waiting.clone();
    cancelled.status = kartika_fhir::VisitStatus::Cancelled;
    assert_eq!(
        statuses(&cancelled),
        ("cancelled".into(), vec!["arrived".into()], true)
    );
}
