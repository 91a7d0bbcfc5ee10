-- Schema version 12: the store's generation. A standby copy promoted to be the server
-- takes the next generation; workstations remember the highest they have seen and refuse
-- a server of an older one (the old server PC switched on again, or a store restored
-- from a copy made before the promotion), so no write goes to a store that was left
-- behind.

CREATE TABLE store_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO store_generation (id, generation) VALUES (1, 1);
