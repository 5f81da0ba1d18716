-- Corrections and the audit log (issue 13, item 4).

-- Every change a person or a token made, or tried to: who, what, when,
-- from where, how it ended. Kept for retention.audit (400 days by
-- default); never a request's body.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id   TEXT NOT NULL DEFAULT '',
    token_id   TEXT NOT NULL DEFAULT '',
    action     TEXT NOT NULL,
    route      TEXT NOT NULL DEFAULT '',
    targets    TEXT NOT NULL DEFAULT '',
    status     INTEGER NOT NULL DEFAULT 0,
    addr       TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);

-- What wrote each timeline entry and for whom, so the evidence behind an
-- automatic entry can never be published. Existing rows: a person's are
-- updates or notes by whether they are public; Upstate's public ones are
-- its plain words; its internal ones are mirrored provider updates when
-- they start with the provider's name in bold, the evidence when they
-- follow Upstate's words written at the same moment (the engine writes
-- the words first, then the evidence), else held plain words.
ALTER TABLE incident_updates ADD COLUMN kind TEXT NOT NULL DEFAULT '';
UPDATE incident_updates SET kind = CASE
    WHEN actor <> 'upstate' AND public = 1 THEN 'update'
    WHEN actor <> 'upstate' THEN 'note'
    WHEN public = 1 THEN 'automatic'
    WHEN body LIKE '**%' THEN 'provider'
    WHEN EXISTS (SELECT 1 FROM incident_updates w WHERE w.incident_id = incident_updates.incident_id
        AND w.at = incident_updates.at AND w.actor = 'upstate' AND w.seq < incident_updates.seq) THEN 'evidence'
    ELSE 'automatic'
END;

-- Corrections of an entry's words: the entry shows when and by whom it
-- was last edited; the words before each edit are kept here.
ALTER TABLE incident_updates ADD COLUMN edited_at INTEGER;
ALTER TABLE incident_updates ADD COLUMN edited_by TEXT NOT NULL DEFAULT '';
CREATE TABLE incident_update_edits (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    update_id   TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    previous    TEXT NOT NULL
);
CREATE INDEX incident_update_edits_update ON incident_update_edits (update_id, id);

-- Incidents hidden from the public side (opened by mistake), with why.
ALTER TABLE incidents ADD COLUMN hidden_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN hidden_by TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN hidden_at INTEGER;

-- The incident list's search in SQL: the name as Go lowercases it
-- (written with every incident); existing rows get SQLite's lower(),
-- which folds ASCII only, until their incident is next written.
ALTER TABLE incidents ADD COLUMN name_fold TEXT NOT NULL DEFAULT '';
UPDATE incidents SET name_fold = lower(name);
CREATE INDEX incidents_status_created ON incidents (status, created_at);
