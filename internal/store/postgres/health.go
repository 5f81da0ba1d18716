package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/upstatehq/upstate"
)

// writeHealth is what the writer knows of its last commits: whether the
// database accepts writes, and if not, why and since when. Guarded by mu:
// the writer sets it, requests read it.
type writeHealth struct {
	mu    sync.Mutex
	err   error     // the last commit's failure, classified; nil when it succeeded
	since time.Time // when writes began failing
	// inFlight is when the commit in progress began, zero when none, on
	// the wall clock (with its monotonic reading), not Options.Now: it is
	// held against WriteTimeout, which exec enforces as a real deadline,
	// and an injected clock may stand still (tests) or run fast and jump
	// days (the demo) while a commit takes milliseconds.
	inFlight time.Time
	lastOK   time.Time // when a commit last went through
}

func (h *writeHealth) begin() {
	h.mu.Lock()
	h.inFlight = time.Now() // the wall clock: see inFlight
	h.mu.Unlock()
}

func (h *writeHealth) end(now time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inFlight = time.Time{}
	if upstate.ErrorCode(err) != upstate.EUNAVAILABLE {
		// Committed (a request's own mistake, such as a constraint, says
		// nothing of the database).
		h.err, h.lastOK = nil, now
		return
	}
	if h.err == nil {
		h.since = now
	}
	h.err = err
}

// WriteHealth says whether the database is accepting writes: nil, or an
// EUNAVAILABLE error saying why (read-only, disk full, out of connections,
// unreachable, or a write stuck for longer than the write timeout) and
// since when.
func (db *DB) WriteHealth() error {
	h := &db.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.inFlight.IsZero() {
		if took := time.Since(h.inFlight); took > db.opts.WriteTimeout { // the wall clock: see inFlight
			return upstate.Later(upstate.EUNAVAILABLE, 10*time.Second, "the database is not accepting writes: a write has been in progress for %s (the server may be stalled or unreachable)",
				took.Round(time.Second))
		}
	}
	if h.err != nil {
		return upstate.Later(upstate.ErrorCode(h.err), upstate.RetryAfterOf(h.err), "%s (since %s)", upstate.ErrorMessage(h.err), h.since.UTC().Format(time.RFC3339))
	}
	return nil
}

// Probe writes one small row, so WriteHealth is current even when nothing
// else is being written; when a commit went through within the last
// probeEvery, that is news enough and nothing is written.
func (db *DB) Probe(ctx context.Context) error {
	db.health.mu.Lock()
	recent := db.health.err == nil && !db.health.lastOK.IsZero() && db.opts.Now().Sub(db.health.lastOK) < probeEvery
	db.health.mu.Unlock()
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
