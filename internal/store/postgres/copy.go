package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/upstatehq/upstate"
)

// Source is what a copy reads: a SQLite store's database, best in one
// read transaction (*sql.Tx), so every table is of the same moment.
type Source interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// TableCount is one table a copy moved, and how many rows.
type TableCount struct {
	Table string
	Rows  int64
}

// tables are this store's tables in the order its schema makes them
// (a table a later one refers to comes first), without the migrations'
// own record.
func tables() ([]string, error) {
	b, err := migrations.ReadFile("migrations/0001_init.sql")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^CREATE TABLE (\w+)`).FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	return out, nil
}

// CopyFrom copies every table of src, a SQLite store's database at the
// schema this one has, into this store, in one transaction: rows as they
// are (times in ms, booleans as 0/1, as both stores keep them), identity
// counters moved past the ids copied, and each table's count checked
// against the source's before the commit. An empty destination is filled;
// one that holds data is refused unless replace is set, when it is
// emptied first, in the same transaction, so running it again gives the
// same result and a copy cut short leaves nothing half done.
func (db *DB) CopyFrom(ctx context.Context, src Source, replace bool, progress func(table string, rows int64)) ([]TableCount, error) {
	names, err := tables()
	if err != nil {
		return nil, err
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if !replace {
		for _, t := range names {
			var n int64
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+pgx.Identifier{t}.Sanitize()).Scan(&n); err != nil {
				return nil, err
			}
			if n > 0 {
				return nil, upstate.Errorf(upstate.ECONFLICT, "the destination already holds data (%d rows in %s): copy into an empty database, or replace what it holds with --replace", n, t)
			}
		}
	} else {
		ids := make([]string, len(names))
		for i, t := range names {
			ids[i] = pgx.Identifier{t}.Sanitize()
		}
		if _, err := tx.Exec(ctx, `TRUNCATE `+strings.Join(ids, ", ")); err != nil {
			return nil, fmt.Errorf("empty the destination: %w", err)
		}
	}
	var out []TableCount
	for _, t := range names {
		cols, err := columns(ctx, tx, t)
		if err != nil {
			return nil, err
		}
		// Every column the source keeps must have its place here: one
		// this store lacks would be left behind without a word.
		if err := sameColumns(ctx, src, t, cols); err != nil {
			return nil, err
		}
		var want int64
		if err := src.QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+t+`"`).Scan(&want); err != nil {
			return nil, fmt.Errorf("count %s in the source: %w", t, err)
		}
		quoted := make([]string, len(cols))
		for i, c := range cols {
			quoted[i] = `"` + c + `"`
		}
		rows, err := src.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM "`+t+`"`)
		if err != nil {
			return nil, fmt.Errorf("read %s from the source: %w", t, err)
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{t}, cols, &sqlRows{rows: rows, n: len(cols)})
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", t, err)
		}
		if n != want {
			return nil, fmt.Errorf("copy %s: %d rows written of the source's %d", t, n, want)
		}
		var got int64
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+pgx.Identifier{t}.Sanitize()).Scan(&got); err != nil || got != want {
			return nil, fmt.Errorf("verify %s: %d rows in the destination, %d in the source (%v)", t, got, want, err)
		}
		// Identity columns go on after the ids copied.
		for _, c := range cols {
			var seq *string
			if err := tx.QueryRow(ctx, `SELECT pg_get_serial_sequence($1, $2)`, t, c).Scan(&seq); err != nil {
				return nil, fmt.Errorf("%s.%s's counter: %w", t, c, err)
			}
			if seq == nil {
				continue
			}
			if _, err := tx.Exec(ctx, `SELECT setval($1, GREATEST((SELECT COALESCE(MAX(`+pgx.Identifier{c}.Sanitize()+`), 0) FROM `+pgx.Identifier{t}.Sanitize()+`), 1))`, *seq); err != nil {
				return nil, fmt.Errorf("move %s.%s's counter: %w", t, c, err)
			}
		}
		out = append(out, TableCount{Table: t, Rows: got})
		if progress != nil {
			progress(t, got)
		}
	}
	// The HTML kept beside the Markdown is the store's own rendering,
	// never another's: the copied rows are rendered again by the server
	// at its start (RenderStale), and read without it until then.
	for _, q := range []string{`UPDATE incident_updates SET body_html = '', html_v = ''`,
		`UPDATE postmortems SET root_cause_html = '', contributing_html = '', fix_html = '', html_v = ''`} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("leave the copied Markdown to be rendered again: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// columns are a table's columns in this store, in order.
func columns(ctx context.Context, tx pgx.Tx, table string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, err
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("the destination has no table %s", table)
	}
	return cols, nil
}

// sqlRows feeds a database/sql result to COPY.
type sqlRows struct {
	rows *sql.Rows
	n    int
	vals []any
	err  error
}

func (s *sqlRows) Next() bool {
	if !s.rows.Next() {
		s.err = s.rows.Err()
		return false
	}
	s.vals = make([]any, s.n)
	ptrs := make([]any, s.n)
	for i := range ptrs {
		ptrs[i] = &s.vals[i]
	}
	if err := s.rows.Scan(ptrs...); err != nil {
		s.err = err
		return false
	}
	return true
}

func (s *sqlRows) Values() ([]any, error) {
	for i, v := range s.vals {
		if str, ok := v.(string); ok {
			s.vals[i] = pgText(str)
		}
	}
	return s.vals, nil
}
func (s *sqlRows) Err() error { return s.err }

// sameColumns refuses a source table with a column the destination's
// table lacks.
func sameColumns(ctx context.Context, src Source, table string, cols []string) error {
	rows, err := src.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return fmt.Errorf("the source's columns of %s: %w", table, err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for _, c := range cols {
		have[c] = true
	}
	var missing []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		if !have[name] {
			missing = append(missing, name)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("the source's %s has columns this store lacks (%s): migrate with the Upstate that wrote it", table, strings.Join(missing, ", "))
	}
	return nil
}
