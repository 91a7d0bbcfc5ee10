//! The registry's records as FHIR R4 under `/fhir/r4`, in SATUSEHAT's shape: Patient by
//! id or identifier, Encounter by id or subject, a visit's Conditions and Observations,
//! `Patient/{id}/$everything`, and the CapabilityStatement. The same tokens and trust
//! rules as `/v1` (a read goes through the same storage call as `/v1`'s history); every
//! error is an OperationOutcome with its status.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use kartika_fhir::{system, Entry, Facility, PatientRecord, References, VisitRecord};
use kartika_protocol::Kind;
use serde_json::Value;

use crate::api::{authenticate, with_backend, ApiError, SharedBackend};
use crate::backend::Lookup;

const FHIR_JSON: &str = "application/fhir+json";

/// The FHIR routes.
pub fn routes() -> Router<SharedBackend> {
    Router::new()
        .route("/fhir/r4/metadata", get(metadata))
        .route("/fhir/r4/Patient", get(search_patients))
        .route("/fhir/r4/Patient/{id}", get(read_patient))
        .route("/fhir/r4/Patient/{id}/$everything", get(everything))
        .route("/fhir/r4/Encounter", get(search_encounters))
        .route("/fhir/r4/Encounter/{id}", get(read_encounter))
        .route("/fhir/r4/Condition", get(search_conditions))
        .route("/fhir/r4/Observation", get(search_observations))
}

/// A FHIR answer: the resource, or an OperationOutcome with the status.
struct Fhir(StatusCode, Value);

impl IntoResponse for Fhir {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.1).unwrap_or_default();
        (self.0, [(header::CONTENT_TYPE, FHIR_JSON)], body).into_response()
    }
}

fn outcome(status: StatusCode, code: &str, text: &str) -> Fhir {
    Fhir(status, kartika_fhir::operation_outcome(code, text))
}

impl From<ApiError> for Fhir {
    fn from(error: ApiError) -> Self {
        let code = match error.status() {
            StatusCode::UNAUTHORIZED => "login",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::BAD_REQUEST => "invalid",
            StatusCode::NOT_FOUND => "not-found",
            _ => "exception",
        };
        outcome(error.status(), code, error.message())
    }
}

fn not_found(what: &str) -> Fhir {
    outcome(
        StatusCode::NOT_FOUND,
        "not-found",
        &format!("{what} is not known to the registry"),
    )
}

fn invalid(text: &str) -> Fhir {
    outcome(StatusCode::BAD_REQUEST, "invalid", text)
}

/// A FHIR id: letters, digits, `-` and `.`, 1 to 64 characters.
fn checked_id(id: &str) -> Result<&str, Fhir> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if ok {
        Ok(id)
    } else {
        Err(invalid(&format!("\"{id}\" is not a FHIR id")))
    }
}

/// A patient's newest details and visits, from every stored version, with the records
/// linked to it (one person): their details and visits too.
struct Record {
    patient: PatientRecord,
    /// The records linked to it, directly or through another link.
    linked: Vec<PatientRecord>,
    /// The links in force that name it: (survivor, retired).
    links: Vec<(String, String)>,
    visits: Vec<VisitRecord>,
}

impl Record {
    /// The Patient resource, with `link` naming the record that replaced it or those it
    /// replaces.
    fn patient_entry(&self) -> Entry {
        let mut entry = kartika_fhir::patient(&self.patient, References::Server);
        let number = &self.patient.patient_number;
        let links: Vec<Value> = self
            .links
            .iter()
            .filter_map(|(survivor, retired)| {
                let (other, kind) = if retired == number {
                    (survivor, "replaced-by")
                } else if survivor == number {
                    (retired, "replaces")
                } else {
                    return None;
                };
                Some(serde_json::json!({
                    "other": { "reference": format!("Patient/{other}") },
                    "type": kind,
                }))
            })
            .collect();
        if !links.is_empty() {
            entry.resource["link"] = Value::Array(links);
        }
        entry
    }
}

