package sqlcore

import (
	"context"
	"fmt"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// ImportIncidents implements store.Imports: each incident is written
// whole through the same statements a change uses, after what an earlier
// import wrote for it is removed.
func (db *Core) ImportIncidents(ctx context.Context, ins []store.Imported) (int, error) {
	created := 0
	err := db.exec(ctx, func(tx Tx) error {
		created = 0
		for _, im := range ins {
			in := im.Incident
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM incidents WHERE id = ?`, in.ID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				created++
			}
			for _, q := range []string{`DELETE FROM incident_updates WHERE incident_id = ?`, `DELETE FROM status_changes WHERE incident_id = ?`, `DELETE FROM postmortems WHERE incident_id = ?`} {
				if _, err := tx.ExecContext(ctx, q, in.ID); err != nil {
					return fmt.Errorf("replace imported incident %s: %w", in.ID, err)
				}
			}
			if err := db.applyChange(ctx, tx, store.Change{Incidents: []*upstate.Incident{in}, Entries: in.Updates}); err != nil {
				return err
			}
			// History only: the status changes are kept, and no
			// component's current status is set from them.
			for _, s := range im.Statuses {
				if _, err := tx.ExecContext(ctx, `INSERT INTO status_changes (component_id, at, status, incident_id) VALUES (?, ?, ?, ?)`,
					s.ComponentID, MS(s.At), string(s.Status), s.IncidentID); err != nil {
					return fmt.Errorf("imported status history of %s: %w", in.ID, err)
				}
			}
			if p := im.Postmortem; p != nil {
				if err := db.savePostmortem(ctx, tx, *p); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return created, err
}
