package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/upstatehq/upstate/internal/app"
	"github.com/upstatehq/upstate/internal/config"
)

func exportCmd(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("export", "[--config FILE] [--history] [-o FILE]", "Write the whole running configuration as one YAML file: the configuration file, its comments and\n${ENV} references as written, with the checks and components made in the console appended\n(each marked \"# made in the console\"). `upstate validate` accepts it, so a team can move to\nconfiguration as code at any time. With --history, write the incident history instead, as an\nimport file `upstate import` takes into another Upstate. Reads the database beside a running\nserver without writing to it.", stderr)
	file := fs.String("config", "upstate.yaml", "configuration `file`")
	history := fs.Bool("history", false, "write the incident history (every incident that ended) as an import file")
	out := fs.String("o", "", "write to `file` instead of standard output")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg, code := loadConfig(*file, stderr)
	if cfg == nil {
		return code
	}
	ctx := context.Background()
	if *history {
		text, warns, err := app.ExportHistory(ctx, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "upstate export: %v\n", err)
			return exitFailure
		}
		warn(stderr, warns)
		return writeOut(text, *out, stdout, stderr)
	}
	text, err := app.ExportConfig(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "upstate export: %v\n", err)
		return exitFailure
	}
	// What is written must be what validate accepts: a console item the
	// file no longer admits is named, and nothing is written.
	if _, err := config.Parse(*file, text, os.LookupEnv, app.ConfigRules()...); err != nil {
		var probs *config.Problems
		if errors.As(err, &probs) {
			fmt.Fprintln(stderr, probs.Error())
		} else {
			fmt.Fprintln(stderr, err)
		}
		fmt.Fprintf(stderr, "upstate export: the exported configuration would not validate (see above; lines are the export's); fix or delete the console's items named there\n")
		return exitFailure
	}
	return writeOut(text, *out, stdout, stderr)
}

// writeOut writes an export to standard output or, as the owner's alone
// (the console's keys and internal notes may hold what is not for
// everyone), to a file.
func writeOut(text []byte, out string, stdout, stderr io.Writer) int {
	if out == "" {
		if _, err := stdout.Write(text); err != nil {
			return exitFailure
		}
		return exitOK
	}
	if err := os.WriteFile(out, text, 0o600); err != nil {
		fmt.Fprintf(stderr, "upstate export: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stderr, "wrote %s\n", out)
	return exitOK
}
