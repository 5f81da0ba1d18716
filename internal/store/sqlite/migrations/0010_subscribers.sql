-- People outside the team who asked to be told.
CREATE TABLE subscribers (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    address      TEXT NOT NULL,
    components   TEXT NOT NULL,
    secret       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER
);
CREATE UNIQUE INDEX subscribers_address ON subscribers (kind, address);
