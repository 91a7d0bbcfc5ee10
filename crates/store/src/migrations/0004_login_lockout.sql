-- Schema version 4: wrong passwords slow an account down (five in a row, then a wait that
-- doubles up to fifteen minutes).
ALTER TABLE staff ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN locked_until INTEGER;
