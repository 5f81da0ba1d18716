package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/probe/probetest"
)

// These tests run against the MariaDB .ci/run starts.
func serverDSN(t *testing.T) *mysql.Config {
	t.Helper()
	cfg, err := mysql.ParseDSN(probetest.Server(t, "UPSTATE_TEST_MYSQL_DSN", "MariaDB"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// admin is a connection of the test's own.
func admin(t *testing.T, cfg *mysql.Config) *sql.Conn {
	t.Helper()
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func exec(t *testing.T, c *sql.Conn, q string) {
	t.Helper()
	if _, err := c.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// database makes a database of the test's own (the server is shared with
// other packages' tests) and returns its name and a DSN for it.
func database(t *testing.T, cfg *mysql.Config) (string, *mysql.Config) {
	t.Helper()
	name := fmt.Sprintf("upstate_probe_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	exec(t, admin(t, cfg), "CREATE DATABASE "+name)
	t.Cleanup(func() {
		if db, err := sql.Open("mysql", cfg.FormatDSN()); err == nil {
			db.Exec("DROP DATABASE IF EXISTS " + name)
			db.Close()
		}
	})
	own := cfg.Clone()
	own.DBName = name
	return name, own
}

func TestAnswers(t *testing.T) {
	cfg := serverDSN(t)
	ctx := context.Background()
	c, err := Dialer{}.Dial(ctx, upstate.Secret(cfg.FormatDSN()), check.DBOptions{Timeout: 7 * time.Second, Name: "upstate"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, tc := range []struct {
		sql  string
		max  int
		want [][]string
	}{
		{"SELECT 1, true, NULL, 'x', 1.5", 5, [][]string{{"1", "1", "NULL", "x", "1.5"}}},
		// The server ends waits for locks when the check would give up.
		{"SELECT @@session.lock_wait_timeout, @@session.innodb_lock_wait_timeout", 1, [][]string{{"7", "7"}}},
		{"SELECT ATTR_VALUE FROM performance_schema.session_account_connect_attrs WHERE PROCESSLIST_ID = CONNECTION_ID() AND ATTR_NAME = 'program_name'", 1, nil},
		{"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 1000) SELECT n FROM s", 2, [][]string{{"1"}, {"2"}}},
		{"SELECT 2 FROM DUAL WHERE false", 1, nil},
		{"SELECT 3", 1, [][]string{{"3"}}},
	} {
		got, err := c.Query(ctx, tc.sql, tc.max)
		if strings.Contains(tc.sql, "performance_schema") {
			// Only where performance_schema is on (MariaDB's default is off).
			if err == nil && len(got) == 1 && got[0][0] != "upstate" {
				t.Errorf("program_name = %q", got)
			}
			continue
		}
		if err != nil || !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("%s: %q, %v; want %q", tc.sql, got, err, tc.want)
		}
	}
	if _, err := c.Query(ctx, "SELECT * FROM no_such_table", 1); err == nil || err.Error() != "No database selected" {
		t.Errorf("a missing table: %v", err)
	}
}

// What goes wrong is said in plain words, never with the password, the
// DSN or the server's address.
func TestProblemsInWords(t *testing.T) {
	cfg := serverDSN(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	const wrong = "not-the-password-4471"
	badPass, noDB, closedPort := cfg.Clone(), cfg.Clone(), cfg.Clone()
	badPass.Passwd = wrong
	noDB.DBName = "upstate_no_such_db"
	closedPort.Addr = closed
	for _, tc := range []struct {
		name string
		cfg  *mysql.Config
		want string
	}{
		{"wrong password", badPass, fmt.Sprintf("Access denied for user '%s'@'127.0.0.1' (using password: YES)", cfg.User)},
		{"no such database", noDB, "Unknown database 'upstate_no_such_db'"},
		{"closed port", closedPort, "connect: connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Dialer{}.Dial(context.Background(), upstate.Secret(tc.cfg.FormatDSN()), check.DBOptions{Timeout: 5 * time.Second})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			for _, secret := range []string{cfg.Passwd, wrong, closed} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("%q shows %q", err, secret)
				}
			}
		})
	}
	for _, bad := range []string{"app:" + wrong + "@tcp(db.internal:3306)", "app:" + wrong + "@tcp(db.internal:3306)/orders?timeout=soon"} {
		err := Dialer{}.Check(upstate.Secret(bad))
		if err == nil || !strings.HasPrefix(err.Error(), "does not parse: ") || strings.Contains(err.Error(), wrong) {
			t.Errorf("Check(%q): %v", strings.ReplaceAll(bad, wrong, "…"), err)
		}
	}
}

// A table locked by another session: the check's query waits, is given up
// on at the timeout on the check's clock, and the server ends its wait
// soon after (lock_wait_timeout), so nothing of the check's queues on.
func TestLockedTable(t *testing.T) {
	cfg := serverDSN(t)
	name, own := database(t, cfg)
	ctx := context.Background()
	holder, watch := admin(t, own), admin(t, cfg)
	exec(t, holder, "CREATE TABLE accounts (id int)")
	exec(t, holder, "INSERT INTO accounts VALUES (1)")
	clk := clock.NewFake(time.Date(2026, 8, 17, 8, 42, 0, 0, time.UTC))
	p := &check.MySQL{ID: "orders-db", DSN: upstate.Secret(own.FormatDSN()), Query: "SELECT count(*) FROM accounts", Expect: ptr("1"),
		Timeout: time.Second, Dialer: Dialer{}, Clock: clk}
	if r := p.Probe(ctx); !r.OK() {
		t.Fatalf("before the lock: %+v", r)
	}
	exec(t, holder, "LOCK TABLES accounts WRITE")
	waiting := func(ctx context.Context) (int, error) {
		var n int
		err := watch.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.processlist WHERE db = ? AND state LIKE 'Waiting for table%'", name).Scan(&n)
		return n, err
	}
	done := make(chan upstate.Result, 1)
	go func() { done <- p.Probe(ctx) }()
	probetest.Eventually(t, "the check's query waiting on the lock", func(ctx context.Context) (bool, error) {
		n, err := waiting(ctx)
		return n == 1, err
	})
	clk.Advance(time.Second)
	if r := <-done; r.Outcome != upstate.OutcomeFail || r.Error != "the query timed out after 1.00 s" {
		t.Errorf("behind the lock: %s %q", r.Outcome, r.Error)
	}
	probetest.Eventually(t, "the server ending the check's wait", func(ctx context.Context) (bool, error) {
		n, err := waiting(ctx)
		return n == 0, err
	})
	exec(t, holder, "UNLOCK TABLES")
	if r := p.Probe(ctx); !r.OK() {
		t.Errorf("after the lock: %+v", r)
	}
}

func ptr(s string) *string { return &s }

// A server that accepts connections and then says nothing is given up
// on at the timeout, on the check's clock.
func TestHungServer(t *testing.T) {
	cfg := serverDSN(t)
	proxy := probetest.NewProxy(t, cfg.Addr)
	via := cfg.Clone()
	via.Addr = proxy.Addr()
	clk := clock.NewFake(time.Date(2026, 8, 17, 8, 42, 0, 0, time.UTC))
	p := &check.MySQL{ID: "orders-db", DSN: upstate.Secret(via.FormatDSN()), Query: "SELECT 1", Timeout: 3 * time.Second, Dialer: Dialer{}, Clock: clk}
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
