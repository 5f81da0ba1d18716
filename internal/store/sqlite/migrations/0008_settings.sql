-- Values the server makes for itself once (the key that signs
-- acknowledgement links).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
