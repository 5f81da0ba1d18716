package sqlcore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

// EnqueueMessages implements store.Outbox.
func (db *Core) EnqueueMessages(ctx context.Context, msgs []upstate.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	return db.exec(ctx, func(tx Tx) error { return enqueue(ctx, tx, msgs) })
}

// cancel marks pending messages of the streams as cancelled.
func cancel(ctx context.Context, tx Tx, prefixes []string) error {
	for _, p := range prefixes {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'cancelled' WHERE state = 'pending' AND substr(stream, 1, ?) = ?`, len(p), p); err != nil {
			return fmt.Errorf("cancel %s: %w", p, err)
		}
	}
	return nil
}

// Setting implements store.Settings.
func (db *Core) Setting(ctx context.Context, key string, make func() string) (string, error) {
	var v string
	err := db.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	err = db.exec(ctx, func(tx Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, make()); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	})
	return v, err
}

// enqueue writes messages inside a transaction.
func enqueue(ctx context.Context, tx Tx, msgs []upstate.Message) error {
	for _, m := range msgs {
		ev, err := json.Marshal(m.Event)
		if err != nil {
			return fmt.Errorf("message %s: %w", m.ID, err)
		}
		state := m.State
		if state == "" {
			state = upstate.MessagePending
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO outbox (id, channel, stream, lane, event, created_at, next_at, attempts, state, last_error, sent_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			m.ID, m.Channel, m.Stream, string(m.Lane()), string(ev), MS(m.CreatedAt), MS(m.NextAt), m.Attempts, string(state), m.LastError, nullMS(m.SentAt))
		if err != nil {
			return fmt.Errorf("enqueue message %s: %w", m.ID, err)
		}
	}
	return nil
}

const messageCols = `seq, id, channel, stream, event, created_at, next_at, attempts, state, last_error, sent_at`

func scanMessage(r interface{ Scan(...any) error }) (upstate.Message, error) {
	var m upstate.Message
	var ev, state string
	var created, next int64
	var sent sql.NullInt64
	if err := r.Scan(&m.Seq, &m.ID, &m.Channel, &m.Stream, &ev, &created, &next, &m.Attempts, &state, &m.LastError, &sent); err != nil {
		return m, err
	}
	if err := json.Unmarshal([]byte(ev), &m.Event); err != nil {
		return m, fmt.Errorf("message %s event: %w", m.ID, err)
	}
	m.CreatedAt, m.NextAt, m.State, m.SentAt = FromMS(created), FromMS(next), upstate.MessageState(state), fromNullMS(sent)
	return m, nil
}

// DueMessages implements store.Outbox.
func (db *Core) DueMessages(ctx context.Context, q upstate.DueQuery) ([]upstate.Message, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+messageCols+` FROM outbox o
		WHERE o.state = 'pending' AND o.lane = ? AND o.seq > ? AND o.next_at <= ? AND (o.claimed_until <= ? OR o.claimed_by = ?)
		AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.channel = o.channel AND p.stream = o.stream AND p.seq < o.seq)
		ORDER BY o.seq LIMIT ?`, string(q.Lane), q.After, MS(q.Now), MS(q.Now), q.Claimant, q.Limit)
	return collect(rows, err, scanMessage)
}

// NextDue implements store.Outbox.
func (db *Core) NextDue(ctx context.Context, lane upstate.Lane, now time.Time) (time.Time, bool, error) {
	var next sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT MIN(next_at) FROM outbox WHERE state = 'pending' AND lane = ? AND next_at > ?`, string(lane), MS(now)).Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, false, err
	}
	return FromMS(next.Int64), true, nil
}

// RecordAttempt implements store.Outbox.
func (db *Core) RecordAttempt(ctx context.Context, m upstate.Message) error {
	return db.exec(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = ?, attempts = ?, next_at = ?, last_error = ?, sent_at = ?, claimed_by = '', claimed_until = 0 WHERE id = ? AND state = 'pending'`,
			string(m.State), m.Attempts, MS(m.NextAt), m.LastError, nullMS(m.SentAt), m.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var state string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM outbox WHERE id = ?`, m.ID).Scan(&state); err != nil {
			return upstate.Errorf(upstate.ENOTFOUND, "no message %q", m.ID)
		}
		return upstate.Errorf(upstate.ECONFLICT, "message %s is %s already", m.ID, state)
	})
}

// ClaimMessage implements store.Outbox.
func (db *Core) ClaimMessage(ctx context.Context, id, claimant string, now, until time.Time) (bool, error) {
	var taken bool
	err := db.exec(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN (
			SELECT id FROM outbox WHERE id = ? AND state = 'pending' AND (claimed_until <= ? OR claimed_by = ?)`+db.d.SkipLocked()+`)`,
			claimant, MS(until), id, MS(now), claimant)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		taken = n == 1
		return err
	})
	return taken, err
}

// RetryMessage implements store.Outbox.
func (db *Core) RetryMessage(ctx context.Context, id string, now time.Time, note string) error {
	return db.exec(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'pending', next_at = ?, last_error = ? || last_error WHERE id = ? AND state = 'failed'`,
			MS(now), note, id)
		return one(res, err, "failed message", id)
	})
}

// ListMessages implements store.Outbox.
func (db *Core) ListMessages(ctx context.Context, f store.MessageFilter) ([]upstate.Message, error) {
	q := `SELECT ` + messageCols + ` FROM outbox WHERE 1 = 1`
	var args []any
	if f.ID != "" {
		q += ` AND id = ?`
		args = append(args, f.ID)
	}
	if f.State != "" {
		q += ` AND state = ?`
		args = append(args, string(f.State))
	}
	if f.Channel != "" {
		q += ` AND channel = ?`
		args = append(args, f.Channel)
	}
	q += ` ORDER BY seq DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	rows, err := db.read.QueryContext(ctx, q, args...)
	return collect(rows, err, scanMessage)
}

// CountMessages implements store.Outbox.
func (db *Core) CountMessages(ctx context.Context) ([]store.MessageCount, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT channel, state, COUNT(*) FROM outbox GROUP BY channel, state ORDER BY channel, state`)
	return collect(rows, err, func(r interface{ Scan(...any) error }) (store.MessageCount, error) {
		var c store.MessageCount
		var state string
		err := r.Scan(&c.Channel, &state, &c.N)
		c.State = upstate.MessageState(state)
		return c, err
	})
}

// PruneMessages implements store.Outbox.
func (db *Core) PruneMessages(ctx context.Context, before time.Time) (int64, error) {
	return db.execCount(ctx, `DELETE FROM outbox WHERE state != 'pending' AND created_at < ?`, MS(before))
}
