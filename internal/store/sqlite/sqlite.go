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
	"sync"
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
	flushes chan chan error

	// Pending results wait here for the writer's next commit: appending
	// takes a lock rather than a hand-off, so a result costs no wake-up.
	pmu     sync.Mutex
	pending []upstate.Result
	full    chan struct{} // signalled when pending reaches BatchSize
	drained *sync.Cond    // broadcast when the writer takes pending
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
		opts.FlushEvery = time.Second
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
		full:    make(chan struct{}, 1),
		flushes: make(chan chan error),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	db.drained = sync.NewCond(&db.pmu)
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

// execCount runs one statement as its own write and says how many rows it
// touched; the prunes use it.
func (db *DB) execCount(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := db.exec(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	return n, err
}

// one passes on a statement's error and turns "touched no row" into
// ENOTFOUND for the kind of thing named and its id.
func one(res sql.Result, err error, kind, id string) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return upstate.Errorf(upstate.ENOTFOUND, "no %s %q", kind, id)
	}
	return nil
}

// writer is the single goroutine that writes. It commits pending results
// together with any queued requests in one transaction.
func (db *DB) writer() {
	defer close(db.stopped)
	tick := time.NewTicker(db.opts.FlushEvery)
	defer tick.Stop()
	rollTick := time.NewTicker(time.Minute)
	defer rollTick.Stop()
	agg := rollups{}
	commit := func(reqs []*writeReq, withRollups bool) error {
		results := db.takePending()
		agg.add(results)
		var roll rollups
		if withRollups {
			roll, agg = agg, rollups{}
		}
		err := db.commit(results, roll, reqs)
		if err != nil {
			db.opts.Logger.Error("write failed", "component", "store", "results", len(results), "err", err)
			if withRollups {
				for k, v := range roll { // keep them for the next try
					agg[k] = v
				}
			}
		}
		return err
	}
	for {
		select {
		case <-db.stop:
			// Commit what was accepted before stopping.
			commit(db.drainReqs(nil), true)
			return
		case <-db.full:
			commit(nil, false)
		case w := <-db.flushes:
			w <- commit(db.drainReqs(nil), true)
		case req := <-db.reqs:
			commit(db.drainReqs([]*writeReq{req}), false)
		case <-tick.C:
			commit(nil, false)
		case <-rollTick.C:
			commit(nil, true)
		}
	}
}

// takePending hands the pending results to the writer and wakes appenders
// that were waiting for room.
func (db *DB) takePending() []upstate.Result {
	db.pmu.Lock()
	defer db.pmu.Unlock()
	rs := db.pending
	db.pending = nil
	db.drained.Broadcast()
	return rs
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
func (db *DB) commit(results []upstate.Result, roll rollups, reqs []*writeReq) error {
	if len(results) == 0 && len(roll) == 0 && len(reqs) == 0 {
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
	if len(results) > 0 || len(roll) > 0 {
		_, _ = tx.ExecContext(ctx, "SAVEPOINT results")
		resErr = writeResults(ctx, tx, results)
		if resErr == nil {
			resErr = roll.write(ctx, tx)
		}
		if resErr != nil {
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

// maxPending bounds the results waiting for a commit; appenders wait for
// the writer beyond it rather than let memory grow without end.
const maxPending = 200_000

// AppendResults implements store.Results.
func (db *DB) AppendResults(ctx context.Context, rs []upstate.Result) error {
	if len(rs) == 0 {
		return nil
	}
	select {
	case <-db.stop:
		return errors.New("store is closed")
	default:
	}
	db.pmu.Lock()
	for len(db.pending) >= maxPending {
		db.drained.Wait()
	}
	db.pending = append(db.pending, rs...)
	n := len(db.pending)
	db.pmu.Unlock()
	if n >= db.opts.BatchSize {
		select {
		case db.full <- struct{}{}:
		default:
		}
	}
	return nil
}

func writeResults(ctx context.Context, tx *sql.Tx, rs []upstate.Result) error {
	// Two results of one check in the same millisecond keep the later one.
	stmt, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO results (check_id, at, outcome, latency_us, status_code, error) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range rs {
		if _, err := stmt.ExecContext(ctx, r.CheckID, ms(r.At), string(r.Outcome), r.Latency.Microseconds(), r.StatusCode, r.Error); err != nil {
			return err
		}
	}
	return nil
}

type rollupKey struct {
	check  string
	period store.Period
	bucket int64
}

// rollups accumulates results into hourly and daily buckets in memory; the
// writer adds them to the stored rollups once a minute and on every Flush
// and Close, one upsert per bucket instead of two per result. Only the
// writer goroutine touches it. A crash loses at most a minute of rollup
// counts; the raw results themselves are committed with every batch.
type rollups map[rollupKey]*store.Rollup

func (agg rollups) add(rs []upstate.Result) {
	for _, r := range rs {
		for _, p := range []store.Period{store.Hour, store.Day} {
			k := rollupKey{r.CheckID, p, ms(p.Bucket(r.At))}
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
}

func (agg rollups) write(ctx context.Context, tx *sql.Tx) error {
	if len(agg) == 0 {
		return nil
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
