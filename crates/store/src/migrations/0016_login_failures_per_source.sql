-- Schema version 16: wrong passwords are counted per account and per source (the server
-- PC's own console, a workstation by its certificate, a PC by its address), so a hostile
-- PC that types wrong passwords locks out only itself, never the admins at other PCs nor
-- the server's console. A name that is no account is counted the same way, so the lock
-- tells nobody which names exist. The account-wide count of schema 4 is no longer read.

CREATE TABLE login_failure (
    username TEXT NOT NULL,
    source TEXT NOT NULL,
    failures INTEGER NOT NULL,
    locked_until INTEGER,
    PRIMARY KEY (username, source)
) WITHOUT ROWID;
