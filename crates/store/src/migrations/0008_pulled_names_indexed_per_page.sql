-- Schema version 8: a pulled page's patients are indexed for name search once, at the end
-- of the page. FTS5 writes what it holds in memory to disk before each statement that
-- follows a change to it, so the trigger indexing one patient at a time cost more than the
-- rest of the patient. While a page is applied, `names_deferred_after` holds the last
-- patient row indexed; rows after it are left to the page's end. NULL the rest of the time.

ALTER TABLE sync_state ADD COLUMN names_deferred_after INTEGER;

DROP TRIGGER patient_name_insert;
CREATE TRIGGER patient_name_insert AFTER INSERT ON patient
WHEN (SELECT names_deferred_after FROM sync_state WHERE id = 1) IS NULL BEGIN
    INSERT INTO patient_name (rowid, name_key) VALUES (new.id, new.name_key);
END;

-- A row left to the page's end is not in the index yet: there is nothing to take out.
DROP TRIGGER patient_name_update;
CREATE TRIGGER patient_name_update AFTER UPDATE OF name_key ON patient
WHEN old.id <= coalesce((SELECT names_deferred_after FROM sync_state WHERE id = 1), old.id) BEGIN
    INSERT INTO patient_name (patient_name, rowid, name_key) VALUES ('delete', old.id, old.name_key);
    INSERT INTO patient_name (rowid, name_key) VALUES (new.id, new.name_key);
END;
