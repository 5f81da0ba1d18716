package sqlcore

import (
	"context"

	"github.com/upstatehq/upstate"
)

// SaveConsoleItem implements store.ConsoleItems.
func (db *Core) SaveConsoleItem(ctx context.Context, it upstate.ConsoleItem) error {
	return db.exec(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO console_items (kind, id, keys, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (kind, id) DO UPDATE SET keys = excluded.keys, updated_at = excluded.updated_at`,
			string(it.Kind), it.ID, string(it.Keys), MS(it.CreatedAt), MS(it.UpdatedAt))
		return err
	})
}

// DeleteConsoleItem implements store.ConsoleItems.
func (db *Core) DeleteConsoleItem(ctx context.Context, kind upstate.ConsoleKind, id string) error {
	return db.exec(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM console_items WHERE kind = ? AND id = ?`, string(kind), id)
		return one(res, err, string(kind)+" made in the console", id)
	})
}

// ListConsoleItems implements store.ConsoleItems.
func (db *Core) ListConsoleItems(ctx context.Context) ([]upstate.ConsoleItem, error) {
	return ReadConsoleItems(ctx, db.read)
}

// ReadConsoleItems is the console items q holds, in the order they were
// made: the drivers' ReadConsoleItems, which read beside a running
// server, use it.
func ReadConsoleItems(ctx context.Context, q Reader) ([]upstate.ConsoleItem, error) {
	rows, err := q.QueryContext(ctx, `SELECT kind, id, keys, created_at, updated_at FROM console_items ORDER BY seq`)
	return collect(rows, err, func(r interface{ Scan(...any) error }) (upstate.ConsoleItem, error) {
		var it upstate.ConsoleItem
		var kind, keys string
		var created, updated int64
		err := r.Scan(&kind, &it.ID, &keys, &created, &updated)
		it.Kind, it.Keys, it.CreatedAt, it.UpdatedAt = upstate.ConsoleKind(kind), []byte(keys), FromMS(created), FromMS(updated)
		return it, err
	})
}
