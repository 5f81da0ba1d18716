package sqlcore

import (
	"context"
	"fmt"
)

// render is src as the markdown package renders it, src as the database
// keeps it (Dialect.Text): what the store keeps beside an entry's body
// and a postmortem's parts, with db.mdv, so a reader of the same renderer
// takes it as it is (issue 16: a year's printed report rendered 117,000
// bodies, half its time).
func (db *Core) render(src string) string {
	if src == "" {
		return ""
	}
	return string(db.md.HTML(db.d.Text(src)))
}

// staleBatch is how many rows RenderStale renders between writes: each
// batch is one short transaction, so the writer is never held long.
const staleBatch = 200

// RenderStale renders again, a batch at a time, every entry and
// postmortem whose kept HTML another renderer made (or none: rows written
// before the store kept it), and says how many it rendered. It goes once
// through each table in key order, so it ends even should another
// instance of another version render the same rows meanwhile, and each
// batch is found by the key (not by a scan past the rows done). Rows are
// rendered outside the transaction and written only if their words are
// still those rendered, so an edit made meanwhile is never overwritten
// with the HTML of its old words (the edit rendered its own). It stops at
// ctx's end; what it has written stays.
func (db *Core) RenderStale(ctx context.Context) (int, error) {
	total := 0
	for _, t := range []struct {
		what, sel, upd string
		parts          int
	}{
		{"timeline entries", `SELECT id, body FROM incident_updates WHERE id > ? AND html_v <> ? ORDER BY id LIMIT ?`,
			`UPDATE incident_updates SET body_html = ?, html_v = ? WHERE id = ? AND body = ?`, 1},
		{"postmortems", `SELECT incident_id, root_cause, contributing, fix FROM postmortems WHERE incident_id > ? AND html_v <> ? ORDER BY incident_id LIMIT ?`,
			`UPDATE postmortems SET root_cause_html = ?, contributing_html = ?, fix_html = ?, html_v = ?
			WHERE incident_id = ? AND root_cause = ? AND contributing = ? AND fix = ?`, 3},
	} {
		after := ""
		for {
			last, n, err := db.renderStale(ctx, t.sel, t.upd, t.parts, after)
			total += n
			if err != nil {
				return total, fmt.Errorf("render the Markdown of %s again: %w", t.what, err)
			}
			if last == "" {
				break
			}
			after = last
		}
	}
	return total, nil
}

// renderStale renders one batch of the rows sel picks after the key after
// (a key and parts Markdown columns) and writes them with upd (parts
// HTML, the version, the key, the parts as read). It returns the batch's
// last key ("" when there was none) and how many rows it wrote.
func (db *Core) renderStale(ctx context.Context, sel, upd string, parts int, after string) (string, int, error) {
	rows, err := db.read.QueryContext(ctx, sel, after, db.mdv, staleBatch)
	if err != nil {
		return "", 0, err
	}
	var batch [][]any // each: the parts' HTML, the version, the key, the parts
	last := ""
	for rows.Next() {
		row := make([]string, 1+parts)
		dest := make([]any, len(row))
		for i := range row {
			dest[i] = &row[i]
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return "", 0, err
		}
		args := make([]any, 0, 2+2*parts)
		for _, src := range row[1:] {
			args = append(args, db.render(src))
		}
		args = append(args, db.mdv, row[0])
		for _, src := range row[1:] {
			args = append(args, src)
		}
		batch = append(batch, args)
		last = row[0]
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(batch) == 0 {
		return "", 0, err
	}
	wrote := 0
	err = db.exec(ctx, func(tx Tx) error {
		wrote = 0
		for _, args := range batch {
			res, err := tx.ExecContext(ctx, upd, args...)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				wrote++
			}
		}
		return nil
	})
	if err != nil {
		return "", 0, err
	}
	return last, wrote, nil
}
