// Package mysql is how mysql checks reach MySQL and MariaDB:
// go-sql-driver/mysql behind database/sql, one connection per probe,
// made with the check's bounds and closed by the probe, and its errors
// in words that name neither the DSN nor its password.
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/check"
)

// Dialer opens the connections mysql checks probe with.
type Dialer struct{}

var _ check.SQLDialer = Dialer{}

// Check implements check.SQLDialer.
func (Dialer) Check(dsn upstate.Secret) error {
	if _, err := mysql.ParseDSN(dsn.Reveal()); err != nil {
		return errors.New("does not parse: " + check.Redact(err.Error(), dsn.Reveal()))
	}
	return nil
}

// quiet is the driver's logger: it would otherwise write to standard
// error through a logger every connection in the process shares; what
// went wrong reaches the check's result instead.
type quiet struct{}

func (quiet) Print(...any) {}

// Dial implements check.SQLDialer: one connection, whose waits for locks
// the server ends when the check would give up.
func (Dialer) Dial(ctx context.Context, dsn upstate.Secret, o check.DBOptions) (check.SQLConn, error) {
	cfg, err := mysql.ParseDSN(dsn.Reveal())
	if err != nil {
		return nil, errors.New("does not parse: " + check.Redact(err.Error(), dsn.Reveal()))
	}
	cfg.Logger = quiet{}
	if o.Dial != nil {
		cfg.DialFunc = o.Dial
	}
	// The context bounds every wait; these bound the socket too, should
	// the context's end go unnoticed.
	if o.Timeout > 0 {
		for _, d := range []*time.Duration{&cfg.Timeout, &cfg.ReadTimeout, &cfg.WriteTimeout} {
			if *d == 0 || *d > o.Timeout {
				*d = o.Timeout
			}
		}
	}
	if o.Name != "" && cfg.ConnectionAttributes == "" {
		cfg.ConnectionAttributes = "program_name:" + o.Name
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, errors.New("does not parse: " + check.Redact(err.Error(), dsn.Reveal()))
	}
	secrets := []string{dsn.Reveal(), cfg.Passwd}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	one, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, plain(err, secrets)
	}
	if o.Timeout > 0 {
		// A query waiting for a lock goes on waiting after its client has
		// gone (for a metadata lock, a year by default): the server ends
		// the wait itself. Both variables are MySQL's and MariaDB's; a
		// server that refuses them is judged by the query that follows.
		secs := int(math.Ceil(o.Timeout.Seconds()))
		_, _ = one.ExecContext(ctx, fmt.Sprintf("SET SESSION lock_wait_timeout = %d, innodb_lock_wait_timeout = %d", secs, secs))
	}
	return &conn{db: db, one: one, secrets: secrets}, nil
}

// conn is one open connection (and the database/sql handle that holds it).
type conn struct {
	db      *sql.DB
	one     *sql.Conn
	secrets []string
}

// Query implements check.SQLConn: the text protocol, every column as text.
func (c *conn) Query(ctx context.Context, query string, max int) ([][]string, error) {
	rs, err := c.one.QueryContext(ctx, query)
	if err != nil {
		return nil, plain(err, c.secrets)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		return nil, plain(err, c.secrets)
	}
	var rows [][]string
	for rs.Next() {
		if len(rows) >= max {
			continue // read to the end, so the statement completes
		}
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rs.Scan(dest...); err != nil {
			return nil, plain(err, c.secrets)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "NULL"
			if v.Valid {
				row[i] = v.String
			}
		}
		rows = append(rows, row)
	}
	if err := rs.Err(); err != nil {
		return nil, plain(err, c.secrets)
	}
	return rows, nil
}

// Close implements check.SQLConn.
func (c *conn) Close(context.Context) error {
	err := c.one.Close()
	return errors.Join(err, c.db.Close())
}

// plain words for a driver error (check.DriverError): the server's
// message (access denied, a table missing, a lock wait ended), or what
// the network said.
func plain(err error, secrets []string) error {
	var me *mysql.MySQLError
	server, fallback := "", err.Error()
	switch {
	case errors.As(err, &me):
		server = me.Message
	case errors.Is(err, mysql.ErrInvalidConn):
		fallback = "the server closed the connection"
	}
	return check.DriverError(err, server, fallback, secrets)
}
