CREATE TABLE maintenances (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    message         TEXT NOT NULL,
    scheduled_for   INTEGER NOT NULL,
    scheduled_until INTEGER NOT NULL,
    components      TEXT NOT NULL,
    author          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX maintenances_until ON maintenances (scheduled_until);
