-- Where each result was probed: a probe agent's region, or '' for this
-- server's own (and every result of a check without regions). The key
-- stays (check_id, at): a probe agent's result sent again (its queue
-- resent after the server restarted and forgot the ids it took) is the
-- same row, and the writer inserts agents' results with ON CONFLICT DO
-- NOTHING, counting in the rollups only those it inserted.
ALTER TABLE results ADD COLUMN region TEXT NOT NULL DEFAULT '';
