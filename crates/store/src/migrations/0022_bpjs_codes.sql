-- The codes BPJS knows this Puskesmas's units and staff by (P-Care's kdPoli and kdDokter),
-- chosen by an admin from BPJS's own reference lists.
CREATE TABLE bpjs_unit_code (
    unit_code TEXT PRIMARY KEY REFERENCES service_unit (code),
    kd_poli TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE bpjs_staff_code (
    username TEXT PRIMARY KEY REFERENCES staff (username),
    kd_dokter TEXT NOT NULL
) WITHOUT ROWID;
