-- Schema version 17: a session is bound to where it was opened (the server's console, a
-- workstation by its certificate, a PC by its address): its token is refused from any
-- other PC, and revoking a workstation ends the sessions opened on it. Sessions opened
-- before this version have no source and are taken from anywhere until they end.

ALTER TABLE staff_session ADD COLUMN source TEXT;
