package app

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
	"github.com/upstatehq/upstate/internal/clock"
	"github.com/upstatehq/upstate/internal/config"
	"github.com/upstatehq/upstate/internal/probe/probetest"
)

// The database kinds end to end, against the servers .ci/run starts: a
// configuration with the check (its DSN from the environment) → a probe
// of the real server → the server blocked or gone → decide → an incident
// → the public status; and back. The evidence never holds the password.

// dbApp builds an App from yaml whose ${ENV} references env answers, on
// a fake clock.
func dbApp(t *testing.T, yaml string, env map[string]string) (*App, *clock.Fake) {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(yaml), func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir = t.TempDir()
	clk := clock.NewFake(time.Date(2026, 8, 17, 8, 42, 0, 0, time.UTC))
	return reopenApp(t, cfg, Options{Clock: clk}), clk
}

// proberOf is check id's prober, as the scheduler runs it.
func proberOf(t *testing.T, a *App, id string) check.Prober {
	t.Helper()
	for _, j := range a.checks.Load().compiled.jobs {
		if j.ID == id {
			return j.Prober
		}
	}
	t.Fatalf("no check %s", id)
	return nil
}

// publicGet reads a public document as a reader would, from a snapshot
// rebuilt now.
func publicGet(t *testing.T, a *App, path string) string {
	t.Helper()
	if err := a.snaps.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	a.web.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if rec.Code != 200 {
		t.Fatalf("GET %s: %d", path, rec.Code)
	}
	return rec.Body.String()
}

// openIncident is the one open incident, with its timeline.
func openIncident(t *testing.T, a *App) *upstate.Incident {
	t.Helper()
	ins, err := a.store.ListIncidents(context.Background(), upstate.IncidentFilter{OpenOnly: true})
	if err != nil || len(ins) != 1 {
		t.Fatalf("open incidents: %d, %v", len(ins), err)
	}
	return ins[0]
}

// noSecret fails the test if any public document or the incident's
// timeline shows secret.
func noSecret(t *testing.T, a *App, secret string) {
	t.Helper()
	for _, path := range []string{"/", "/api/v2/summary.json", "/api/v2/incidents.json", "/history.atom"} {
		if strings.Contains(publicGet(t, a, path), secret) {
			t.Errorf("%s shows the password", path)
		}
	}
	for _, e := range openIncident(t, a).Updates {
		if strings.Contains(e.Body, secret) {
			t.Errorf("the timeline shows the password: %s", e.Body)
		}
	}
}

