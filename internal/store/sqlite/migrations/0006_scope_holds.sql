-- Impact scope, upstream link, acknowledgement and merges on incidents;
-- statuses people hold on components outside incidents.
ALTER TABLE incidents ADD COLUMN scope TEXT NOT NULL DEFAULT '{}';
ALTER TABLE incidents ADD COLUMN upstream TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN acknowledged_at INTEGER;
ALTER TABLE incidents ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN merged_into TEXT NOT NULL DEFAULT '';
ALTER TABLE components ADD COLUMN hold_status TEXT NOT NULL DEFAULT '';
ALTER TABLE components ADD COLUMN hold_by TEXT NOT NULL DEFAULT '';
ALTER TABLE components ADD COLUMN hold_at INTEGER NOT NULL DEFAULT 0;
