// Package postgres is the PostgreSQL store, selected by server.database.
// It keeps what the SQLite store keeps, in the same tables and columns,
// and writes the same way: one goroutine commits queued writes together
// (group commit) and batches results, each batch one multi-row statement
// per table, so 50,000 checks are a handful of statements a second, not
// 50,000 transactions. Reads go straight to the pool.
//
// The queries are not here: they are shared with the SQLite store in
// internal/store/sqlcore, written once in SQLite's style, which DB embeds
// (sqlcore.Core) over this package's write path (pgtx, dialect.go: ?
// placeholders numbered, booleans as 0 and 1, text made valid UTF-8) and
// its reads (pgread), over database/sql on a pgxpool
// (stdlib.OpenDBFromPool); dialect is PostgreSQL's side of the few
// differences (strpos, ILIKE, typed placeholders, LIMIT ALL, unique
// violations). One set of queries is what keeps the two answering alike,
// and the storetest suite judges both. What stays here is PostgreSQL's
// own: Open and its pool, the migrations under an advisory lock, the
// writer with its group commit and its results and rollups as multi-row
// upserts of arrays, write health from PostgreSQL's refusals, the raw
// results' prune and a metric's history as one statement each, and
// CopyFrom (copy.go), what `upstate migrate` does.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
	"github.com/upstatehq/upstate/internal/store/sqlcore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure the store.
type Options struct {
	// DSN is the database: a postgres:// or postgresql:// URL, or a
	// keyword DSN ("host=… dbname=…"). Never logged: it may hold a
	// password.
	DSN    string
	Logger *slog.Logger
	// FlushEvery bounds how long a queued result waits for its batch.
	FlushEvery time.Duration
	// BatchSize flushes results early once this many are queued.
	BatchSize int
	// WriteTimeout bounds how long a write waits to be committed before
	// the caller is told the database is not accepting writes. Default 5s.
	WriteTimeout time.Duration
	// MaxConns bounds the pool (the writer's connection and the readers').
	// Default 8.
	MaxConns int32
	// Now tells the time the store records (when a migration was applied,
	// since when writes fail, the write probe's value); default time.Now.
	// How long a write has been in progress is measured on the wall clock.
	Now func() time.Time
}

// DB is the PostgreSQL store. The queries are sqlcore's, shared with the
// SQLite store; what is PostgreSQL's own is here.
type DB struct {
	*sqlcore.Core // the shared queries, over exec and read

	opts Options
	pool *pgxpool.Pool
	sql  *sql.DB // database/sql over pool: the writer's transactions
	read *pgread

	reqs    chan *writeReq
	flushes chan chan error

	pmu     sync.Mutex
	pending []upstate.Result
	full    chan struct{}
	stop    chan struct{}
	stopped chan struct{}

	health  sqlcore.Health
	dropped int // under pmu
}

var _ store.Store = (*DB)(nil)

type writeReq struct {
	ctx  context.Context
	fn   func(tx *pgtx) error
	done chan error
}

// migrationLock is the advisory lock key migrations are applied under, so
// two servers starting on one database at once apply them once: the
// first to take it migrates, the other waits and finds nothing to do.
// ("upstate" in ASCII.)
const migrationLock int64 = 0x7570737461746500

// ParseDSN checks a DSN as Open would, without connecting. Its errors
// never repeat the DSN (nor its password).
func ParseDSN(dsn string) error {
	_, err := poolConfig(dsn)
	return err
}

func poolConfig(dsn string) (*pgxpool.Config, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("postgres: no DSN")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgconn redacts the password, but the message need not echo the
		// DSN at all: say what is wrong only.
		return nil, fmt.Errorf("postgres: the DSN is not a postgres:// URL or keyword DSN PostgreSQL accepts: %s", parseReason(err))
	}
	return cfg, nil
}