func pgExec(t *testing.T, c *pgconn.PgConn, sql string) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql).ReadAll(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func pgConnect(t *testing.T, dsn string) *pgconn.PgConn {
	t.Helper()
	c, err := pgconn.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// The seed's outage: a session holds a lock on the API's accounts table;
// the API's queries queue behind it. The lock check turns the database
// degraded (sessions waiting), the query check times out and it is down,
// the page says so, and all of it recovers when the lock is let go.
func TestPostgresEndToEnd(t *testing.T) {
	dsn := probetest.Server(t, "UPSTATE_TEST_POSTGRES_DSN", "PostgreSQL")
	// The API's database and role, of the test's own: a role without
	// pg_monitor sees only its own sessions' waits, so what other
	// packages' tests hold on the same server is not counted here.
	name := fmt.Sprintf("upstate_app_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	root := pgConnect(t, dsn)
	pgExec(t, root, "CREATE ROLE "+name+" LOGIN PASSWORD '"+name+"-pw'")
	pgExec(t, root, "CREATE DATABASE "+name+" OWNER "+name)
	t.Cleanup(func() {
		if c, err := pgconn.Connect(context.Background(), dsn); err == nil {
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)").ReadAll()
			c.Exec(context.Background(), "DROP ROLE IF EXISTS "+name).ReadAll()
			c.Close(context.Background())
		}
	})
	password := name + "-pw"
	apiDSN := fmt.Sprintf("%s dbname=%s user=%s password=%s", dsn, name, name, password)
	yaml := `page: {name: Classroom Cloud}
components:
  - {id: database, name: Database}
checks:
  - id: api-db
    name: API database
    kind: postgres
    dsn: ${API_DB_DSN}
    query: SELECT count(*) FROM accounts
    expect: {value: "1"}
    timeout: 5s
    fail_after: 1
    recheck: {count: 0}
    components: [database]
  - id: api-db-locks
    name: Lock waits
    kind: postgres
    dsn: ${API_DB_DSN}
    locks_waiting_above: 0
    fail_after: 1
    recover_after: 1
    recheck: {count: 0}
    components: [database]
`
	a, clk := dbApp(t, yaml, map[string]string{"API_DB_DSN": apiDSN})
	ctx := context.Background()
	holder, api, watch := pgConnect(t, apiDSN), pgConnect(t, apiDSN), pgConnect(t, dsn)
	pgExec(t, holder, "CREATE TABLE accounts (id int)")
	pgExec(t, holder, "INSERT INTO accounts VALUES (1)")
	for _, id := range []string{"api-db", "api-db-locks"} {
		if r := runCheck(t, a, id); !r.OK() {
			t.Fatalf("%s before the lock: %+v", id, r)
		}
	}
	if st := a.engine.Statuses()["database"]; st != upstate.Operational {
		t.Fatalf("database = %s before the lock", st)
	}

	pgExec(t, holder, "BEGIN")
	pgExec(t, holder, "LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")
	apiDone := make(chan error, 1)
	go func() {
		_, err := api.Exec(ctx, "UPDATE accounts SET id = 2").ReadAll()
		apiDone <- err
	}()
	waiters := func(who string) func(ctx context.Context) (bool, int, error) {
		return func(ctx context.Context) (bool, int, error) {
			res, err := watch.Exec(ctx, fmt.Sprintf("SELECT count(*) FROM pg_stat_activity WHERE datname = '%s' AND wait_event_type = 'Lock'%s", name, who)).ReadAll()
			if err != nil {
				return false, 0, err
			}
			var n int
			fmt.Sscan(string(res[0].Rows[0][0]), &n)
			return true, n, nil
		}
	}
	until := func(what string, n int, q func(context.Context) (bool, int, error)) {
		t.Helper()
		probetest.Eventually(t, what, func(ctx context.Context) (bool, error) {
			_, got, err := q(ctx)
			return got == n, err
		})
	}
	until("the API's query waiting on the lock", 1, waiters(""))

	// Sessions waiting on a lock: degraded, an incident, the count in it.
	if r := runCheck(t, a, "api-db-locks"); r.Outcome != upstate.OutcomeSlow || !strings.HasPrefix(r.Error, "1 session waiting on a lock, more than 0 ("+name+" 1); the longest for ") {
		t.Fatalf("lock check: %s %q", r.Outcome, r.Error)
	}
	if st := a.engine.Statuses()["database"]; st != upstate.DegradedPerformance {
		t.Fatalf("database = %s with a session waiting on a lock", st)
	}
	in := openIncident(t, a)
	if body := evidenceOf(in); !strings.Contains(body, "Lock waits (api-db-locks) is") || !strings.Contains(body, "1 session waiting on a lock, more than 0") {
		t.Errorf("the incident says: %s", body)
	}

	// The API's own query waits too, past the check's timeout: down.
	p := proberOf(t, a, "api-db")
	done := make(chan upstate.Result, 1)
	go func() { done <- p.Probe(ctx) }()
	until("the check's query waiting on the lock", 1, waiters(" AND application_name = 'upstate'"))
	clk.Advance(5 * time.Second)
	r := <-done
	a.onResult(ctx, r)
	if r.Outcome != upstate.OutcomeFail || r.Error != "the query timed out after 5.00 s" {
		t.Errorf("query check behind the lock: %s %q", r.Outcome, r.Error)
	}
	if st := a.engine.Statuses()["database"]; st != upstate.MajorOutage {
		t.Fatalf("database = %s with its queries timing out", st)
	}
	until("the check's query cancelled on the server", 0, waiters(" AND application_name = 'upstate'"))

	// The public status says so in plain words: the evidence is the
	// team's (an internal note), and the password is nowhere.
	summary := publicGet(t, a, "/api/v2/summary.json")
	if want := `"id":"database","name":"Database","status":"major_outage"`; !strings.Contains(summary, want) {
		t.Errorf("summary.json lacks %q:\n%s", want, summary)
	}
	for _, evidence := range []string{"the query timed out after 5.00 s", "1 session waiting on a lock"} {
		if strings.Contains(summary, evidence) || strings.Contains(publicGet(t, a, "/"), evidence) {
			t.Errorf("the public side shows the evidence %q", evidence)
		}
		if !strings.Contains(evidenceOf(openIncident(t, a)), evidence) {
			t.Errorf("the team's note lacks %q", evidence)
		}
	}
	noSecret(t, a, password)
	if root, err := pgconn.ParseConfig(dsn); err == nil {
		noSecret(t, a, root.Password) // the DSN holds it too, overridden
	}

	// The lock is let go: the API's query completes, both checks recover.
	pgExec(t, holder, "ROLLBACK")
	if err := <-apiDone; err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	for _, id := range []string{"api-db-locks", "api-db"} {
		if r := runCheck(t, a, id); !r.OK() {
			t.Errorf("%s after the lock: %+v", id, r)
		}
	}
	clk.Advance(time.Minute)
	runCheck(t, a, "api-db")
	if st := a.engine.Statuses()["database"]; st != upstate.Operational {
		t.Errorf("database = %s after the lock", st)
	}
}

// MariaDB behind a loopback proxy: answering, then gone (its port
// refusing, as a stopped server's does): down, an incident, the page.
func TestMySQLEndToEnd(t *testing.T) {
	cfg, err := mysql.ParseDSN(probetest.Server(t, "UPSTATE_TEST_MYSQL_DSN", "MariaDB"))
	if err != nil {
		t.Fatal(err)
	}
	proxy := probetest.NewProxy(t, cfg.Addr)
	via := cfg.Clone()
	via.Addr = proxy.Addr()
	yaml := `page: {name: Classroom Cloud}
components:
  - {id: orders, name: Orders}
checks:
  - id: orders-db
    kind: mysql
    dsn: ${ORDERS_DB_DSN}
    query: SELECT 40 + 2
    expect: {value: "42", latency_under: 4s}
    timeout: 5s
    fail_after: 2
    recheck: {count: 0}
    components: [orders]
`
	a, clk := dbApp(t, yaml, map[string]string{"ORDERS_DB_DSN": via.FormatDSN()})
	if r := runCheck(t, a, "orders-db"); !r.OK() {
		t.Fatalf("answering: %+v", r)
	}
	proxy.Refuse()
	for range 2 {
		clk.Advance(time.Minute)
		if r := runCheck(t, a, "orders-db"); r.Outcome != upstate.OutcomeFail || r.Error != "cannot connect: connection refused" {
			t.Errorf("refused: %s %q", r.Outcome, r.Error)
		}
	}
	if st := a.engine.Statuses()["orders"]; st != upstate.MajorOutage {
		t.Fatalf("orders = %s with its database gone", st)
	}
	if body := evidenceOf(openIncident(t, a)); !strings.Contains(body, "cannot connect: connection refused") {
		t.Errorf("the incident says: %s", body)
	}
	if s := publicGet(t, a, "/api/v2/summary.json"); !strings.Contains(s, `"id":"orders","name":"Orders","status":"major_outage"`) {
		t.Errorf("summary.json:\n%s", s)
	}
	noSecret(t, a, cfg.Passwd)
}

// Redis behind a loopback proxy that stops passing bytes, as a hung
// server would: each probe is given up on at the timeout on the app's
// clock; down, an incident, the page; and back when it answers again.
func TestRedisEndToEnd(t *testing.T) {
	u, err := url.Parse(probetest.Server(t, "UPSTATE_TEST_REDIS_URL", "redis-server"))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	proxy := probetest.NewProxy(t, u.Host)
	via := *u
	via.Host = proxy.Addr()
	yaml := `page: {name: Classroom Cloud}
components:
  - {id: sessions, name: Sign-in sessions}
checks:
  - id: sessions-cache
    kind: redis
    dsn: ${REDIS_URL}
    expect: {role: master}
    memory_above: 90
    timeout: 2s
    fail_after: 2
    recover_after: 1
    recheck: {count: 0}
    components: [sessions]
`
	a, clk := dbApp(t, yaml, map[string]string{"REDIS_URL": via.String()})
	ctx := context.Background()
	if r := runCheck(t, a, "sessions-cache"); !r.OK() {
		t.Fatalf("answering: %+v", r)
	}
	proxy.Hold()
	p := proberOf(t, a, "sessions-cache")
	for range 2 {
		pending := clk.Pending()
		done := make(chan upstate.Result, 1)
		go func() { done <- p.Probe(ctx) }()
		probetest.Eventually(t, "the probe's timer", func(context.Context) (bool, error) { return clk.Pending() > pending, nil })
		clk.Advance(2 * time.Second)
		r := <-done
		if r.Outcome != upstate.OutcomeFail || r.Error != "cannot connect: timed out after 2.00 s" {
			t.Errorf("hung: %s %q", r.Outcome, r.Error)
		}
		a.onResult(ctx, r)
		clk.Advance(time.Minute)
	}
	if st := a.engine.Statuses()["sessions"]; st != upstate.MajorOutage {
		t.Fatalf("sessions = %s with redis hung", st)
	}
	if s := publicGet(t, a, "/api/v2/summary.json"); !strings.Contains(s, `"id":"sessions","name":"Sign-in sessions","status":"major_outage"`) ||
		strings.Contains(s, "cannot connect") {
		t.Errorf("summary.json (the status, no evidence):\n%s", s)
	}
	if body := evidenceOf(openIncident(t, a)); !strings.Contains(body, "cannot connect: timed out after 2.00 s") {
		t.Errorf("the team's note: %s", body)
	}
	noSecret(t, a, pw)
	proxy.Release()
	if r := runCheck(t, a, "sessions-cache"); !r.OK() {
		t.Errorf("answering again: %+v", r)
	}
	if st := a.engine.Statuses()["sessions"]; st != upstate.Operational {
		t.Errorf("sessions = %s answering again", st)
	}
}

// A DSN the driver cannot read stops the app from starting (or a reload
// from applying), naming the check and key but not the DSN.
func TestDatabaseDSNRefusedAtStart(t *testing.T) {
	const secret = "hunter2hunter2"
	cfg, err := config.Parse("t.yaml", []byte(`page: {name: X}
components: [{id: db}]
checks:
  - {id: api-db, kind: postgres, dsn: '${DSN}', components: [db]}
`), func(string) (string, bool) { return "host=db.internal password=" + secret + " sslmode=sometimes", true })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.DataDir = t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = New(context.Background(), Options{Config: cfg, Listener: ln})
	if err == nil || !strings.HasPrefix(err.Error(), "check api-db: dsn: does not parse: ") || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "db.internal") {
		t.Errorf("New: %v", err)
	}
}
