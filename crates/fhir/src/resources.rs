//! Patient, Encounter, Condition and Observation from a patient's and a visit's records.

use kartika_card::model::Sex;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::records::{CaseKind, DiagnosisRank, PatientRecord, VisitRecord, VisitStatus};
use crate::{system, Facility, References};

/// A resource and how others refer to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// `Patient/…` on a server, `urn:uuid:…` in a transaction Bundle.
    pub url: String,
    /// The resource.
    pub resource: Value,
}

/// Every time in UTC, `YYYY-MM-DDThh:mm:ss+00:00`, as SATUSEHAT asks.
pub fn utc(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        at.year(),
        at.month() as u8,
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// A stable UUID for a resource Kartika has no id of its own for (a Condition is a visit's
/// diagnosis): the same visit and code always give the same UUID (SHA-256, version 8).
fn derived_uuid(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    let mut b: [u8; 16] = hash.finalize()[..16].try_into().unwrap_or([0; 16]);
    b[6] = (b[6] & 0x0F) | 0x80;
    b[8] = (b[8] & 0x3F) | 0x80;
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
        b[14], b[15]
    )
}

fn entry(kind: &str, server_id: &str, uuid: &str, refs: References, mut resource: Value) -> Entry {
    let url = match refs {
        References::Server => {
            resource["id"] = json!(server_id);
            format!("{kind}/{server_id}")
        }
        References::Bundle | References::Satusehat => format!("urn:uuid:{uuid}"),
    };
    Entry { url, resource }
}

fn patient_ref(p: &PatientRecord, refs: References) -> Value {
    let reference = match refs {
        References::Server => format!("Patient/{}", p.patient_number),
        References::Bundle => format!("urn:uuid:{}", p.id),
        // SATUSEHAT's master patient index owns the patient: referenced, never sent.
        References::Satusehat => match &p.ihs_number {
            Some(ihs) => format!("Patient/{ihs}"),
            None => format!("urn:uuid:{}", p.id),
        },
    };
    json!({ "reference": reference, "display": p.name })
}

fn encounter_ref(v: &VisitRecord, refs: References) -> Value {
    let reference = match refs {
        References::Server => format!("Encounter/{}", v.visit_id),
        References::Bundle | References::Satusehat => format!("urn:uuid:{}", v.visit_id),
    };
    json!({ "reference": reference })
}

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code, "display": display }] })
}

/// Kemendagri codes as SATUSEHAT writes them: province, city, district, village, without
/// dots.
fn administrative_code(region: &str) -> Value {
    let parts: Vec<&str> = region.split('.').collect();
    let names = ["province", "city", "district", "village"];
    let mut extension = Vec::new();
    for (depth, name) in names.iter().enumerate().take(parts.len()) {
        extension.push(json!({ "url": name, "valueCode": parts[..=depth].concat() }));
    }
    json!({ "url": system::ADMINISTRATIVE_CODE, "extension": extension })
}

/// The Patient.
pub fn patient(p: &PatientRecord, refs: References) -> Entry {
    let mut identifier = Vec::new();
    if let Some(nik) = &p.nik {
        identifier.push(json!({ "use": "official", "system": system::NIK, "value": nik }));
    }
    if let Some(ihs) = &p.ihs_number {
        identifier.push(json!({ "use": "official", "system": system::IHS, "value": ihs }));
    }
    identifier.push(
        json!({ "use": "usual", "system": system::PATIENT_NUMBER, "value": p.patient_number }),
    );
    if let Some(bpjs) = &p.bpjs_number {
        identifier.push(json!({ "system": system::BPJS, "value": bpjs }));
    }
    let gender = match p.sex {
        Sex::Male => "male",
        Sex::Female => "female",
        _ => "unknown",
    };
    let mut resource = json!({
        "resourceType": "Patient",
        "identifier": identifier,
        "active": true,
        "name": [{ "use": "official", "text": p.name }],
        "gender": gender,
        "birthDate": p.birth_date,
    });
    if p.address.is_some() || p.region_code.is_some() {
        let mut address = Map::new();
        address.insert("use".into(), json!("home"));
        if let Some(line) = &p.address {
            address.insert("line".into(), json!([line]));
        }
        address.insert("country".into(), json!("ID"));
        if let Some(region) = &p.region_code {
            address.insert("extension".into(), json!([administrative_code(region)]));
        }
        resource["address"] = json!([address]);
    }
    if let Some(phone) = &p.phone {
        resource["telecom"] = json!([{ "system": "phone", "value": phone, "use": "mobile" }]);
    }
    entry("Patient", &p.patient_number, &p.id, refs, resource)
}

