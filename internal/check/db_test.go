package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// newStepClock is a stepClock (check_test.go) from the seed's morning:
// each phase of a probe takes step.
func newStepClock(step time.Duration) *stepClock {
	return &stepClock{now: time.Date(2026, 8, 17, 8, 42, 0, 0, time.UTC), step: step}
}

// fakeSQL is a SQLDialer and its connections: query answers each query.
type fakeSQL struct {
	dial   func(ctx context.Context) error
	query  func(ctx context.Context, q string) ([][]string, error)
	mu     sync.Mutex
	open   int
	closed int
}

func (f *fakeSQL) Check(upstate.Secret) error { return nil }

func (f *fakeSQL) Dial(ctx context.Context, _ upstate.Secret, _ DBOptions) (SQLConn, error) {
	if f.dial != nil {
		if err := f.dial(ctx); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	f.open++
	f.mu.Unlock()
	return fakeConn{f}, nil
}

type fakeConn struct{ f *fakeSQL }

func (c fakeConn) Query(ctx context.Context, q string, max int) ([][]string, error) {
	rows, err := c.f.query(ctx, q)
	if len(rows) > max {
		rows = rows[:max]
	}
	return rows, err
}

func (c fakeConn) Close(context.Context) error {
	c.f.mu.Lock()
	c.f.closed++
	c.f.mu.Unlock()
	return nil
}

func (f *fakeSQL) leaked() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.open - f.closed
}

func strp(s string) *string { return &s }

// answers is a query func: the lock count for locksQuery, one for the rest.
func answers(locks [][]string, rows [][]string, err error) func(context.Context, string) ([][]string, error) {
	return func(_ context.Context, q string) ([][]string, error) {
		if q == locksQuery {
			return locks, nil
		}
		return rows, err
	}
}

func TestPostgresProbe(t *testing.T) {
	refused := errors.New("connect: connection refused")
	one := [][]string{{"1"}}
	waits := [][]string{{"api", "2", "3.4"}, {"billing", "1", "0.5"}}
	for _, tc := range []struct {
		name   string
		db     *fakeSQL
		p      Postgres
		want   upstate.Outcome
		reason string
	}{
		// LocksWaitingAbove is 0 unless a case says: the count runs, and
		// finds none but where a case has some.
		{"answers", &fakeSQL{query: answers(nil, one, nil)}, Postgres{Expect: strp("1")}, upstate.OutcomeOK, ""},
		{"locks not counted", &fakeSQL{query: answers(waits, one, nil)}, Postgres{LocksWaitingAbove: -1}, upstate.OutcomeOK, ""},
		{"refused", &fakeSQL{dial: func(context.Context) error { return refused }}, Postgres{}, upstate.OutcomeFail, "cannot connect: connection refused"},
		{"login refused", &fakeSQL{dial: func(context.Context) error { return errors.New(`password authentication failed for user "status"`) }}, Postgres{},
			upstate.OutcomeFail, `cannot connect: password authentication failed for user "status"`},
		{"query fails", &fakeSQL{query: answers(nil, nil, errors.New(`relation "accounts" does not exist`))}, Postgres{},
			upstate.OutcomeFail, `the query failed: relation "accounts" does not exist`},
		{"wrong value", &fakeSQL{query: answers(nil, [][]string{{"0"}}, nil)}, Postgres{Expect: strp("1")}, upstate.OutcomeFail, `the query returned "0", expected "1"`},
		{"no rows", &fakeSQL{query: answers(nil, nil, nil)}, Postgres{Expect: strp("1")}, upstate.OutcomeFail, `the query returned no rows, expected "1"`},
		{"no rows, nothing expected", &fakeSQL{query: answers(nil, nil, nil)}, Postgres{}, upstate.OutcomeOK, ""},
		// Each read of the clock is 200 ms later: connecting 200 ms, the
		// query (with the lock count) 200 ms.
		{"slow", &fakeSQL{query: answers(nil, one, nil)}, Postgres{LatencyUnder: 300 * time.Millisecond}, upstate.OutcomeSlow,
			"slower than 300 ms (connecting 200 ms, the query 200 ms)"},
		{"locks waiting", &fakeSQL{query: answers(waits, one, nil)}, Postgres{LocksWaitingAbove: 2}, upstate.OutcomeSlow,
			"3 sessions waiting on a lock, more than 2 (api 2, billing 1); the longest for 3.40 s"},
		{"locks within bound", &fakeSQL{query: answers(waits, one, nil)}, Postgres{LocksWaitingAbove: 3}, upstate.OutcomeOK, ""},
		{"none waiting", &fakeSQL{query: answers(nil, one, nil)}, Postgres{LocksWaitingAbove: 0}, upstate.OutcomeOK, ""},
		{"one waiting long", &fakeSQL{query: answers([][]string{{"api", "1", "754"}}, one, nil)}, Postgres{LocksWaitingAbove: 0}, upstate.OutcomeSlow,
			"1 session waiting on a lock, more than 0 (api 1); the longest for 13 min"},
		{"slow and locks", &fakeSQL{query: answers(waits, one, nil)}, Postgres{LocksWaitingAbove: 0, LatencyUnder: 100 * time.Millisecond}, upstate.OutcomeSlow,
			"slower than 100 ms (connecting 200 ms, the query 200 ms); 3 sessions waiting on a lock, more than 0 (api 2, billing 1); the longest for 3.40 s"},
		{"failing behind locks", &fakeSQL{query: answers(waits, nil, errors.New("canceling statement due to lock timeout"))}, Postgres{LocksWaitingAbove: 5}, upstate.OutcomeFail,
			"the query failed: canceling statement due to lock timeout; 3 sessions waiting on a lock (api 2, billing 1); the longest for 3.40 s"},
		{"locks unreadable", &fakeSQL{query: func(_ context.Context, q string) ([][]string, error) {
			if q == locksQuery {
				return nil, errors.New(`permission denied for view pg_stat_activity`)
			}
			return one, nil
		}}, Postgres{LocksWaitingAbove: 0}, upstate.OutcomeFail, "counting the sessions waiting on locks: permission denied for view pg_stat_activity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			p.ID, p.Query, p.Timeout, p.Dialer, p.Clock = "db", "SELECT 1", 5*time.Second, tc.db, newStepClock(200*time.Millisecond)
			r := p.Probe(context.Background())
			if r.Outcome != tc.want || r.Error != tc.reason || r.CheckID != "db" {
				t.Errorf("got %s %q, want %s %q", r.Outcome, r.Error, tc.want, tc.reason)
			}
			if n := tc.db.leaked(); n != 0 {
				t.Errorf("%d connections left open", n)
			}
		})
	}
}