// parseReason is the part of a parse error after the DSN it quotes.
func parseReason(err error) string {
	msg := err.Error()
	// "cannot parse `…`: reason"
	if i := strings.LastIndex(msg, "`: "); i >= 0 {
		return msg[i+3:]
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return "unreadable"
}

// Open connects, migrates under an advisory lock and starts the writer.
// Close stops it after flushing.
func Open(ctx context.Context, opts Options) (*DB, error) {
	cfg, err := poolConfig(opts.DSN)
	if err != nil {
		return nil, err
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
	if opts.MaxConns <= 0 {
		opts.MaxConns = 8
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cfg.MaxConns = opts.MaxConns
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 10*time.Second {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "upstate"
	// The LIKE patterns' ESCAPE '\' and the literals assume it; a server
	// set otherwise would read a backslash differently.
	cfg.ConnConfig.RuntimeParams["standard_conforming_strings"] = "on"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: cannot reach the database %s: %w", where(cfg), err)
	}
	sdb := stdlib.OpenDBFromPool(pool)
	// database/sql holds a pool connection for each of its own: bound it
	// by the pool's size, so it waits for one rather than for pgxpool.
	sdb.SetMaxOpenConns(int(opts.MaxConns))
	sdb.SetMaxIdleConns(int(opts.MaxConns))
	db := &DB{
		opts: opts, pool: pool, sql: sdb, read: &pgread{sdb},
		reqs:    make(chan *writeReq, 256),
		full:    make(chan struct{}, 1),
		flushes: make(chan chan error),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	db.Core = sqlcore.New(db.execShared, db.read, dialect{})
	if err := db.migrate(ctx); err != nil {
		sdb.Close()
		pool.Close()
		return nil, err
	}
	go db.writer()
	return db, nil
}

// where names the database without its password: user@host:port/dbname.
func where(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// migrate applies the embedded numbered migrations not yet recorded, in
// one transaction under an advisory lock (two servers starting at once
// do not race), and refuses a database newer than this binary. As on
// SQLite, every migration not recorded is applied, not only those above
// the newest.
func (db *DB) migrate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
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
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied := map[int]bool{}
	current := 0
	rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, v := range vs {
		applied[int(v)], current = true, max(current, int(v))
	}
	if current > latest {
		return fmt.Errorf("the database has schema version %d, newer than this binary knows (%d): upgrade upstate", current, latest)
	}
	var did []int
	for i, f := range files {
		v := versions[i]
		if applied[v] {
			continue
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", f, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, v, db.opts.Now().UnixMilli()); err != nil {
			return fmt.Errorf("migration %s: %w", f, err)
		}
		did = append(did, v)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, v := range did {
		db.opts.Logger.Info("applied migration", "component", "store", "version", v)
	}
	return nil
}

// Close flushes queued writes, stops the writer and closes the pool.
func (db *DB) Close() error {
	select {
	case <-db.stop:
	default:
		close(db.stop)
	}
	<-db.stopped
	err := db.sql.Close()
	db.pool.Close()
	return err
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
// (group commit) and returns once it is committed, waiting at most
// WriteTimeout.
func (db *DB) exec(ctx context.Context, fn func(tx *pgtx) error) error {
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
		return db.waited(ctx)
	}
}

// execShared is exec as the shared queries call it.
func (db *DB) execShared(ctx context.Context, fn func(tx sqlcore.Tx) error) error {
	return db.exec(ctx, func(tx *pgtx) error { return fn(tx) })
}

func (db *DB) waited(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := db.WriteHealth(); err != nil {
		return err
	}
	return upstate.Later(upstate.EUNAVAILABLE, 10*time.Second, "the database is not accepting writes: a write waited %s without being committed (the server may be stalled or unreachable)", db.opts.WriteTimeout)
}

// writer is the single goroutine that writes, as SQLite's: pending
// results are committed together with queued requests in one
// transaction; rollups once a minute and on Flush and Close; while the
// database refuses writes, results wait (up to maxPending) and are
// retried on a back-off from 1 s to 30 s.
func (db *DB) writer() {
	defer close(db.stopped)
	tick := time.NewTicker(db.opts.FlushEvery)
	defer tick.Stop()
	rollTick := time.NewTicker(time.Minute)
	defer rollTick.Stop()
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
			db.requeue(results)
		default:
			db.opts.Logger.Error("results not written, and dropped", "component", "store", "results", len(results), "err", err)
		}
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
	background := func(withRollups bool) {
		if time.Now().Before(retryAt) {
			return
		}
		commit(nil, withRollups)
	}
	for {
		select {
		case <-db.stop:
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

func (db *DB) takePending() []upstate.Result {
	db.pmu.Lock()
	defer db.pmu.Unlock()
	rs := db.pending
	db.pending = nil
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

// commit writes results and requests in one transaction, each request in
// its own savepoint (PostgreSQL aborts a transaction at a statement's
// error until it is rolled back to one), as SQLite's writer does.
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
	db.health.End(db.opts.Now(), err)
	for i, r := range reqs {
		r.done <- errs[i]
	}
	return fresh, kept, err
}

// commitDeadline bounds one commit on the server: a server that stops
// answering mid-transaction costs the writer this, not forever (callers
// stop waiting after WriteTimeout, and WriteHealth says why).
func (db *DB) commitDeadline() time.Duration { return max(30*time.Second, 4*db.opts.WriteTimeout) }

func (db *DB) commitTx(results []upstate.Result, agg *sqlcore.Pending, withRollups bool, reqs []*writeReq) ([]error, *sqlcore.Pending, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), db.commitDeadline())
	defer cancel()
	errs := make([]error, len(reqs))
	refuse := func(tx *pgtx, err error) ([]error, *sqlcore.Pending, bool, error) {
		if tx != nil {
			_ = tx.tx.Rollback()
		}
		for i := range errs {
			errs[i] = err
		}
		return errs, nil, false, err
	}
	stx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return refuse(nil, notAccepting(err))
	}
	tx := &pgtx{stx}
	var resErr error
	fresh := sqlcore.NewPending(len(results))
	if len(results) > 0 || (withRollups && agg.Len() > 0) {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT results"); err != nil {
			return refuse(tx, notAccepting(err))
		}
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
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO results"); err != nil {
				return refuse(tx, notAccepting(err))
			}
		}
		_, _ = tx.ExecContext(ctx, "RELEASE results")
	}
	for i, r := range reqs {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
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
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO req"); err != nil {
				return refuse(tx, notAccepting(err))
			}
		}
		_, _ = tx.ExecContext(ctx, "RELEASE req")
	}
	if err := stx.Commit(); err != nil {
		return refuse(nil, notAccepting(err))
	}
	return errs, fresh, resErr == nil, resErr
}

