-- Schema version 2 (SQLite): every node a stranger. Ownership of patients and cards,
-- proofs of presence used once, who looked at whom, and the clinics' audit heads.

-- The patient's id (a UUID born at its Puskesmas): another patient may not take it.
ALTER TABLE patient ADD COLUMN patient_id TEXT;
UPDATE patient SET patient_id = (
    SELECT json_extract(c.payload, '$.id') FROM change c
    WHERE c.kind = 'patient' AND c.patient_number = patient.patient_number
    ORDER BY c.seq LIMIT 1);
CREATE INDEX patient_by_id ON patient (patient_id);

-- Cards as their issuers pushed them: who may revoke them, and the key that proves
-- presence.
CREATE TABLE card (
    card_number TEXT PRIMARY KEY,
    facility TEXT NOT NULL,            -- the issuing node
    patient_number TEXT NOT NULL,
    public_key BLOB                    -- DF10, 65 bytes; NULL for a card pushed without it
) WITHOUT ROWID;
INSERT INTO card (card_number, facility, patient_number)
    SELECT record_id, facility, patient_number FROM change
    WHERE seq IN (SELECT min(seq) FROM change WHERE kind = 'card' GROUP BY record_id);

-- A node taken off the network: its token is refused, and cards it signs from this date
-- are not genuine.
ALTER TABLE node ADD COLUMN revoked_at INTEGER;
ALTER TABLE node ADD COLUMN revoked_reason TEXT;

-- Each proof of presence opens one lookup.
CREATE TABLE presence_used (
    signature_hash BLOB PRIMARY KEY,
    node TEXT NOT NULL,
    received_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Who has seen which patient (UU PDP 27/2022): every answer that named patients.
CREATE TABLE access_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    node TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE TABLE access_patient (
    access_id INTEGER NOT NULL REFERENCES access_log (id),
    patient_number TEXT NOT NULL,
    PRIMARY KEY (patient_number, access_id)
) WITHOUT ROWID;

-- The audit heads clinics handed over, each answered with a signed receipt.
CREATE TABLE audit_head (
    node TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (node, seq)
) WITHOUT ROWID;

-- Under version 1 a lookup alone subscribed a node to a patient: keep only the
-- subscriptions a node earned by pushing a record of the patient.
DELETE FROM patient_seen WHERE NOT EXISTS (
    SELECT 1 FROM change c
    WHERE c.facility = patient_seen.node AND c.patient_number = patient_seen.patient_number);
