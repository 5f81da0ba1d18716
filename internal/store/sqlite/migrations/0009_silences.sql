-- Silences mute matching notifications while they are active.
CREATE TABLE silences (
    id         TEXT PRIMARY KEY,
    matchers   TEXT NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    comment    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX silences_ends ON silences (ends_at);
