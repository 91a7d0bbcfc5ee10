-- Schema version 3: the ids SATUSEHAT knows this Puskesmas, its units, its staff and its
-- patients by,
-- each optional until the facility is registered there.
ALTER TABLE facility ADD COLUMN satusehat_organization_id TEXT;
ALTER TABLE service_unit ADD COLUMN satusehat_location_id TEXT;
ALTER TABLE staff ADD COLUMN ihs_number TEXT;
ALTER TABLE patient ADD COLUMN ihs_number TEXT;
