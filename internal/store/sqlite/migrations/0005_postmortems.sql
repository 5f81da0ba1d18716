CREATE TABLE postmortems (
    incident_id  TEXT PRIMARY KEY REFERENCES incidents (id),
    root_cause   TEXT NOT NULL,
    contributing TEXT NOT NULL,
    fix          TEXT NOT NULL,
    actions      TEXT NOT NULL,
    status       TEXT NOT NULL,
    author       TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    published_at INTEGER
);
