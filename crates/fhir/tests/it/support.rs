//! A finished visit in a real clinic store, as the mapping reads it, the facility's SATUSEHAT ids, and the FHIR R4
//! JSON Schema.

use std::collections::HashMap;

use kartika_fhir::{Facility, PatientRecord, VisitRecord};
pub use kartika_testkit::fhir::validate;

pub struct Visit {
    pub patient: PatientRecord,
    pub visit: VisitRecord,
    pub facility: Facility,
    _dir: tempfile::TempDir,
}

/// Siti's finished visit at Poli Umum, with the facility's SATUSEHAT ids known.
pub fn finished_visit() -> Visit {
    let kartika_testkit::clinic::FinishedVisit {
        patient,
        visit,
        dir,
    } = kartika_testkit::clinic::finished_visit();
    let facility = Facility {
        organization_id: "10000004".into(),
        locations: HashMap::from([(
            "general".into(),
            "b017aa54-f1df-4ec2-9d84-8823815d7228".into(),
        )]),
        unit_names: HashMap::from([("general".into(), "Poli Umum".into())]),
        practitioners: HashMap::from([("perawat".into(), "N10000001".into())]),
    };
    Visit {
        patient: PatientRecord::from(&patient),
        visit: VisitRecord::from(&visit),
        facility,
        _dir: dir,
    }
}
