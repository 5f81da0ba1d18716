package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/app"
)

func migrateCmd(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("migrate", "[--config FILE] [--from sqlite:PATH] [--to postgres://… | --to-env VAR] [--replace]",
		"Copy a SQLite install's whole history (incidents, timelines, results, roll-ups, users, tokens, the\n"+
			"outbox, subscribers, console items, the audit log) into PostgreSQL, in one transaction, checking\n"+
			"every table's count before it commits. By default from the configuration's data_dir to its\n"+
			"server.database. A destination that holds data is refused unless --replace, which empties it\n"+
			"first in the same transaction, so running it again gives the same result. The source may be in\n"+
			"use by a running server: it is read in one snapshot.", stderr)
	file := fs.String("config", "upstate.yaml", "configuration `file` (for the defaults of --from and --to)")
	from := fs.String("from", "", "the SQLite database: `sqlite:PATH` (default: data_dir's upstate.db)")
	to := fs.String("to", "", "the PostgreSQL `database` (postgres://… or a keyword DSN; default: server.database)")
	toEnv := fs.String("to-env", "", "read the destination from this environment `variable` (it keeps a password out of ps)")
	replace := fs.Bool("replace", false, "replace what the destination holds")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	src, dsn := strings.TrimPrefix(*from, "sqlite:"), *to
	if *toEnv != "" {
		dsn = os.Getenv(*toEnv)
		if dsn == "" {
			fmt.Fprintf(stderr, "upstate migrate: --to-env %s: the variable is not set\n", *toEnv)
			return exitUsage
		}
	}
	if src == "" || dsn == "" {
		cfg, code := loadConfig(*file, stderr)
		if cfg == nil {
			return code
		}
		if src == "" {
			src = filepath.Join(cfg.Server.DataDir, "upstate.db")
		}
		if dsn == "" {
			dsn = cfg.Server.Database.Reveal()
		}
	}
	if dsn == "" {
		fmt.Fprintln(stderr, "upstate migrate: no destination: give --to, --to-env, or server.database in the configuration")
		return exitUsage
	}
	if _, err := os.Stat(src); err != nil {
		fmt.Fprintf(stderr, "upstate migrate: the source %s: %v\n", src, err)
		return exitUsage
	}
	counts, err := app.Migrate(context.Background(), src, dsn, *replace, func(table string, rows int64) {
		fmt.Fprintf(stderr, "copied %s: %d rows\n", table, rows)
	})
	if err != nil {
		fmt.Fprintf(stderr, "upstate migrate: %s\nupstate migrate: nothing was changed in the destination\n", upstate.ErrorMessage(err))
		if upstate.ErrorCode(err) == upstate.ECONFLICT || upstate.ErrorCode(err) == upstate.EINVALID {
			return exitUsage
		}
		return exitFailure
	}
	var total int64
	for _, c := range counts {
		total += c.Rows
	}
	fmt.Fprintf(stdout, "migrated %s: %d rows in %d tables, every count verified\n", src, total, len(counts))
	return exitOK
}
