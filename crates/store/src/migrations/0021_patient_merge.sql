-- One person, one record: a retired record points to the record that survives it, and
-- each merge keeps what it moved, so it can be undone exactly.
ALTER TABLE patient ADD COLUMN merged_into INTEGER REFERENCES patient (id);
CREATE INDEX patient_merged_into ON patient (merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE patient_merge (
    id INTEGER PRIMARY KEY,
    survivor_id INTEGER NOT NULL REFERENCES patient (id),
    retired_id INTEGER NOT NULL REFERENCES patient (id),
    merged_at INTEGER NOT NULL,
    merged_by TEXT NOT NULL,
    -- JSON: the visits, cards and flags moved, and the survivor's fields before.
    moved TEXT NOT NULL,
    undone_at INTEGER,
    undone_by TEXT
);
CREATE INDEX patient_merge_retired ON patient_merge (retired_id, undone_at);