/// The Condition id of a visit's diagnosis on a server.
pub fn condition_id(visit_id: &str, code: &str) -> String {
    format!("{visit_id}-{code}")
}

fn condition_url(v: &VisitRecord, code: &str, refs: References) -> String {
    match refs {
        References::Server => format!("Condition/{}", condition_id(&v.visit_id, code)),
        References::Bundle | References::Satusehat => format!(
            "urn:uuid:{}",
            derived_uuid(&[&v.visit_id, "Condition", code])
        ),
    }
}

/// The Encounter: class AMB, the statuses with their periods, who attended, where, and
/// the diagnoses ranked (primary first).
pub fn encounter(v: &VisitRecord, p: &PatientRecord, f: &Facility, refs: References) -> Entry {
    let arrived = utc(v.arrived.at);
    let mut history = Vec::new();
    let status = match v.status {
        VisitStatus::Waiting => {
            history.push(json!({ "status": "arrived", "period": { "start": arrived } }));
            "arrived"
        }
        VisitStatus::Cancelled => {
            let end = v
                .ended
                .as_ref()
                .map_or_else(|| arrived.clone(), |s| utc(s.at));
            history
                .push(json!({ "status": "arrived", "period": { "start": arrived, "end": end } }));
            "cancelled"
        }
        VisitStatus::InProgress | VisitStatus::Finished | VisitStatus::Referred => {
            let started = v
                .started
                .as_ref()
                .map_or_else(|| arrived.clone(), |s| utc(s.at));
            history.push(
                json!({ "status": "arrived", "period": { "start": arrived, "end": started } }),
            );
            match &v.ended {
                Some(end) if v.status != VisitStatus::InProgress => {
                    let ended = utc(end.at);
                    history.push(json!({ "status": "in-progress", "period": { "start": started, "end": ended } }));
                    history.push(
                        json!({ "status": "finished", "period": { "start": ended, "end": ended } }),
                    );
                    "finished"
                }
                _ => {
                    history
                        .push(json!({ "status": "in-progress", "period": { "start": started } }));
                    "in-progress"
                }
            }
        }
    };
    let mut period = json!({ "start": arrived });
    if status == "finished" {
        if let Some(end) = &v.ended {
            period["end"] = json!(utc(end.at));
        }
    }
    let unit_name = f
        .unit_names
        .get(&v.unit_code)
        .cloned()
        .unwrap_or_else(|| v.unit_code.clone());
    let location = match f.locations.get(&v.unit_code) {
        Some(id) => json!({ "reference": format!("Location/{id}"), "display": unit_name }),
        None => json!({ "display": unit_name }),
    };
    let mut resource = json!({
        "resourceType": "Encounter",
        "identifier": [{
            "system": format!("{}/{}", system::ENCOUNTER_PREFIX, f.organization_id),
            "value": v.visit_id,
        }],
        "status": status,
        "statusHistory": history,
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
            "display": "ambulatory",
        },
        "subject": patient_ref(p, refs),
        "period": period,
        "location": [{ "location": location }],
        "serviceProvider": { "reference": format!("Organization/{}", f.organization_id) },
    });
    let attending = v.started.as_ref().or(v.ended.as_ref());
    if let Some(ihs) = attending.and_then(|step| f.practitioners.get(&step.by)) {
        resource["participant"] = json!([{
            "type": [coding(
                "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                "ATND",
                "attender",
            )],
            "individual": { "reference": format!("Practitioner/{ihs}") },
        }]);
    }
    if !v.diagnoses.is_empty() {
        let mut ranked: Vec<_> = v.diagnoses.iter().collect();
        ranked.sort_by_key(|d| d.rank != DiagnosisRank::Primary);
        let diagnosis: Vec<Value> = ranked
            .iter()
            .enumerate()
            .map(|(i, d)| {
                json!({
                    "condition": { "reference": condition_url(v, &d.code, refs), "display": d.title },
                    "use": coding(
                        "http://terminology.hl7.org/CodeSystem/diagnosis-role",
                        "DD",
                        "Discharge diagnosis",
                    ),
                    "rank": i + 1,
                })
            })
            .collect();
        resource["diagnosis"] = json!(diagnosis);
    }
    entry("Encounter", &v.visit_id, &v.visit_id, refs, resource)
}

