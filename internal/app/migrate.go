package app

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store/postgres"
	"github.com/upstatehq/upstate/internal/store/sqlite"
)

// MigrateCount is one table `upstate migrate` copied.
type MigrateCount = postgres.TableCount

// Migrate copies a SQLite install's whole history (incidents and their
// timelines, results and roll-ups, users, sessions and tokens, the outbox,
// subscribers, console items, the audit log, settings and their keys)
// into a PostgreSQL database, as one transaction, each table's count
// checked before it commits. The source is first brought to this
// version's schema (as serve would), then read in one snapshot, so a
// server running on it may go on. A destination holding data is refused
// unless replace is set, when it is emptied in the same transaction:
// running it again gives the same result.
func Migrate(ctx context.Context, fromPath, toDSN string, replace bool, progress func(table string, rows int64)) ([]MigrateCount, error) {
	if strings.TrimSpace(toDSN) == "" {
		return nil, upstate.Errorf(upstate.EINVALID, "--to: a PostgreSQL database (postgres://… or a keyword DSN) is required")
	}
	src, err := sqlite.Open(ctx, sqlite.Options{Path: fromPath})
	if err != nil {
		return nil, fmt.Errorf("the source %s: %w", fromPath, err)
	}
	if err := src.Close(); err != nil {
		return nil, fmt.Errorf("the source %s: %w", fromPath, err)
	}
	raw, err := sqlite.OpenReadOnly(fromPath)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	snap, err := raw.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", fromPath, err)
	}
	defer snap.Rollback()
	dst, err := postgres.Open(ctx, postgres.Options{DSN: toDSN})
	if err != nil {
		return nil, fmt.Errorf("the destination: %w", err)
	}
	defer dst.Close()
	return dst.CopyFrom(ctx, snap, replace, progress)
}
