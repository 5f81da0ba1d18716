-- The checks' current warnings (upstate.Warning: a certificate expiring
-- soon), one per check and key: what operators were told, and at which
-- stage, so a restart tells nothing twice. Gone once cleared.
CREATE TABLE warnings (
    check_id   TEXT NOT NULL,
    key        TEXT NOT NULL,
    what       TEXT NOT NULL,
    stage      INTEGER NOT NULL,
    due        INTEGER,
    since      INTEGER NOT NULL,
    seen       INTEGER NOT NULL,
    check_name TEXT NOT NULL DEFAULT '',
    components TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (check_id, key)
);
