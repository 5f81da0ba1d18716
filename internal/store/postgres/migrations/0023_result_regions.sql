-- SQLite's 0023: where each result was probed, a probe agent's region or
-- '' for this server's own. The key stays (check_id, at): an agent's
-- result sent again is the same row, inserted with ON CONFLICT DO
-- NOTHING and counted in the rollups only when it was inserted.
ALTER TABLE results ADD COLUMN region TEXT COLLATE "C" NOT NULL DEFAULT '';
