-- Schema version 1 of the clinic store.
-- Times are INTEGER milliseconds since 1970 UTC; local dates are TEXT YYYY-MM-DD in the
-- facility's zone. Records that travel to the registry carry a UUID born here, stored as
-- 16 bytes (half the index of its text form).

CREATE TABLE facility (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    region_code TEXT,            -- the catchment: village codes under it are "dalam wilayah"
    utc_offset_minutes INTEGER NOT NULL,
    next_patient_seq INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'registration', 'nurse')),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER
);

CREATE TABLE service_unit (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    queue_prefix TEXT NOT NULL UNIQUE,
    built_in INTEGER NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);

INSERT INTO service_unit (code, name, queue_prefix, built_in) VALUES
    ('general', 'Poli Umum', 'U', 1),
    ('dental', 'Poli Gigi', 'G', 1),
    ('maternal_child', 'KIA', 'K', 1),
    ('family_planning', 'KB', 'B', 1),
    ('immunization', 'Imunisasi', 'I', 1),
    ('elderly', 'Lansia', 'L', 1);

CREATE TABLE patient (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL UNIQUE,
    patient_number TEXT NOT NULL UNIQUE,
    nik TEXT,
    bpjs_number TEXT,
    family_card_number TEXT,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,      -- lower case, accents and punctuation removed
    birth_date TEXT NOT NULL,
    sex INTEGER NOT NULL,        -- ISO/IEC 5218
    blood_group TEXT,
    address TEXT,
    region_code TEXT,
    phone TEXT,
    origin_facility TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- NIK is not UNIQUE: the registry may hand us two patients with one NIK from two
-- facilities, which are kept and flagged. New patients here are checked in code.
CREATE INDEX patient_nik ON patient (nik);
CREATE INDEX patient_bpjs ON patient (bpjs_number);
CREATE INDEX patient_family_card ON patient (family_card_number);
CREATE INDEX patient_birth_name ON patient (birth_date, name_key);
CREATE INDEX patient_name_key ON patient (name_key, birth_date, sex);

CREATE VIRTUAL TABLE patient_name USING fts5 (
    name_key,
    content = 'patient',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER patient_name_insert AFTER INSERT ON patient BEGIN
    INSERT INTO patient_name (rowid, name_key) VALUES (new.id, new.name_key);
END;
CREATE TRIGGER patient_name_update AFTER UPDATE OF name_key ON patient BEGIN
    INSERT INTO patient_name (patient_name, rowid, name_key) VALUES ('delete', old.id, old.name_key);
    INSERT INTO patient_name (rowid, name_key) VALUES (new.id, new.name_key);
END;

-- Possible duplicates, for the admin to look at; never merged by the program.
CREATE TABLE patient_flag (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patient (id),
    other_patient_id INTEGER NOT NULL REFERENCES patient (id),
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    resolved_at INTEGER
);

CREATE TABLE card (
    card_number TEXT PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patient (id),
    status TEXT NOT NULL CHECK (status IN ('active', 'blocked', 'replaced', 'terminated')),
    status_reason TEXT,
    status_changed_at INTEGER NOT NULL,
    status_changed_by TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    replaced_by TEXT
) WITHOUT ROWID;
CREATE INDEX card_patient ON card (patient_id);

-- Every card that must no longer be accepted, ours or (later) from the registry.
CREATE TABLE card_revocation (
    card_number TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    revoked_at INTEGER NOT NULL,
    source TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE visit (
    id INTEGER PRIMARY KEY,
    uuid BLOB NOT NULL,
    patient_id INTEGER NOT NULL REFERENCES patient (id),
    facility_code TEXT NOT NULL,
    unit_code TEXT NOT NULL REFERENCES service_unit (code),
    queue_date TEXT NOT NULL,
    queue_number INTEGER NOT NULL,
    payer TEXT NOT NULL CHECK (payer IN ('general', 'bpjs_pbi', 'bpjs_non_pbi')),
    care TEXT NOT NULL CHECK (care IN ('sick', 'well')),
    first_this_year INTEGER NOT NULL,
    inside_catchment INTEGER,    -- NULL when the patient's village is not known
    status TEXT NOT NULL CHECK (status IN ('waiting', 'in_progress', 'finished', 'referred', 'cancelled')),
    arrived_at INTEGER NOT NULL,
    arrived_by TEXT NOT NULL,
    started_at INTEGER,
    started_by TEXT,
    ended_at INTEGER,
    ended_by TEXT,
    complaint TEXT,
    notes TEXT,
    systolic INTEGER,
    diastolic INTEGER,
    pulse INTEGER,
    respiratory_rate INTEGER,
    temperature REAL,
    weight REAL,
    height REAL,
    version INTEGER NOT NULL DEFAULT 1
);
-- Indexes as statements of their own (not UNIQUE clauses), so a bulk load can drop them
-- and build them once, sorted, at the end.
CREATE UNIQUE INDEX visit_uuid ON visit (uuid);
-- A queue number is never given twice. Date first: also the index of a day's visits.
CREATE UNIQUE INDEX visit_queue ON visit (queue_date, unit_code, queue_number);
CREATE INDEX visit_patient ON visit (patient_id, arrived_at);

CREATE TABLE diagnosis (
    visit_id INTEGER NOT NULL REFERENCES visit (id),
    code TEXT NOT NULL,
    is_primary INTEGER NOT NULL,
    new_case INTEGER NOT NULL,   -- kasus baru: the patient's first diagnosis with this code
    patient_id INTEGER NOT NULL REFERENCES patient (id),
    recorded_at INTEGER NOT NULL,
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (visit_id, code)
) WITHOUT ROWID;
-- One primary diagnosis per visit is checked in code, inside the immediate transaction.
CREATE INDEX diagnosis_patient_code ON diagnosis (patient_id, code);

-- A SHA-256 chain: each entry's hash covers the previous hash and the entry itself.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    patient_number TEXT,
    detail TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
);
CREATE INDEX audit_patient ON audit_log (patient_number);
-- The newest entry's hash, kept apart, so deleting the last entries is noticed too.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Changes the registry must learn of, written in the transaction of the change itself.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('patient', 'card', 'visit', 'revocation')),
    record_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    rejected_at INTEGER,
    rejected_reason TEXT
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_at IS NULL AND rejected_at IS NULL;
