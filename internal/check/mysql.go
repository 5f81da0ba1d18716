package check

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// mysqlKind connects to MySQL or MariaDB and runs a query.
func mysqlKind() Kind {
	return Kind{Name: "mysql", New: func() Section { return &MySQLSection{} }}
}

// MySQLSection is a mysql check's configuration.
type MySQLSection struct {
	// DSN is in go-sql-driver/mysql's form:
	// user:password@tcp(host:3306)/dbname?param=value.
	DSN    upstate.Secret   `yaml:"dsn"`
	Query  string           `yaml:"query"`
	Expect SQLExpectSection `yaml:"expect"`
}

// isMySQLDSN reports whether s has the shape of a DSN (the slash before
// the database name is required, a URL is not the driver's form); the
// driver reads the rest when the check is built.
func isMySQLDSN(s string) bool {
	return strings.Contains(s, "/") && !strings.Contains(s, "://")
}

// Validate implements Section: a mysql check checks itself once the
// common fields are settled (ValidateSettled).
func (s *MySQLSection) Validate(Validator, *Common) {}

// ValidateSettled implements Settled.
func (s *MySQLSection) ValidateSettled(v Validator, c Common) {
	validateSQL(v, "mysql", "${ORDERS_DB_DSN}", s.DSN, &s.Query, s.Expect, c.Timeout, isMySQLDSN,
		"MySQL DSN (user:password@tcp(host:3306)/dbname, with the slash even without a database; not a URL)")
}

// Prober implements Section.
func (s *MySQLSection) Prober(c Common, env Env) (Prober, error) {
	if env.MySQL == nil {
		return nil, errors.New("no MySQL driver to probe with")
	}
	if err := env.MySQL.Check(s.DSN); err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	return &MySQL{ID: c.ID, DSN: s.DSN, Query: s.Query, Expect: s.Expect.Value, LatencyUnder: s.Expect.LatencyUnder,
		Timeout: c.Timeout, Dialer: env.MySQL, Dial: env.Dial, Clock: env.Clock}, nil
}

// MySQL connects to MySQL or MariaDB and runs a query. One connection
// per probe, closed before Probe returns.
type MySQL struct {
	ID  string
	DSN upstate.Secret
	// Query runs on every probe; Expect, when set, is what the first
	// column of its first row must be, as text.
	Query  string
	Expect *string
	// LatencyUnder: a slower probe (connecting and querying) is slow.
	LatencyUnder time.Duration
	Timeout      time.Duration
	Dialer       SQLDialer
	Dial         DialFunc
	Clock        clock.Clock
}

// LatencyBound implements Bounded: a probe slower than it is slow, known
// as soon as it passes.
func (m *MySQL) LatencyBound() time.Duration { return m.LatencyUnder }

// Probe implements Prober.
func (m *MySQL) Probe(ctx context.Context) upstate.Result {
	ctx, cancel := clock.WithTimeout(ctx, m.Clock, m.Timeout)
	defer cancel()
	t := startTiming(m.Clock)
	conn, err := m.Dialer.Dial(ctx, m.DSN, DBOptions{Timeout: m.Timeout, Dial: m.Dial, Name: "upstate"})
	if err != nil {
		return fail(t.result(m.ID), "cannot connect: "+dbErr(ctx, err, m.Timeout))
	}
	defer conn.Close(ctx)
	connecting := m.Clock.Now().Sub(t.start)
	msg := sqlAnswer(ctx, conn, m.Query, m.Expect, m.Timeout)
	r := t.result(m.ID)
	if msg != "" {
		return fail(r, msg)
	}
	if m.LatencyUnder > 0 && r.Latency >= m.LatencyUnder {
		r.Outcome = upstate.OutcomeSlow
		r.Error = fmt.Sprintf("slower than %s (%s)", upstate.FormatLatency(m.LatencyUnder), spent(connecting, r.Latency-connecting, "the query"))
	}
	return r
}
