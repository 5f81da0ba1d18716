package postgres

import (
	"context"
	"time"

	"github.com/upstatehq/upstate/internal/store/sqlcore"
)

// Prune implements store.Results. As on SQLite, raw results are pruned
// for the checks that have daily rollups; here in one statement (the
// checks an array the primary key is walked with), not one per check: a
// statement per check is cheap in-process, a round trip each here.
func (db *DB) Prune(ctx context.Context, rawBefore, hourlyBefore time.Time) (int64, error) {
	var n int64
	err := db.exec(ctx, func(tx *pgtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM results WHERE check_id = ANY (ARRAY(SELECT DISTINCT check_id FROM rollups WHERE period = 'day')) AND at < ?`, sqlcore.MS(rawBefore))
		if err != nil {
			return err
		}
		m, _ := res.RowsAffected()
		n += m
		res, err = tx.ExecContext(ctx, `DELETE FROM rollups WHERE period = 'hour' AND bucket < ?`, sqlcore.MS(hourlyBefore))
		if err != nil {
			return err
		}
		m, _ = res.RowsAffected()
		n += m
		return nil
	})
	return n, err
}
