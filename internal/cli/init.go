package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/upstatehq/upstate/internal/config"
)

func initCmd(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fset := newFlags("init", "[--config FILE] [--force]", "Write a commented example configuration to start from.", stderr)
	file := fset.String("config", "upstate.yaml", "`file` to write; - for standard output")
	force := fset.Bool("force", false, "overwrite the file if it exists")
	if code, ok := parse(fset, args); !ok {
		return code
	}
	if *file == "-" {
		_, _ = io.WriteString(stdout, config.Example)
		return exitOK
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if *force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(*file, flags, 0o640)
	if errors.Is(err, fs.ErrExist) {
		fmt.Fprintf(stderr, "upstate init: %s already exists; use --force to overwrite it\n", *file)
		return exitFailure
	}
	if err != nil {
		fmt.Fprintf(stderr, "upstate init: %v\n", err)
		return exitFailure
	}
	if _, err := io.WriteString(f, config.Example); err != nil {
		f.Close()
		fmt.Fprintf(stderr, "upstate init: %v\n", err)
		return exitFailure
	}
	if err := f.Close(); err != nil {
		fmt.Fprintf(stderr, "upstate init: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "wrote %s; edit it, check it with `upstate validate --config %s`, then run `upstate serve --config %s`\n", *file, *file, *file)
	return exitOK
}
