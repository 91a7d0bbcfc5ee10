-- Schema version 13: each approved workstation's emergency series (1 to 26, the letter of
-- its emergency tickets), so two desks registering while the server is away never give
-- the same number.

ALTER TABLE workstation ADD COLUMN emergency_series INTEGER;
CREATE UNIQUE INDEX workstation_series ON workstation (emergency_series)
    WHERE emergency_series IS NOT NULL AND revoked_at IS NULL;
