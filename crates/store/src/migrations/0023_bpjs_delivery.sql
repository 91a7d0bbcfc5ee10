-- Schema version 23: each BPJS visit's calls to P-Care and Antrean FKTP, one row per step
-- tried. A visit's state decides which steps are due (a visit without rows is due whole):
-- pendaftaran and antrean/add once registered, antrean/panggil once called, kunjungan
-- once finished (again when it changed after), antrean/batal and the pendaftaran's
-- deletion once cancelled. `answer` keeps what BPJS gave back: the noUrut, the
-- noKunjungan.

CREATE TABLE bpjs_delivery (
    visit_id INTEGER NOT NULL REFERENCES visit (id),
    step TEXT NOT NULL
        CHECK (step IN ('pendaftaran', 'antrean', 'panggil', 'kunjungan', 'batal', 'hapus')),
    state TEXT NOT NULL CHECK (state IN ('waiting', 'sent', 'retrying', 'refused')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try_at INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    answer TEXT,
    sent_version INTEGER,
    sent_at INTEGER,
    PRIMARY KEY (visit_id, step)
) WITHOUT ROWID;

-- The BPJS visits that may have a call to make: every new or changed one (a trigger puts it
-- here), until the sender finds each call it needs at BPJS. A sender's look costs what is
-- unsettled, not the whole history; the history itself is here once, from this version.
CREATE TABLE bpjs_todo (
    visit_id INTEGER PRIMARY KEY REFERENCES visit (id)
);
INSERT INTO bpjs_todo (visit_id)
    SELECT id FROM visit WHERE payer IN ('bpjs_pbi', 'bpjs_non_pbi');
CREATE TRIGGER visit_bpjs_new AFTER INSERT ON visit
    WHEN NEW.payer IN ('bpjs_pbi', 'bpjs_non_pbi')
BEGIN
    INSERT OR IGNORE INTO bpjs_todo (visit_id) VALUES (NEW.id);
END;
CREATE TRIGGER visit_bpjs_changed AFTER UPDATE ON visit
    WHEN NEW.payer IN ('bpjs_pbi', 'bpjs_non_pbi')
BEGIN
    INSERT OR IGNORE INTO bpjs_todo (visit_id) VALUES (NEW.id);
END;
-- A BPJS number recorded later makes the patient's BPJS visits due.
CREATE TRIGGER patient_bpjs_number AFTER UPDATE OF bpjs_number ON patient
    WHEN NEW.bpjs_number IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO bpjs_todo (visit_id)
        SELECT id FROM visit
        WHERE patient_id = NEW.id AND payer IN ('bpjs_pbi', 'bpjs_non_pbi');
END;

-- One sender per store, as for SATUSEHAT.
CREATE TABLE bpjs_sender (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    until INTEGER NOT NULL
);
