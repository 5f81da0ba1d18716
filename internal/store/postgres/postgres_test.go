package postgres

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/store"
	"github.com/upstatehq/upstate/internal/store/storetest"
)

// server is the superuser DSN of the throwaway cluster .ci/run starts
// (.ci/databases). Without it the tests are skipped, or fail when
// UPSTATE_REAL_SERVICES=1 (as in CI).
func server(t *testing.T) string {
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
func freshDatabase(t *testing.T) string {
	t.Helper()
	admin := server(t)
	name := "upstate_test_" + strings.ToLower(rand.Text()[:16])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return withDatabase(t, admin, name)
}

// withDatabase is dsn naming another database.
func withDatabase(t *testing.T, dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name // the last of a keyword given twice counts
}

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
// WriteHealth says so until it accepts them again.
func TestReadOnlyServerIsUnavailable(t *testing.T) {
	dsn := freshDatabase(t)
	db := open(t, dsn)
	defer db.Close()
	ctx := t.Context()
	name := dsn[strings.LastIndex(dsn, "=")+1:]
	if strings.Contains(dsn, "://") {
		name = dsn[strings.LastIndex(dsn, "/")+1:]
	}
	if _, err := db.pool.Exec(ctx, "ALTER DATABASE "+name+" SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	db.pool.Reset() // new connections take the setting
	err := db.SaveHeartbeat(ctx, "x", time.Now())
	if upstate.ErrorCode(err) != upstate.EUNAVAILABLE || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("write to a read-only database: %v, want EUNAVAILABLE saying read-only", err)
	}
	if h := db.WriteHealth(); upstate.ErrorCode(h) != upstate.EUNAVAILABLE {
		t.Fatalf("WriteHealth = %v, want EUNAVAILABLE", h)
	}
	if _, err := db.pool.Exec(ctx, "BEGIN READ WRITE; ALTER DATABASE "+name+" SET default_transaction_read_only = off; COMMIT"); err != nil {
		t.Fatal(err)
	}
	db.pool.Reset()
	if err := db.Probe(ctx); err != nil {
		t.Fatalf("probe after the database accepts writes again: %v", err)
	}
	if h := db.WriteHealth(); h != nil {
		t.Fatalf("WriteHealth = %v, want nil", h)
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
