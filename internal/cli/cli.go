// Package cli is the upstate command line: one file per subcommand, each a
// function that returns an exit code (0 ok, 1 failure, 2 usage or config).
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=v1.2.3".
var Version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

type command struct {
	name    string
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"serve", "run Upstate with a configuration file", serve},
		{"demo", "replay a bad month against a simulated SaaS, no setup needed", demoCmd},
		{"validate", "check a configuration file and exit", validate},
		{"export", "write the running configuration, with what was made in the console, as one file", exportCmd},
		{"import", "bring incident history (Upstate's format, Statuspage) or checks (Gatus, Uptime Kuma)", importCmd},
		{"init", "write a commented example configuration to start from", initCmd},
		{"migrate", "copy a SQLite install's whole history into PostgreSQL (migrate --from sqlite:PATH --to postgres://…)", migrateCmd},
		{"user", "manage who signs in to the admin side (user add, list, passwd, role, remove)", user},
		{"probe", "run a probe agent: the checks of a region, results streamed back to the server", probeCmd},
		{"report", "write the outage report for a period (md, html or json)", reportCmd},
		{"notify", "send a sample notification to a channel (notify test CHANNEL)", notifyCmd},
		{"version", "print the version", version},
	}
}

// Main runs the command line and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdin, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "upstate: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Upstate watches a service and what it depends on, opens incidents when users are hurt,")
	fmt.Fprintln(w, "and tells the truth on a status page and a Statuspage-compatible API.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: upstate <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `upstate <command> --help` for a command's flags.")
}

// newFlags returns a flag set that prints its usage with the command's summary.
func newFlags(name, synopsis, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: upstate %s %s\n\n%s\n", name, synopsis, about)
		if hasFlags(fs) {
			fmt.Fprintln(fs.Output(), "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// subcommand checks that args start with a command's one subcommand.
// Anything else prints usage: for --help with exit 0, otherwise after
// saying what was wrong, with exit 2.
func subcommand(cmd, sub string, args []string, usage string, stderr io.Writer) (int, bool) {
	if len(args) > 0 && args[0] == sub {
		return 0, true
	}
	help := len(args) > 0 && (args[0] == "--help" || args[0] == "-h")
	if len(args) > 0 && !help {
		fmt.Fprintf(stderr, "upstate %s: unknown subcommand %q\n", cmd, args[0])
	}
	io.WriteString(stderr, usage)
	if help {
		return exitOK, false
	}
	return exitUsage, false
}

// parse parses flags; it returns an exit code and false when the command
// should stop (help asked for, or bad flags).
func parse(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "upstate %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return exitUsage, false
	}
	return exitOK, true
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
