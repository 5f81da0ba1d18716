package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/store"
	"github.com/upstatehq/upstate/internal/store/postgres"
	"github.com/upstatehq/upstate/internal/store/sqlite"
)

// storeOptions are what every backend is opened with.
type storeOptions struct {
	Logger       *slog.Logger
	WriteTimeout time.Duration
	Now          func() time.Time
}

// openStore opens the backend server.database names: SQLite in data_dir
// when it is empty (the default), else PostgreSQL. serve and the commands
// that open the store beside it (user, report, import, export) all come
// here, so they always read the same database.
func openStore(ctx context.Context, cfg *config.Config, o storeOptions) (store.Store, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if dsn := cfg.Server.Database.Reveal(); dsn != "" {
		db, err := postgres.Open(ctx, postgres.Options{DSN: dsn, Logger: o.Logger, WriteTimeout: o.WriteTimeout, Now: o.Now})
		if err != nil {
			return nil, fmt.Errorf("server.database: %w", err)
		}
		return db, nil
	}
	db, err := sqlite.Open(ctx, sqlite.Options{Path: sqlitePath(cfg), Logger: o.Logger, WriteTimeout: o.WriteTimeout, Now: o.Now})
	if err != nil {
		return nil, err
	}
	return db, nil
}

// sqlitePath is the SQLite database's file in data_dir.
func sqlitePath(cfg *config.Config) string { return filepath.Join(cfg.Server.DataDir, "upstate.db") }

// readConsoleItems reads the console's items from the configuration's
// database without writing to it, beside a server that may be running.
func readConsoleItems(ctx context.Context, cfg *config.Config) ([]upstate.ConsoleItem, error) {
	if dsn := cfg.Server.Database.Reveal(); dsn != "" {
		return postgres.ReadConsoleItems(ctx, dsn)
	}
	return sqlite.ReadConsoleItems(ctx, sqlitePath(cfg))
}

// databaseRule checks server.database as the driver reads it, at load
// (upstate validate too), in words that never repeat it.
func databaseRule(c *config.Config, problem func(path, format string, args ...any)) {
	if dsn := c.Server.Database.Reveal(); dsn != "" {
		if err := postgres.ParseDSN(dsn); err != nil {
			problem("server.database", "%v", err)
		}
	}
}
