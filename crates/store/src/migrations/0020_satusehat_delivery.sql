-- Schema version 20: each finished visit's delivery to SATUSEHAT. A visit without a row
-- is due: which visits go is decided by their state, not by when SATUSEHAT was set up.
-- `resource_ids` keeps the id SATUSEHAT gave each resource sent (JSON), so a change is
-- sent to the same resources and a lost answer is never a second copy.

CREATE TABLE satusehat_delivery (
    visit_id INTEGER PRIMARY KEY REFERENCES visit (id),
    state TEXT NOT NULL CHECK (state IN ('waiting', 'sent', 'retrying', 'refused')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try_at INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    sent_version INTEGER,
    sent_at INTEGER,
    resource_ids TEXT
);
CREATE INDEX satusehat_delivery_due ON satusehat_delivery (state, next_try_at);
CREATE INDEX visit_ended ON visit (ended_at) WHERE status IN ('finished', 'referred');

-- Where SATUSEHAT is and who this Puskesmas is to it (the secret is a file of the data
-- folder, never here), and which process sends: one sender per store.
ALTER TABLE facility ADD COLUMN satusehat_auth_url TEXT;
ALTER TABLE facility ADD COLUMN satusehat_fhir_url TEXT;
ALTER TABLE facility ADD COLUMN satusehat_client_id TEXT;
ALTER TABLE facility ADD COLUMN satusehat_pace INTEGER NOT NULL DEFAULT 5;
CREATE TABLE satusehat_sender (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    until INTEGER NOT NULL
);
