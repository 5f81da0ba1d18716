// Package postgres is how postgres checks reach PostgreSQL: pgx's
// connection (pgconn: the wire protocol, no pool, no type registry),
// made with the check's bounds and closed by the probe, and its errors in
// words that name neither the DSN nor its password.
package postgres

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
)

// cancelGrace is how long a probe whose time is up waits for the server
// to confirm it cancelled the query, before it closes the socket anyway.
const cancelGrace = 500 * time.Millisecond

// boolOID is PostgreSQL's boolean type, answered as t or f in text.
const boolOID = 16

// Dialer opens the connections postgres checks probe with.
type Dialer struct{}

var _ check.SQLDialer = Dialer{}

// Check implements check.SQLDialer.
func (Dialer) Check(dsn upstate.Secret) error {
	_, err := pgconn.ParseConfig(dsn.Reveal())
	if err != nil {
		return errors.New(parseProblem(err, dsn))
	}
	return nil
}

// parseProblem is why a DSN does not parse, without the DSN: pgx masks
// the passwords it recognises in its message, best effort, so the text
// it quotes is left out, and whatever is left is redacted again.
func parseProblem(err error, dsn upstate.Secret) string {
	msg := err.Error()
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		// "cannot parse `<dsn>`: why (cause)"
		if _, why, ok := strings.Cut(msg, "`: "); ok {
			msg = why
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			msg = strings.ReplaceAll(msg, ue.Error(), ue.Err.Error())
		}
	}
	return "does not parse: " + check.Redact(msg, dsn.Reveal())
}

// Dial implements check.SQLDialer: one connection, with the server told
// to give up on a statement, or a wait for a lock, when the check would
// (unless the DSN says otherwise), and to cancel the query when the probe
// gives up first.
func (Dialer) Dial(ctx context.Context, dsn upstate.Secret, o check.DBOptions) (check.SQLConn, error) {
	cfg, err := pgconn.ParseConfig(dsn.Reveal())
	if err != nil {
		return nil, errors.New(parseProblem(err, dsn))
	}
	if o.Dial != nil {
		cfg.DialFunc = pgconn.DialFunc(o.Dial)
	}
	params := cfg.RuntimeParams
	if o.Name != "" && params["application_name"] == "" {
		params["application_name"] = o.Name
	}
	if ms := o.Timeout.Milliseconds(); ms > 0 {
		for _, p := range []string{"statement_timeout", "lock_timeout"} {
			if params[p] == "" {
				params[p] = strconv.FormatInt(ms, 10)
			}
		}
	}
	// A backend waiting on a lock does not notice its client leave: a
	// probe that gives up asks the server to cancel the query.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: cancelGrace}
	}
	secrets := []string{dsn.Reveal(), cfg.Password}
	pg, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, plain(err, secrets)
	}
	return &conn{pg: pg, secrets: secrets}, nil
}

// conn is one open connection.
type conn struct {
	pg      *pgconn.PgConn
	secrets []string
}

// Query implements check.SQLConn: the extended protocol, one statement,
// every column as text.
func (c *conn) Query(ctx context.Context, query string, max int) ([][]string, error) {
	rr := c.pg.ExecParams(ctx, query, nil, nil, nil, nil)
	fields := rr.FieldDescriptions()
	var rows [][]string
	for rr.NextRow() {
		if len(rows) >= max {
			continue // read to the end, so the statement completes
		}
		vals := rr.Values()
		row := make([]string, len(vals))
		for i, v := range vals {
			switch {
			case v == nil:
				row[i] = "NULL"
			case i < len(fields) && fields[i].DataTypeOID == boolOID:
				row[i] = strconv.FormatBool(string(v) == "t")
			default:
				row[i] = string(v)
			}
		}
		rows = append(rows, row)
	}
	if _, err := rr.Close(); err != nil {
		return nil, plain(err, c.secrets)
	}
	return rows, nil
}

// Close implements check.SQLConn.
func (c *conn) Close(ctx context.Context) error { return c.pg.Close(ctx) }

// plain words for a pgx error (check.DriverError): the server's message
// (a login refused, a relation missing, a statement cancelled), or what
// the network said, without the addresses and the user and database pgx
// names (they are the configuration's, and evidence is public).
func plain(err error, secrets []string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return check.DriverError(err, pe.Message, "", secrets)
	}
	msg := err.Error()
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		// "failed to connect to `user=... database=...`: host:port (host): why"
		if _, why, ok := strings.Cut(msg, "`: "); ok {
			msg = why
		}
		if _, why, ok := strings.Cut(msg, "): "); ok {
			msg = why
		}
	}
	return check.DriverError(err, "", msg, secrets)
}
