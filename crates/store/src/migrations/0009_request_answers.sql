-- Schema version 9: the answers to requests from other workstations, kept with the change
-- they made (in the same transaction), so a request retried after its answer was lost is
-- answered again instead of applied twice: no second patient, no second visit.

CREATE TABLE request_answer (
    request_id BLOB PRIMARY KEY,
    operation TEXT NOT NULL,
    answer TEXT NOT NULL,
    answered_at INTEGER NOT NULL
);
CREATE INDEX request_answer_at ON request_answer (answered_at);
