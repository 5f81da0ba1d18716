package check

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/clock"
)

// postgresKind connects to PostgreSQL, runs a query and counts the
// sessions waiting on locks.
func postgresKind() Kind {
	return Kind{Name: "postgres", New: func() Section { return &PostgresSection{} }}
}

// PostgresSection is a postgres check's configuration.
type PostgresSection struct {
	// DSN is a connection string, URL or keyword/value (libpq's forms).
	DSN    upstate.Secret   `yaml:"dsn"`
	Query  string           `yaml:"query"`
	Expect SQLExpectSection `yaml:"expect"`
	// LocksWaitingAbove, when set, counts the server's sessions waiting
	// on a lock: more than this many is degraded.
	LocksWaitingAbove *int `yaml:"locks_waiting_above"`
}

// pgKeyword is the start of a keyword/value connection string.
var pgKeyword = regexp.MustCompile(`^\s*[A-Za-z_]+\s*=`)

// isPostgresDSN reports whether s has the shape of a connection string;
// the driver reads the rest when the check is built.
func isPostgresDSN(s string) bool {
	lower := strings.ToLower(s)
	for _, scheme := range []string{"postgres://", "postgresql://"} {
		if strings.HasPrefix(lower, scheme) {
			return len(s) > len(scheme)
		}
	}
	return pgKeyword.MatchString(s)
}

// Validate implements Section: a postgres check checks itself once the
// common fields are settled (ValidateSettled).
func (s *PostgresSection) Validate(Validator, *Common) {}

// ValidateSettled implements Settled.
func (s *PostgresSection) ValidateSettled(v Validator, c Common) {
	validateSQL(v, "postgres", "${API_DB_DSN}", s.DSN, &s.Query, s.Expect, c.Timeout, isPostgresDSN,
		"PostgreSQL connection string (postgres://user:password@host:5432/dbname, or host=... user=... password=... dbname=...)")
	if s.LocksWaitingAbove != nil && *s.LocksWaitingAbove < 0 {
		v.Errorf("locks_waiting_above", "must not be negative (0: any session waiting on a lock is too many)")
	}
}

// Prober implements Section.
func (s *PostgresSection) Prober(c Common, env Env) (Prober, error) {
	if env.Postgres == nil {
		return nil, errors.New("no PostgreSQL driver to probe with")
	}
	if err := env.Postgres.Check(s.DSN); err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	p := &Postgres{ID: c.ID, DSN: s.DSN, Query: s.Query, Expect: s.Expect.Value, LatencyUnder: s.Expect.LatencyUnder,
		LocksWaitingAbove: -1, Timeout: c.Timeout, Dialer: env.Postgres, Dial: env.Dial, Clock: env.Clock}
	if s.LocksWaitingAbove != nil {
		p.LocksWaitingAbove = *s.LocksWaitingAbove
	}
	return p, nil
}

// Postgres connects to PostgreSQL, runs a query and, when asked, counts
// the sessions waiting on locks. One connection per probe, closed before
// Probe returns.
type Postgres struct {
	ID  string
	DSN upstate.Secret
	// Query runs on every probe; Expect, when set, is what the first
	// column of its first row must be, as text.
	Query  string
	Expect *string
	// LatencyUnder: a slower probe (connecting and querying) is slow.
	LatencyUnder time.Duration
	// LocksWaitingAbove: more sessions than this waiting on a lock, in
	// any database of the server, is slow; -1 does not count them.
	LocksWaitingAbove int
	Timeout           time.Duration
	Dialer            SQLDialer
	Dial              DialFunc
	Clock             clock.Clock
}

// locksQuery counts the sessions waiting on a lock, by database, and how
// long the longest of them has been waiting. A role sees other roles'
// sessions' waits only with pg_read_all_stats (pg_monitor has it).
const locksQuery = `SELECT coalesce(datname, '?'), count(*),
  coalesce(extract(epoch FROM max(now() - query_start)), 0)::float8
FROM pg_stat_activity
WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()
GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20`

// lockWaits is what locksQuery found.
type lockWaits struct {
	total   int
	byDB    []string // "api 2"
	longest time.Duration
}

// describe says what was found: "2 sessions waiting on a lock, more than
// 0 (api 1, billing 1); the longest for 3.40 s". above < 0 leaves out
// the bound.
func (w lockWaits) describe(above int) string {
	bound := ""
	if above >= 0 {
		bound = fmt.Sprintf(", more than %d", above)
	}
	return fmt.Sprintf("%d %s waiting on a lock%s (%s); the longest for %s",
		w.total, plural(w.total, "session", "sessions"), bound, strings.Join(w.byDB, ", "), waitFor(w.longest))
}

func countLockWaits(ctx context.Context, conn SQLConn) (lockWaits, error) {
	rows, err := conn.Query(ctx, locksQuery, 20)
	if err != nil {
		return lockWaits{}, err
	}
	var w lockWaits
	for _, row := range rows {
		if len(row) != 3 {
			return lockWaits{}, fmt.Errorf("pg_stat_activity answered %d columns, not 3", len(row))
		}
		n, err1 := strconv.Atoi(row[1])
		secs, err2 := strconv.ParseFloat(row[2], 64)
		if err1 != nil || err2 != nil {
			return lockWaits{}, fmt.Errorf("pg_stat_activity answered %q", row)
		}
		w.total += n
		w.byDB = append(w.byDB, fmt.Sprintf("%s %d", row[0], n))
		if d := time.Duration(secs * float64(time.Second)); d > w.longest {
			w.longest = d
		}
	}
	return w, nil
}

// LatencyBound implements Bounded: a probe slower than it is slow, known
// as soon as it passes.
func (p *Postgres) LatencyBound() time.Duration { return p.LatencyUnder }

// Probe implements Prober.
func (p *Postgres) Probe(ctx context.Context) upstate.Result {
	ctx, cancel := clock.WithTimeout(ctx, p.Clock, p.Timeout)
	defer cancel()
	t := startTiming(p.Clock)
	conn, err := p.Dialer.Dial(ctx, p.DSN, DBOptions{Timeout: p.Timeout, Dial: p.Dial, Name: "upstate"})
	if err != nil {
		return fail(t.result(p.ID), "cannot connect: "+dbErr(ctx, err, p.Timeout))
	}
	defer conn.Close(ctx)
	connecting := p.Clock.Now().Sub(t.start)
	var locks lockWaits
	if p.LocksWaitingAbove >= 0 {
		if locks, err = countLockWaits(ctx, conn); err != nil {
			return fail(t.result(p.ID), "counting the sessions waiting on locks: "+dbErr(ctx, err, p.Timeout))
		}
	}
	msg := sqlAnswer(ctx, conn, p.Query, p.Expect, p.Timeout)
	r := t.result(p.ID)
	if msg != "" {
		if locks.total > 0 {
			// What the query waited for, most likely.
			msg += "; " + locks.describe(-1)
		}
		return fail(r, msg)
	}
	var slow []string
	if p.LatencyUnder > 0 && r.Latency >= p.LatencyUnder {
		slow = append(slow, fmt.Sprintf("slower than %s (%s)", upstate.FormatLatency(p.LatencyUnder), spent(connecting, r.Latency-connecting, "the query")))
	}
	if p.LocksWaitingAbove >= 0 && locks.total > p.LocksWaitingAbove {
		slow = append(slow, locks.describe(p.LocksWaitingAbove))
	}
	if len(slow) > 0 {
		r.Outcome = upstate.OutcomeSlow
		r.Error = strings.Join(slow, "; ")
	}
	return r
}
