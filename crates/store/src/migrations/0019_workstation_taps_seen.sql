-- Schema version 19: the challenges of the card taps workstations sent, so the server
-- admits each card answer once (a hostile PC replaying a card it once saw is refused).
-- Kept for the window in which a tap is accepted at all, then forgotten.

CREATE TABLE tap_seen (
    nonce BLOB PRIMARY KEY,
    at_ms INTEGER NOT NULL
) WITHOUT ROWID;
