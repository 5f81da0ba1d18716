package sqlcore

import (
	"context"
	"time"

	"github.com/upstatehq/upstate"
)

// SaveOverride implements store.OnCallOverrides.
func (db *Core) SaveOverride(ctx context.Context, o upstate.OnCallOverride) error {
	return db.exec(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oncall_overrides (id, schedule, person, starts_at, ends_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET schedule = excluded.schedule, person = excluded.person, starts_at = excluded.starts_at, ends_at = excluded.ends_at`,
			o.ID, o.Schedule, o.Person, MS(o.From), MS(o.Until), o.CreatedBy, MS(o.CreatedAt))
		return err
	})
}

// DeleteOverride implements store.OnCallOverrides.
func (db *Core) DeleteOverride(ctx context.Context, id string) error {
	return db.exec(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM oncall_overrides WHERE id = ?`, id)
		return one(res, err, "on-call override", id)
	})
}

// ListOverrides implements store.OnCallOverrides.
func (db *Core) ListOverrides(ctx context.Context, since time.Time) ([]upstate.OnCallOverride, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, schedule, person, starts_at, ends_at, created_by, created_at FROM oncall_overrides
		WHERE ends_at > ? ORDER BY starts_at, id`, MS(since))
	return collect(rows, err, func(r interface{ Scan(...any) error }) (upstate.OnCallOverride, error) {
		var o upstate.OnCallOverride
		var from, until, created int64
		err := r.Scan(&o.ID, &o.Schedule, &o.Person, &from, &until, &o.CreatedBy, &created)
		o.From, o.Until, o.CreatedAt = FromMS(from), FromMS(until), FromMS(created)
		return o, err
	})
}
