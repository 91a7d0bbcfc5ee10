-- Schema version 2 (PostgreSQL): every node a stranger. Ownership of patients and cards,
-- proofs of presence used once, who looked at whom, and the clinics' audit heads.

ALTER TABLE patient ADD COLUMN patient_id TEXT;
UPDATE patient SET patient_id = (
    SELECT c.payload::jsonb ->> 'id' FROM change c
    WHERE c.kind = 'patient' AND c.patient_number = patient.patient_number
    ORDER BY c.seq LIMIT 1);
CREATE INDEX patient_by_id ON patient (patient_id);

CREATE TABLE card (
    card_number TEXT PRIMARY KEY,
    facility TEXT NOT NULL,
    patient_number TEXT NOT NULL,
    public_key BYTEA
);
INSERT INTO card (card_number, facility, patient_number)
    SELECT DISTINCT ON (record_id) record_id, facility, patient_number FROM change
    WHERE kind = 'card' ORDER BY record_id, seq;

ALTER TABLE node ADD COLUMN revoked_at BIGINT;
ALTER TABLE node ADD COLUMN revoked_reason TEXT;

CREATE TABLE presence_used (
    signature_hash BYTEA PRIMARY KEY,
    node TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

CREATE TABLE access_log (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    node TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE TABLE access_patient (
    access_id BIGINT NOT NULL REFERENCES access_log (id),
    patient_number TEXT NOT NULL,
    PRIMARY KEY (patient_number, access_id)
);

CREATE TABLE audit_head (
    node TEXT NOT NULL,
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (node, seq)
);

DELETE FROM patient_seen WHERE NOT EXISTS (
    SELECT 1 FROM change c
    WHERE c.facility = patient_seen.node AND c.patient_number = patient_seen.patient_number);
