-- The registry, schema version 1 (PostgreSQL). Times are milliseconds since 1970 UTC.

CREATE TABLE node (
    id TEXT PRIMARY KEY,
    roles TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,   -- SHA-256 of the access token, never the token
    certificate BYTEA NOT NULL,
    enrolled_at BIGINT NOT NULL
);

-- Every version of every record, in the registry's own order: seq is the pull cursor.
CREATE TABLE change (
    seq BIGSERIAL PRIMARY KEY,
    change_id BYTEA NOT NULL UNIQUE,    -- the clinic's outbox id: a resend is stored once
    facility TEXT NOT NULL,
    kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    patient_number TEXT NOT NULL,      -- '' for revocations
    payload TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX change_patient ON change (patient_number, seq);
CREATE INDEX change_record ON change (record_id, kind);

CREATE TABLE patient (
    patient_number TEXT PRIMARY KEY,
    nik TEXT,
    facility TEXT NOT NULL
);
CREATE INDEX patient_nik ON patient (nik);

-- Which node has dealt with which patient: what its pulls bring.
CREATE TABLE patient_seen (
    node TEXT NOT NULL,
    patient_number TEXT NOT NULL,
    PRIMARY KEY (node, patient_number)
);

-- One NIK registered for two patients by two facilities: both kept, flagged for the admin.
CREATE TABLE nik_conflict (
    id BIGSERIAL PRIMARY KEY,
    nik TEXT NOT NULL,
    patient_number TEXT NOT NULL,
    other_patient_number TEXT NOT NULL,
    flagged_at BIGINT NOT NULL,
    UNIQUE (patient_number, other_patient_number)
);
