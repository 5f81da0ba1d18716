// Package sqlite is the embedded store: one SQLite file in WAL mode,
// written by a single goroutine that commits queued writes together (group
// commit) and batches results, read through a separate pool.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure the store.
type Options struct {
	// Path is the database file; its directory is created if missing.
	Path   string
	Logger *slog.Logger
	// FlushEvery bounds how long a queued result waits for its batch.
	FlushEvery time.Duration
	// BatchSize flushes results early once this many are queued.
	BatchSize int
}

// DB is the SQLite store.
type DB struct {
	opts  Options
	write *sql.DB // exactly one connection: the writer's
	read  *sql.DB

	reqs    chan *writeReq
	results chan []upstate.Result
	flushes chan chan error
	stop    chan struct{}
	stopped chan struct{}
}

var _ store.Store = (*DB)(nil)

type writeReq struct {
	fn   func(tx *sql.Tx) error
	done chan error
}

// Open opens (creating if needed) and migrates the database, then starts
// the writer. Close stops it after flushing.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.Path == "" {
		return nil, errors.New("sqlite: Options.Path is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = 200 * time.Millisecond
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 2000
	}
	if err := os.MkdirAll(filepath.Dir(opts.Path), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	pragmas := "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	w, err := sql.Open("sqlite", "file:"+opts.Path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", opts.Path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", "file:"+opts.Path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", opts.Path, err)
	}
	r.SetMaxOpenConns(4)
	db := &DB{
		opts: opts, write: w, read: r,
		reqs:    make(chan *writeReq, 256),
		results: make(chan []upstate.Result, 1024),
		flushes: make(chan chan error),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	go db.writer()
	return db, nil
}

// migrate applies the embedded numbered migrations in order, each in its
// own transaction, and refuses a database newer than this binary.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := db.write.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	latest := 0
	for _, f := range files {
		v, err := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", f)
		}
		latest = max(latest, v)
		if v <= current {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", f, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, time.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", f, err)
		}
		db.opts.Logger.Info("applied migration", "component", "store", "version", v)
	}
	if current > latest {
		return fmt.Errorf("database %s has schema version %d, newer than this binary knows (%d): upgrade upstate", db.opts.Path, current, latest)
	}
	return nil
}

// Close flushes queued writes, stops the writer and closes the files.
func (db *DB) Close() error {
	select {
	case <-db.stop:
	default:
		close(db.stop)
	}
	<-db.stopped
	return errors.Join(db.write.Close(), db.read.Close())
}

