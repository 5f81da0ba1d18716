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
	"github.com/upstatehq/upstate/internal/store/sqlcore"
)

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
	items, err := sqlcore.ReadConsoleItems(ctx, &pgread{sdb})
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read console items from %s: %w", where(cfg), err)
	}
	return items, nil
}
