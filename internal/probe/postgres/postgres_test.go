package postgres

import (
	"context"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/probe/probetest"
)

// These tests run against the PostgreSQL .ci/run starts.
func serverDSN(t *testing.T) string {
	return probetest.Server(t, "UPSTATE_TEST_POSTGRES_DSN", "PostgreSQL")
}

// admin is a connection of the test's own.
func admin(t *testing.T, dsn string) *pgconn.PgConn {
	t.Helper()
	c, err := pgconn.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func exec(t *testing.T, c *pgconn.PgConn, sql string) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql).ReadAll(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// database makes a database and a role of the test's own, the role
// owning the database, and returns the database's name and a DSN for it
// as that role. The server is shared with other packages' tests; a role
// without pg_monitor sees only its own sessions' waits, so what another
// test holds is not counted here.
func database(t *testing.T, dsn string) (string, string) {
	t.Helper()
	name := fmt.Sprintf("upstate_probe_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	a := admin(t, dsn)
	exec(t, a, "CREATE ROLE "+name+" LOGIN PASSWORD '"+name+"'")
	exec(t, a, "CREATE DATABASE "+name+" OWNER "+name)
	t.Cleanup(func() {
		c, err := pgconn.Connect(context.Background(), dsn)
		if err == nil {
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)").ReadAll()
			c.Exec(context.Background(), "DROP ROLE IF EXISTS "+name).ReadAll()
			c.Close(context.Background())
		}
	})
	// In a keyword/value DSN the last of a keyword wins.
	return name, fmt.Sprintf("%s dbname=%s user=%s password=%s", dsn, name, name, name)
}

// count asks the server a number.
func count(ctx context.Context, c *pgconn.PgConn, sql string) (int, error) {
	res, err := c.Exec(ctx, sql).ReadAll()
	if err != nil {
		return 0, err
	}
	var n int
	_, err = fmt.Sscan(string(res[0].Rows[0][0]), &n)
	return n, err
}

func TestAnswers(t *testing.T) {
	dsn := serverDSN(t)
	ctx := context.Background()
	c, err := Dialer{}.Dial(ctx, upstate.Secret(dsn), check.DBOptions{Timeout: 5 * time.Second, Name: "upstate"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, tc := range []struct {
		sql  string
		max  int
		want [][]string
	}{
		{"SELECT 1, true, false, NULL::text, 'x'", 5, [][]string{{"1", "true", "false", "NULL", "x"}}},
		// The server was told the check's bounds and who is asking.
		{"SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), current_setting('application_name')", 1,
			[][]string{{"5s", "5s", "upstate"}}},
		// Rows past max are read, not kept: the connection is usable after.
		{"SELECT g FROM generate_series(1, 1000) g", 2, [][]string{{"1"}, {"2"}}},
		{"SELECT 2 WHERE false", 1, nil},
		{"SELECT 3", 1, [][]string{{"3"}}},
	} {
		got, err := c.Query(ctx, tc.sql, tc.max)
		if err != nil || !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("%s: %q, %v; want %q", tc.sql, got, err, tc.want)
		}
	}
	if _, err := c.Query(ctx, "SELECT 1; SELECT 2", 1); err == nil || !strings.Contains(err.Error(), "multiple commands") {
		t.Errorf("two statements: %v", err)
	}
	if _, err := c.Query(ctx, "SELECT * FROM no_such_table", 1); err == nil || err.Error() != `relation "no_such_table" does not exist` {
		t.Errorf("a missing table: %v", err)
	}
}

// What goes wrong is said in plain words, never with the password, the
// DSN or the server's address.
func TestProblemsInWords(t *testing.T) {
	dsn := serverDSN(t)
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	const wrong = "not-the-password-4471"
	for _, tc := range []struct {
		name, dsn, want string
	}{
		{"wrong password", dsn + " password=" + wrong, fmt.Sprintf("password authentication failed for user %q", cfg.User)},
		{"no such database", dsn + " dbname=upstate_no_such_db", `database "upstate_no_such_db" does not exist`},
		{"closed port", fmt.Sprintf("%s port=%d", dsn, closed), "connect: connection refused"},
		{"url", fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/postgres?sslmode=disable", cfg.User, wrong, closed), "connect: connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Dialer{}.Dial(context.Background(), upstate.Secret(tc.dsn), check.DBOptions{Timeout: 5 * time.Second})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			for _, secret := range []string{cfg.Password, wrong, "127.0.0.1", fmt.Sprint(closed)} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("%q shows %q", err, secret)
				}
			}
		})
	}
	for _, bad := range []string{
		"postgres://app:" + wrong + "@db.internal:notaport/api",
		"host=db.internal password=" + wrong + " sslmode=sometimes",
		"postgres://app:" + wrong + "@[::1/api",
	} {
		err := Dialer{}.Check(upstate.Secret(bad))
		if err == nil || !strings.HasPrefix(err.Error(), "does not parse: ") || strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), "db.internal") {
			t.Errorf("Check: %v", err)
		}
	}
	if err := (Dialer{}).Check(upstate.Secret(dsn)); err != nil {
		t.Errorf("Check(the test's DSN): %v", err)
	}
}

