package cli

import (
	"fmt"
	"io"
	"runtime"
)

func version(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("version", "", "Print the version of this binary.", stderr)
	if code, ok := parse(fs, args); !ok {
		return code
	}
	fmt.Fprintf(stdout, "upstate %s (%s, %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
