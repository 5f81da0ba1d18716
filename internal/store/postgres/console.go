package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/upstatehq/upstate"
)

// SaveConsoleItem implements store.ConsoleItems.
func (db *DB) SaveConsoleItem(ctx context.Context, it upstate.ConsoleItem) error {
	return db.exec(ctx, func(tx *pgtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO console_items (kind, id, keys, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (kind, id) DO UPDATE SET keys = excluded.keys, updated_at = excluded.updated_at`,
			string(it.Kind), it.ID, string(it.Keys), ms(it.CreatedAt), ms(it.UpdatedAt))
		return err
	})
}

// DeleteConsoleItem implements store.ConsoleItems.
func (db *DB) DeleteConsoleItem(ctx context.Context, kind upstate.ConsoleKind, id string) error {
	return db.exec(ctx, func(tx *pgtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM console_items WHERE kind = ? AND id = ?`, string(kind), id)
		return one(res, err, string(kind)+" made in the console", id)
	})
}

// ListConsoleItems implements store.ConsoleItems.
func (db *DB) ListConsoleItems(ctx context.Context) ([]upstate.ConsoleItem, error) {
	return listConsoleItems(ctx, db.read)
}

func listConsoleItems(ctx context.Context, q *pgread) ([]upstate.ConsoleItem, error) {
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

// ReadConsoleItems reads the console items of the database dsn names
// without writing to it, beside a server that may be running on it: no
// migration, no writer, one connection. A database not migrated yet has
// none.
func ReadConsoleItems(ctx context.Context, dsn string) ([]upstate.ConsoleItem, error) {
	cfg, err := poolConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 1
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	defer pool.Close()
	sdb := stdlib.OpenDBFromPool(pool)
	defer sdb.Close()
	items, err := listConsoleItems(ctx, &pgread{sdb})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read console items from %s: %w", where(cfg), err)
	}
	return items, nil
}
