-- Schema version 18: where a PC asked to join from (its address, as the server saw it),
-- shown to the admin beside the request's id (its key's fingerprint): a decoy asking from
-- another PC stands out before anyone approves it.

ALTER TABLE workstation ADD COLUMN requested_from TEXT;
