-- Schema version 10: the sessions of staff logged in at a workstation of the LAN, kept by
-- the SHA-256 of their token only, so a server PC that restarts (or is killed) does not
-- send every desk back to its login, and a copy of the file opens no session. A session
-- ends when its account's role changes, its password is reset or it is disabled.

CREATE TABLE staff_session (
    token_hash BLOB PRIMARY KEY,
    username TEXT NOT NULL REFERENCES staff (username),
    role TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    used_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX staff_session_used ON staff_session (used_at);
