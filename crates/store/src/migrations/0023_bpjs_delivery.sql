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
CREATE INDEX visit_bpjs ON visit (arrived_at) WHERE payer IN ('bpjs_pbi', 'bpjs_non_pbi');

-- One sender per store, as for SATUSEHAT.
CREATE TABLE bpjs_sender (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    until INTEGER NOT NULL
);