// maxPending bounds the results waiting for a commit (see SQLite's).
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

func (db *DB) requeue(rs []upstate.Result) {
	if len(rs) == 0 {
		return
	}
	db.pmu.Lock()
	defer db.pmu.Unlock()
	db.pending = append(rs, db.pending...)
	db.trimPending()
}

func (db *DB) trimPending() {
	if over := len(db.pending) - maxPending; over > 0 {
		db.pending = append(db.pending[:0:0], db.pending[over:]...)
		if db.dropped == 0 || (db.dropped+over)/maxPending > db.dropped/maxPending {
			db.opts.Logger.Error("results dropped: the database has not accepted writes for a long time", "component", "store", "dropped", db.dropped+over)
		}
		db.dropped += over
	}
}

// rowsPerStatement bounds one multi-row statement (its arrays' length).
const rowsPerStatement = 5000

// writeResults writes a batch as multi-row upserts, one statement per
// rowsPerStatement results, their columns sent as arrays (unnest): one
// round trip for thousands of results. It returns the results written,
// the ones the rollups count. Two results of this server's own of one
// check in the same millisecond keep the later one, as on SQLite (INSERT
// OR REPLACE); a statement may not touch a row twice, so the earlier is
// dropped first. A probe agent's result (Region set) is never written
// over: one already stored at its check and time is the same result sent
// again (the agent's queue resent after this server restarted and forgot
// the ids it had taken), neither stored nor counted twice.
func writeResults(ctx context.Context, tx *pgtx, rs []upstate.Result) ([]upstate.Result, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	type key struct {
		check string
		at    int64
	}
	var own, agents []upstate.Result
	last := make(map[key]int, len(rs))
	for i, r := range rs {
		if r.Region == "" {
			last[key{r.CheckID, sqlcore.MS(r.At)}] = i
		}
	}
	written := make([]upstate.Result, 0, len(rs))
	for i, r := range rs {
		switch {
		case r.Region != "":
			agents = append(agents, r)
		case last[key{r.CheckID, sqlcore.MS(r.At)}] == i:
			own = append(own, r)
			written = append(written, r)
		default:
			written = append(written, r) // counted, as on SQLite, though written over
		}
	}
	columns := func(chunk []upstate.Result) []any {
		n := len(chunk)
		checks, outcomes, errs, regions := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ats, lats, codes := make([]int64, n), make([]int64, n), make([]int64, n)
		for i, r := range chunk {
			checks[i], ats[i], outcomes[i], lats[i], codes[i], errs[i], regions[i] = r.CheckID, sqlcore.MS(r.At), string(r.Outcome), r.Latency.Microseconds(), int64(r.StatusCode), r.Error, r.Region
		}
		return []any{pgTexts(checks), ats, outcomes, lats, codes, pgTexts(errs), pgTexts(regions)}
	}
	for len(own) > 0 {
		n := min(len(own), rowsPerStatement)
		chunk := own[:n]
		own = own[n:]
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO results (check_id, at, outcome, latency_us, status_code, error, region)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[])
			ON CONFLICT (check_id, at) DO UPDATE SET outcome = excluded.outcome, latency_us = excluded.latency_us,
			status_code = excluded.status_code, error = excluded.error, region = excluded.region`,
			columns(chunk)...); err != nil {
			return nil, err
		}
	}
	for len(agents) > 0 {
		n := min(len(agents), rowsPerStatement)
		chunk := agents[:n]
		agents = agents[n:]
		rows, err := tx.tx.QueryContext(ctx, `INSERT INTO results (check_id, at, outcome, latency_us, status_code, error, region)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[])
			ON CONFLICT (check_id, at) DO NOTHING RETURNING check_id, at`,
			columns(chunk)...)
		if err != nil {
			return nil, err
		}
		inserted := map[key]bool{}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.check, &k.at); err != nil {
				rows.Close()
				return nil, err
			}
			inserted[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, r := range chunk {
			if k := (key{r.CheckID, sqlcore.MS(r.At)}); inserted[k] {
				written = append(written, r)
				delete(inserted, k) // one row, counted once
			}
		}
	}
	return written, nil
}

// writeRollups adds the waiting rollups (those of the results committed
// before and the batch's own) to the stored ones, rowsPerStatement
// buckets a statement, in SQL (counts and histogram bins added, the
// maximum kept) without reading the rows first. Each adds up a bucket
// found in both sets, so no statement touches a row twice, and hands
// them over in one order over both, so two writers take row locks alike.
func writeRollups(ctx context.Context, tx *pgtx, sets ...*sqlcore.Pending) error {
	q := rollupUpsert()
	var checks, periods []string
	var buckets, counts, oks, slows, fails, sums, maxes []int64
	var bins [store.LatencyBins][]int64
	send := func() error {
		if len(checks) == 0 {
			return nil
		}
		args := []any{checks, periods, buckets, counts, oks, slows, fails, sums, maxes}
		for b := range bins {
			args = append(args, bins[b])
		}
		_, err := tx.tx.ExecContext(ctx, q, args...)
		checks, periods, buckets, counts, oks, slows, fails, sums, maxes = checks[:0], periods[:0], buckets[:0], counts[:0], oks[:0], slows[:0], fails[:0], sums[:0], maxes[:0]
		for b := range bins {
			bins[b] = bins[b][:0]
		}
		return err
	}
	err := sqlcore.Each(func(r *store.Rollup) error {
		checks, periods, buckets = append(checks, r.CheckID), append(periods, string(r.Period)), append(buckets, sqlcore.MS(r.Start))
		counts, oks, slows, fails = append(counts, int64(r.Count)), append(oks, int64(r.OK)), append(slows, int64(r.Slow)), append(fails, int64(r.Fail))
		sums, maxes = append(sums, r.LatencySum.Microseconds()), append(maxes, r.LatencyMax.Microseconds())
		for b, c := range r.Latencies {
			bins[b] = append(bins[b], int64(c))
		}
		if len(checks) == rowsPerStatement {
			return send()
		}
		return nil
	}, sets...)
	if err != nil {
		return err
	}
	return send()
}

// rollupUpsert is the multi-row statement rollups.write sends.
func rollupUpsert() string {
	var cols, arrays, sets strings.Builder
	for i := range store.LatencyBins {
		fmt.Fprintf(&cols, ", h%02d", i)
		fmt.Fprintf(&arrays, ", $%d::bigint[]", 10+i)
		fmt.Fprintf(&sets, ", h%02d = rollups.h%02d + excluded.h%02d", i, i, i)
	}
	return `INSERT INTO rollups (check_id, period, bucket, n, ok, slow, fail, latency_sum_us, latency_max_us` + cols.String() + `)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[]` + arrays.String() + `)
		ON CONFLICT (check_id, period, bucket) DO UPDATE SET
		n = rollups.n + excluded.n, ok = rollups.ok + excluded.ok, slow = rollups.slow + excluded.slow, fail = rollups.fail + excluded.fail,
		latency_sum_us = rollups.latency_sum_us + excluded.latency_sum_us,
		latency_max_us = GREATEST(rollups.latency_max_us, excluded.latency_max_us)` + sets.String()
}
