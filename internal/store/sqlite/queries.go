package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/upstatehq/upstate/internal/store/sqlcore"
)

// Prune implements store.Results.
func (db *DB) Prune(ctx context.Context, rawBefore, hourlyBefore time.Time) (int64, error) {
	var n int64
	err := db.exec(ctx, func(tx *sql.Tx) error {
		// Per check, so each delete walks the primary key's oldest rows.
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT check_id FROM rollups WHERE period = 'day'`)
		if err != nil {
			return err
		}
		var checks []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			checks = append(checks, id)
		}
		rows.Close()
		del, err := tx.PrepareContext(ctx, `DELETE FROM results WHERE check_id = ? AND at < ?`)
		if err != nil {
			return err
		}
		defer del.Close()
		for _, id := range checks {
			res, err := del.ExecContext(ctx, id, sqlcore.MS(rawBefore))
			if err != nil {
				return err
			}
			m, _ := res.RowsAffected()
			n += m
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM rollups WHERE period = 'hour' AND bucket < ?`, sqlcore.MS(hourlyBefore))
		if err != nil {
			return err
		}
		m, _ := res.RowsAffected()
		n += m
		return nil
	})
	return n, err
}
