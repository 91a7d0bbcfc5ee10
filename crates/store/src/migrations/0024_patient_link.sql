-- One person across Puskesmas: two owners agreed, through the registry, that two records
-- are one person. The registry keeps both; every node holding either follows its link
-- changes here. The retired record points to the survivor (patient.merged_into) while the
-- link is in force and both records are held; nothing moves, so an undo clears the
-- pointer and leaves each record as its Puskesmas keeps it.
CREATE TABLE patient_link (
    proposal_id TEXT PRIMARY KEY,
    survivor_number TEXT NOT NULL,
    retired_number TEXT NOT NULL,
    linked INTEGER NOT NULL CHECK (linked IN (0, 1)),
    by_facility TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE INDEX patient_link_retired ON patient_link (retired_number) WHERE linked = 1;

-- A merge made here is told to the registry, so that every node holding either record
-- follows it as a link; its undo likewise. The registry's proposal id is kept for the undo.
ALTER TABLE patient_merge ADD COLUMN registry_proposal TEXT;
ALTER TABLE patient_merge ADD COLUMN told_at INTEGER;
ALTER TABLE patient_merge ADD COLUMN undo_told_at INTEGER;
-- Why the registry refused it (a record it does not know yet is not a refusal: it waits).
ALTER TABLE patient_merge ADD COLUMN tell_refused TEXT;
