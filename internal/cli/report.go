package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/upstatehq/upstate"
	"github.com/upstatehq/upstate/internal/app"
	"github.com/upstatehq/upstate/internal/markdown"
	"github.com/upstatehq/upstate/internal/report"
)

func reportCmd(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("report", "--from DATE --to DATE [--tz ZONE] [--also-tz ZONE] [--format md|html|json] [--title TITLE] [--intro FILE] [--closing FILE] [--out FILE]",
		"Write the outage report for a period, as the letter a company publishes: a summary (incidents, downtime\ncounted once, uptime per component, mean times), every day with an incident (newest first, providers'\nincidents too) with each incident's entries, root cause and fix, and recurring incidents grouped with\nthe fix they share. Dates are YYYY-MM-DD in --tz, both included. The HTML is print-ready.", stderr)
	file := fs.String("config", "upstate.yaml", "configuration `file`")
	from := fs.String("from", "", "first `date` of the period (YYYY-MM-DD)")
	to := fs.String("to", "", "last `date` of the period (YYYY-MM-DD)")
	tz := fs.String("tz", "", "time `zone` of the report (default: the page's)")
	also := fs.String("also-tz", "", "a second time `zone`, shown in parentheses")
	format := fs.String("format", "md", "`format`: md, html or json")
	title := fs.String("title", "", "the report's `title`")
	intro := fs.String("intro", "", "Markdown `file` to open the report with, in your own words")
	closing := fs.String("closing", "", "Markdown `file` to close the report with")
	out := fs.String("out", "", "write to this `file` instead of standard output")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	cfg, code := loadConfig(*file, stderr)
	if cfg == nil {
		return code
	}
	// server.gogc, as serve runs at: a year's report holds the year and
	// the report for all of its run, and at Go's 100 the html's heap grew
	// to twice that (issue 16).
	setGC(cfg.Server.GOGC, slog.New(slog.DiscardHandler))
	words := map[string]string{}
	for flag, path := range map[string]string{"intro": *intro, "closing": *closing} {
		if path == "" {
			continue
		}
		b, err := readSmall(path, report.MaxWords)
		if err != nil {
			fmt.Fprintf(stderr, "upstate report: --%s: %v\n", flag, err)
			return exitUsage
		}
		words[flag] = string(b)
	}
	r, err := app.Report(context.Background(), cfg, report.Params{From: *from, To: *to, TZ: *tz, AlsoTZ: *also, Title: *title,
		Intro: words["intro"], Closing: words["closing"]}, time.Now)
	if err == nil {
		err = writeReport(r, *format, *out, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "upstate report: %s\n", upstate.ErrorMessage(err))
		if upstate.ErrorCode(err) == upstate.EINTERNAL {
			fmt.Fprintf(stderr, "  (%v)\n", err)
			return exitFailure
		}
		return exitUsage
	}
	return exitOK
}

// writeReport streams the report to the file (made only once the format
// is known good, and removed again if the report is not written whole) or
// to stdout: a year's report is tens of MB, never held whole (issue 16).
func writeReport(r *report.Report, format, out string, stdout io.Writer) error {
	if _, err := report.ContentType(format); err != nil {
		return err
	}
	if out == "" {
		return report.Write(stdout, r, format, markdown.New())
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	err = report.Write(f, r, format, markdown.New())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(out)
	}
	return err
}

// readSmall reads a file a person names, refusing one larger than limit.
func readSmall(path string, limit int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%s is larger than %d KiB", path, limit>>10)
	}
	return b, nil
}
