// Package sqlite is the embedded store: one SQLite file in WAL mode,
// written by a single goroutine that commits queued writes together (group
// commit) and batches results, read through a separate pool.
//
// The queries are shared with the PostgreSQL store in
// internal/store/sqlcore, which DB embeds (sqlcore.Core) over this
// package's writer and read pool; dialect is SQLite's side of the few
// differences. What stays here is SQLite's own: Open with its pragmas and
// its two pools, the migrations, the writer with its group commit and
// result batching, write health from SQLite's refusals (and SetFull for
// the fault tests), the raw results' prune (a prepared delete per check)
// and a metric's history, and the read-only opening beside a running
// server (OpenReadOnly, ReadConsoleItems).
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
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
	"github.com/upstatehq/upstate/internal/store/sqlcore"
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
	// WriteTimeout bounds how long a write waits to be committed before
	// the caller is told the database is not accepting writes (a held
	// lock, a stalled disk). Default 5s.
	WriteTimeout time.Duration
	// BusyTimeout is how long the writer waits for another process's
	// write lock before giving up; it is shorter than WriteTimeout, so the
	// answer can say the lock is why. Default 4s.
	BusyTimeout time.Duration
	// Now tells the time the store records and tells (when a migration
	// was applied, since when writes fail, the last commit's time, the
	// write probe's value, the retry back-off); default time.Now. How
	// long a write has been in progress is measured on the wall clock:
	// WriteTimeout is a real deadline.
	Now func() time.Time
}

// DB is the SQLite store. The queries are sqlcore's, shared with the
// PostgreSQL store; what is SQLite's own is here.
type DB struct {
	*sqlcore.Core // the shared queries, over exec and read

	opts  Options
	write *sql.DB // exactly one connection: the writer's
	read  *sql.DB

	reqs    chan *writeReq
	flushes chan chan error

	// Pending results wait here for the writer's next commit: appending
	// takes a lock rather than a hand-off, so a result costs no wake-up.
	pmu     sync.Mutex
	pending []upstate.Result
	spare   []upstate.Result // the last batch written, emptied, to take the next (recycle)
	full    chan struct{}    // signalled when pending reaches BatchSize
	stop    chan struct{}
	stopped chan struct{}

	health  sqlcore.Health
	dropped int // results dropped because the writer could not keep up; writer's and appenders' (under pmu)
}

var _ store.Store = (*DB)(nil)

