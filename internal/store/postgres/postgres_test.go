package postgres

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/probe/probetest"
	"github.com/upstatehq/upstate/internal/store"
	"github.com/upstatehq/upstate/internal/store/storetest"
)

// server is the superuser DSN of the throwaway cluster .ci/run starts
// (.ci/databases). Without it the tests are skipped, or fail when
// UPSTATE_REAL_SERVICES=1 (as in CI).
func server(t testing.TB) string {
	t.Helper()
	v := os.Getenv("UPSTATE_TEST_POSTGRES_DSN")
	if v == "" {
		const why = "UPSTATE_TEST_POSTGRES_DSN is not set: .ci/run starts a PostgreSQL server and sets it (.ci/databases)"
		if os.Getenv("UPSTATE_REAL_SERVICES") == "1" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	return v
}

// freshDatabase creates an empty database on the server for one test and
// drops it when the test ends; it returns the DSN that names it.
func freshDatabase(t testing.TB) string { return probetest.FreshPostgres(t, "upstate_test_") }

func open(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(t.Context(), Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) {
	server(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, freshDatabase(t)) })
}

func TestRenderStale(t *testing.T) {
	server(t)
	db := open(t, freshDatabase(t))
	defer db.Close()
	storetest.RenderStale(t, db, func(q string) error { _, err := db.pool.Exec(t.Context(), q); return err })
}

