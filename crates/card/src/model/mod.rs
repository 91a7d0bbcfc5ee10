//! The data objects of the card (card-application.md §4), each validated at construction,
//! so a value of these types is always one the contract allows.

mod dates;
mod fci;
mod fields;
mod identity;
mod medical;
mod pin;
mod visit;

pub use dates::{format_compact_date, format_iso_date, parse_compact_date, parse_iso_date};
pub use fci::{Fci, LifeCycle};
pub use fields::{
    BloodGroup, BpjsNumber, CardNumber, FacilityCode, Icd10Code, Nik, PatientNumber, RegionCode,
    Sex,
};
pub use identity::{Identity, IdentityFields, IdentityJson, MAX_ADDRESS_BYTES, MAX_NAME_BYTES};
pub use medical::MedicalSummary;
pub use pin::Pin;
pub use visit::{VisitRecord, MAX_VISITS};
