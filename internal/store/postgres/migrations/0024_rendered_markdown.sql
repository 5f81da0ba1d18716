-- SQLite's 0024: Markdown rendered when it is written (issue 16): each entry's body and
-- each postmortem's three parts as the markdown package's renderer makes
-- them, and html_v, that renderer's version (markdown.Version). A reader
-- of the same version takes the HTML as it is (a year's printed report
-- renders no Markdown); any other version, and every row written before
-- this, has html_v '' or another version and is rendered where it is
-- read until the store renders it again (RenderStale, at start).
ALTER TABLE incident_updates ADD COLUMN body_html TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE incident_updates ADD COLUMN html_v TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE postmortems ADD COLUMN root_cause_html TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE postmortems ADD COLUMN contributing_html TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE postmortems ADD COLUMN fix_html TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE postmortems ADD COLUMN html_v TEXT COLLATE "C" NOT NULL DEFAULT '';