/// Reads a patient's records through the same call as `/v1`'s history.
async fn record(
    backend: &SharedBackend,
    headers: &HeaderMap,
    number: &str,
) -> Result<Record, Fhir> {
    let node = authenticate(backend, headers).await?;
    let asked = number.to_owned();
    let (changes, links) = with_backend(backend, move |b| {
        let changes = b.patient_history(&node, &asked, Lookup::OwnOrSubscribed)?;
        let links = if changes.iter().any(|c| c.kind == Kind::Link) {
            b.links_of(&asked)?
        } else {
            Vec::new()
        };
        Ok((changes, links))
    })
    .await?;
    let mut patients: BTreeMap<String, PatientRecord> = BTreeMap::new();
    let mut visits: BTreeMap<String, VisitRecord> = BTreeMap::new();
    for change in changes {
        match change.kind {
            Kind::Patient => {
                if let Ok(p) = serde_json::from_str::<PatientRecord>(change.payload.get()) {
                    patients.insert(p.patient_number.clone(), p);
                }
            }
            Kind::Visit => {
                if let Ok(v) = serde_json::from_str::<VisitRecord>(change.payload.get()) {
                    visits.insert(v.visit_id.clone(), v);
                }
            }
            Kind::Card | Kind::Revocation | Kind::Presence | Kind::Link => {}
        }
    }
    let patient = patients
        .remove(number)
        .ok_or_else(|| not_found("This patient"))?;
    let mut visits: Vec<VisitRecord> = visits.into_values().collect();
    visits.sort_by_key(|v| v.arrived.at);
    Ok(Record {
        patient,
        linked: patients.into_values().collect(),
        links,
        visits,
    })
}

/// The mapping's view of the facility a visit took place at: the registry knows its code,
/// not yet its SATUSEHAT ids.
fn facility_of(visit: &VisitRecord) -> Facility {
    Facility {
        organization_id: visit.facility_code.clone(),
        ..Facility::default()
    }
}

fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/fhir/r4")
}

fn visit_entries(record: &Record, visit: &VisitRecord, with_details: bool) -> Vec<Entry> {
    let facility = facility_of(visit);
    let mut entries = vec![kartika_fhir::encounter(
        visit,
        &record.patient,
        &facility,
        References::Server,
    )];
    if with_details {
        entries.extend(kartika_fhir::conditions(
            visit,
            &record.patient,
            References::Server,
        ));
        entries.extend(kartika_fhir::observations(
            visit,
            &record.patient,
            &facility,
            References::Server,
        ));
    }
    entries
}

async fn metadata() -> Fhir {
    let today = time::OffsetDateTime::now_utc().date();
    Fhir(
        StatusCode::OK,
        kartika_fhir::capability_statement(&kartika_card::model::format_iso_date(today)),
    )
}

