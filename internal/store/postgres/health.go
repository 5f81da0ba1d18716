package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/upstatehq/upstate"
)

// WriteHealth says whether the database is accepting writes: nil, or an
// EUNAVAILABLE error saying why (read-only, disk full, out of connections,
// unreachable, or a write stuck for longer than the write timeout) and
// since when.
func (db *DB) WriteHealth() error {
	return db.health.Err(db.opts.WriteTimeout, "the server may be stalled or unreachable")
}

// Probe writes one small row, so WriteHealth is current even when nothing
// else is being written; when a commit went through within the last
// probeEvery, that is news enough and nothing is written.
func (db *DB) Probe(ctx context.Context) error {
	recent := db.health.Recent(db.opts.Now(), probeEvery)
	if recent {
		return nil
	}
	return db.exec(ctx, func(tx *pgtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('write_probe', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
			db.opts.Now().UTC().Format(time.RFC3339Nano))
		return err
	})
}

// probeEvery is how recent a commit must be for Probe to skip its write.
const probeEvery = 10 * time.Second

// notAccepting is a transaction that could not begin or commit: the
// database not accepting writes, for the reason PostgreSQL gives.
func notAccepting(err error) error {
	if err = unavailable(err); upstate.ErrorCode(err) == upstate.EUNAVAILABLE {
		return err
	}
	return upstate.Later(upstate.EUNAVAILABLE, 10*time.Second, "the database is not accepting writes: %v", err)
}

// unavailable turns PostgreSQL's refusals to write (and a server that
// cannot be reached) into an EUNAVAILABLE error that says why and when to
// try again; other errors (a constraint, a mistake in a statement) pass
// unchanged.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "25006": // read_only_sql_transaction
			return upstate.Later(upstate.EUNAVAILABLE, time.Minute, "the database is not accepting writes: the server is read-only (a standby, or default_transaction_read_only) (%s)", pe.Message)
		case pe.Code == "53100": // disk_full
			return upstate.Later(upstate.EUNAVAILABLE, time.Minute, "the database is not accepting writes: the server's disk is full (%s)", pe.Message)
		case pe.Code == "53300": // too_many_connections
			return upstate.Later(upstate.EUNAVAILABLE, 10*time.Second, "the database is not accepting writes: the server has no connection to spare (%s)", pe.Message)
		case pe.Code == "55P03", pe.Code == "57014": // lock_not_available, query_canceled
			return upstate.Later(upstate.EUNAVAILABLE, 5*time.Second, "the database is not accepting writes: a lock was not granted in time (%s)", pe.Message)
		case pe.Code == "40001", pe.Code == "40P01": // serialization_failure, deadlock_detected
			return upstate.Later(upstate.EUNAVAILABLE, time.Second, "the database is not accepting writes: the server rolled the write back to resolve a conflict (%s)", pe.Message)
		case len(pe.Code) == 5 && (pe.Code[:2] == "53" || pe.Code[:2] == "08" || pe.Code[:2] == "57" || pe.Code[:2] == "58" || pe.Code[:2] == "XX"):
			// insufficient resources, connection, operator intervention
			// (shutdown), system (I/O) and internal errors.
			return upstate.Later(upstate.EUNAVAILABLE, 30*time.Second, "the database is not accepting writes: %s (%s)", pe.Message, pe.Code)
		}
		return err
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, driver.ErrBadConn), pgconn.SafeToRetry(err), pgconn.Timeout(err):
		return upstate.Later(upstate.EUNAVAILABLE, 10*time.Second, "the database is not accepting writes: the server cannot be reached (%v)", err)
	case errors.Is(err, context.DeadlineExceeded):
		return upstate.Later(upstate.EUNAVAILABLE, 10*time.Second, "the database is not accepting writes: the server did not answer in time")
	}
	return err
}
