package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/upstatehq/upstate/internal/app"
	"github.com/upstatehq/upstate/internal/config"
)

func validate(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("validate", "[--config FILE]", "Check a configuration file: every problem is printed as file:line: what is wrong.\nExits 0 when the file is valid, 2 when it is not.", stderr)
	file := fs.String("config", "upstate.yaml", "configuration `file`")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg, code := loadConfig(*file, stderr)
	if cfg == nil {
		return code
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, "warning: "+w)
	}
	fmt.Fprintf(stdout, "%s: ok (%d components, %d checks)\n", *file, len(cfg.Components), len(cfg.Checks))
	return exitOK
}

// loadConfig loads and validates the file, printing every problem; on
// failure it returns nil and the exit code. What config alone cannot
// check (channel templates) comes from app's rules, reported with the
// rest.
func loadConfig(file string, stderr io.Writer) (*config.Config, int) {
	cfg, err := config.Load(file, app.ConfigRules()...)
	if err == nil {
		return cfg, exitOK
	}
	var probs *config.Problems
	switch {
	case errors.As(err, &probs):
		fmt.Fprintln(stderr, probs.Error())
		n := len(probs.Items)
		plural := "s"
		if n == 1 {
			plural = ""
		}
		fmt.Fprintf(stderr, "%s: %d problem%s found\n", file, n, plural)
	case errors.Is(err, config.ErrNotFound):
		fmt.Fprintf(stderr, "upstate: %v\n", err)
	default:
		fmt.Fprintf(stderr, "upstate: %v\n", err)
		return nil, exitFailure
	}
	return nil, exitUsage
}
