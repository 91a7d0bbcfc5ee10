-- Schema version 7: every node a stranger. The card key the registry checks proofs of
-- presence against, which cards this Puskesmas issued (only those it revokes for
-- everyone), proofs of presence in the outbox, pulled changes that could not be applied
-- kept instead of lost, nodes the registry revoked, and the registry's audit receipts.

ALTER TABLE card ADD COLUMN public_key BLOB;
ALTER TABLE card ADD COLUMN issued_here INTEGER NOT NULL DEFAULT 0;
-- Before this version a tapped card was recorded like an issued one: the cards of this
-- Puskesmas's own patients are taken as its own.
UPDATE card SET issued_here = 1 WHERE patient_id IN (
    SELECT p.id FROM patient p, facility f WHERE p.origin_facility = f.code);

CREATE TABLE outbox_v7 (
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('patient', 'card', 'visit', 'revocation', 'presence')),
    record_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    rejected_at INTEGER,
    rejected_reason TEXT
);
INSERT INTO outbox_v7 SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v7 RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_at IS NULL AND rejected_at IS NULL;

-- A pulled change this version could not apply: kept with why, tried again by a newer
-- Kartika, shown in the sync health.
CREATE TABLE pulled_set_aside (
    seq INTEGER PRIMARY KEY,           -- the registry's sequence number
    facility TEXT NOT NULL,
    kind TEXT NOT NULL,
    record_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL,
    kartika_version TEXT NOT NULL,     -- the version that could not apply it
    set_aside_at INTEGER NOT NULL
);

-- Nodes the registry's operator revoked: cards they sign from that day are not genuine.
CREATE TABLE node_revocation (
    node_id TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL,
    reason TEXT NOT NULL
) WITHOUT ROWID;

-- The registry's signed receipts for this store's audit head.
CREATE TABLE audit_receipt (
    seq INTEGER PRIMARY KEY,           -- the audit entry the head named
    hash BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    receipt TEXT NOT NULL              -- the registry's answer, JSON
);
