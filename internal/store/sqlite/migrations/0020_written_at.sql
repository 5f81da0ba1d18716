-- Time as it happened (issue 14): a timeline entry a person writes after
-- the fact keeps both times: at (when it happened, which orders the
-- timeline) and written_at (when it was written). NULL for an entry
-- written as it happened, which every existing one was taken to be.
ALTER TABLE incident_updates ADD COLUMN written_at INTEGER;
