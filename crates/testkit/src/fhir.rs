//! Offline validation against the HL7 FHIR R4 JSON Schema (`fhir/fhir.schema.json`, see
//! its README): every resource Kartika writes must pass it.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde_json::Value;

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_str(include_str!("../fhir/fhir.schema.json"))
            .expect("the FHIR schema is JSON")
    })
}

fn whole() -> &'static jsonschema::Validator {
    static WHOLE: OnceLock<jsonschema::Validator> = OnceLock::new();
    WHOLE.get_or_init(|| jsonschema::draft6::new(schema()).expect("the FHIR schema compiles"))
}

/// Validates against one resource type's definition, whose errors name the wrong field.
fn of_type(resource_type: &str, resource: &Value) -> Vec<String> {
    static BY_TYPE: OnceLock<Mutex<HashMap<String, &'static jsonschema::Validator>>> =
        OnceLock::new();
    let cache = BY_TYPE.get_or_init(Default::default);
    let validator = {
        let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
        *cache.entry(resource_type.to_owned()).or_insert_with(|| {
            let mut one = schema().clone();
            if let Some(map) = one.as_object_mut() {
                map.remove("oneOf");
                map.remove("discriminator");
                map.insert(
                    "$ref".into(),
                    format!("#/definitions/{resource_type}").into(),
                );
            }
            Box::leak(Box::new(
                jsonschema::draft6::new(&one).expect("one type's schema compiles"),
            ))
        })
    };
    validator
        .iter_errors(resource)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(10)
        .collect()
}

/// Fails the test with the schema's errors if `resource` is not valid FHIR R4.
pub fn validate(resource: &Value) {
    let kind = resource["resourceType"].as_str().unwrap_or_default();
    let errors = of_type(kind, resource);
    assert!(
        errors.is_empty(),
        "{kind} is not valid FHIR R4:\n{}",
        errors.join("\n")
    );
    assert!(
        whole().is_valid(resource),
        "{kind} is not one of FHIR R4's resources"
    );
}
