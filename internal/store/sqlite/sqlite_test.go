package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
	"github.com/upstatehq/upstate/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := Open(t.Context(), Options{Path: filepath.Join(t.TempDir(), "upstate.db")})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestRenderStale(t *testing.T) {
	db, err := Open(t.Context(), Options{Path: filepath.Join(t.TempDir(), "upstate.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run := func(q string) error {
		return db.exec(t.Context(), func(tx *sqlTx) error { _, err := tx.Exec(q); return err })
	}
	storetest.RenderStale(t, db, run)
	// A row its update can never match (a body kept as a blob, which no
	// text equals) is passed over, once: RenderStale ends, and says it
	// rendered only the others.
	var rows int
	if err := db.read.QueryRow(`SELECT COUNT(*) FROM incident_updates`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE incident_updates SET html_v = 'older'`, `UPDATE incident_updates SET body = CAST(body AS BLOB) WHERE id = (SELECT MIN(id) FROM incident_updates)`} {
		if err := run(q); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []int{rows - 1, 0} {
		if n, err := db.RenderStale(t.Context()); n != want || err != nil {
			t.Fatalf("RenderStale with a row it cannot write, run %d: %d, %v; want %d", i+1, n, err, want)
		}
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "upstate.db")
	db, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.exec(t.Context(), func(tx *sqlTx) error {
		_, err := tx.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(context.Background(), Options{Path: path})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("err = %v, want a refusal of the newer schema", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "upstate.db")
	db, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SaveHeartbeat(t.Context(), "x", storetestT0); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hb, err := db.ListHeartbeats(t.Context())
	if err != nil || !hb["x"].Equal(storetestT0) {
		t.Fatalf("heartbeats after reopen = %v, %v", hb, err)
	}
}

// Messages written before there were lanes are put in theirs when the
// database is upgraded: pages, subscribers' and the rest.
func TestLanesMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "upstate.db")
	db, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.exec(t.Context(), func(tx *sqlTx) error {
		for _, q := range []string{`DROP INDEX outbox_lane_due`, `ALTER TABLE outbox DROP COLUMN lane`, `DELETE FROM schema_migrations WHERE version >= 14`, `DROP TABLE warnings`, // as before 0014 (and 0016)
			// and 0019
			`DROP TABLE audit_log`, `DROP TABLE incident_update_edits`, `ALTER TABLE incident_updates DROP COLUMN kind`, `ALTER TABLE incident_updates DROP COLUMN edited_at`,
			`ALTER TABLE incident_updates DROP COLUMN edited_by`, `ALTER TABLE incidents DROP COLUMN hidden_reason`, `ALTER TABLE incidents DROP COLUMN hidden_by`, `ALTER TABLE incidents DROP COLUMN hidden_at`, `DROP INDEX incidents_status_created`, `ALTER TABLE incidents DROP COLUMN name_fold`,
			`ALTER TABLE incident_updates DROP COLUMN written_at`,                                       // and 0020
			`ALTER TABLE incident_updates DROP COLUMN until`,                                            // and 0021
			`ALTER TABLE outbox DROP COLUMN claimed_by`, `ALTER TABLE outbox DROP COLUMN claimed_until`, // and 0022
			`ALTER TABLE results DROP COLUMN region`,                                                                // and 0023
			`ALTER TABLE incident_updates DROP COLUMN body_html`, `ALTER TABLE incident_updates DROP COLUMN html_v`, // and 0024
			`ALTER TABLE postmortems DROP COLUMN root_cause_html`, `ALTER TABLE postmortems DROP COLUMN contributing_html`,
			`ALTER TABLE postmortems DROP COLUMN fix_html`, `ALTER TABLE postmortems DROP COLUMN html_v`,
			`INSERT INTO outbox (id, channel, stream, event, created_at, next_at, state) VALUES
				('pg', 'pd', 'page:inc1:1:1', '{}', 0, 0, 'pending'), ('sub', 'subscriber:7', 'inc1', '{}', 0, 0, 'pending'), ('ops', 'slack', 'inc1', '{}', 0, 0, 'pending')`} {
			if _, err := tx.Exec(q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		for i := range store.LatencyBins { // as before 0018
			if _, err := tx.Exec(fmt.Sprintf(`ALTER TABLE rollups DROP COLUMN h%02d`, i)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for lane, want := range map[upstate.Lane]string{upstate.LanePage: "pg", upstate.LaneSubscriber: "sub", upstate.LaneOperator: "ops"} {
		due, err := db.DueMessages(t.Context(), upstate.DueQuery{Lane: lane, Now: storetestT0, Limit: 10})
		if err != nil || len(due) != 1 || due[0].ID != want {
			t.Errorf("lane %s after the upgrade: %v, %v; want %s", lane, due, err, want)
		}
	}
}

func openFast(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "upstate.db")
	db, err := Open(context.Background(), Options{Path: path, WriteTimeout: 500 * time.Millisecond, BusyTimeout: 100 * time.Millisecond, FlushEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func wantUnavailable(t *testing.T, what string, err error, says string) {
	t.Helper()
	if upstate.ErrorCode(err) != upstate.EUNAVAILABLE || upstate.RetryAfterOf(err) <= 0 || !strings.Contains(err.Error(), says) {
		t.Errorf("%s: %v, want EUNAVAILABLE with a Retry-After, saying %q", what, err, says)
	}
}

// Another process holding the write lock: writes fail fast, saying so,
// and the store reports it until a write goes through again.
func TestWriteLockedByAnother(t *testing.T) {
	db, path := openFast(t)
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	if _, err := other.Exec("BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	err = db.SaveHeartbeat(t.Context(), "nightly", storetestT0)
	wantUnavailable(t, "write under another's lock", err, "another process holds its write lock")
	wantUnavailable(t, "health under another's lock", db.WriteHealth(), "another process holds its write lock")
	if _, err := other.Exec("ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := db.Probe(t.Context()); err != nil {
		t.Fatalf("write after the lock is gone: %v", err)
	}
	if err := db.WriteHealth(); err != nil {
		t.Errorf("health after a write went through: %v", err)
	}
}

// A full disk: writes say so at once, results wait for room instead of
// being lost, and everything is written once there is room again.
func TestDiskFull(t *testing.T) {
	db, _ := openFast(t)
	ctx := t.Context()
	if err := db.SetFull(ctx, true); err != nil {
		t.Fatal(err)
	}
	var ps []upstate.Point
	for i := range 5000 {
		ps = append(ps, upstate.Point{At: storetestT0.Add(time.Duration(i) * time.Minute), Value: float64(i)})
	}
	wantUnavailable(t, "write to a full disk", db.AddPoints(ctx, "blocked", ps), "the disk is full")
	var rs []upstate.Result
	for i := range 3000 {
		rs = append(rs, upstate.Result{CheckID: "api", At: storetestT0.Add(time.Duration(i) * time.Second), Outcome: upstate.OutcomeOK})
	}
	db.AppendResults(ctx, rs)
	for range 3 {
		wantUnavailable(t, "flush to a full disk", db.Flush(ctx), "the disk is full")
	}
	// A small write that would fit, in the same commit as the results
	// that do not: refused, and not applied behind its caller's back.
	db.AppendResults(ctx, []upstate.Result{{CheckID: "db", At: storetestT0, Outcome: upstate.OutcomeOK}})
	wantUnavailable(t, "a write beside refused results", db.exec(ctx, func(tx *sqlTx) error {
		_, err := tx.Exec(`INSERT INTO settings (key, value) VALUES ('told_it_failed', 'yes')`)
		return err
	}), "the disk is full")
	wantUnavailable(t, "health", db.WriteHealth(), "the disk is full (since ")
	if err := db.SetFull(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatalf("flush once there is room: %v", err)
	}
	got, err := db.ListResults(ctx, "api", storetestT0, storetestT0.Add(time.Hour))
	if err != nil || len(got) != 3000 {
		t.Errorf("%d results after the disk had room again (%v), want all 3000", len(got), err)
	}
	// Counted once in the rollups, however many times their write failed.
	rolls, err := db.ListRollups(ctx, store.Day, []string{"api"}, storetestT0.Add(-24*time.Hour), storetestT0.Add(24*time.Hour))
	n := 0
	for _, r := range rolls {
		n += r.Count
	}
	if err != nil || n != 3000 {
		t.Errorf("daily rollups count %d results (%v), want 3000", n, err)
	}
	if err := db.WriteHealth(); err != nil {
		t.Errorf("health once writes go through: %v", err)
	}
	var v string
	if err := db.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'told_it_failed'`).Scan(&v); err != sql.ErrNoRows {
		t.Errorf("a write its caller was told failed is in the database (%q, %v)", v, err)
	}
}

// While the disk is full, the writer neither spins on the results that
// wait nor logs each retry: it backs off and says so once.
func TestDiskFullQuiet(t *testing.T) {
	var logs countingHandler
	path := filepath.Join(t.TempDir(), "upstate.db")
	db, err := Open(context.Background(), Options{Path: path, WriteTimeout: 500 * time.Millisecond, BusyTimeout: 100 * time.Millisecond, BatchSize: 10,
		FlushEvery: 10 * time.Millisecond, Logger: slog.New(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	if err := db.SetFull(ctx, true); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		db.AppendResults(ctx, []upstate.Result{{CheckID: "api", At: storetestT0.Add(time.Duration(i) * time.Second), Outcome: upstate.OutcomeOK}})
	}
	db.Flush(ctx)
	if n := logs.errors.Load(); n == 0 || n > 3 {
		t.Errorf("%d error lines for 200 results waiting on a full disk, want the refusal said once (or twice)", n)
	}
}

// countingHandler counts error lines.
type countingHandler struct{ errors atomic.Int32 }

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.errors.Add(1)
	}
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

// A stalled disk (a commit that does not return): other writes give up
// after WriteTimeout, saying so, and are not applied later behind the
// caller's back.
func TestStalledWrite(t *testing.T) {
	db, _ := openFast(t)
	ctx := context.Background()
	started, release := make(chan struct{}), make(chan struct{})
	stuck := make(chan error, 1)
	go func() {
		stuck <- db.exec(ctx, func(*sqlTx) error { close(started); <-release; return nil })
	}()
	<-started
	err := db.SaveHeartbeat(ctx, "nightly", storetestT0)
	wantUnavailable(t, "write behind a stalled one", err, "the disk may be stalled")
	wantUnavailable(t, "health while stalled", db.WriteHealth(), "a write has been in progress for")
	close(release)
	<-stuck
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if hb, _ := db.ListHeartbeats(ctx); !hb["nightly"].IsZero() {
		t.Error("a write whose caller was told it failed was applied afterwards")
	}
}

// The store tells the time it is given: when migrations were applied,
// the probe's value, since when writes fail. How long a write has been in
// progress is still measured on the wall clock, against the real write
// deadline: a clock that stands still does not hide a stalled disk.
func TestInjectedClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "upstate.db")
	now := func() time.Time { return storetestT0 }
	db, err := Open(context.Background(), Options{Path: path, WriteTimeout: 500 * time.Millisecond, BusyTimeout: 100 * time.Millisecond, FlushEvery: time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	var applied int64
	if err := db.read.QueryRowContext(ctx, `SELECT MIN(applied_at) FROM schema_migrations`).Scan(&applied); err != nil || applied != storetestT0.UnixMilli() {
		t.Errorf("migrations applied at %d (%v), want the clock's %d", applied, err, storetestT0.UnixMilli())
	}
	if err := db.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	var probe string
	if err := db.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'write_probe'`).Scan(&probe); err != nil || probe != storetestT0.Format(time.RFC3339Nano) {
		t.Errorf("probe wrote %q (%v), want the clock's time", probe, err)
	}
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	if _, err := other.Exec("BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	wantUnavailable(t, "write under another's lock", db.SaveHeartbeat(ctx, "nightly", storetestT0), "another process holds its write lock")
	wantUnavailable(t, "health under another's lock", db.WriteHealth(), "(since 2026-08-17T13:00:00Z)")
	if _, err := other.Exec("ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveHeartbeat(ctx, "nightly", storetestT0); err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	stuck := make(chan error, 1)
	go func() {
		stuck <- db.exec(context.Background(), func(*sqlTx) error { close(started); <-release; return nil })
	}()
	<-started
	wantUnavailable(t, "write behind a stalled one", db.SaveHeartbeat(ctx, "other", storetestT0), "the disk may be stalled")
	wantUnavailable(t, "health while stalled, the clock standing still", db.WriteHealth(), "a write has been in progress for")
	close(release)
	<-stuck
}

func TestReadConsoleItemsBesideAWriter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "upstate.db")
	if got, err := ReadConsoleItems(t.Context(), path); err != nil || got != nil {
		t.Fatalf("no database yet: %v %v", got, err)
	}
	db, err := Open(t.Context(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	it := upstate.ConsoleItem{Kind: upstate.ConsoleCheck, ID: "web", Keys: []byte(`{"id":"web"}`), CreatedAt: time.Unix(1, 0), UpdatedAt: time.Unix(1, 0)}
	if err := db.SaveConsoleItem(t.Context(), it); err != nil {
		t.Fatal(err)
	}
	got, err := ReadConsoleItems(t.Context(), path)
	if err != nil || len(got) != 1 || got[0].ID != "web" {
		t.Fatalf("read beside the writer: %v %v", got, err)
	}
}

// A database made by a build that had a later migration but not an
// earlier one (branches number theirs side by side) still gets the
// earlier one.
func TestMigrationSkippedByNumberIsApplied(t *testing.T) {
	path := filepath.Join(t.TempDir(), "upstate.db")
	db, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.exec(t.Context(), func(tx *sqlTx) error {
		for i := range store.LatencyBins { // as if 0018 had never run, with 0019 applied
			if _, err := tx.Exec(fmt.Sprintf(`ALTER TABLE rollups DROP COLUMN h%02d`, i)); err != nil {
				return err
			}
		}
		_, err := tx.Exec(`DELETE FROM schema_migrations WHERE version = 18`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.AppendResults(t.Context(), []upstate.Result{{CheckID: "a", At: storetestT0, Outcome: upstate.OutcomeOK, Latency: 40 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	hours, err := db.ListRollups(t.Context(), store.Hour, []string{"a"}, storetestT0.Add(-time.Hour), storetestT0.Add(time.Hour))
	if err != nil || len(hours) != 1 || hours[0].Latencies.Total() != 1 {
		t.Fatalf("rollups after the upgrade: %+v, %v", hours, err)
	}
}
