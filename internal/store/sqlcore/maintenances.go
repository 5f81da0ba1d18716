package sqlcore

import (
	"context"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// SaveMaintenance implements store.Maintenances.
func (db *Core) SaveMaintenance(ctx context.Context, m upstate.Maintenance, owed ...upstate.Message) error {
	return db.exec(ctx, func(tx Tx) error {
		if err := enqueue(ctx, tx, owed); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO maintenances (id, name, message, scheduled_for, scheduled_until, components, author, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, message = excluded.message, scheduled_for = excluded.scheduled_for,
			scheduled_until = excluded.scheduled_until, components = excluded.components, updated_at = excluded.updated_at`,
			m.ID, m.Name, m.Message, MS(m.ScheduledFor), MS(m.ScheduledUntil), strings.Join(m.Components, ","), m.Author, MS(m.CreatedAt), MS(m.UpdatedAt))
		return err
	})
}

// DeleteMaintenance implements store.Maintenances.
func (db *Core) DeleteMaintenance(ctx context.Context, id string, owed ...upstate.Message) error {
	return db.exec(ctx, func(tx Tx) error {
		if err := enqueue(ctx, tx, owed); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM maintenances WHERE id = ?`, id)
		return one(res, err, "maintenance", id)
	})
}

// ListMaintenances implements store.Maintenances.
func (db *Core) ListMaintenances(ctx context.Context, since time.Time) ([]upstate.Maintenance, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, name, message, scheduled_for, scheduled_until, components, author, created_at, updated_at
		FROM maintenances WHERE scheduled_until >= ? ORDER BY scheduled_for, id`, MS(since))
	return collect(rows, err, func(r interface{ Scan(...any) error }) (upstate.Maintenance, error) {
		var m upstate.Maintenance
		var from, until, created, updated int64
		var comps string
		err := r.Scan(&m.ID, &m.Name, &m.Message, &from, &until, &comps, &m.Author, &created, &updated)
		m.ScheduledFor, m.ScheduledUntil, m.CreatedAt, m.UpdatedAt = FromMS(from), FromMS(until), FromMS(created), FromMS(updated)
		m.Components = splitList(comps)
		return m, err
	})
}
