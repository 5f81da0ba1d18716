package postgres

import (
	"context"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store/sqlcore"
)

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
		last[sqlcore.MS(p.At.UTC().Truncate(time.Minute))] = i
	}
	ats := make([]int64, 0, len(last))
	vals := make([]float64, 0, len(last))
	for i, p := range ps {
		if at := sqlcore.MS(p.At.UTC().Truncate(time.Minute)); last[at] == i {
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
