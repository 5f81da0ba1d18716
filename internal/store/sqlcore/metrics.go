package sqlcore

import (
	"context"
	"time"

	"github.com/upstatehq/upstate"
)

// AddPoints implements store.Metrics.
func (db *Core) AddPoints(ctx context.Context, series string, ps []upstate.Point) error {
	if len(ps) == 0 {
		return nil
	}
	return db.exec(ctx, func(tx Tx) error {
		for _, p := range ps {
			minute := p.At.UTC().Truncate(time.Minute)
			if _, err := tx.ExecContext(ctx, `INSERT INTO metric_points (series, at, value, n) VALUES (?, ?, ?, 1)
				ON CONFLICT (series, at) DO UPDATE SET value = (metric_points.value * metric_points.n + excluded.value) / (metric_points.n + 1), n = metric_points.n + 1`,
				series, MS(minute), p.Value); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListSeries implements store.Metrics. It skips from series to series
// along the primary key instead of reading every point.
func (db *Core) ListSeries(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `WITH RECURSIVE s(x) AS (
			SELECT MIN(series) FROM metric_points
			UNION ALL SELECT (SELECT MIN(series) FROM metric_points WHERE series > s.x) FROM s WHERE s.x IS NOT NULL)
		SELECT x FROM s WHERE x IS NOT NULL`)
	return collect(rows, err, func(r interface{ Scan(...any) error }) (string, error) {
		var k string
		return k, r.Scan(&k)
	})
}

// ListPoints implements store.Metrics.
func (db *Core) ListPoints(ctx context.Context, series string, from, to time.Time) ([]upstate.Point, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT at, value FROM metric_points WHERE series = ? AND at >= ? AND at < ? ORDER BY at`, series, MS(from), MS(to))
	return collect(rows, err, func(r interface{ Scan(...any) error }) (upstate.Point, error) {
		var p upstate.Point
		var at int64
		err := r.Scan(&at, &p.Value)
		p.At = FromMS(at)
		return p, err
	})
}

// PrunePoints implements store.Metrics.
func (db *Core) PrunePoints(ctx context.Context, before time.Time) (int64, error) {
	return db.execCount(ctx, `DELETE FROM metric_points WHERE at < ?`, MS(before))
}