// Two servers starting on one new database at once: the advisory lock
// lets one migrate while the other waits, and both open.
func TestMigrationsUnderAdvisoryLock(t *testing.T) {
	dsn := freshDatabase(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	dbs := make([]*DB, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = Open(t.Context(), Options{DSN: dsn})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	var rows, versions int
	if err := dbs[0].pool.QueryRow(t.Context(), `SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows != versions || versions == 0 {
		t.Fatalf("schema_migrations has %d rows for %d versions: a migration was applied twice", rows, versions)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	dsn := freshDatabase(t)
	db := open(t, dsn)
	if _, err := db.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(t.Context(), Options{DSN: dsn})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("err = %v, want a refusal of the newer schema", err)
	}
}

// Many results are one transaction of a few statements, not one each:
// 12,000 results (three statements of results, one of rollups) go in
// with one commit.
func TestResultsAreBatched(t *testing.T) {
	dsn := freshDatabase(t)
	db, err := Open(t.Context(), Options{DSN: dsn, FlushEvery: time.Hour, BatchSize: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 8, 17, 13, 0, 0, 0, time.UTC)
	var rs []upstate.Result
	for i := range 12_000 {
		rs = append(rs, upstate.Result{CheckID: fmt.Sprintf("c%03d", i%300), At: t0.Add(time.Duration(i/300) * time.Second), Outcome: upstate.OutcomeOK, Latency: time.Duration(i%50) * time.Millisecond})
	}
	// The same check and millisecond twice keeps the later one.
	rs = append(rs, upstate.Result{CheckID: "c000", At: t0, Outcome: upstate.OutcomeFail, Latency: time.Second, Error: "later"})
	if err := db.AppendResults(t.Context(), rs); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Every row a transaction writes carries its id (xmin): one id across
	// the results and the rollups is one transaction.
	var txs int
	if err := db.pool.QueryRow(t.Context(), `SELECT COUNT(DISTINCT x) FROM (SELECT xmin::text AS x FROM results UNION ALL SELECT xmin::text FROM rollups) AS w`).Scan(&txs); err != nil {
		t.Fatal(err)
	}
	if txs != 1 {
		t.Errorf("12,001 results were written by %d transactions, want one", txs)
	}
	var n int
	if err := db.pool.QueryRow(t.Context(), `SELECT COUNT(*) FROM results`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 12_000 {
		t.Errorf("%d results stored, want 12000", n)
	}
	got, err := db.ListResults(t.Context(), "c000", t0, t0.Add(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Error != "later" {
		t.Errorf("c000 at t0 = %+v, want the later result", got)
	}
	rolls, err := db.ListRollups(t.Context(), store.Hour, []string{"c001"}, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(rolls) != 1 || rolls[0].Count != 40 || rolls[0].Latencies.Total() != 40 {
		t.Errorf("c001's hourly rollup = %+v, want 40 results with their histogram", rolls)
	}
}

// A server that refuses writes (read-only) is EUNAVAILABLE with why, and
// WriteHealth says so until it accepts them again. The setting reaches
// the store's connections when they are made again: the test ends them
// (as a failover or a restart would), which the store also survives.
func TestReadOnlyServerIsUnavailable(t *testing.T) {
	dsn := freshDatabase(t)
	db := open(t, dsn)
	defer db.Close()
	ctx := t.Context()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	readOnly := func(on bool) {
		t.Helper()
		set := "off"
		if on {
			set = "on"
		}
		if _, err := admin.Exec(ctx, "BEGIN READ WRITE; ALTER DATABASE "+admin.Config().Database+" SET default_transaction_read_only = "+set+"; COMMIT"); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
			t.Fatal(err)
		}
	}
	readOnly(true)
	var werr error
	for range 10 { // the first writes may meet a connection the server ended
		werr = db.SaveHeartbeat(ctx, "x", time.Now())
		if upstate.ErrorCode(werr) != upstate.EUNAVAILABLE {
			t.Fatalf("write to a read-only database: %v, want EUNAVAILABLE", werr)
		}
		if strings.Contains(werr.Error(), "read-only") {
			break
		}
	}
	if !strings.Contains(werr.Error(), "read-only") {
		t.Fatalf("write to a read-only database: %v, want it to say read-only", werr)
	}
	if h := db.WriteHealth(); upstate.ErrorCode(h) != upstate.EUNAVAILABLE || !strings.Contains(h.Error(), "read-only") {
		t.Fatalf("WriteHealth = %v, want EUNAVAILABLE saying read-only", h)
	}
	readOnly(false)
	for range 10 {
		if err = db.Probe(ctx); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("probe after the database accepts writes again: %v", err)
	}
	if h := db.WriteHealth(); h != nil {
		t.Fatalf("WriteHealth = %v, want nil", h)
	}
	if err := db.SaveHeartbeat(ctx, "x", time.Now()); err != nil {
		t.Fatal(err)
	}
}

// A server that stops answering (its traffic held) fails writes within
// WriteTimeout as EUNAVAILABLE, and WriteHealth says a write is stuck;
// once it answers again the held write commits and health returns. A
// server gone (its port refusing) is EUNAVAILABLE too, and Close does not
// hang on it.
func TestStalledAndGoneServer(t *testing.T) {
	dsn := freshDatabase(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := probetest.NewProxy(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	host, port, _ := net.SplitHostPort(proxy.Addr())
	db, err := Open(t.Context(), Options{DSN: dsn + " host=" + host + " port=" + port, WriteTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	if err := db.SaveHeartbeat(ctx, "x", time.Now()); err != nil {
		t.Fatal(err)
	}
	proxy.Hold()
	start := time.Now()
	err = db.SaveHeartbeat(ctx, "x", time.Now())
	if upstate.ErrorCode(err) != upstate.EUNAVAILABLE || time.Since(start) > 2*time.Second {
		t.Fatalf("write to a stalled server: %v after %s, want EUNAVAILABLE within the write timeout", err, time.Since(start))
	}
	time.Sleep(400 * time.Millisecond) // the stuck commit outlasts WriteTimeout
	if h := db.WriteHealth(); upstate.ErrorCode(h) != upstate.EUNAVAILABLE || !strings.Contains(h.Error(), "in progress") {
		t.Fatalf("WriteHealth = %v, want a write stuck in progress", h)
	}
	proxy.Release()
	probetest.Eventually(t, "writes accepted again", func(ctx context.Context) (bool, error) {
		return db.Probe(ctx) == nil && db.WriteHealth() == nil, nil
	})
	proxy.Refuse()
	if err := db.SaveHeartbeat(ctx, "x", time.Now()); upstate.ErrorCode(err) != upstate.EUNAVAILABLE {
		t.Fatalf("write to a server gone: %v, want EUNAVAILABLE", err)
	}
	if err := db.AppendResults(ctx, []upstate.Result{{CheckID: "c", At: time.Now(), Outcome: upstate.OutcomeOK}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { db.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Close hangs on a server gone")
	}
}

func TestDSNErrorsKeepThePassword(t *testing.T) {
	for _, dsn := range []string{"postgres://u:s3cret@h:notaport/db", "host=h password=s3cret port=notaport"} {
		err := ParseDSN(dsn)
		if err == nil {
			t.Errorf("%q accepted", dsn)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
	if err := ParseDSN("postgres://u:p@localhost:5432/upstate?sslmode=disable"); err != nil {
		t.Errorf("a good URL: %v", err)
	}
	if err := ParseDSN("host=localhost dbname=upstate"); err != nil {
		t.Errorf("a good keyword DSN: %v", err)
	}
}

func TestRebind(t *testing.T) {
	got := rebind(`SELECT ? WHERE a = '?' AND b LIKE ? ESCAPE '\' AND "c?" = ?::text`)
	want := `SELECT $1 WHERE a = '?' AND b LIKE $2 ESCAPE '\' AND "c?" = $3::text`
	if got != want {
		t.Errorf("rebind = %s, want %s", got, want)
	}
}

// PostgreSQL's text takes no NUL and no broken UTF-8, where SQLite keeps
// any bytes: a probe's error or an outsider's text with one is kept,
// cleaned, and never fails the batch it came in with.
func TestTextPostgresRefusesIsCleaned(t *testing.T) {
	server(t)
	db := open(t, freshDatabase(t))
	defer db.Close()
	ctx := t.Context()
	at := time.Date(2026, 8, 17, 9, 0, 0, 0, time.UTC)
	rs := []upstate.Result{
		{CheckID: "api", At: at, Outcome: upstate.OutcomeFail, Error: "bad\x00bytes\xff here"},
		{CheckID: "web", At: at, Outcome: upstate.OutcomeOK},
	}
	if err := db.AppendResults(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := db.ListResults(ctx, "api", at.Add(-time.Minute), at.Add(time.Minute))
	if err != nil || len(got) != 1 || got[0].Error != "badbytes\uFFFD here" {
		t.Fatalf("the api result: %+v %v", got, err)
	}
	if web, err := db.ListResults(ctx, "web", at.Add(-time.Minute), at.Add(time.Minute)); err != nil || len(web) != 1 {
		t.Errorf("the result beside it: %+v %v", web, err)
	}
	if v, err := db.Setting(ctx, "note", func() string { return "a\x00b" }); err != nil || v != "ab" {
		t.Errorf("a setting with a NUL: %q %v", v, err)
	}
}
