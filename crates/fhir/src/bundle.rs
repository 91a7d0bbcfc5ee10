//! Bundles (a server's search results, a clinic's transaction), OperationOutcome for
//! errors, and the CapabilityStatement of what the registry serves.

use serde_json::{json, Map, Value};

use crate::resources::Entry;

/// An object from its fields, moving each value in: `json!` would copy a `Value` it is
/// given by serializing it again, which for a Bundle of ten thousand encounters is most of
/// the work.
fn object(fields: Vec<(&str, Value)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Map<_, _>>(),
    )
}

/// A searchset Bundle: `base` is the server's FHIR base URL, for absolute fullUrls.
pub fn searchset(base: &str, entries: Vec<Entry>) -> Value {
    let total = entries.len();
    let entry: Vec<Value> = entries
        .into_iter()
        .map(|e| {
            object(vec![
                (
                    "fullUrl",
                    Value::String(format!("{}/{}", base.trim_end_matches('/'), e.url)),
                ),
                ("resource", e.resource),
                ("search", json!({ "mode": "match" })),
            ])
        })
        .collect();
    object(vec![
        ("resourceType", json!("Bundle")),
        ("type", json!("searchset")),
        ("total", json!(total)),
        ("entry", Value::Array(entry)),
    ])
}

/// A transaction Bundle to submit: each entry under its `urn:uuid:` fullUrl, POSTed to its
/// resource type; references between them are by those URNs.
pub fn transaction(entries: Vec<Entry>) -> Value {
    let entry: Vec<Value> = entries.into_iter().map(transaction_entry).collect();
    object(vec![
        ("resourceType", json!("Bundle")),
        ("type", json!("transaction")),
        ("entry", Value::Array(entry)),
    ])
}

/// One entry of a transaction Bundle.
pub(crate) fn transaction_entry(e: Entry) -> Value {
    let kind = e.resource["resourceType"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    object(vec![
        ("fullUrl", Value::String(e.url)),
        ("resource", e.resource),
        ("request", json!({ "method": "POST", "url": kind })),
    ])
}

/// An error as FHIR says it: `code` from the issue-type value set (`not-found`,
/// `invalid`, `security`, `login`, `exception`…) and words a person can act on.
pub fn operation_outcome(code: &str, diagnostics: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{ "severity": "error", "code": code, "diagnostics": diagnostics }],
    })
}

/// What the registry's FHIR endpoint serves.
pub fn capability_statement(date: &str) -> Value {
    let search = |name: &str, kind: &str| json!({ "name": name, "type": kind });
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "Kartika",
        "kind": "instance",
        "software": { "name": "Kartika registry" },
        "implementation": { "description": "Kartika registry, FHIR R4 views (SATUSEHAT shape)" },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [{
            "mode": "server",
            "security": { "description": "Bearer token issued at node enrolment, as for /v1" },
            "resource": [
                {
                    "type": "Patient",
                    "interaction": [{ "code": "read" }, { "code": "search-type" }],
                    "searchParam": [search("identifier", "token")],
                    "operation": [{
                        "name": "everything",
                        "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                    }],
                },
                {
                    "type": "Encounter",
                    "interaction": [{ "code": "read" }, { "code": "search-type" }],
                    "searchParam": [search("subject", "reference")],
                },
                {
                    "type": "Condition",
                    "interaction": [{ "code": "search-type" }],
                    "searchParam": [search("encounter", "reference")],
                },
                {
                    "type": "Observation",
                    "interaction": [{ "code": "search-type" }],
                    "searchParam": [search("encounter", "reference")],
                },
            ],
        }],
    })
}
