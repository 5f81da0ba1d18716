package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/upstatehq/upstate"
)

// SaveConsoleItem implements store.ConsoleItems.
func (db *DB) SaveConsoleItem(ctx context.Context, it upstate.ConsoleItem) error {
	return db.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO console_items (kind, id, keys, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (kind, id) DO UPDATE SET keys = excluded.keys, updated_at = excluded.updated_at`,
			string(it.Kind), it.ID, string(it.Keys), ms(it.CreatedAt), ms(it.UpdatedAt))
		return err
	})
}

// DeleteConsoleItem implements store.ConsoleItems.
func (db *DB) DeleteConsoleItem(ctx context.Context, kind upstate.ConsoleKind, id string) error {
	return db.exec(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM console_items WHERE kind = ? AND id = ?`, string(kind), id)
		return one(res, err, string(kind)+" made in the console", id)
	})
}

// ListConsoleItems implements store.ConsoleItems.
func (db *DB) ListConsoleItems(ctx context.Context) ([]upstate.ConsoleItem, error) {
	return listConsoleItems(ctx, db.read)
}

func listConsoleItems(ctx context.Context, q *sql.DB) ([]upstate.ConsoleItem, error) {
	rows, err := q.QueryContext(ctx, `SELECT kind, id, keys, created_at, updated_at FROM console_items ORDER BY seq`)
	return collect(rows, err, func(r interface{ Scan(...any) error }) (upstate.ConsoleItem, error) {
		var it upstate.ConsoleItem
		var kind, keys string
		var created, updated int64
		err := r.Scan(&kind, &it.ID, &keys, &created, &updated)
		it.Kind, it.Keys, it.CreatedAt, it.UpdatedAt = upstate.ConsoleKind(kind), []byte(keys), fromMS(created), fromMS(updated)
		return it, err
	})
}

// ReadConsoleItems reads the console items of the database at path
// without writing to it, beside a server that may be running on it (WAL
// lets readers in while it writes): no migration, no writer. A database
// not made yet, or made before console items, has none.
func ReadConsoleItems(ctx context.Context, path string) ([]upstate.ConsoleItem, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	r, err := OpenReadOnly(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	items, err := listConsoleItems(ctx, r)
	if err != nil && strings.Contains(err.Error(), "no such table") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read console items from %s: %w", path, err)
	}
	return items, nil
}

// OpenReadOnly opens the database at path to read only, beside a running
// server (WAL lets readers be): what `upstate export` and `upstate
// migrate` read.
func OpenReadOnly(path string) (*sql.DB, error) {
	r, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(4000)&_pragma=query_only(1)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return r, nil
}