// A query that waits past the timeout (a lock held elsewhere) is given up
// on at the timeout, on the check's clock, and its connection closed.
func TestSQLProbesTimeOut(t *testing.T) {
	for _, kind := range []string{"postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 8, 17, 8, 42, 0, 0, time.UTC))
			waiting := make(chan struct{})
			db := &fakeSQL{query: func(ctx context.Context, q string) ([][]string, error) {
				if q == locksQuery {
					return [][]string{{"api", "4", "9"}}, nil
				}
				close(waiting)
				<-ctx.Done()
				return nil, errors.New("canceling statement due to user request")
			}}
			var p Prober = &MySQL{ID: "db", Query: "SELECT 1", Timeout: 5 * time.Second, Dialer: db, Clock: clk}
			want := "the query timed out after 5.00 s"
			if kind == "postgres" {
				p = &Postgres{ID: "db", Query: "SELECT 1", LocksWaitingAbove: 10, Timeout: 5 * time.Second, Dialer: db, Clock: clk}
				want += "; 4 sessions waiting on a lock (api 4); the longest for 9.00 s"
			}
			done := make(chan upstate.Result)
			go func() { done <- p.Probe(context.Background()) }()
			<-waiting
			clk.Advance(5 * time.Second)
			r := <-done
			if r.Outcome != upstate.OutcomeFail || r.Error != want || r.Latency != 5*time.Second {
				t.Errorf("got %s %q after %v, want fail %q after 5s", r.Outcome, r.Error, r.Latency, want)
			}
			if n := db.leaked(); n != 0 {
				t.Errorf("%d connections left open", n)
			}
		})
	}
}

