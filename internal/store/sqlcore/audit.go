package sqlcore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// EditEntry implements store.Corrections.
func (db *Core) EditEntry(ctx context.Context, incidentID, entryID, body, actor string, at time.Time) (upstate.EntryEdit, error) {
	ed := upstate.EntryEdit{EntryID: entryID, At: at, By: actor}
	err := db.exec(ctx, func(tx Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT body FROM incident_updates WHERE id = ? AND incident_id = ?`, entryID, incidentID).Scan(&ed.Previous)
		if errors.Is(err, sql.ErrNoRows) {
			return upstate.Errorf(upstate.ENOTFOUND, "incident %s has no entry %s", incidentID, entryID)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO incident_update_edits (update_id, incident_id, at, actor, previous) VALUES (?, ?, ?, ?, ?)`,
			entryID, incidentID, MS(at), actor, ed.Previous); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE incident_updates SET body = ?, edited_at = ?, edited_by = ?, body_html = ?, html_v = ? WHERE id = ?`,
			body, MS(at), actor, db.render(body), db.mdv, entryID)
		return err
	})
	return ed, err
}

// ListEntryEdits implements store.Corrections.
func (db *Core) ListEntryEdits(ctx context.Context, incidentID string) ([]upstate.EntryEdit, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT update_id, at, actor, previous FROM incident_update_edits WHERE incident_id = ? ORDER BY id`, incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []upstate.EntryEdit
	for rows.Next() {
		var e upstate.EntryEdit
		var at int64
		if err := rows.Scan(&e.EntryID, &at, &e.By, &e.Previous); err != nil {
			return nil, err
		}
		e.At = FromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// HideIncident implements store.Corrections.
func (db *Core) HideIncident(ctx context.Context, id string, h *upstate.Hidden) error {
	return db.exec(ctx, func(tx Tx) error {
		var res sql.Result
		var err error
		if h == nil {
			res, err = tx.ExecContext(ctx, `UPDATE incidents SET hidden_reason = '', hidden_by = '', hidden_at = NULL WHERE id = ?`, id)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE incidents SET hidden_reason = ?, hidden_by = ?, hidden_at = ? WHERE id = ?`, h.Reason, h.By, MS(h.At), id)
		}
		return one(res, err, "incident", id)
	})
}

// DeleteIncident implements store.Corrections.
func (db *Core) DeleteIncident(ctx context.Context, id string, record upstate.AuditEntry) error {
	return db.exec(ctx, func(tx Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM incidents WHERE id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return upstate.Errorf(upstate.ENOTFOUND, "no incident %q", id)
		}
		for _, q := range []string{
			`DELETE FROM incident_update_edits WHERE incident_id = ?`,
			`DELETE FROM incident_updates WHERE incident_id = ?`,
			`DELETE FROM postmortems WHERE incident_id = ?`,
			`UPDATE incidents SET merged_into = '' WHERE merged_into = ?`,
			`UPDATE status_changes SET incident_id = '' WHERE incident_id = ?`,
			`DELETE FROM incidents WHERE id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete incident %s: %w", id, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'cancelled' WHERE state = 'pending' AND stream = ?`, id); err != nil {
			return fmt.Errorf("delete incident %s: %w", id, err)
		}
		if err := cancel(ctx, tx, []string{upstate.PageStream(id)}); err != nil {
			return err
		}
		return appendAudit(ctx, tx, record)
	})
}

// AppendAudit implements store.Audit.
func (db *Core) AppendAudit(ctx context.Context, e upstate.AuditEntry) error {
	return db.exec(ctx, func(tx Tx) error { return appendAudit(ctx, tx, e) })
}

func appendAudit(ctx context.Context, tx Tx, e upstate.AuditEntry) error {
	e = e.Bounded()
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, actor_kind, actor_id, token_id, action, route, targets, status, addr, user_agent, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		MS(e.At), e.Actor, e.ActorKind, e.ActorID, e.TokenID, e.Action, e.Route, strings.Join(e.Targets, ","), e.Status, e.Addr, e.UserAgent, e.Detail)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// likeEscape makes s match itself in a LIKE … ESCAPE '\' pattern (the
// dialect's FoldingLike: SQLite's LIKE ignores the case of ASCII letters,
// and PostgreSQL's ILIKE, under COLLATE "C", folds only those too).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListAudit implements store.Audit.
func (db *Core) ListAudit(ctx context.Context, f upstate.AuditFilter) ([]upstate.AuditEntry, error) {
	q := `SELECT id, at, actor, actor_kind, actor_id, token_id, action, route, targets, status, addr, user_agent, detail FROM audit_log WHERE 1 = 1`
	like := db.d.FoldingLike()
	var args []any
	if f.Actor != "" {
		q += ` AND (actor ` + like + ` ? ESCAPE '\' OR actor_id = ?)`
		args = append(args, "%"+likeEscape(f.Actor)+"%", f.Actor)
	}
	if f.Action != "" {
		q += ` AND (action ` + like + ` ? ESCAPE '\' OR route ` + like + ` ? ESCAPE '\')`
		args = append(args, "%"+likeEscape(f.Action)+"%", "%"+likeEscape(f.Action)+"%")
	}
	if f.Target != "" {
		q += ` AND (',' || targets || ',') ` + like + ` ? ESCAPE '\'`
		args = append(args, "%,"+likeEscape(f.Target)+",%")
	}
	if !f.From.IsZero() {
		q += ` AND at >= ?`
		args = append(args, MS(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND at < ?`
		args = append(args, MS(f.To))
	}
	if f.Before > 0 {
		q += ` AND id < ?`
		args = append(args, f.Before)
	}
	// No limit is the first page; a large one is the most a page holds
	// (a caller asking for one more, to know there is a next page, is
	// not cut back to the first page's size).
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1001:
		limit = 1001
	}
	q += fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, limit)
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []upstate.AuditEntry
	for rows.Next() {
		var e upstate.AuditEntry
		var at int64
		var targets string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.ActorKind, &e.ActorID, &e.TokenID, &e.Action, &e.Route, &targets, &e.Status, &e.Addr, &e.UserAgent, &e.Detail); err != nil {
			return nil, err
		}
		e.At = FromMS(at)
		if targets != "" {
			e.Targets = strings.Split(targets, ",")
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// PruneAudit implements store.Audit.
func (db *Core) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	return db.execCount(ctx, `DELETE FROM audit_log WHERE at < ?`, MS(before))
}
