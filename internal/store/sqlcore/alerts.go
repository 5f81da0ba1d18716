package sqlcore

import (
	"context"

	"github.com/upstatehq/upstate"
)

// SaveFiringAlert implements store.Alerts.
func (db *Core) SaveFiringAlert(ctx context.Context, a upstate.FiringAlert) error {
	return db.exec(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO inbound_alerts (check_id, fingerprint, severity, summary, source, url, starts_at, seen_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (check_id, fingerprint) DO UPDATE SET severity = excluded.severity, summary = excluded.summary,
			source = excluded.source, url = excluded.url, seen_at = excluded.seen_at`,
			a.CheckID, a.Fingerprint, a.Severity, a.Summary, a.Source, a.URL, MS(a.StartsAt), MS(a.SeenAt))
		return err
	})
}

// DeleteFiringAlert implements store.Alerts; deleting one not kept is not an error.
func (db *Core) DeleteFiringAlert(ctx context.Context, checkID, fingerprint string) error {
	return db.exec(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM inbound_alerts WHERE check_id = ? AND fingerprint = ?`, checkID, fingerprint)
		return err
	})
}

// ListFiringAlerts implements store.Alerts.
func (db *Core) ListFiringAlerts(ctx context.Context) ([]upstate.FiringAlert, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT check_id, fingerprint, severity, summary, source, url, starts_at, seen_at FROM inbound_alerts ORDER BY check_id, starts_at`)
	return collect(rows, err, func(r interface{ Scan(...any) error }) (upstate.FiringAlert, error) {
		var a upstate.FiringAlert
		var starts, seen int64
		err := r.Scan(&a.CheckID, &a.Fingerprint, &a.Severity, &a.Summary, &a.Source, &a.URL, &starts, &seen)
		a.StartsAt, a.SeenAt = FromMS(starts), FromMS(seen)
		return a, err
	})
}
