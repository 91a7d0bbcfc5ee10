//! The Kemendagri region codes (province, regency or city, district, village), shipped in
//! `assets/wilayah` with their licence: village codes give the catchment, and a NIK's first
//! six digits name the district that issued it.

use std::collections::HashMap;
use std::sync::OnceLock;

const WILAYAH_CSV: &str = include_str!("../../../assets/wilayah/wilayah.csv");

fn table() -> &'static HashMap<&'static str, &'static str> {
    static TABLE: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        WILAYAH_CSV
            .lines()
            .skip(1)
            .filter_map(|line| {
                let (code, name) = line.split_once(',')?;
                Some((code, name.trim_matches('"')))
            })
            .collect()
    })
}

/// The name of a region, such as `Pondok Aren` for `36.74.03`; `None` if the code is unknown.
pub fn name(code: &str) -> Option<&'static str> {
    table().get(code).copied()
}

/// The villages (desa/kelurahan) under a region code, sorted by code.
pub fn villages_under(code: &str) -> Vec<(&'static str, &'static str)> {
    let prefix = format!("{code}.");
    let mut found: Vec<_> = table()
        .iter()
        .filter(|(c, _)| c.starts_with(&prefix) && c.len() == 13)
        .map(|(c, n)| (*c, *n))
        .collect();
    found.sort_unstable();
    found
}

/// The district a NIK was issued in, `pp.kk.dd`, and whether the region list knows it.
pub fn nik_district(nik: &str) -> Option<(String, Option<&'static str>)> {
    let digits = nik.get(0..6)?;
    let code = format!("{}.{}.{}", &digits[0..2], &digits[2..4], &digits[4..6]);
    let name = name(&code);
    Some((code, name))
}
