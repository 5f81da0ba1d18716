-- On-call overrides people add at runtime ("I'll take tonight"), on top of
-- the configured schedules and their overrides.
CREATE TABLE oncall_overrides (
    id         TEXT PRIMARY KEY,
    schedule   TEXT NOT NULL,
    person     TEXT NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX oncall_overrides_ends ON oncall_overrides (ends_at);