async fn read_patient(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Fhir, Fhir> {
    let record = record(&backend, &headers, checked_id(&id)?).await?;
    Ok(Fhir(StatusCode::OK, record.patient_entry().resource))
}

async fn everything(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Fhir, Fhir> {
    let record = record(&backend, &headers, checked_id(&id)?).await?;
    let mut entries = vec![record.patient_entry()];
    for other in &record.linked {
        entries.push(kartika_fhir::patient(other, References::Server));
    }
    for visit in &record.visits {
        entries.extend(visit_entries(&record, visit, true));
    }
    Ok(Fhir(
        StatusCode::OK,
        kartika_fhir::searchset(&base(&headers), entries),
    ))
}

/// `identifier=system|value`, with the NIK or the patient number.
async fn search_patients(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Fhir, Fhir> {
    let identifier = query
        .get("identifier")
        .ok_or_else(|| invalid("search Patients by identifier=system|value"))?;
    let (system, value) = identifier
        .split_once('|')
        .ok_or_else(|| invalid("the identifier must be system|value"))?;
    let numbers = match system {
        system::PATIENT_NUMBER => vec![checked_id(value)?.to_owned()],
        system::NIK => {
            if value.len() != 16 || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid("a NIK is 16 digits"));
            }
            authenticate(&backend, &headers).await?;
            let nik = value.to_owned();
            with_backend(&backend, move |b| b.patients_with_nik(&nik)).await?
        }
        other => {
            return Err(invalid(&format!(
                "identifier system {other} is not searchable here; use {} or {}",
                system::NIK,
                system::PATIENT_NUMBER
            )))
        }
    };
    let mut entries = Vec::new();
    for number in numbers {
        match record(&backend, &headers, &number).await {
            Ok(record) => entries.push(record.patient_entry()),
            // Not known, or not this node's to see: the search does not name it.
            Err(Fhir(StatusCode::NOT_FOUND | StatusCode::FORBIDDEN, _)) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(Fhir(
        StatusCode::OK,
        kartika_fhir::searchset(&base(&headers), entries),
    ))
}

/// The visit and its patient's record.
async fn visit_record(
    backend: &SharedBackend,
    headers: &HeaderMap,
    visit_id: &str,
) -> Result<(Record, VisitRecord), Fhir> {
    let visit_id = checked_id(visit_id)?.to_owned();
    authenticate(backend, headers).await?;
    let id = visit_id.clone();
    let number = with_backend(backend, move |b| b.patient_of_record(&id))
        .await?
        .ok_or_else(|| not_found("This encounter"))?;
    let record = record(backend, headers, &number).await?;
    let visit = record
        .visits
        .iter()
        .find(|v| v.visit_id == visit_id)
        .cloned()
        .ok_or_else(|| not_found("This encounter"))?;
    Ok((record, visit))
}

async fn read_encounter(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Fhir, Fhir> {
    let (record, visit) = visit_record(&backend, &headers, &id).await?;
    let facility = facility_of(&visit);
    Ok(Fhir(
        StatusCode::OK,
        kartika_fhir::encounter(&visit, &record.patient, &facility, References::Server).resource,
    ))
}

/// The id in a reference parameter: `Patient/ID` or `ID`.
fn referenced<'q>(
    query: &'q HashMap<String, String>,
    parameter: &str,
    kind: &str,
) -> Result<&'q str, Fhir> {
    let value = query
        .get(parameter)
        .ok_or_else(|| invalid(&format!("search by {parameter}={kind}/ID")))?;
    let id = value.strip_prefix(&format!("{kind}/")).unwrap_or(value);
    checked_id(id)
}

async fn search_encounters(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Fhir, Fhir> {
    let number = referenced(&query, "subject", "Patient")?;
    let record = match record(&backend, &headers, number).await {
        Err(Fhir(StatusCode::NOT_FOUND, _)) => {
            return Ok(Fhir(
                StatusCode::OK,
                kartika_fhir::searchset(&base(&headers), Vec::new()),
            ))
        }
        other => other?,
    };
    let entries = record
        .visits
        .iter()
        .flat_map(|v| visit_entries(&record, v, false))
        .collect();
    Ok(Fhir(
        StatusCode::OK,
        kartika_fhir::searchset(&base(&headers), entries),
    ))
}

async fn search_conditions(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Fhir, Fhir> {
    of_encounter(&backend, &headers, &query, |record, visit| {
        kartika_fhir::conditions(visit, &record.patient, References::Server)
    })
    .await
}

async fn search_observations(
    State(backend): State<SharedBackend>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Fhir, Fhir> {
    of_encounter(&backend, &headers, &query, |record, visit| {
        let facility = facility_of(visit);
        kartika_fhir::observations(visit, &record.patient, &facility, References::Server)
    })
    .await
}

/// A search by `encounter=Encounter/ID`: the resources `of` that visit, as a searchset.
async fn of_encounter(
    backend: &SharedBackend,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    of: impl FnOnce(&Record, &VisitRecord) -> Vec<Entry>,
) -> Result<Fhir, Fhir> {
    let visit_id = referenced(query, "encounter", "Encounter")?;
    let (record, visit) = visit_record(backend, headers, visit_id).await?;
    Ok(Fhir(
        StatusCode::OK,
        kartika_fhir::searchset(&base(headers), of(&record, &visit)),
    ))
}
