package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/upstatehq/upstate/internal/app"
	"github.com/upstatehq/upstate/internal/importer"
)

// importSources are what `upstate import --from` reads.
func importSources() []string { return []string{"upstate", "statuspage", "gatus", "uptime-kuma"} }

func importCmd(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("import", "[--from upstate|statuspage|gatus|uptime-kuma] [--config FILE] [--dry-run] [-o FILE] FILE|URL",
		"Bring history and checks from elsewhere. Incident history (Upstate's import format, or a Statuspage\n"+
			"page's incidents.json from its URL or a saved file) is checked whole and written at once, idempotently\n"+
			"by external id; nothing is written unless all of it is valid, and no one is notified of the past.\n"+
			"Gatus YAML and Uptime Kuma's JSON backup become the components: and checks: sections of an\n"+
			"upstate.yaml (standard output, or -o), with a warning for whatever cannot be carried over.", stderr)
	from := fs.String("from", "upstate", "what the file is: `upstate`, statuspage, gatus or uptime-kuma")
	file := fs.String("config", "upstate.yaml", "configuration `file` (for history: where the database is, which components exist)")
	dry := fs.Bool("dry-run", false, "check the history and say what would be imported, writing nothing")
	out := fs.String("o", "", "write converted checks to `file` instead of standard output")
	src, code, ok := oneArg(fs, args)
	if !ok {
		return code
	}
	known := false
	for _, s := range importSources() {
		known = known || s == *from
	}
	if !known {
		fmt.Fprintf(stderr, "upstate import: --from %q is not one of %s\n", *from, strings.Join(importSources(), ", "))
		return exitUsage
	}
	data, err := readSource(src, *from)
	if err != nil {
		fmt.Fprintf(stderr, "upstate import: %v\n", err)
		return exitUsage
	}
	switch *from {
	case "gatus", "uptime-kuma":
		conv := importer.FromGatus
		if *from == "uptime-kuma" {
			conv = importer.FromUptimeKuma
		}
		c, err := conv(bytes.NewReader(data), src)
		if err != nil {
			fmt.Fprintf(stderr, "upstate import: %v\n", err)
			return exitUsage
		}
		warn(stderr, c.Warnings)
		if *out == "" {
			_, err = stdout.Write(c.YAML)
		} else {
			err = os.WriteFile(*out, c.YAML, 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "upstate import: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(stderr, "converted %d checks and %d components from %s; add a page: block and run upstate validate\n", c.Checks, c.Components, src)
		return exitOK
	}
	if *out != "" {
		fmt.Fprintln(stderr, "upstate import: -o is for converted checks (--from gatus or uptime-kuma); history goes into the database")
		return exitUsage
	}
	cfg, code := loadConfig(*file, stderr)
	if cfg == nil {
		return code
	}
	opts := importer.Options{File: src, Now: time.Now(), Components: app.ComponentIDs(context.Background(), cfg)}
	var doc *importer.Document
	if *from == "statuspage" {
		var ws []importer.Warning
		doc, ws, err = importer.FromStatuspage(bytes.NewReader(data), opts)
		warn(stderr, ws)
	} else {
		doc, err = importer.Parse(data, opts)
	}
	if err != nil {
		var probs *importer.Problems
		if errors.As(err, &probs) {
			fmt.Fprintln(stderr, probs.Error())
			fmt.Fprintln(stderr, "upstate import: nothing was imported")
		} else {
			fmt.Fprintf(stderr, "upstate import: %v\n", err)
		}
		return exitUsage
	}
	if *dry {
		fmt.Fprintf(stdout, "%s is valid: %d incidents and %d components would be imported (nothing written: --dry-run)\n", src, len(doc.Incidents), len(doc.Components))
		return exitOK
	}
	n, err := app.ImportHistory(context.Background(), cfg, doc, src)
	if err != nil {
		fmt.Fprintf(stderr, "upstate import: %v\n", err)
		if n.New+n.Updated == 0 {
			fmt.Fprintln(stderr, "upstate import: nothing was imported")
		}
		return exitFailure
	}
	fmt.Fprintf(stdout, "imported %s: %d incidents new, %d updated, %d components created\n", src, n.New, n.Updated, n.Components)
	return exitOK
}

// oneArg parses flags that may come before or after the one argument
// (`import --from gatus gatus.yaml -o checks.yaml`).
func oneArg(fs *flag.FlagSet, args []string) (string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", exitOK, false
			}
			return "", exitUsage, false
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != 1 {
		fmt.Fprintf(fs.Output(), "upstate %s: want one file or URL, got %d\n", fs.Name(), len(pos))
		fs.Usage()
		return "", exitUsage, false
	}
	return pos[0], exitOK, true
}

// readSource reads a file, or for Statuspage a page's URL: its public
// incidents.json (the 50 most recent incidents), bounded like a file.
func readSource(src, from string) ([]byte, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		return readSmall(src, importer.MaxBytes)
	}
	if from != "statuspage" {
		return nil, fmt.Errorf("%s: only --from statuspage reads a URL; save the file first", src)
	}
	u, err := url.Parse(src)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not a URL", src)
	}
	manage := strings.HasPrefix(u.Path, "/v1/pages/") // api.statuspage.io/v1/pages/ID/incidents.json
	if !strings.HasSuffix(u.Path, ".json") && !manage {
		u.Path = strings.TrimRight(u.Path, "/") + "/api/v2/incidents.json"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	// The manage API (api.statuspage.io/v1/pages/ID/incidents.json) is a
	// page's whole history, for its owner: the key comes from the
	// environment, never the command line (where ps would show it).
	if manage {
		key := os.Getenv("STATUSPAGE_API_KEY")
		if key == "" {
			return nil, fmt.Errorf("%s is Statuspage's manage API: set STATUSPAGE_API_KEY to the page's API key", u)
		}
		req.Header.Set("Authorization", "OAuth "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, importer.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", u, err)
	}
	if len(b) > importer.MaxBytes {
		return nil, fmt.Errorf("%s answers more than %d MiB", u, importer.MaxBytes>>20)
	}
	return b, nil
}

func warn(w io.Writer, ws []importer.Warning) {
	for _, x := range ws {
		fmt.Fprintf(w, "warning: %s: %s\n", x.Source, x.Message)
	}
}