func TestMySQLProbe(t *testing.T) {
	for _, tc := range []struct {
		name   string
		db     *fakeSQL
		m      MySQL
		want   upstate.Outcome
		reason string
	}{
		{"answers", &fakeSQL{query: answers(nil, [][]string{{"1"}}, nil)}, MySQL{Expect: strp("1")}, upstate.OutcomeOK, ""},
		{"denied", &fakeSQL{dial: func(context.Context) error {
			return errors.New("Access denied for user 'status'@'10.0.0.5' (using password: YES)")
		}}, MySQL{}, upstate.OutcomeFail, "cannot connect: Access denied for user 'status'@'10.0.0.5' (using password: YES)"},
		{"NULL", &fakeSQL{query: answers(nil, [][]string{{"NULL"}}, nil)}, MySQL{Expect: strp("ok")}, upstate.OutcomeFail, `the query returned "NULL", expected "ok"`},
		{"slow", &fakeSQL{query: answers(nil, [][]string{{"1"}}, nil)}, MySQL{LatencyUnder: 400 * time.Millisecond}, upstate.OutcomeSlow,
			"slower than 400 ms (connecting 200 ms, the query 200 ms)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.m
			m.ID, m.Query, m.Timeout, m.Dialer, m.Clock = "orders", "SELECT 1", 5*time.Second, tc.db, newStepClock(200*time.Millisecond)
			r := m.Probe(context.Background())
			if r.Outcome != tc.want || r.Error != tc.reason {
				t.Errorf("got %s %q, want %s %q", r.Outcome, r.Error, tc.want, tc.reason)
			}
			if n := tc.db.leaked(); n != 0 {
				t.Errorf("%d connections left open", n)
			}
		})
	}
}

// fakeRedis is a RedisDialer and its connection.
type fakeRedis struct {
	dial   error
	ping   error
	info   map[string]map[string]string
	open   int
	closed int
}

func (f *fakeRedis) Check(upstate.Secret) error { return nil }

func (f *fakeRedis) Dial(context.Context, upstate.Secret, DBOptions) (RedisConn, error) {
	if f.dial != nil {
		return nil, f.dial
	}
	f.open++
	return f, nil
}

func (f *fakeRedis) Ping(context.Context) error { return f.ping }

func (f *fakeRedis) Info(_ context.Context, section string) (map[string]string, error) {
	m, ok := f.info[section]
	if !ok {
		return nil, errors.New("ERR unknown section")
	}
	return m, nil
}

func (f *fakeRedis) Close() error { f.closed++; return nil }

func TestRedisProbe(t *testing.T) {
	master := map[string]string{"role": "master", "connected_slaves": "1"}
	replicaUp := map[string]string{"role": "slave", "master_link_status": "up"}
	replicaDown := map[string]string{"role": "slave", "master_link_status": "down", "master_link_down_since_seconds": "95"}
	mem := func(used, max, system string) map[string]string {
		return map[string]string{"used_memory": used, "maxmemory": max, "total_system_memory": system}
	}
	for _, tc := range []struct {
		name   string
		db     *fakeRedis
		r      Redis
		want   upstate.Outcome
		reason string
	}{
		{"pong", &fakeRedis{}, Redis{}, upstate.OutcomeOK, ""},
		{"refused", &fakeRedis{dial: errors.New("connect: connection refused")}, Redis{}, upstate.OutcomeFail, "cannot connect: connection refused"},
		{"wrong password", &fakeRedis{dial: errors.New("WRONGPASS invalid username-password pair or user is disabled.")}, Redis{}, upstate.OutcomeFail,
			"cannot connect: WRONGPASS invalid username-password pair or user is disabled."},
		{"loading", &fakeRedis{ping: errors.New("LOADING Redis is loading the dataset in memory")}, Redis{}, upstate.OutcomeFail,
			"PING failed: LOADING Redis is loading the dataset in memory"},
		{"master", &fakeRedis{info: map[string]map[string]string{"replication": master}}, Redis{Role: "master"}, upstate.OutcomeOK, ""},
		{"not the master", &fakeRedis{info: map[string]map[string]string{"replication": replicaUp}}, Redis{Role: "master"}, upstate.OutcomeFail,
			"the server is a replica, expected a master"},
		{"replica linked", &fakeRedis{info: map[string]map[string]string{"replication": replicaUp}}, Redis{Role: "replica", LinkUp: true}, upstate.OutcomeOK, ""},
		{"link down", &fakeRedis{info: map[string]map[string]string{"replication": replicaDown}}, Redis{LinkUp: true}, upstate.OutcomeFail,
			"the replica's link to its master is down (for 2 min)"},
		{"link asked of a master", &fakeRedis{info: map[string]map[string]string{"replication": master}}, Redis{LinkUp: true}, upstate.OutcomeFail,
			"the server is a master, not a replica with a link to its master"},
		{"memory fine", &fakeRedis{info: map[string]map[string]string{"memory": mem("1048576", "268435456", "0")}}, Redis{MemoryAbove: 90}, upstate.OutcomeOK, ""},
		{"memory full", &fakeRedis{info: map[string]map[string]string{"memory": mem("250000000", "268435456", "0")}}, Redis{MemoryAbove: 90}, upstate.OutcomeSlow,
			"93% of maxmemory used (238 MiB of 256 MiB), more than 90%"},
		{"no maxmemory", &fakeRedis{info: map[string]map[string]string{"memory": mem("7516192768", "0", "8589934592")}}, Redis{MemoryAbove: 80}, upstate.OutcomeSlow,
			"88% of the machine's memory used (7.0 GiB of 8.0 GiB; no maxmemory is set), more than 80%"},
		{"nothing to measure against", &fakeRedis{info: map[string]map[string]string{"memory": mem("1", "0", "")}}, Redis{MemoryAbove: 1}, upstate.OutcomeOK, ""},
		{"slow and full", &fakeRedis{info: map[string]map[string]string{"memory": mem("3000000", "3000000", "0")}}, Redis{MemoryAbove: 0.5, LatencyUnder: 100 * time.Millisecond}, upstate.OutcomeSlow,
			"slower than 100 ms (connecting 200 ms, PING and INFO 200 ms); 100% of maxmemory used (2.9 MiB of 2.9 MiB), more than 0.5%"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			r.ID, r.Timeout, r.Dialer, r.Clock = "cache", 5*time.Second, tc.db, newStepClock(200*time.Millisecond)
			res := r.Probe(context.Background())
			if res.Outcome != tc.want || res.Error != tc.reason {
				t.Errorf("got %s %q, want %s %q", res.Outcome, res.Error, tc.want, tc.reason)
			}
			if tc.db.open != tc.db.closed {
				t.Errorf("%d opened, %d closed", tc.db.open, tc.db.closed)
			}
		})
	}
}

