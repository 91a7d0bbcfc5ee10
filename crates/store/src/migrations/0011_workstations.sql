-- Schema version 11: the workstations of the LAN. A PC asks to join with its public key;
-- an admin approves it, and the Puskesmas's CA certificate for that key is kept with the
-- certificate's SHA-256, by which the server recognises the workstation at each request
-- until an admin revokes it.

CREATE TABLE workstation (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    public_key BLOB NOT NULL,
    requested_at INTEGER NOT NULL,
    approved_at INTEGER,
    approved_by TEXT,
    certificate BLOB,
    fingerprint BLOB UNIQUE,
    revoked_at INTEGER
);
