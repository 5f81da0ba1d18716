package sqlcore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// SavePostmortem implements store.Postmortems.
func (db *Core) SavePostmortem(ctx context.Context, p upstate.PostmortemDoc, c store.Change) error {
	return db.exec(ctx, func(tx Tx) error {
		if err := db.savePostmortem(ctx, tx, p); err != nil {
			return err
		}
		if c.Empty() {
			return nil
		}
		return db.applyChange(ctx, tx, c)
	})
}

// savePostmortem writes a postmortem inside a transaction, its three
// parts rendered beside it.
func (db *Core) savePostmortem(ctx context.Context, tx Tx, p upstate.PostmortemDoc) error {
	actions, err := json.Marshal(p.Actions)
	if err != nil {
		return err
	}
	if p.Actions == nil {
		actions = []byte("[]")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO postmortems (incident_id, root_cause, contributing, fix, actions, status, author, updated_at, published_at,
		root_cause_html, contributing_html, fix_html, html_v)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (incident_id) DO UPDATE SET root_cause = excluded.root_cause, contributing = excluded.contributing, fix = excluded.fix,
		actions = excluded.actions, status = excluded.status, author = excluded.author, updated_at = excluded.updated_at, published_at = excluded.published_at,
		root_cause_html = excluded.root_cause_html, contributing_html = excluded.contributing_html, fix_html = excluded.fix_html, html_v = excluded.html_v`,
		p.IncidentID, p.RootCause, p.Contributing, p.Fix, string(actions), p.Status, p.Author, MS(p.UpdatedAt), nullMS(p.PublishedAt),
		db.render(p.RootCause), db.render(p.Contributing), db.render(p.Fix), db.mdv); err != nil {
		return fmt.Errorf("save postmortem of %s: %w", p.IncidentID, err)
	}
	return nil
}

const postmortemCols = `incident_id, root_cause, contributing, fix, actions, status, author, updated_at, published_at,
	root_cause_html, contributing_html, fix_html, html_v`

func (db *Core) scanPostmortem(r interface{ Scan(...any) error }) (upstate.PostmortemDoc, error) {
	var p upstate.PostmortemDoc
	var actions, htmlV string
	var updated int64
	var published sql.NullInt64
	if err := r.Scan(&p.IncidentID, &p.RootCause, &p.Contributing, &p.Fix, &actions, &p.Status, &p.Author, &updated, &published,
		&p.RootCauseHTML, &p.ContributingHTML, &p.FixHTML, &htmlV); err != nil {
		return p, err
	}
	if htmlV != db.mdv {
		p.RootCauseHTML, p.ContributingHTML, p.FixHTML = "", "", ""
	}
	p.UpdatedAt, p.PublishedAt = FromMS(updated), fromNullMS(published)
	if err := json.Unmarshal([]byte(actions), &p.Actions); err != nil {
		return p, fmt.Errorf("postmortem of %s: action items: %w", p.IncidentID, err)
	}
	return p, nil
}

// GetPostmortem implements store.Postmortems.
func (db *Core) GetPostmortem(ctx context.Context, incidentID string) (upstate.PostmortemDoc, error) {
	p, err := db.scanPostmortem(db.read.QueryRowContext(ctx, `SELECT `+postmortemCols+` FROM postmortems WHERE incident_id = ?`, incidentID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, upstate.Errorf(upstate.ENOTFOUND, "incident %s has no postmortem yet", incidentID)
	}
	return p, err
}

// ListPostmortems implements store.Postmortems.
func (db *Core) ListPostmortems(ctx context.Context, ids []string) (map[string]upstate.PostmortemDoc, error) {
	out := map[string]upstate.PostmortemDoc{}
	err := inParts(ids, func(list string, args []any) error {
		rows, err := db.read.QueryContext(ctx, `SELECT `+postmortemCols+` FROM postmortems WHERE incident_id IN `+list, args...)
		part, err := collect(rows, err, db.scanPostmortem)
		for _, p := range part {
			out[p.IncidentID] = p
		}
		return err
	})
	return out, err
}