/// One Condition per diagnosis, active, an encounter diagnosis, kasus baru or lama in
/// Kartika's extension.
pub fn conditions(v: &VisitRecord, p: &PatientRecord, refs: References) -> Vec<Entry> {
    v.diagnoses
        .iter()
        .map(|d| {
            let case = match d.case {
                CaseKind::New => "new",
                CaseKind::Old => "old",
            };
            let resource = json!({
                "resourceType": "Condition",
                "extension": [{ "url": system::CASE_KIND, "valueCode": case }],
                "clinicalStatus": coding(
                    "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "active",
                    "Active",
                ),
                "category": [coding(
                    "http://terminology.hl7.org/CodeSystem/condition-category",
                    "encounter-diagnosis",
                    "Encounter Diagnosis",
                )],
                "code": coding(system::ICD10, &d.code, &d.title),
                "subject": patient_ref(p, refs),
                "encounter": encounter_ref(v, refs),
                "recordedDate": utc(v.ended.as_ref().or(v.started.as_ref()).map_or(v.arrived.at, |s| s.at)),
            });
            let url = condition_url(v, &d.code, refs);
            Entry {
                resource: match refs {
                    References::Server => {
                        let mut r = resource;
                        r["id"] = json!(condition_id(&v.visit_id, &d.code));
                        r
                    }
                    References::Bundle | References::Satusehat => resource,
                },
                url,
            }
        })
        .collect()
}

/// The vital signs measured, one Observation each: LOINC code, its display, the value and
/// its UCUM unit.
fn vital_signs(v: &VisitRecord) -> Vec<(&'static str, &'static str, f64, &'static str)> {
    let vitals = &v.vitals;
    let whole = |n: Option<i64>| n.map(|n| n as f64);
    [
        (
            "8480-6",
            "Systolic blood pressure",
            whole(vitals.systolic),
            "mm[Hg]",
        ),
        (
            "8462-4",
            "Diastolic blood pressure",
            whole(vitals.diastolic),
            "mm[Hg]",
        ),
        ("8867-4", "Heart rate", whole(vitals.pulse), "/min"),
        (
            "9279-1",
            "Respiratory rate",
            whole(vitals.respiratory_rate),
            "/min",
        ),
        ("8310-5", "Body temperature", vitals.temperature, "Cel"),
        ("29463-7", "Body weight", vitals.weight, "kg"),
        ("8302-2", "Body height", vitals.height, "cm"),
    ]
    .into_iter()
    .filter_map(|(code, display, value, unit)| value.map(|value| (code, display, value, unit)))
    .collect()
}

/// One Observation per vital sign recorded at the visit.
pub fn observations(
    v: &VisitRecord,
    p: &PatientRecord,
    f: &Facility,
    refs: References,
) -> Vec<Entry> {
    let when = v.started.as_ref().map_or(v.arrived.at, |s| s.at);
    let performer = v
        .started
        .as_ref()
        .and_then(|s| f.practitioners.get(&s.by))
        .map(|ihs| json!([{ "reference": format!("Practitioner/{ihs}") }]));
    vital_signs(v)
        .into_iter()
        .map(|(code, display, value, unit)| {
            let mut resource = json!({
                "resourceType": "Observation",
                "status": "final",
                "category": [coding(
                    "http://terminology.hl7.org/CodeSystem/observation-category",
                    "vital-signs",
                    "Vital Signs",
                )],
                "code": coding(system::LOINC, code, display),
                "subject": patient_ref(p, refs),
                "encounter": encounter_ref(v, refs),
                "effectiveDateTime": utc(when),
                "valueQuantity": { "value": value, "unit": unit, "system": system::UCUM, "code": unit },
            });
            if let Some(performer) = &performer {
                resource["performer"] = performer.clone();
            }
            let server_id = format!("{}-{code}", v.visit_id);
            let uuid = derived_uuid(&[&v.visit_id, "Observation", code]);
            entry("Observation", &server_id, &uuid, refs, resource)
        })
        .collect()
}