// Flush implements store.Store.
func (db *DB) Flush(ctx context.Context) error {
	done := make(chan error, 1)
	select {
	case db.flushes <- done:
	case <-db.stopped:
		return errors.New("store is closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// exec runs fn in a write transaction shared with whatever else is queued
// (group commit) and returns once it is committed.
func (db *DB) exec(ctx context.Context, fn func(tx *sql.Tx) error) error {
	req := &writeReq{fn: fn, done: make(chan error, 1)}
	select {
	case db.reqs <- req:
	case <-db.stopped:
		return errors.New("store is closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		// The write may still commit; the caller just stops waiting.
		return ctx.Err()
	}
}

// writer is the single goroutine that writes. It owns the pending results
// and commits them with any queued requests in one transaction.
func (db *DB) writer() {
	defer close(db.stopped)
	var pending []upstate.Result
	var waiters []chan error
	tick := time.NewTicker(db.opts.FlushEvery)
	defer tick.Stop()
	commit := func(reqs []*writeReq) {
		err := db.commit(pending, reqs)
		for _, w := range waiters {
			w <- err
		}
		if err != nil {
			db.opts.Logger.Error("write failed", "component", "store", "results", len(pending), "err", err)
		}
		pending, waiters = pending[:0], waiters[:0]
	}
	for {
		select {
		case <-db.stop:
			// Drain what was accepted before stopping.
			var reqs []*writeReq
		drain:
			for {
				select {
				case rs := <-db.results:
					pending = append(pending, rs...)
				case req := <-db.reqs:
					reqs = append(reqs, req)
				default:
					break drain
				}
			}
			commit(reqs)
			return
		case rs := <-db.results:
			pending = append(pending, rs...)
			if len(pending) >= db.opts.BatchSize {
				commit(nil)
			}
		case w := <-db.flushes:
			// Take everything queued so far into this commit.
			reqs := db.drainReqs(nil)
			for more := true; more; {
				select {
				case rs := <-db.results:
					pending = append(pending, rs...)
				default:
					more = false
				}
			}
			waiters = append(waiters, w)
			commit(reqs)
		case req := <-db.reqs:
			commit(db.drainReqs([]*writeReq{req}))
		case <-tick.C:
			if len(pending) > 0 {
				commit(nil)
			}
		}
	}
}

func (db *DB) drainReqs(reqs []*writeReq) []*writeReq {
	for len(reqs) < 256 {
		select {
		case r := <-db.reqs:
			reqs = append(reqs, r)
		default:
			return reqs
		}
	}
	return reqs
}

// commit writes results and requests in one transaction. Each request runs
// inside its own savepoint so one failing request does not undo the others.
func (db *DB) commit(results []upstate.Result, reqs []*writeReq) error {
	if len(results) == 0 && len(reqs) == 0 {
		return nil
	}
	ctx := context.Background()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range reqs {
			r.done <- err
		}
		return err
	}
	var resErr error
	if len(results) > 0 {
		_, _ = tx.ExecContext(ctx, "SAVEPOINT results")
		if resErr = writeResults(ctx, tx, results); resErr != nil {
			_, _ = tx.ExecContext(ctx, "ROLLBACK TO results")
		}
		_, _ = tx.ExecContext(ctx, "RELEASE results")
	}
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT req"); err != nil {
			errs[i] = err
			continue
		}
		if err := r.fn(tx); err != nil {
			errs[i] = err
			_, _ = tx.ExecContext(ctx, "ROLLBACK TO req")
		}
		_, _ = tx.ExecContext(ctx, "RELEASE req")
	}
	if err := tx.Commit(); err != nil {
		for _, r := range reqs {
			r.done <- err
		}
		return err
	}
	for i, r := range reqs {
		r.done <- errs[i]
	}
	return resErr
}

// AppendResults implements store.Results.
func (db *DB) AppendResults(ctx context.Context, rs []upstate.Result) error {
	if len(rs) == 0 {
		return nil
	}
	select {
	case db.results <- rs:
		return nil
	case <-db.stopped:
		return errors.New("store is closed")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func writeResults(ctx context.Context, tx *sql.Tx, rs []upstate.Result) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO results (check_id, at, outcome, latency_us, status_code, error) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	type key struct {
		check  string
		period store.Period
		bucket int64
	}
	agg := map[key]*store.Rollup{}
	for _, r := range rs {
		if _, err := stmt.ExecContext(ctx, r.CheckID, ms(r.At), string(r.Outcome), r.Latency.Microseconds(), r.StatusCode, r.Error); err != nil {
			return err
		}
		for _, p := range []store.Period{store.Hour, store.Day} {
			k := key{r.CheckID, p, ms(p.Bucket(r.At))}
			ru := agg[k]
			if ru == nil {
				ru = &store.Rollup{}
				agg[k] = ru
			}
			ru.Count++
			switch r.Outcome {
			case upstate.OutcomeOK:
				ru.OK++
			case upstate.OutcomeSlow:
				ru.Slow++
			default:
				ru.Fail++
			}
			ru.LatencySum += r.Latency
			ru.LatencyMax = max(ru.LatencyMax, r.Latency)
		}
	}
	up, err := tx.PrepareContext(ctx, `INSERT INTO rollups (check_id, period, bucket, n, ok, slow, fail, latency_sum_us, latency_max_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (check_id, period, bucket) DO UPDATE SET
		n = n + excluded.n, ok = ok + excluded.ok, slow = slow + excluded.slow, fail = fail + excluded.fail,
		latency_sum_us = latency_sum_us + excluded.latency_sum_us,
		latency_max_us = MAX(latency_max_us, excluded.latency_max_us)`)
	if err != nil {
		return err
	}
	defer up.Close()
	for k, r := range agg {
		if _, err := up.ExecContext(ctx, k.check, string(k.period), k.bucket, r.Count, r.OK, r.Slow, r.Fail, r.LatencySum.Microseconds(), r.LatencyMax.Microseconds()); err != nil {
			return err
		}
	}
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
