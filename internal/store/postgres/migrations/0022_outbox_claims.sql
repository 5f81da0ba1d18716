-- SQLite's 0022: an instance claims a message before it sends it, so no
-- other instance of the cluster sends it meanwhile; the claim runs out at
-- claimed_until (milliseconds), so one claimed by an instance that died
-- is sent by another. RecordAttempt clears it.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0;
