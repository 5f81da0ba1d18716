-- An instance of several on one database claims a message before it
-- sends it, so no other instance sends it meanwhile; the claim runs out
-- at claimed_until (milliseconds), so a message claimed by an instance
-- that died is sent by another. RecordAttempt clears it. Alone (SQLite),
-- nothing is claimed and the columns keep their defaults.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;
