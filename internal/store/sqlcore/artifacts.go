package sqlcore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// SaveArtifact implements store.Artifacts.
func (db *Core) SaveArtifact(ctx context.Context, a upstate.Artifact, keep int) error {
	comps := ""
	if len(a.Components) > 0 {
		comps = "," + strings.Join(a.Components, ",") + ","
	}
	return db.exec(ctx, func(tx Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO artifacts (id, check_id, at, content_type, note, components, data) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.CheckID, MS(a.At), a.ContentType, a.Note, comps, a.Data); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM artifacts WHERE check_id = ? AND id NOT IN
			(SELECT id FROM artifacts WHERE check_id = ? ORDER BY at DESC, id DESC LIMIT ?)`, a.CheckID, a.CheckID, max(keep, 1))
		return err
	})
}

// GetArtifact implements store.Artifacts.
func (db *Core) GetArtifact(ctx context.Context, id string) (upstate.Artifact, error) {
	a, err := scanArtifact(db.read.QueryRowContext(ctx, `SELECT id, check_id, at, content_type, note, components, length(data), data FROM artifacts WHERE id = ?`, id), true)
	if errors.Is(err, sql.ErrNoRows) {
		return a, upstate.Errorf(upstate.ENOTFOUND, "no screenshot %q (only the last few failures of each check are kept)", id)
	}
	return a, err
}

// ListArtifacts implements store.Artifacts.
func (db *Core) ListArtifacts(ctx context.Context, f upstate.ArtifactFilter) ([]upstate.Artifact, error) {
	q := `SELECT id, check_id, at, content_type, note, components, length(data) FROM artifacts WHERE 1 = 1`
	var args []any
	if f.CheckID != "" {
		q += ` AND check_id = ?`
		args = append(args, f.CheckID)
	}
	if len(f.Components) > 0 {
		q += ` AND (false` + strings.Repeat(` OR `+db.d.Contains(`components`), len(f.Components)) + `)`
		for _, c := range f.Components {
			args = append(args, ","+c+",")
		}
	}
	if !f.Since.IsZero() {
		q += ` AND at >= ?`
		args = append(args, MS(f.Since))
	}
	if !f.Until.IsZero() {
		q += ` AND at < ?`
		args = append(args, MS(f.Until))
	}
	q += ` ORDER BY at DESC, id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := db.read.QueryContext(ctx, q, args...)
	return collect(rows, err, func(r interface{ Scan(...any) error }) (upstate.Artifact, error) {
		return scanArtifact(r, false)
	})
}

// PruneArtifacts implements store.Artifacts.
func (db *Core) PruneArtifacts(ctx context.Context, before time.Time) (int64, error) {
	return db.execCount(ctx, `DELETE FROM artifacts WHERE at < ?`, MS(before))
}

func scanArtifact(r interface{ Scan(...any) error }, withData bool) (upstate.Artifact, error) {
	var a upstate.Artifact
	var at int64
	var comps string
	dest := []any{&a.ID, &a.CheckID, &at, &a.ContentType, &a.Note, &comps, &a.Size}
	if withData {
		dest = append(dest, &a.Data)
	}
	if err := r.Scan(dest...); err != nil {
		return a, err
	}
	a.At, a.Components = FromMS(at), splitList(strings.Trim(comps, ","))
	return a, nil
}
