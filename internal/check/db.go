package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
)

// The database kinds (postgres, mysql, redis) judge what a server
// answers here; the drivers that reach the servers are in
// internal/probe/{postgres,mysql,redis} (the domain imports no database
// driver), and app hands them to the probers through Env. Each probe
// opens one connection and closes it before it returns: nothing stays
// open between probes, so a reload or a stop has nothing to close, and
// a server that stops taking new connections is noticed.

// DBOptions are the bounds a database check's connection is made with.
type DBOptions struct {
	// Timeout is the check's: the probe's context ends then too, but a
	// driver also tells the server where it can (statement and lock-wait
	// timeouts), so that a probe given up on leaves no query waiting.
	Timeout time.Duration
	// Dial opens connections; nil means the operating system's network.
	Dial DialFunc
	// Name is what the connection calls itself to the server, where the
	// protocol says (PostgreSQL's application_name): "upstate".
	Name string
}

// SQLDialer opens connections to a SQL database (postgres and mysql
// checks). Its errors are in plain words and never hold the DSN or its
// password.
type SQLDialer interface {
	// Check reports what is wrong with a DSN, without reaching the server.
	Check(dsn upstate.Secret) error
	// Dial opens one connection; the caller closes it.
	Dial(ctx context.Context, dsn upstate.Secret, o DBOptions) (SQLConn, error)
}

// SQLConn is one open connection to a SQL database.
type SQLConn interface {
	// Query runs one statement and returns up to max rows, each column
	// as text: NULL as "NULL", a boolean (where the server has the type)
	// as true or false.
	Query(ctx context.Context, query string, max int) ([][]string, error)
	// Close closes the connection, at once when ctx is done.
	Close(ctx context.Context) error
}

// SQLExpectSection is what a SQL check's answer must look like.
type SQLExpectSection struct {
	// Value is what the first column of the first row must be, as text.
	Value        *string       `yaml:"value"`
	LatencyUnder time.Duration `yaml:"latency_under"`
}

// defaultQuery is what a SQL check runs unless told otherwise.
const defaultQuery = "SELECT 1"

// validateSQL checks what the postgres and mysql sections share, and sets
// the default query. form says whether a DSN has the kind's shape, and
// forms says what that shape is.
func validateSQL(v Validator, kind, example string, dsn upstate.Secret, query *string, e SQLExpectSection, timeout time.Duration, form func(string) bool, forms string) {
	switch {
	case dsn == "":
		v.Errorf("", "dsn is required for %s checks (e.g. dsn: %s)", kind, example)
	case !form(dsn.Reveal()):
		// The value is not shown: it may hold a password.
		v.Errorf("dsn", "is not a %s; the value is not shown, as it may hold a password", forms)
	}
	if *query == "" {
		*query = defaultQuery
	} else if strings.TrimSpace(*query) == "" {
		v.Errorf("query", "is empty (leave it out for %s)", defaultQuery)
	}
	latencyUnder(v, e.LatencyUnder, timeout)
}

// sqlAnswer runs a check's query on conn and says what is wrong with the
// answer, "" when nothing is. The query itself is not quoted: evidence
// is shown on the public page.
func sqlAnswer(ctx context.Context, conn SQLConn, query string, want *string, timeout time.Duration) string {
	rows, err := conn.Query(ctx, query, 1)
	if err != nil {
		if ctx.Err() != nil {
			return "the query timed out after " + upstate.FormatLatency(timeout)
		}
		return "the query failed: " + describeErr(ctx, err, timeout)
	}
	if want == nil {
		return ""
	}
	if len(rows) == 0 || len(rows[0]) == 0 {
		return fmt.Sprintf("the query returned no rows, expected %q", *want)
	}
	if got := rows[0][0]; got != *want {
		return fmt.Sprintf("the query returned %q, expected %q", got, *want)
	}
	return ""
}

// Redact replaces every secret in s (the non-empty ones) with <secret>:
// for a driver's words that might quote what they were given.
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, upstate.Secret(sec).String())
		}
	}
	return s
}

// DriverError is a database client's error in plain words, the same for
// every driver: the server's own message when the driver found one
// (server), else what the network said without the address (evidence is
// public: not even a name that does not resolve), else the driver's words
// (fallback). Secrets are redacted whatever the words. It unwraps to err,
// so a timeout or a DNS failure is still known as one.
func DriverError(err error, server, fallback string, secrets []string) error {
	msg := server
	if msg == "" {
		var op *net.OpError
		var dns *net.DNSError
		switch {
		case errors.As(err, &dns):
			msg = "cannot resolve the server's name: " + dns.Err
		case errors.As(err, &op) && op.Err != nil:
			msg = op.Err.Error()
		default:
			msg = fallback
		}
	}
	return &driverErr{msg: Redact(strings.TrimSpace(msg), secrets...), err: err}
}

type driverErr struct {
	msg string
	err error
}

func (e *driverErr) Error() string { return e.msg }
func (e *driverErr) Unwrap() error { return e.err }

// dbErr is a database error in plain words: a timeout as such, whatever
// the driver made of it.
func dbErr(ctx context.Context, err error, timeout time.Duration) string {
	if ctx.Err() != nil {
		return "timed out after " + upstate.FormatLatency(timeout)
	}
	return describeErr(ctx, err, timeout)
}

// spent says how a slow probe spent its time: "connecting 12 ms, the
// query 2.3 s".
func spent(connect, rest time.Duration, what string) string {
	return fmt.Sprintf("connecting %s, %s %s", upstate.FormatLatency(connect), what, upstate.FormatLatency(rest))
}

// waitFor says a wait the way people read it: "850 ms", "42 s", "3 min".
func waitFor(d time.Duration) string {
	if d < time.Minute {
		return upstate.FormatLatency(d)
	}
	return upstate.FormatDuration(d, upstate.DurationReport)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
