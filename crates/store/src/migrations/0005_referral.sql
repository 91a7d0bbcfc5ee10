-- Schema version 5: a referred visit says where the patient was sent (rujukan).
ALTER TABLE visit ADD COLUMN referred_to TEXT;
