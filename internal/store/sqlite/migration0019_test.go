package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/upstatehq/upstate"
)

// Entries written before kinds were stored get theirs when the database
// is upgraded: a person's by whether they are public; Upstate's public
// ones are its words; its internal ones are mirrored provider updates
// (the provider's name in bold first), the evidence when they follow
// Upstate's words of the same moment, else its held words.
func TestEntryKindsMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "upstate.db")
	db, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.exec(t.Context(), func(tx *sqlTx) error {
		for _, q := range []string{`DELETE FROM schema_migrations WHERE version >= 19`,
			`DROP TABLE audit_log`, `DROP TABLE incident_update_edits`, `ALTER TABLE incident_updates DROP COLUMN kind`, `ALTER TABLE incident_updates DROP COLUMN edited_at`,
			`ALTER TABLE incident_updates DROP COLUMN edited_by`, `ALTER TABLE incidents DROP COLUMN hidden_reason`, `ALTER TABLE incidents DROP COLUMN hidden_by`, `ALTER TABLE incidents DROP COLUMN hidden_at`, `DROP INDEX incidents_status_created`, `ALTER TABLE incidents DROP COLUMN name_fold`,
			`ALTER TABLE incident_updates DROP COLUMN written_at`,                                       // and 0020
			`ALTER TABLE incident_updates DROP COLUMN until`,                                            // and 0021
			`ALTER TABLE outbox DROP COLUMN claimed_by`, `ALTER TABLE outbox DROP COLUMN claimed_until`, // and 0022
			`ALTER TABLE results DROP COLUMN region`,                                                                // and 0023
			`ALTER TABLE incident_updates DROP COLUMN body_html`, `ALTER TABLE incident_updates DROP COLUMN html_v`, // and 0024
			`ALTER TABLE postmortems DROP COLUMN root_cause_html`, `ALTER TABLE postmortems DROP COLUMN contributing_html`,
			`ALTER TABLE postmortems DROP COLUMN fix_html`, `ALTER TABLE postmortems DROP COLUMN html_v`,
			`INSERT INTO incidents (id, name, status, impact, created_at, updated_at, started_at, detected_at, components, auto) VALUES ('inc', 'API down', 'resolved', 'major', 0, 0, 0, 0, 'api', 1)`,
			`INSERT INTO incident_updates (id, incident_id, seq, at, status, body, public, actor, affected) VALUES
				('words', 'inc', 1, 100, 'investigating', 'The API is not responding.', 1, 'upstate', '[]'),
				('evidence', 'inc', 2, 100, 'investigating', 'api-health: 503', 0, 'upstate', '[]'),
				('held', 'inc', 3, 200, 'monitoring', 'Back since 14:05.', 0, 'upstate', '[]'),
				('heldevidence', 'inc', 4, 200, 'monitoring', 'api-health: 200 in 80 ms', 0, 'upstate', '[]'),
				('mirrored', 'inc', 5, 300, 'monitoring', '**Google Workspace**: fixed', 0, 'upstate', '[]'),
				('lone', 'inc', 6, 400, 'resolved', 'This incident has been resolved.', 0, 'upstate', '[]'),
				('update', 'inc', 7, 500, 'resolved', 'Sorry.', 1, 'Dana', '[]'),
				('note', 'inc', 8, 600, 'resolved', 'Acknowledged by Dana.', 0, 'Dana', '[]')`} {
			if _, err := tx.Exec(q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	in, err := db.GetIncident(t.Context(), "inc")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]upstate.EntryKind{"words": upstate.EntryAutomatic, "evidence": upstate.EntryEvidence, "held": upstate.EntryAutomatic,
		"heldevidence": upstate.EntryEvidence, "mirrored": upstate.EntryProvider, "lone": upstate.EntryAutomatic, "update": upstate.EntryUpdate, "note": upstate.EntryNote}
	for _, e := range in.Updates {
		if e.Kind != want[e.ID] {
			t.Errorf("entry %s: %q, want %q", e.ID, e.Kind, want[e.ID])
		}
	}
	if len(in.Updates) != len(want) || in.Hidden != nil {
		t.Errorf("incident after the upgrade: %+v", in)
	}
}
