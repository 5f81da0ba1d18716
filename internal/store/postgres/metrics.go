package postgres

import (
	"context"
	"time"

	"github.com/upstatehq/upstate"
)

// AddPoints implements store.Metrics.
func (db *DB) AddPoints(ctx context.Context, series string, ps []upstate.Point) error {
	if len(ps) == 0 {
		return nil
	}
	return db.exec(ctx, func(tx *pgtx) error {
		for _, p := range ps {
			minute := p.At.UTC().Truncate(time.Minute)
			if _, err := tx.ExecContext(ctx, `INSERT INTO metric_points (series, at, value, n) VALUES (?, ?, ?, 1)
				ON CONFLICT (series, at) DO UPDATE SET value = (metric_points.value * metric_points.n + excluded.value) / (metric_points.n + 1), n = metric_points.n + 1`,
				series, ms(minute), p.Value); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetPoints implements store.Metrics: history may be thousands of
// points, so they go as one multi-row upsert per rowsPerStatement (a
// minute given twice keeps the last, dropped from the statement first,
// which may not touch a row twice).
func (db *DB) SetPoints(ctx context.Context, series string, ps []upstate.Point) error {
	if len(ps) == 0 {
		return nil
	}
	last := make(map[int64]int, len(ps))
	for i, p := range ps {
		last[ms(p.At.UTC().Truncate(time.Minute))] = i
	}
	ats := make([]int64, 0, len(last))
	vals := make([]float64, 0, len(last))
	for i, p := range ps {
		if at := ms(p.At.UTC().Truncate(time.Minute)); last[at] == i {
			ats, vals = append(ats, at), append(vals, p.Value)
		}
	}
	return db.exec(ctx, func(tx *pgtx) error {
		for start := 0; start < len(ats); start += rowsPerStatement {
			end := min(start+rowsPerStatement, len(ats))
			if _, err := tx.tx.ExecContext(ctx, `INSERT INTO metric_points (series, at, value, n)
				SELECT $1, at, value, 1 FROM unnest($2::bigint[], $3::double precision[]) AS p(at, value)
				ON CONFLICT (series, at) DO UPDATE SET value = excluded.value, n = 1`,
				series, ats[start:end], vals[start:end]); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListSeries implements store.Metrics. It skips from series to series
// along the primary key instead of reading every point.
func (db *DB) ListSeries(ctx context.Context) ([]string, error) {
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
func (db *DB) ListPoints(ctx context.Context, series string, from, to time.Time) ([]upstate.Point, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT at, value FROM metric_points WHERE series = ? AND at >= ? AND at < ? ORDER BY at`, series, ms(from), ms(to))
	return collect(rows, err, func(r interface{ Scan(...any) error }) (upstate.Point, error) {
		var p upstate.Point
		var at int64
		err := r.Scan(&at, &p.Value)
		p.At = fromMS(at)
		return p, err
	})
}

// PrunePoints implements store.Metrics.
func (db *DB) PrunePoints(ctx context.Context, before time.Time) (int64, error) {
	return db.execCount(ctx, `DELETE FROM metric_points WHERE at < ?`, ms(before))
}
