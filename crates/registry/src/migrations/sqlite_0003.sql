-- Schema version 3 (SQLite): one person, one record across Puskesmas. Two owners agree
-- that two records are one person; the registry keeps both and links them.

-- Name, date of birth and sex, lowercased and joined: records that share it are listed
-- to both owners as possibly one person.
ALTER TABLE patient ADD COLUMN person_key TEXT;
UPDATE patient SET person_key = (
    SELECT lower(trim(json_extract(c.payload, '$.name'))) || '|'
        || json_extract(c.payload, '$.birth_date') || '|' || json_extract(c.payload, '$.sex')
    FROM change c
    WHERE c.kind = 'patient' AND c.patient_number = patient.patient_number
    ORDER BY c.seq DESC LIMIT 1);
CREATE INDEX patient_person ON patient (person_key);

-- A proposal is the link once accepted: state 'accepted' is a link in force.
CREATE TABLE merge_proposal (
    id TEXT PRIMARY KEY,               -- a UUID the registry gives
    survivor TEXT NOT NULL REFERENCES patient (patient_number),
    retired TEXT NOT NULL REFERENCES patient (patient_number),
    proposed_by TEXT NOT NULL,
    proposed_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('proposed', 'accepted', 'declined', 'undone')),
    decided_by TEXT,
    decided_at INTEGER
);
CREATE INDEX merge_proposal_survivor ON merge_proposal (survivor, state);
CREATE INDEX merge_proposal_retired ON merge_proposal (retired, state);
-- The candidates listed to a Puskesmas start from its own records.
CREATE INDEX patient_facility ON patient (facility);
