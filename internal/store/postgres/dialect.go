package postgres

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// dialect is PostgreSQL's side of what the shared queries (sqlcore) say
// differently on each database.
type dialect struct{}

func (dialect) Contains(s string) string { return `strpos(` + s + `, ?) > 0` }

// FoldingLike is ILIKE, as SQLite's LIKE ignores the case of ASCII
// letters (under COLLATE "C", PostgreSQL folds only those too).
func (dialect) FoldingLike() string { return `ILIKE` }

func (dialect) Typed(t string) string { return `?::` + t }

func (dialect) NoLimit() string { return `ALL` }

// SkipLocked: instances claiming messages at once pass over each other's.
func (dialect) SkipLocked() string { return ` FOR UPDATE SKIP LOCKED` }

// Text is what PostgreSQL keeps of a text bound as s (pgText).
func (dialect) Text(s string) string { return pgText(s) }

// IsUnique reports whether err is a unique constraint's refusal.
func (dialect) IsUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// pgtx is a write transaction that takes the shared statements as
// sqlcore writes them, in SQLite's style: ? placeholders become $1, $2, …
// and booleans 0 and 1 (the columns are integers on both). What differs
// in more than that is said by dialect, or written in PostgreSQL's
// dialect in this package (the writer's upserts, Prune, SetPoints).
type pgtx struct{ tx *sql.Tx }

func (t *pgtx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, rebind(q), values(args)...)
}

func (t *pgtx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, rebind(q), values(args)...)
}

func (t *pgtx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, rebind(q), values(args)...)
}

// pgread is the pool as the readers use it, with pgtx's translation.
type pgread struct{ db *sql.DB }

func (r *pgread) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return r.db.QueryContext(ctx, rebind(q), values(args)...)
}

func (r *pgread) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return r.db.QueryRowContext(ctx, rebind(q), values(args)...)
}

// rebind numbers a statement's ? placeholders $1, $2, …, leaving those in
// quoted strings and identifiers alone.
func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// values passes booleans as the 0 and 1 the columns hold (database/sql
// reads them back into bool as it does from SQLite). The caller's slice
// is not changed.
func values(args []any) []any {
	copied := false
	set := func(i int, v any) {
		if !copied {
			args, copied = append([]any(nil), args...), true
		}
		args[i] = v
	}
	for i, a := range args {
		switch v := a.(type) {
		case bool:
			n := int64(0)
			if v {
				n = 1
			}
			set(i, n)
		case string:
			if t := pgText(v); t != v {
				set(i, t)
			}
		case []string:
			set(i, pgTexts(v))
		}
	}
	return args
}

// pgText is s as PostgreSQL's text takes it: valid UTF-8 without NUL.
// SQLite keeps any bytes; PostgreSQL refuses a NUL or a broken sequence,
// and one such string (a probe's error, a body an outsider sent) would
// fail the whole batch it is in.
func pgText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// pgTexts is pgText of each, copying only when one changes.
func pgTexts(ss []string) []string {
	for i, s := range ss {
		if t := pgText(s); t != s {
			out := append([]string(nil), ss...)
			for j := i; j < len(out); j++ {
				out[j] = pgText(out[j])
			}
			return out
		}
	}
	return ss
}
