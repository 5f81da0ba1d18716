package sqlcore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/upstatehq/upstate"
)

// SaveSilence implements store.Silences.
func (db *Core) SaveSilence(ctx context.Context, s upstate.Silence) error {
	var list []string
	for _, m := range s.Matchers {
		list = append(list, m.String())
	}
	b, _ := json.Marshal(list)
	return db.exec(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET matchers = excluded.matchers, starts_at = excluded.starts_at, ends_at = excluded.ends_at, comment = excluded.comment`,
			s.ID, string(b), MS(s.StartsAt), MS(s.EndsAt), s.CreatedBy, s.Comment, MS(s.CreatedAt))
		return err
	})
}

// ListSilences implements store.Silences.
func (db *Core) ListSilences(ctx context.Context, since time.Time) ([]upstate.Silence, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, matchers, starts_at, ends_at, created_by, comment, created_at FROM silences
		WHERE ends_at > ? ORDER BY starts_at, id`, MS(since))
	return collect(rows, err, func(r interface{ Scan(...any) error }) (upstate.Silence, error) {
		var s upstate.Silence
		var matchers string
		var from, until, created int64
		if err := r.Scan(&s.ID, &matchers, &from, &until, &s.CreatedBy, &s.Comment, &created); err != nil {
			return s, err
		}
		var list []string
		if err := json.Unmarshal([]byte(matchers), &list); err != nil {
			return s, fmt.Errorf("silence %s matchers: %w", s.ID, err)
		}
		for _, x := range list {
			m, err := upstate.ParseMatcher(x)
			if err != nil {
				return s, fmt.Errorf("silence %s: %w", s.ID, err)
			}
			s.Matchers = append(s.Matchers, m)
		}
		s.StartsAt, s.EndsAt, s.CreatedAt = FromMS(from), FromMS(until), FromMS(created)
		return s, nil
	})
}

// DeleteSilence implements store.Silences.
func (db *Core) DeleteSilence(ctx context.Context, id string) error {
	return db.exec(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM silences WHERE id = ?`, id)
		return one(res, err, "silence", id)
	})
}
