//! The codes BPJS knows the units and staff by: an admin's to set, anyone's to read.

use kartika_store::{BpjsCode, StoreError};

use crate::support::Clinic;

#[test]
fn an_admin_keeps_bpjs_codes_for_known_units_and_staff_only() {
    let mut clinic = Clinic::new();
    let (admin, desk) = (clinic.admin.clone(), clinic.desk.clone());
    let unit = |unit: &str, kd: &str| BpjsCode::Unit {
        unit: unit.into(),
        kd_poli: kd.into(),
    };
    let refused = clinic
        .store
        .set_bpjs_code(&desk, &unit("general", "001"))
        .unwrap_err();
    assert!(
        matches!(refused, StoreError::NotAllowed { .. }),
        "{refused}"
    );
    let unknown = clinic
        .store
        .set_bpjs_code(&admin, &unit("bedah", "001"))
        .unwrap_err();
    assert!(matches!(unknown, StoreError::NotFound { .. }), "{unknown}");
    clinic
        .store
        .set_bpjs_code(&admin, &unit("general", "001"))
        .unwrap();
    clinic
        .store
        .set_bpjs_code(&admin, &unit("general", "002"))
        .unwrap();
    let codes = clinic
        .store
        .set_bpjs_code(
            &admin,
            &BpjsCode::Staff {
                username: "nurse".into(),
                kd_dokter: "131491".into(),
            },
        )
        .unwrap();
    assert_eq!(codes.units, [("general".to_owned(), "002".to_owned())]);
    assert_eq!(codes.staff, [("nurse".to_owned(), "131491".to_owned())]);
    assert_eq!(
        clinic.store.bpjs_codes(&desk).unwrap(),
        codes,
        "anyone reads them"
    );
}
