package postgres

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/upstatehq/upstate"
)

// CreateSubscriber implements store.Subscribers.
func (db *DB) CreateSubscriber(ctx context.Context, s upstate.Subscriber, msgs []upstate.Message) error {
	return db.exec(ctx, func(tx *pgtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO subscribers (id, kind, address, components, secret, created_at, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			s.ID, s.Kind, s.Address, strings.Join(s.Components, ","), s.Secret.Reveal(), ms(s.CreatedAt), nullMS(s.ConfirmedAt))
		if isUnique(err) {
			return upstate.Errorf(upstate.ECONFLICT, "%s is subscribed already", s.Address)
		}
		if err != nil {
			return err
		}
		return enqueue(ctx, tx, msgs)
	})
}

const subscriberCols = `id, kind, address, components, secret, created_at, confirmed_at`

func scanSubscriber(r interface{ Scan(...any) error }) (upstate.Subscriber, error) {
	var s upstate.Subscriber
	var comps, secret string
	var created int64
	var confirmed sql.NullInt64
	err := r.Scan(&s.ID, &s.Kind, &s.Address, &comps, &secret, &created, &confirmed)
	s.Components, s.Secret, s.CreatedAt, s.ConfirmedAt = splitList(comps), upstate.Secret(secret), fromMS(created), fromNullMS(confirmed)
	return s, err
}

// GetSubscriber implements store.Subscribers.
func (db *DB) GetSubscriber(ctx context.Context, id string) (upstate.Subscriber, error) {
	s, err := scanSubscriber(db.read.QueryRowContext(ctx, `SELECT `+subscriberCols+` FROM subscribers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, upstate.Errorf(upstate.ENOTFOUND, "no subscriber %q", id)
	}
	return s, err
}

// ConfirmSubscriber implements store.Subscribers.
func (db *DB) ConfirmSubscriber(ctx context.Context, id string, at time.Time) error {
	return db.exec(ctx, func(tx *pgtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscribers SET confirmed_at = COALESCE(confirmed_at, ?) WHERE id = ?`, ms(at), id)
		return one(res, err, "subscriber", id)
	})
}

// DeleteSubscriber implements store.Subscribers.
func (db *DB) DeleteSubscriber(ctx context.Context, id string) error {
	return db.exec(ctx, func(tx *pgtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM subscribers WHERE id = ?`, id)
		if err := one(res, err, "subscriber", id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'cancelled' WHERE state = 'pending' AND channel = ?`, upstate.SubscriberChannel(id))
		return err
	})
}

// ListSubscribers implements store.Subscribers.
func (db *DB) ListSubscribers(ctx context.Context) ([]upstate.Subscriber, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+subscriberCols+` FROM subscribers ORDER BY created_at, id`)
	return collect(rows, err, scanSubscriber)
}

// isUnique reports whether err is a unique constraint's refusal.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