// A section's problems are by key; the prober needs the driver the app
// wires, and asks it about the DSN before the check runs.
func TestDatabaseProbers(t *testing.T) {
	c := Common{ID: "db", Timeout: 5 * time.Second, Interval: time.Minute}
	if _, err := (&PostgresSection{DSN: "postgres://x"}).Prober(c, Env{}); err == nil {
		t.Error("a postgres prober without a driver")
	}
	bad := &checkingSQL{err: errors.New("does not parse: sslmode is invalid")}
	if _, err := (&MySQLSection{DSN: "x/"}).Prober(c, Env{MySQL: bad}); err == nil || err.Error() != "dsn: does not parse: sslmode is invalid" {
		t.Errorf("mysql prober: %v", err)
	}
	above := 2
	p, err := (&PostgresSection{DSN: "postgres://x", Query: "SELECT 2", LocksWaitingAbove: &above}).Prober(c, Env{Postgres: &fakeSQL{}})
	if pg, ok := p.(*Postgres); err != nil || !ok || pg.LocksWaitingAbove != 2 || pg.Query != "SELECT 2" || pg.Timeout != 5*time.Second {
		t.Errorf("postgres prober %+v, %v", p, err)
	}
	p, _ = (&PostgresSection{DSN: "postgres://x"}).Prober(c, Env{Postgres: &fakeSQL{}})
	if p.(*Postgres).LocksWaitingAbove != -1 {
		t.Error("locks are counted unasked")
	}
	if _, err := (&RedisSection{DSN: "redis://x"}).Prober(c, Env{}); err == nil {
		t.Error("a redis prober without a client")
	}
}

type checkingSQL struct {
	fakeSQL
	err error
}

func (c *checkingSQL) Check(upstate.Secret) error { return c.err }

func TestRedact(t *testing.T) {
	if got := Redact("auth hunter2 for postgres://a:hunter2@h", "postgres://a:hunter2@h", "hunter2", ""); got != "auth <secret> for <secret>" {
		t.Errorf("Redact = %q", got)
	}
}

// Every driver's errors read the same: the server's words first, then the
// network's without the address or name, then the driver's; secrets
// redacted; the error itself still underneath.
func TestDriverError(t *testing.T) {
	dns := &net.DNSError{Err: "no such host", Name: "db.internal"}
	op := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 5432}, Err: errors.New("connection refused")}
	for _, tt := range []struct {
		err              error
		server, fallback string
		want             string
	}{
		{errors.New("x"), "password authentication failed for user s3cret", "", "password authentication failed for user <secret>"},
		{fmt.Errorf("connect: %w", dns), "", "lookup db.internal", "cannot resolve the server's name: no such host"},
		{fmt.Errorf("connect: %w", op), "", "dial tcp 10.0.0.5:5432", "connection refused"},
		{errors.New("driver: bad connection"), "", " the server closed the connection ", "the server closed the connection"},
	} {
		err := DriverError(tt.err, tt.server, tt.fallback, []string{"s3cret"})
		if err.Error() != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("DriverError(%v, %q, %q) = %q, want %q (and unwrapping to it)", tt.err, tt.server, tt.fallback, err, tt.want)
		}
	}
}
