-- Component statuses set by people on an incident, as a JSON object.
ALTER TABLE incidents ADD COLUMN overrides TEXT NOT NULL DEFAULT '{}';
