package sqlcore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/upstatehq/upstate"
)

// SaveWarning implements store.Warnings.
func (db *Core) SaveWarning(ctx context.Context, w upstate.Warning, owed ...upstate.Message) error {
	var due any
	if !w.Due.IsZero() {
		due = MS(w.Due)
	}
	return db.exec(ctx, func(tx Tx) error {
		if err := enqueue(ctx, tx, owed); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO warnings (check_id, key, what, stage, due, since, seen, check_name, components)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (check_id, key) DO UPDATE SET what = excluded.what, stage = excluded.stage, due = excluded.due, since = excluded.since,
			seen = excluded.seen, check_name = excluded.check_name, components = excluded.components`,
			w.CheckID, w.Key, w.What, w.Stage, due, MS(w.Since), MS(w.Seen), w.CheckName, strings.Join(w.Components, ","))
		return err
	})
}

// DeleteWarning implements store.Warnings.
func (db *Core) DeleteWarning(ctx context.Context, checkID, key string, owed ...upstate.Message) error {
	return db.exec(ctx, func(tx Tx) error {
		if err := enqueue(ctx, tx, owed); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM warnings WHERE check_id = ? AND key = ?`, checkID, key)
		return err
	})
}

// ListWarnings implements store.Warnings.
func (db *Core) ListWarnings(ctx context.Context) ([]upstate.Warning, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT check_id, key, what, stage, due, since, seen, check_name, components FROM warnings ORDER BY check_id, key`)
	return collect(rows, err, func(r interface{ Scan(...any) error }) (upstate.Warning, error) {
		var w upstate.Warning
		var due sql.NullInt64
		var since, seen int64
		var comps string
		err := r.Scan(&w.CheckID, &w.Key, &w.What, &w.Stage, &due, &since, &seen, &w.CheckName, &comps)
		if due.Valid {
			w.Due = FromMS(due.Int64)
		}
		w.Since, w.Seen, w.Components = FromMS(since), FromMS(seen), splitList(comps)
		return w, err
	})
}