// The seed's outage began as a lock: a session holds one, the app's
// queries queue behind it, and so does the check's. The check counts the
// waiting sessions (its own "slow" signal), gives up on its query at the
// timeout on its clock, and leaves nothing waiting on the server.
func TestLockWaits(t *testing.T) {
	dsn := serverDSN(t)
	name, dbDSN := database(t, dsn)
	ctx := context.Background()
	holder, app, watch := admin(t, dbDSN), admin(t, dbDSN), admin(t, dsn)
	exec(t, holder, "CREATE TABLE accounts (id int)")
	exec(t, holder, "INSERT INTO accounts VALUES (1)")
	waiting := func(who string) func(ctx context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			return count(ctx, watch, fmt.Sprintf(
				"SELECT count(*) FROM pg_stat_activity WHERE datname = '%s' AND wait_event_type = 'Lock'%s", name, who))
		}
	}
	waitFor := func(what string, n int, q func(context.Context) (int, error)) {
		t.Helper()
		probetest.Eventually(t, what, func(ctx context.Context) (bool, error) {
			got, err := q(ctx)
			return got == n, err
		})
	}
	clk := clock.NewFake(time.Date(2026, 8, 17, 8, 42, 0, 0, time.UTC))
	probe := func(query string, locks int) *check.Postgres {
		return &check.Postgres{ID: "api-db", DSN: upstate.Secret(dbDSN), Query: query, LocksWaitingAbove: locks,
			Timeout: 5 * time.Second, Dialer: Dialer{}, Clock: clk}
	}
	if r := probe("SELECT count(*) FROM accounts", 0).Probe(ctx); !r.OK() {
		t.Fatalf("before the lock: %+v", r)
	}

	exec(t, holder, "BEGIN")
	exec(t, holder, "LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")
	appDone := make(chan error, 1)
	appCtx, stopApp := context.WithCancel(ctx)
	defer stopApp()
	go func() {
		_, err := app.Exec(appCtx, "SELECT count(*) FROM accounts").ReadAll()
		appDone <- err
	}()
	waitFor("the app's query waiting on the lock", 1, waiting(""))

	// SELECT 1 answers at once, but a session waits on a lock: slow.
	r := probe("SELECT 1", 0).Probe(ctx)
	if r.Outcome != upstate.OutcomeSlow || !strings.HasPrefix(r.Error, "1 session waiting on a lock, more than 0 ("+name+" 1); the longest for ") {
		t.Errorf("SELECT 1 behind a lock: %s %q", r.Outcome, r.Error)
	}
	if r := probe("SELECT 1", 5).Probe(ctx); !r.OK() {
		t.Errorf("within the bound: %+v", r)
	}

	// The check's own query waits too, until its timeout.
	done := make(chan upstate.Result, 1)
	go func() { done <- probe("SELECT count(*) FROM accounts", 10).Probe(ctx) }()
	waitFor("the check's query waiting on the lock", 1, waiting(" AND application_name = 'upstate'"))
	clk.Advance(5 * time.Second)
	r = <-done
	want := regexp.MustCompile(`^the query timed out after 5\.00 s; 1 session waiting on a lock \(` + name + ` 1\); the longest for \d`)
	if r.Outcome != upstate.OutcomeFail || !want.MatchString(r.Error) || strings.Contains(r.Error, dbDSN) {
		t.Errorf("the check's query behind the lock: %s %q", r.Outcome, r.Error)
	}
	// It asked the server to cancel its query: nothing of it waits on.
	waitFor("the check's query cancelled on the server", 0, waiting(" AND application_name = 'upstate'"))
	waitFor("the check's connections closed", 0, func(ctx context.Context) (int, error) {
		return count(ctx, watch, fmt.Sprintf("SELECT count(*) FROM pg_stat_activity WHERE datname = '%s' AND application_name = 'upstate'", name))
	})

	exec(t, holder, "ROLLBACK")
	if err := <-appDone; err != nil {
		t.Fatalf("the app's query: %v", err)
	}
	if r := probe("SELECT count(*) FROM accounts", 0).Probe(ctx); !r.OK() {
		t.Errorf("after the lock: %+v", r)
	}
}

// A server that accepts connections and then says nothing is given up
// on at the timeout, on the check's clock.
func TestHungServer(t *testing.T) {
	dsn := serverDSN(t)
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := probetest.NewProxy(t, net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)))
	host, port, _ := net.SplitHostPort(proxy.Addr())
	clk := clock.NewFake(time.Date(2026, 8, 17, 8, 42, 0, 0, time.UTC))
	p := &check.Postgres{ID: "api-db", DSN: upstate.Secret(fmt.Sprintf("%s host=%s port=%s", dsn, host, port)), Query: "SELECT 1",
		LocksWaitingAbove: -1, Timeout: 3 * time.Second, Dialer: Dialer{}, Clock: clk}
	if r := p.Probe(context.Background()); !r.OK() {
		t.Fatalf("through the proxy: %+v", r)
	}
	proxy.Hold()
	done := make(chan upstate.Result, 1)
	go func() { done <- p.Probe(context.Background()) }()
	probetest.Eventually(t, "the probe's timer", func(context.Context) (bool, error) { return clk.Pending() > 0, nil })
	clk.Advance(3 * time.Second)
	if r := <-done; r.Outcome != upstate.OutcomeFail || r.Error != "cannot connect: timed out after 3.00 s" {
		t.Errorf("hung: %s %q", r.Outcome, r.Error)
	}
	proxy.Release()
	if r := p.Probe(context.Background()); !r.OK() {
		t.Errorf("released: %+v", r)
	}
}