type writeReq struct {
	ctx  context.Context // the caller's, with the write timeout: once done, it is not waiting and the write is skipped
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
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 5 * time.Second
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = min(4*time.Second, opts.WriteTimeout*4/5)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(opts.Path), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	pragmas := fmt.Sprintf("_pragma=journal_mode(WAL)&_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)", opts.BusyTimeout.Milliseconds())
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
	db.Core = sqlcore.New(db.execShared, r, dialect{})
	if err := db.migrate(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	go db.writer()
	return db, nil
}

// migrate applies the embedded numbered migrations in order, each in its
// own transaction, and refuses a database newer than this binary. Every
// migration not yet recorded is applied, not only those above the newest
// recorded: branches add numbers side by side (0017, 0018, 0019), and a
// database made by a build with 0019 but not 0018 still gets 0018.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied := map[int]bool{}
	current := 0
	rows, err := db.write.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("migrate: %w", err)
		}
		applied[v], current = true, max(current, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	versions := make([]int, len(files))
	latest := 0
	for i, f := range files {
		v, err := strconv.Atoi(strings.SplitN(filepath.Base(f), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", f)
		}
		versions[i], latest = v, max(latest, v)
	}
	if current > latest {
		return fmt.Errorf("database %s has schema version %d, newer than this binary knows (%d): upgrade upstate", db.opts.Path, current, latest)
	}
	for i, f := range files {
		v := versions[i]
		if applied[v] {
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, db.opts.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", f, err)
		}
		db.opts.Logger.Info("applied migration", "component", "store", "version", v)
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
// (group commit) and returns once it is committed. It waits at most
// WriteTimeout: then it says the database is not accepting writes, and
// the write, if it has not started, never will.
func (db *DB) exec(ctx context.Context, fn func(tx *sql.Tx) error) error {
	wctx, cancel := context.WithTimeout(ctx, db.opts.WriteTimeout)
	defer cancel()
	req := &writeReq{ctx: wctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.reqs <- req:
	case <-db.stopped:
		return errors.New("store is closed")
	case <-wctx.Done():
		return db.waited(ctx)
	}
	select {
	case err := <-req.done:
		return err
	case <-wctx.Done():
		// If the writer has begun this write, it may still commit; if not,
		// it skips it.
		return db.waited(ctx)
	}
}

// execShared is exec as the shared queries call it.
func (db *DB) execShared(ctx context.Context, fn func(tx sqlcore.Tx) error) error {
	return db.exec(ctx, func(tx *sql.Tx) error { return fn(tx) })
}

// waited explains a write that ran out of time: the caller's own
// cancellation, else what the writer knows of why writes are stuck.
func (db *DB) waited(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := db.WriteHealth(); err != nil {
		return err
	}
	return upstate.Later(upstate.EUNAVAILABLE, 10*time.Second, "the database is not accepting writes: a write waited %s without being committed (the disk may be stalled)", db.opts.WriteTimeout)
}

// writer is the single goroutine that writes. It commits pending results
// together with any queued requests in one transaction.
//
// While the database refuses writes, results wait (up to maxPending) and
// are tried again on a backoff from 1 s to 30 s rather than at every tick
// or append, and the refusal is logged when it starts, once a minute
// while it lasts, and when it ends.
func (db *DB) writer() {
	defer close(db.stopped)
	tick := time.NewTicker(db.opts.FlushEvery)
	defer tick.Stop()
	rollTick := time.NewTicker(time.Minute)
	defer rollTick.Stop()
	// agg holds the rollups of results already committed, to be written
	// once a minute; a batch's own are added only once it is committed,
	// so a batch written again is never counted twice.
	agg := sqlcore.NewPending(0)
	var backoff time.Duration
	var retryAt, loggedAt time.Time
	failing := false
	commit := func(reqs []*writeReq, withRollups bool) error {
		results := db.takePending()
		// The batch's own rollups count only the results it inserted: an
		// agent's result sent again is not counted twice.
		fresh, kept, err := db.commit(results, agg, withRollups, reqs)
		switch {
		case kept && withRollups:
			agg = sqlcore.NewPending(0)
		case kept:
			agg.Merge(fresh)
		case upstate.ErrorCode(err) == upstate.EUNAVAILABLE:
			db.requeue(results) // the database refused them: they wait for it
			results = nil
		default:
			db.opts.Logger.Error("results not written, and dropped", "component", "store", "results", len(results), "err", err)
		}
		db.recycle(results)
		// The back-off is real time, as the writer's tickers are: a disk
		// that refuses writes recovers on its own schedule, whatever a
		// test's clock says (time.Now is monotonic here).
		now := time.Now()
		if upstate.ErrorCode(err) == upstate.EUNAVAILABLE {
			backoff = min(max(2*backoff, time.Second), 30*time.Second)
			retryAt = now.Add(backoff)
			if !failing || now.Sub(loggedAt) >= time.Minute {
				db.opts.Logger.Error("the database is not accepting writes; results wait and are retried", "component", "store", "pending", db.pendingLen(), "err", err)
				loggedAt = now
			}
			failing = true
		} else if err == nil || kept {
			if failing {
				db.opts.Logger.Info("the database accepts writes again", "component", "store")
			}
			backoff, retryAt, failing = 0, time.Time{}, false
		}
		return err
	}
	// background is a commit nobody waits for: skipped while backing off.
	background := func(withRollups bool) {
		if time.Now().Before(retryAt) {
			return
		}
		commit(nil, withRollups)
	}
	for {
		select {
		case <-db.stop:
			// Commit what was accepted before stopping.
			commit(db.drainReqs(nil), true)
			return
		case <-db.full:
			background(false)
		case w := <-db.flushes:
			w <- commit(db.drainReqs(nil), true)
		case req := <-db.reqs:
			commit(db.drainReqs([]*writeReq{req}), false)
		case <-tick.C:
			background(false)
		case <-rollTick.C:
			background(true)
		}
	}
}

func (db *DB) pendingLen() int {
	db.pmu.Lock()
	defer db.pmu.Unlock()
	return len(db.pending)
}

// takePending hands the pending results to the writer.
func (db *DB) takePending() []upstate.Result {
	db.pmu.Lock()
	defer db.pmu.Unlock()
	rs := db.pending
	db.pending, db.spare = db.spare, nil
	return rs
}

// recycle gives back a batch the writer is done with, emptied, for the
// next results to fill: the queue is not grown afresh from nothing each
// second (at 100,000 checks that was 0.5 GB allocated every five
// minutes). A batch far larger than a second's (after a long refusal) is
// let go.
func (db *DB) recycle(rs []upstate.Result) {
	if cap(rs) == 0 || cap(rs) > 4*max(db.opts.BatchSize, 1024) {
		return
	}
	clear(rs[:cap(rs)])
	db.pmu.Lock()
	defer db.pmu.Unlock()
	if db.spare == nil {
		db.spare = rs[:0]
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
// inside its own savepoint so one failing on its own account (a
// constraint) does not undo the others; but once the database refuses a
// write (locked, full, I/O), the whole transaction is rolled back and
// every request told so: SQLite may have rolled it back already, and
// nothing may be half-written nor written behind a caller told it was not.
// Requests whose callers stopped waiting are skipped. It reports whether
// the results (and rollups) were committed, and the commit's refusal, if
// any, which WriteHealth keeps.
func (db *DB) commit(results []upstate.Result, agg *sqlcore.Pending, withRollups bool, reqs []*writeReq) (*sqlcore.Pending, bool, error) {
	live := reqs[:0]
	for _, r := range reqs {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	reqs = live
	if len(results) == 0 && (!withRollups || agg.Len() == 0) && len(reqs) == 0 {
		return nil, true, nil
	}
	db.health.Begin()
	errs, fresh, kept, err := db.commitTx(results, agg, withRollups, reqs)
	// Health first, so a caller told its write went through finds the
	// store healthy.
	db.health.End(db.opts.Now(), err)
	for i, r := range reqs {
		r.done <- errs[i]
	}
	return fresh, kept, err
}

// commitTx runs the transaction and returns each request's outcome,
// whether the results were committed, and the database's refusal, if any.
func (db *DB) commitTx(results []upstate.Result, agg *sqlcore.Pending, withRollups bool, reqs []*writeReq) ([]error, *sqlcore.Pending, bool, error) {
	ctx := context.Background()
	errs := make([]error, len(reqs))
	refuse := func(tx *sql.Tx, err error) ([]error, *sqlcore.Pending, bool, error) {
		if tx != nil {
			_ = tx.Rollback()
		}
		for i := range errs {
			errs[i] = err
		}
		return errs, nil, false, err
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return refuse(nil, notAccepting(err))
	}
	var resErr error
	fresh := sqlcore.NewPending(len(results))
	if len(results) > 0 || (withRollups && agg.Len() > 0) {
		_, _ = tx.ExecContext(ctx, "SAVEPOINT results")
		var written []upstate.Result
		written, resErr = writeResults(ctx, tx, results)
		fresh.Add(written)
		if resErr == nil && withRollups {
			resErr = writeRollups(ctx, tx, agg, fresh)
		}
		if resErr = unavailable(resErr); upstate.ErrorCode(resErr) == upstate.EUNAVAILABLE {
			return refuse(tx, resErr)
		}
		if resErr != nil {
			_, _ = tx.ExecContext(ctx, "ROLLBACK TO results")
		}
		_, _ = tx.ExecContext(ctx, "RELEASE results")
	}
	for i, r := range reqs {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err // its caller stopped waiting while it was queued behind others
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT req"); err != nil {
			return refuse(tx, notAccepting(err))
		}
		if err := unavailable(r.fn(tx)); err != nil {
			if upstate.ErrorCode(err) == upstate.EUNAVAILABLE {
				return refuse(tx, err)
			}
			errs[i] = err
			_, _ = tx.ExecContext(ctx, "ROLLBACK TO req")
		}
		_, _ = tx.ExecContext(ctx, "RELEASE req")
	}
	if err := tx.Commit(); err != nil {
		return refuse(nil, notAccepting(err))
	}
	return errs, fresh, resErr == nil, resErr
}

// maxPending bounds the results waiting for a commit. Beyond it (the disk
// is full, or stalled, for long) the oldest are dropped rather than the
// probes made to wait: results are history, and the decisions made on
// them are kept in memory and retried on their own.
const maxPending = 200_000

// AppendResults implements store.Results. It never blocks.
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
	db.pending = append(db.pending, rs...)
	db.trimPending()
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

// requeue puts results a failed commit held back in front of the pending
// ones, to be written with the next commit.
func (db *DB) requeue(rs []upstate.Result) {
	if len(rs) == 0 {
		return
	}
	db.pmu.Lock()
	defer db.pmu.Unlock()
	db.pending = append(rs, db.pending...)
	db.trimPending()
}

// trimPending drops the oldest results beyond maxPending. Must be called
// with db.pmu held.
func (db *DB) trimPending() {
	if over := len(db.pending) - maxPending; over > 0 {
		db.pending = append(db.pending[:0:0], db.pending[over:]...)
		if db.dropped == 0 || (db.dropped+over)/maxPending > db.dropped/maxPending {
			db.opts.Logger.Error("results dropped: the database has not accepted writes for a long time", "component", "store", "dropped", db.dropped+over)
		}
		db.dropped += over
	}
}

// writeResults writes a batch of results and returns those written (rs
// itself when it holds none of an agent's), the ones the rollups count.
// Two results of one check in the same millisecond keep the later one. A
// probe agent's result (Region set) is never written over: one already
// stored at its check and time is the same result sent again (the agent's
// queue resent after this server restarted and forgot the ids it had
// taken), and it is neither stored nor counted twice.
func writeResults(ctx context.Context, tx *sql.Tx, rs []upstate.Result) ([]upstate.Result, error) {
	if err := insertOwn(ctx, tx, rs); err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(rs, func(r upstate.Result) bool { return r.Region != "" }) {
		return rs, nil // the server's own alone, as nearly always: all written, no copy
	}
	written := make([]upstate.Result, 0, len(rs))
	var agents *sql.Stmt
	for _, r := range rs {
		if r.Region == "" {
			written = append(written, r)
			continue
		}
		if agents == nil {
			var err error
			if agents, err = tx.PrepareContext(ctx, `INSERT INTO results (check_id, at, outcome, latency_us, status_code, error, region) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (check_id, at) DO NOTHING`); err != nil {
				return nil, err
			}
			defer agents.Close()
		}
		res, err := agents.ExecContext(ctx, r.CheckID, sqlcore.MS(r.At), string(r.Outcome), r.Latency.Microseconds(), r.StatusCode, r.Error, r.Region)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n > 0 {
			written = append(written, r)
		}
	}
	return written, nil
}

// resultsPerInsert is how many of the server's own results one INSERT
// writes. A statement a result went through database/sql and the driver
// for each: some 3 KB allocated per result, a third of what 100,000
// checks allocate (BENCHMARKS.md). Six values a row, well under SQLite's
// 32,766 variables.
const resultsPerInsert = 100

// insertOwn writes the server's own results among rs (Region empty),
// resultsPerInsert a statement, before any agent's: a later result at the
// same (check, at) replaces an earlier, in one statement as in two.
func insertOwn(ctx context.Context, tx *sql.Tx, rs []upstate.Result) error {
	var full *sql.Stmt
	args := make([]any, 0, 6*min(len(rs), resultsPerInsert))
	flush := func() error {
		n := len(args) / 6
		if n == 0 {
			return nil
		}
		defer func() { args = args[:0] }()
		if n < resultsPerInsert {
			_, err := tx.ExecContext(ctx, insertResults(n), args...)
			return err
		}
		if full == nil {
			var err error
			if full, err = tx.PrepareContext(ctx, insertResults(n)); err != nil {
				return err
			}
		}
		_, err := full.ExecContext(ctx, args...)
		return err
	}
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	for _, r := range rs {
		if r.Region != "" {
			continue
		}
		args = append(args, r.CheckID, sqlcore.MS(r.At), string(r.Outcome), r.Latency.Microseconds(), r.StatusCode, r.Error)
		if len(args) == 6*resultsPerInsert {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// insertResults is the INSERT of n of the server's own results.
func insertResults(n int) string {
	var b strings.Builder
	b.Grow(96 + 18*n)
	b.WriteString(`INSERT OR REPLACE INTO results (check_id, at, outcome, latency_us, status_code, error, region) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?,?,?,?,?,?,'')`)
	}
	return b.String()
}

// writeRollups adds the waiting rollups (those of the results committed
// before and the batch's own, a bucket in both added up by Each) to the
// stored ones. One statement per set of histogram bins in use: the results of a bucket since the last write mostly fall in one
// to three bins, and binding and adding only those keeps the upsert about
// as cheap as it was without a histogram (binding all 25 doubled its
// cost).
func writeRollups(ctx context.Context, tx *sql.Tx, sets ...*sqlcore.Pending) error {
	stmts := map[uint32]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	args := make([]any, 0, 9+store.LatencyBins)
	return sqlcore.Each(func(r *store.Rollup) error {
		var used uint32
		for i, c := range r.Latencies {
			if c != 0 {
				used |= 1 << i
			}
		}
		up := stmts[used]
		if up == nil {
			var err error
			if up, err = tx.PrepareContext(ctx, rollupUpsert(used)); err != nil {
				return err
			}
			stmts[used] = up
		}
		args = append(args[:0], r.CheckID, string(r.Period), sqlcore.MS(r.Start), r.Count, r.OK, r.Slow, r.Fail, r.LatencySum.Microseconds(), r.LatencyMax.Microseconds())
		for i, c := range r.Latencies {
			if used&(1<<i) != 0 {
				args = append(args, c)
			}
		}
		_, err := up.ExecContext(ctx, args...)
		return err
	}, sets...)
}

// rollupUpsert adds a bucket's counts to the stored ones, and the latency
// histogram's bins in used (bit i for h<i>) too, in SQL: no read of the
// row first.
func rollupUpsert(used uint32) string {
	var cols, marks, sets strings.Builder
	for i := range store.LatencyBins {
		if used&(1<<i) == 0 {
			continue
		}
		fmt.Fprintf(&cols, ", h%02d", i)
		marks.WriteString(", ?")
		fmt.Fprintf(&sets, ", h%02d = h%02d + excluded.h%02d", i, i, i)
	}
	return `INSERT INTO rollups (check_id, period, bucket, n, ok, slow, fail, latency_sum_us, latency_max_us` + cols.String() + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?` + marks.String() + `)
		ON CONFLICT (check_id, period, bucket) DO UPDATE SET
		n = n + excluded.n, ok = ok + excluded.ok, slow = slow + excluded.slow, fail = fail + excluded.fail,
		latency_sum_us = latency_sum_us + excluded.latency_sum_us,
		latency_max_us = MAX(latency_max_us, excluded.latency_max_us)` + sets.String()
}
