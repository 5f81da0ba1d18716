package sqlcore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// CreateSubscriber implements store.Subscribers.
func (db *Core) CreateSubscriber(ctx context.Context, s upstate.Subscriber, msgs []upstate.Message) error {
	return db.exec(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO subscribers (id, kind, address, components, secret, created_at, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			s.ID, s.Kind, s.Address, strings.Join(s.Components, ","), s.Secret.Reveal(), MS(s.CreatedAt), nullMS(s.ConfirmedAt))
		if err != nil && db.d.IsUnique(err) {
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
	s.Components, s.Secret, s.CreatedAt, s.ConfirmedAt = splitList(comps), upstate.Secret(secret), FromMS(created), fromNullMS(confirmed)
	return s, err
}

// GetSubscriber implements store.Subscribers.
func (db *Core) GetSubscriber(ctx context.Context, id string) (upstate.Subscriber, error) {
	s, err := scanSubscriber(db.read.QueryRowContext(ctx, `SELECT `+subscriberCols+` FROM subscribers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return s, upstate.Errorf(upstate.ENOTFOUND, "no subscriber %q", id)
	}
	return s, err
}

// ConfirmSubscriber implements store.Subscribers.
func (db *Core) ConfirmSubscriber(ctx context.Context, id string, at time.Time) error {
	return db.exec(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscribers SET confirmed_at = COALESCE(confirmed_at, ?) WHERE id = ?`, MS(at), id)
		return one(res, err, "subscriber", id)
	})
}

// DeleteSubscriber implements store.Subscribers.
func (db *Core) DeleteSubscriber(ctx context.Context, id string) error {
	return db.exec(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM subscribers WHERE id = ?`, id)
		if err := one(res, err, "subscriber", id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'cancelled' WHERE state = 'pending' AND channel = ?`, upstate.SubscriberChannel(id))
		return err
	})
}

// ListSubscribers implements store.Subscribers.
func (db *Core) ListSubscribers(ctx context.Context) ([]upstate.Subscriber, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+subscriberCols+` FROM subscribers ORDER BY created_at, id`)
	return collect(rows, err, scanSubscriber)
}
