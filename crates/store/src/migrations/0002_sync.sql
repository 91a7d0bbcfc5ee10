-- Schema version 2: what the registry hands on.

-- The pull cursor (the registry's sequence, never a device clock) and sync health.
CREATE TABLE sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pull_after INTEGER NOT NULL DEFAULT 0,
    last_success INTEGER,
    last_error TEXT,
    last_error_at INTEGER
);
INSERT INTO sync_state (id) VALUES (1);

-- Visits made at other Puskesmas, newest version only, as JSON: their units and staff are
-- not ours, so they are shown, never changed.
CREATE TABLE remote_visit (
    visit_id TEXT PRIMARY KEY,
    patient_number TEXT NOT NULL,
    facility_code TEXT NOT NULL,
    version INTEGER NOT NULL,
    arrived_at TEXT NOT NULL,
    payload TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX remote_visit_patient ON remote_visit (patient_number);
