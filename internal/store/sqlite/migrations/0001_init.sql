CREATE TABLE components (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    grp         TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    depends_on  TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL,
    status      TEXT NOT NULL DEFAULT 'operational',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE status_changes (
    id           INTEGER PRIMARY KEY,
    component_id TEXT NOT NULL,
    at           INTEGER NOT NULL,
    status       TEXT NOT NULL,
    incident_id  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX status_changes_at ON status_changes (at);
CREATE INDEX status_changes_component ON status_changes (component_id, at);

-- One row per result, clustered by check and time: reads are per check,
-- and pruning walks each check's oldest rows, so no second index is kept.
CREATE TABLE results (
    check_id    TEXT NOT NULL,
    at          INTEGER NOT NULL,
    outcome     TEXT NOT NULL,
    latency_us  INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    error       TEXT NOT NULL,
    PRIMARY KEY (check_id, at)
) WITHOUT ROWID;

CREATE TABLE rollups (
    check_id       TEXT NOT NULL,
    period         TEXT NOT NULL,
    bucket         INTEGER NOT NULL,
    n              INTEGER NOT NULL,
    ok             INTEGER NOT NULL,
    slow           INTEGER NOT NULL,
    fail           INTEGER NOT NULL,
    latency_sum_us INTEGER NOT NULL,
    latency_max_us INTEGER NOT NULL,
    PRIMARY KEY (check_id, period, bucket)
) WITHOUT ROWID;
CREATE INDEX rollups_period_bucket ON rollups (period, bucket);

CREATE TABLE conditions (
    check_id TEXT PRIMARY KEY,
    state    TEXT NOT NULL,
    partial  INTEGER NOT NULL,
    since    INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    evidence TEXT NOT NULL,
    failures INTEGER NOT NULL,
    samples  INTEGER NOT NULL
);

CREATE TABLE transitions (
    id           INTEGER PRIMARY KEY,
    check_id     TEXT NOT NULL,
    at           INTEGER NOT NULL,
    from_state   TEXT NOT NULL,
    from_partial INTEGER NOT NULL,
    to_state     TEXT NOT NULL,
    to_partial   INTEGER NOT NULL,
    since        INTEGER NOT NULL,
    evidence     TEXT NOT NULL,
    failures     INTEGER NOT NULL,
    samples      INTEGER NOT NULL
);
CREATE INDEX transitions_check_at ON transitions (check_id, at);

CREATE TABLE incidents (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL,
    impact        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    detected_at   INTEGER NOT NULL,
    monitoring_at INTEGER,
    resolved_at   INTEGER,
    components    TEXT NOT NULL,
    auto          INTEGER NOT NULL
);
CREATE INDEX incidents_created ON incidents (created_at);
CREATE INDEX incidents_open ON incidents (status) WHERE status IN ('investigating', 'identified', 'monitoring');

CREATE TABLE incident_updates (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status      TEXT NOT NULL,
    body        TEXT NOT NULL,
    public      INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    affected    TEXT NOT NULL
);
CREATE INDEX incident_updates_incident ON incident_updates (incident_id, seq);

CREATE TABLE heartbeats (
    check_id TEXT PRIMARY KEY,
    at       INTEGER NOT NULL
);
