-- An entry that tells of a span (issue 14): until is when what it tells
-- of ended ("10:40 am to 11:03 am"), in milliseconds like at. NULL for an
-- entry that tells of a moment, which every existing one does.
ALTER TABLE incident_updates ADD COLUMN until INTEGER;
