-- The notification outbox: messages owed to channels, written in the same
-- transaction as the change that caused them, kept until delivered or
-- given up on. seq orders each stream.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    channel    TEXT NOT NULL,
    stream     TEXT NOT NULL,
    event      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    next_at    INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    state      TEXT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    sent_at    INTEGER
);
CREATE INDEX outbox_pending ON outbox (channel, stream, seq) WHERE state = 'pending';
CREATE INDEX outbox_due ON outbox (next_at) WHERE state = 'pending';
CREATE INDEX outbox_created ON outbox (created_at);
