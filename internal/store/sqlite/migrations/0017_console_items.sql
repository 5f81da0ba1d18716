-- Checks and components made in the console (upstate.ConsoleItem): their
-- keys as given, a JSON object, merged into the configuration file's at
-- start and on every reload. seq keeps the order they were made in.
CREATE TABLE IF NOT EXISTS console_items (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    keys       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (kind, id)
);
