-- Inbound alerts firing on alert checks, so a restart remembers them.
CREATE TABLE inbound_alerts (
    check_id    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    severity    TEXT NOT NULL,
    summary     TEXT NOT NULL,
    source      TEXT NOT NULL,
    url         TEXT NOT NULL,
    starts_at   INTEGER NOT NULL,
    seen_at     INTEGER NOT NULL,
    PRIMARY KEY (check_id, fingerprint)
);
