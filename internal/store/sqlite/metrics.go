package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store/sqlcore"
)

// SetPoints implements store.Metrics.
func (db *DB) SetPoints(ctx context.Context, series string, ps []upstate.Point) error {
	if len(ps) == 0 {
		return nil
	}
	return db.exec(ctx, func(tx *sql.Tx) error {
		for _, p := range ps {
			minute := p.At.UTC().Truncate(time.Minute)
			if _, err := tx.ExecContext(ctx, `INSERT INTO metric_points (series, at, value, n) VALUES (?, ?, ?, 1)
				ON CONFLICT (series, at) DO UPDATE SET value = excluded.value, n = 1`,
				series, sqlcore.MS(minute), p.Value); err != nil {
				return err
			}
		}
		return nil
	})
}
