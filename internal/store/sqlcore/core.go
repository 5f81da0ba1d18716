// Package sqlcore is the SQL the SQLite and PostgreSQL stores share: every
// query that is the same on both, written once, in SQLite's style (?
// placeholders, booleans as 0 and 1, times as Unix milliseconds), against
// the small interfaces below. The two drivers (internal/store/sqlite and
// internal/store/postgres) embed a *Core built with their own write path,
// reader and Dialect, and keep what is truly theirs: opening and closing,
// their migrations, the writer goroutine with its group commit and result
// batching, write health, and the statements whose strategy differs
// (pruning raw results, writing a metric's history). The storetest suite
// judges both.
package sqlcore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/markdown"
)

// Tx is a write transaction as the shared queries use it: *sql.Tx
// satisfies it, and so does a wrapper that rewrites statements for its
// database (PostgreSQL's numbers the placeholders).
type Tx interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// Reader is the pool the reads go to: *sql.DB satisfies it.
type Reader interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// Exec runs fn in a write transaction and returns once it is committed:
// the driver's group commit.
type Exec func(ctx context.Context, fn func(tx Tx) error) error

// Dialect is what differs between the databases in the shared queries.
type Dialect interface {
	// Contains is a condition true when the text expression s contains
	// the string bound to the next placeholder (SQLite's instr,
	// PostgreSQL's strpos).
	Contains(s string) string
	// FoldingLike is the LIKE operator that ignores the case of ASCII
	// letters: SQLite's LIKE does, PostgreSQL's ILIKE.
	FoldingLike() string
	// Typed is a placeholder for a value of the SQL type t (text or
	// bigint) where the statement gives the database no column to infer
	// its type from (INSERT … SELECT ? WHERE NOT EXISTS …).
	Typed(t string) string
	// NoLimit is the LIMIT that lets an OFFSET stand alone.
	NoLimit() string
	// IsUnique reports whether err is a unique constraint's refusal.
	IsUnique(err error) bool
	// SkipLocked ends a subquery that locks the rows it picks without
	// waiting for rows another transaction locked (PostgreSQL's FOR
	// UPDATE SKIP LOCKED); empty where one writer does everything
	// (SQLite).
	SkipLocked() string
	// Text is what the database keeps of a text value bound as s
	// (PostgreSQL's text takes no NUL and no broken UTF-8), so the
	// Markdown the store renders is the Markdown it keeps.
	Text(s string) string
}

// Core holds the shared queries; a driver's DB embeds it, so its methods
// are the driver's.
type Core struct {
	exec Exec
	read Reader
	d    Dialect

	// The INSERT … SELECT … WHERE NOT EXISTS statements, their
	// placeholders typed as the dialect needs.
	insertTransition, insertStatusChange string

	// md renders the Markdown of entries and postmortems as they are
	// written, kept beside it with mdv, md's version (rendered.go).
	md  *markdown.Renderer
	mdv string
}

// New is the shared queries over a driver's write path, reader and
// dialect.
func New(exec Exec, read Reader, d Dialect) *Core {
	text, bigint := d.Typed("text"), d.Typed("bigint")
	return &Core{
		exec: exec, read: read, d: d, md: markdown.New(), mdv: markdown.Version(),
		insertTransition: `INSERT INTO transitions (check_id, at, from_state, from_partial, to_state, to_partial, since, evidence, failures, samples)
		SELECT ` + strings.Join([]string{text, bigint, text, bigint, text, bigint, bigint, text, bigint, bigint}, ", ") + `
		WHERE NOT EXISTS (SELECT 1 FROM transitions WHERE check_id = ? AND at = ? AND to_state = ? AND to_partial = ?)`,
		insertStatusChange: `INSERT INTO status_changes (component_id, at, status, incident_id) SELECT ` + strings.Join([]string{text, bigint, text, text}, ", ") + `
			WHERE NOT EXISTS (SELECT 1 FROM status_changes WHERE component_id = ? AND at = ? AND status = ?)`,
	}
}

// execCount runs one statement as its own write and says how many rows it
// touched; the prunes use it.
func (db *Core) execCount(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := db.exec(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	return n, err
}

// one passes on a statement's error and turns "touched no row" into
// ENOTFOUND for the kind of thing named and its id.
func one(res sql.Result, err error, kind, id string) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return upstate.Errorf(upstate.ENOTFOUND, "no %s %q", kind, id)
	}
	return nil
}

// MS is t as the stores keep times: Unix milliseconds.
func MS(t time.Time) int64 { return t.UnixMilli() }

// FromMS is the time MS kept, in UTC.
func FromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return MS(*t)
}

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := FromMS(v.Int64)
	return &t
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
