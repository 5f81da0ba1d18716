-- What failing checks saw (a browser check's screenshot of the page as it
-- failed), by check and result time: only the last few failures of each
-- check are kept, and those past raw retention are pruned with results.
-- components is the check's components as ",a,b,", so an incident's page
-- finds what its checks saw with instr(). It may run again on a database
-- that has it (a test rewinds to before 0014 and migrates forward).
CREATE TABLE IF NOT EXISTS artifacts (
    id           TEXT PRIMARY KEY,
    check_id     TEXT NOT NULL,
    at           INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    note         TEXT NOT NULL,
    components   TEXT NOT NULL,
    data         BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS artifacts_check_at ON artifacts (check_id, at);
CREATE INDEX IF NOT EXISTS artifacts_at ON artifacts (at);
