-- Schema version 14: a new patient's name is indexed for search by the store's code, in
-- the statement after the patient's row, instead of by a trigger. A trigger makes SQLite
-- keep a statement journal for the INSERT it belongs to (a copy of every page the INSERT
-- touches, eight B-trees for a patient), which doubled the cost of each pulled patient
-- even though the trigger stood aside for them. Pulled patients are still indexed once,
-- at the end of their page; the update trigger stays (an update is rarer, and it must
-- also take the old name out).

DROP TRIGGER patient_name_insert;
